//! `acactl stop`: delete the app, idempotently, and wait (bounded) until it is gone, noticing
//! within about [`GONE_CHECK`] that it is.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::arm::lro;
use crate::arm::{Arm, DeleteStarted};
use crate::cli::TargetArgs;
use crate::commands::{self, AppRef};
use crate::error::{Error, Result};
use crate::output;
use crate::settings::{Env, Settings};

/// How often stop asks whether the app is gone while ARM deletes it.
pub const GONE_CHECK: Duration = Duration::from_millis(500);

pub async fn run(target: &TargetArgs, settings: &Settings, env: &dyn Env) -> Result<Value> {
    let r = commands::app_ref(target, settings, env)?;
    let arm = commands::arm(settings)?;
    // Waiting for another command on this server counts against stop's own budget.
    let deadline = lro::after(settings.arm.stop_timeout);
    arm.set_deadline(deadline);
    let _lock = crate::ownership::ServerLock::acquire(settings, &r.name, deadline).await?;
    let deleted = delete_and_wait(&arm, settings, &r, deadline.saturating_duration_since(Instant::now())).await?;
    super::poll::forget(settings, &r);
    Ok(json!({ "name": r.name, "deleted": deleted }))
}

/// Ok(false) when there was nothing to delete.
pub async fn delete_and_wait(arm: &Arm, settings: &Settings, r: &AppRef, budget: Duration) -> Result<bool> {
    let deadline = lro::after(budget);
    let Some(app) = arm.get_app(&r.id).await? else {
        return Ok(false);
    };
    if !commands::is_ours(&app, settings, r) {
        return Err(Error::runtime(
            "NotOwned",
            format!(
                "{} exists but is not tagged as this hub's ({}) server; refusing to delete it",
                r.name, settings.hub_id
            ),
        ));
    }
    output::progress(10, &format!("Deleting {}", r.name));
    let started = loop {
        match arm.delete_app(&r.id).await {
            Ok(s) => break s,
            // The retry budget ran out on "operation in progress": keep trying until our own deadline.
            Err(e) if e.status == Some(409) && lro::fits(settings.arm.poll_interval, deadline) => {
                output::verbose(&format!("{e}; waiting"));
                tokio::time::sleep(settings.arm.poll_interval).await;
            }
            Err(e) => return Err(e.into()),
        }
    };
    match started {
        DeleteStarted::Absent => return Ok(false),
        DeleteStarted::Done => return Ok(true),
        DeleteStarted::Accepted { url, async_status, retry_after } => {
            // Ask the app itself every GONE_CHECK (404 = gone, the only proof that counts) and the
            // operation at ARM's own pace (for a failed delete): ARM's Retry-After can be far
            // longer than the deletion, and the user cannot restart until stop returns.
            let mut next_op = lro::after(settings.arm.lro_wait(retry_after));
            loop {
                if !lro::fits(GONE_CHECK, deadline) {
                    break;
                }
                lro::sleep_within(GONE_CHECK, deadline).await;
                if arm.get_app(&r.id).await?.is_none() {
                    return Ok(true);
                }
                let Some(url) = url.as_deref() else { continue };
                if Instant::now() < next_op {
                    continue;
                }
                let (done, next) = if async_status {
                    let (s, next) = arm.operation_status(url).await?;
                    let st = s.status.unwrap_or_default().to_ascii_lowercase();
                    if st == "failed" || st == "canceled" {
                        let e = s.error.unwrap_or_default();
                        return Err(Error::runtime(
                            e.code.unwrap_or_else(|| "DeleteFailed".into()),
                            format!("deleting {} failed: {}", r.name, e.message.unwrap_or_default()),
                        ));
                    }
                    (st == "succeeded", next)
                } else {
                    arm.location_done(url).await?
                };
                if done {
                    break;
                }
                next_op = lro::after(settings.arm.lro_wait(next));
            }
        }
    }
    // Gone means GET says 404.
    loop {
        if arm.get_app(&r.id).await?.is_none() {
            return Ok(true);
        }
        if !lro::fits(settings.arm.poll_interval, deadline) {
            output::warn(&format!(
                "ARM accepted the delete of {} but it still exists after {} s; it will finish on its own",
                r.name,
                budget.as_secs()
            ));
            return Ok(true);
        }
        lro::sleep_within(settings.arm.poll_interval, deadline).await;
    }
}
