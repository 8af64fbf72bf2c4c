//! `acactl stop`: delete the app, idempotently, and wait (bounded) until it is gone.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::arm::{Arm, DeleteStarted};
use crate::cli::TargetArgs;
use crate::commands::{self, AppRef};
use crate::error::{Error, Result};
use crate::output;
use crate::settings::{Env, Settings};

pub async fn run(target: &TargetArgs, settings: &Settings, env: &dyn Env) -> Result<Value> {
    let r = commands::app_ref(target, settings, env)?;
    let arm = commands::arm(settings)?;
    // Waiting for another command on this server counts against stop's own budget.
    let deadline = Instant::now() + settings.arm.stop_timeout;
    let _lock = crate::ownership::ServerLock::acquire(settings, &r.name, deadline).await?;
    let deleted = delete_and_wait(&arm, settings, &r, deadline.saturating_duration_since(Instant::now())).await?;
    Ok(json!({ "name": r.name, "deleted": deleted }))
}

/// Ok(false) when there was nothing to delete.
pub async fn delete_and_wait(arm: &Arm, settings: &Settings, r: &AppRef, budget: Duration) -> Result<bool> {
    let deadline = Instant::now() + budget;
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
            Err(e) if e.status == Some(409) && Instant::now() + settings.arm.poll_interval < deadline => {
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
            let mut wait = settings.arm.lro_wait(retry_after);
            if let Some(url) = url {
                loop {
                    if Instant::now() + wait > deadline {
                        break;
                    }
                    tokio::time::sleep(wait).await;
                    let (done, next) = if async_status {
                        let (s, next) = arm.operation_status(&url).await?;
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
                        arm.location_done(&url).await?
                    };
                    if done {
                        break;
                    }
                    wait = settings.arm.lro_wait(next);
                }
            }
        }
    }
    // Gone means GET says 404.
    loop {
        if arm.get_app(&r.id).await?.is_none() {
            return Ok(true);
        }
        if Instant::now() + settings.arm.poll_interval > deadline {
            output::warn(&format!(
                "ARM accepted the delete of {} but it still exists after {} s; it will finish on its own",
                r.name,
                budget.as_secs()
            ));
            return Ok(true);
        }
        tokio::time::sleep(settings.arm.poll_interval).await;
    }
}
