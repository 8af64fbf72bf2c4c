//! `acactl poll`: one ARM GET in the common case. Never reports a live app as gone: only ARM's
//! 404 ResourceNotFound for the app's id means gone; any error is "unknown" with a null exit status.
//! A terminally failed app is deleted first, then reported gone (the hub does not call stop after
//! a poll says "not running").

use serde_json::{Value, json};

use crate::arm::{Arm, DeleteStarted};
use crate::cli::TargetArgs;
use crate::commands::{self, AppRef};
use crate::error::{Error, Result};
use crate::output;
use crate::settings::{Env, Settings};
use crate::status::{self, Phase};

pub async fn run(target: &TargetArgs, settings: &Settings, env: &dyn Env) -> Result<Value> {
    let r = commands::app_ref(target, settings, env)?;
    let arm = match commands::arm(settings) {
        Ok(a) => a,
        Err(e) => return Ok(unknown(&r, &e)),
    };
    Ok(poll(&arm, settings, &r).await)
}

fn unknown(r: &AppRef, e: &Error) -> Value {
    output::warn(&format!("cannot tell whether {} is running: {}", r.name, e.message));
    json!({ "status": "unknown", "exit_status": null, "name": r.name, "error": { "code": e.code, "message": e.message } })
}

pub async fn poll(arm: &Arm, settings: &Settings, r: &AppRef) -> Value {
    let app = match arm.get_app(&r.id).await {
        Ok(Some(app)) => app,
        Ok(None) => return json!({ "status": "stopped", "exit_status": 0, "name": r.name }),
        Err(e) => return unknown(r, &e.into()),
    };
    if !commands::is_ours(&app, settings, r) {
        // The app at this id is not this server's (another user's, another hub's, untagged): this
        // server has no app there. Reported as stopped, never touched.
        output::warn(&format!("{} exists but is not tagged as this server's; this server has no app", r.name));
        return json!({ "status": "stopped", "exit_status": 0, "name": r.name, "owned": false });
    }
    let mut phase = status::app_phase(&app);
    if phase == Phase::Pending && status::needs_revision_check(&app) {
        // Provisioned, but the latest revision is not ready: activating, or failed to activate?
        let latest = app.props().latest_revision_name.clone().unwrap_or_default();
        match arm.get_revision(&r.id, &latest).await {
            Ok(rev) => {
                if let Some(reason) = status::revision_failure(rev.as_ref(), &[]) {
                    phase = Phase::Failed(reason);
                }
            }
            Err(e) => output::verbose(&format!("revision lookup failed: {e}")),
        }
    }
    match phase {
        Phase::Running => json!({ "status": "running", "exit_status": null, "name": r.name }),
        Phase::Pending | Phase::Deleting => {
            json!({ "status": "pending", "exit_status": null, "name": r.name })
        }
        Phase::Failed(reason) => match arm.delete_app(&r.id).await {
            Ok(DeleteStarted::Absent | DeleteStarted::Done | DeleteStarted::Accepted { .. }) => {
                output::info(&format!("{} failed terminally ({reason}); deleted it", r.name));
                json!({ "status": "failed", "exit_status": 1, "name": r.name, "reason": reason, "deleted": true })
            }
            Err(e) => unknown(
                r,
                &Error::runtime(e.code.clone(), format!("{} failed ({reason}) and deleting it failed: {e}", r.name)),
            ),
        },
    }
}
