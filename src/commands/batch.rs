//! batchspawner's contract (reference/jupyterhub.md §2): submit prints only the app name; query
//! and cancel take it as an argument, never read stdin, and query always exits 0 with a line the
//! documented regexes match. User options come only from ACACTL_USER_OPTIONS.

use serde_json::{Value, json};

use crate::cli::BatchCommand;
use crate::commands;
use crate::env::BatchEnv;
use crate::error::{Error, ErrorCode, Exit, Result};
use crate::naming;
use crate::output;
use crate::ownership::{self, AppRef};
use crate::settings::Settings;

pub async fn run(cmd: &BatchCommand, settings: &Settings) -> Result<Exit> {
    match cmd {
        BatchCommand::Submit => {
            let name = super::start::submit(settings, &BatchEnv).await?;
            output::text(&name);
        }
        BatchCommand::Query { name } => {
            let doc = match app_ref(settings, name) {
                Ok(r) => query(settings, &r).await,
                Err(e) => json!({ "state": "unknown", "error": e.message }),
            };
            output::result(&doc);
        }
        BatchCommand::Cancel { name } => {
            let r = app_ref(settings, name)?;
            let arm = commands::arm(settings)?;
            let deadline = std::time::Instant::now() + settings.arm.stop_timeout;
            let _lock = crate::lock::server(settings.cache_dir.as_deref(), &r.name, deadline).await?;
            let budget = deadline.saturating_duration_since(std::time::Instant::now());
            let deleted = crate::teardown::delete_and_wait(&arm, settings, &r, budget).await?;
            output::result(&json!({ "name": r.name, "deleted": deleted }));
        }
    }
    Ok(Exit::Ok)
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
    let arm = match commands::arm(settings) {
        Ok(a) => a,
        Err(e) => return json!({ "state": "unknown", "error": e.message }),
    };
    let poll = super::poll::poll(&arm, settings, r).await;
    let state = match poll["status"].as_str() {
        Some("running") => "running",
        Some("pending") => "pending",
        Some("stopped") | Some("failed") => "gone",
        _ => "unknown",
    };
    json!({ "state": state, "host": r.name, "port": 80 })
}
