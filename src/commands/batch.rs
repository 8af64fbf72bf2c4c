//! batchspawner's contract (reference/jupyterhub.md §2): submit prints only the app name; query
//! and cancel take it as an argument, never read stdin, and query always exits 0 with a line the
//! documented regexes match. User options come only from ACACTL_USER_OPTIONS.

use serde_json::{Value, json};

use crate::cli::BatchCommand;
use crate::env::BatchEnv;
use crate::error::{Error, ErrorCode, Result};
use crate::liveness::PollStatus;
use crate::naming;
use crate::output::Outcome;
use crate::ownership::{self, AppRef};
use crate::settings::Settings;

pub async fn run(cmd: &BatchCommand, settings: &Settings) -> Result<Outcome> {
    Ok(match cmd {
        BatchCommand::Submit => {
            let name = crate::launch::submit(settings, &BatchEnv).await?;
            Outcome::text(name)
        }
        BatchCommand::Query { name } => {
            let doc = match app_ref(settings, name) {
                Ok(r) => query(settings, &r).await,
                Err(e) => json!({ "state": "unknown", "error": e.message }),
            };
            Outcome::json(doc)
        }
        BatchCommand::Cancel { name } => {
            let r = app_ref(settings, name)?;
            let arm = crate::arm::connect(settings)?;
            let deadline = std::time::Instant::now() + settings.arm.stop_timeout;
            let _lock = crate::lock::server(settings.cache_dir.as_deref(), &r.name, deadline).await?;
            let budget = deadline.saturating_duration_since(std::time::Instant::now());
            let deleted = crate::teardown::delete_and_wait(&arm, settings, &r, budget).await?;
            Outcome::json(json!({ "name": r.name, "deleted": deleted }))
        }
    })
}

fn app_ref(settings: &Settings, name: &str) -> Result<AppRef> {
    if !naming::is_valid_app_name(name) || !name.starts_with(&format!("{}-", settings.hub_id)) {
        return Err(Error::new(
            ErrorCode::InvalidAppName,
            format!("`{name}` is not an app name of hub {}", settings.hub_id),
        ));
    }
    // The job id is all batchspawner gives: the app must be the server this name was made for.
    let expect = crate::ownership::Expect::Name(name.to_string());
    Ok(AppRef { id: ownership::app_id(settings, name), name: name.to_string(), expect, legacy_state: false })
}

/// Same decisions as `poll`, in batchspawner's vocabulary: pending, running, unknown, gone.
async fn query(settings: &Settings, r: &AppRef) -> Value {
    let arm = match crate::arm::connect(settings) {
        Ok(a) => a,
        Err(e) => return json!({ "state": "unknown", "error": e.message }),
    };
    let state = match crate::liveness::poll(&arm, settings, r).await.status {
        PollStatus::Running => "running",
        PollStatus::Pending => "pending",
        PollStatus::Stopped | PollStatus::Failed => "gone",
        PollStatus::Unknown => "unknown",
    };
    json!({ "state": state, "host": r.name, "port": 80 })
}
