//! `acactl stop`: delete the app, idempotently, and wait (bounded) until it is gone, noticing
//! within about [`GONE_CHECK`] that it is.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::arm::fleet::{self, Fleet};
use crate::arm::lro;
use crate::arm::{Arm, DeleteStarted};
use crate::cli::TargetArgs;
use crate::commands;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::output;
use crate::ownership::{self, AppRef};
use crate::settings::Settings;

/// How often stop asks whether the app is gone while ARM deletes it (`fleet.enabled: false`).
pub const GONE_CHECK: Duration = Duration::from_millis(500);
/// How often stop looks at the fleet view while ARM deletes the app (a file stat; no ARM request).
const VIEW_CHECK: Duration = Duration::from_millis(200);
/// While deletions are pending the view is refreshed this often per page of the list (at least
/// [`DELETING_MIN_AGE`], at most `fleet.max_age`): 300 stops share one list instead of 600 GETs
/// a second, and a list costs at most ~20 reads a second of ARM's 25.
const DELETING_AGE_PER_PAGE: Duration = Duration::from_millis(50);
const DELETING_MIN_AGE: Duration = Duration::from_millis(500);
/// How long a stop waits for another process's refresh before asking ARM itself.
const VIEW_WAIT: Duration = Duration::from_secs(2);

/// stop's use of the fleet view: "gone" is only a candidate when a list that began after ARM
/// accepted the DELETE no longer shows the app; the caller confirms with one direct GET (only
/// ARM's 404 means gone). A view that cannot be had sends the caller to ARM directly.
struct GoneView {
    fleet: Fleet,
    accepted_ms: i64,
    seen_mtime: Option<i64>,
    /// Pages of the last list seen (sets the refresh period).
    pages: usize,
    last_direct: Option<Instant>,
}

impl GoneView {
    fn open(settings: &Settings, r: &AppRef) -> Option<GoneView> {
        let fleet = Fleet::open(settings).ok().flatten().filter(|f| f.covers(&r.id))?;
        Some(GoneView { fleet, accepted_ms: fleet::now_ms(), seen_mtime: None, pages: 1, last_direct: None })
    }

    /// Whether the app may be gone (worth one direct GET).
    async fn maybe_gone(&mut self, arm: &Arm, r: &AppRef) -> bool {
        let mtime = self.fleet.modified_ms();
        let period = DELETING_AGE_PER_PAGE
            .saturating_mul(self.pages.min(10_000) as u32)
            .clamp(DELETING_MIN_AGE, self.fleet.max_age.max(DELETING_MIN_AGE));
        let stale = mtime.is_none_or(|m| fleet::now_ms().saturating_sub(m) >= period.as_millis() as i64 * 4 / 5);
        if !stale && mtime == self.seen_mtime {
            // Nothing new since the last look, and not due for a refresh: no need to parse it.
            return false;
        }
        let Some(snap) = self.fleet.fresh(arm, period, lro::after(VIEW_WAIT)).await else {
            // No trustworthy view (refresh failed, lock unusable): ask the app itself, at the
            // pace of the classic loop.
            let due = self.last_direct.is_none_or(|t| t.elapsed() >= GONE_CHECK);
            if due {
                self.last_direct = Some(Instant::now());
            }
            return due;
        };
        self.seen_mtime = self.fleet.modified_ms();
        self.pages = snap.pages.max(1);
        snap.listed_since(self.accepted_ms) && snap.get(&r.name).is_none_or(|e| !e.id.eq_ignore_ascii_case(&r.id))
    }
}

pub async fn run(target: &TargetArgs, settings: &Settings, env: &dyn Env) -> Result<Value> {
    let r = ownership::app_ref(target, settings, env)?;
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
    if !ownership::is_ours(&app, settings, r) {
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
            let mut view = GoneView::open(settings, r);
            loop {
                let check = if view.is_some() { VIEW_CHECK } else { GONE_CHECK };
                if !lro::fits(check, deadline) {
                    break;
                }
                lro::sleep_within(check, deadline).await;
                let ask = match view.as_mut() {
                    Some(v) => v.maybe_gone(arm, r).await,
                    None => true,
                };
                if ask && arm.get_app(&r.id).await?.is_none() {
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
