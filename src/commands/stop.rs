//! `acactl stop`: delete the app, idempotently, and wait (bounded) until it is gone
//! (`teardown.rs`).

use serde_json::json;

use crate::arm::lro;
use crate::cli::TargetArgs;
use crate::env::Env;
use crate::error::Result;
use crate::output::Outcome;
use crate::ownership;
use crate::settings::Settings;
use crate::teardown;

pub async fn run(target: &TargetArgs, settings: &Settings, env: &dyn Env) -> Result<Outcome> {
    let r = ownership::app_ref(target, settings, env)?;
    let arm = crate::arm::connect(settings)?;
    // Waiting for another command on this server counts against stop's own budget.
    let deadline = lro::after(settings.arm.stop_timeout);
    arm.set_deadline(deadline);
    let _lock = crate::lock::server(settings.cache_dir.as_deref(), &r.name, deadline).await?;
    let deleted = teardown::delete_and_wait(&arm, settings, &r, lro::remaining(deadline)).await?;
    crate::arm::fleet::forget(settings, &r.name);
    Ok(Outcome::json(json!({ "name": r.name, "deleted": deleted })))
}
