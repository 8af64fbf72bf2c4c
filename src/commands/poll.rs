//! `acactl poll`: the cheapest source first. (1) Jupyter answering `<url><prefix>api` through the
//! ingress means running, at no ARM cost. (2) The shared fleet view (`arm/fleet.rs`, refreshed at
//! most once per `fleet.max_age` by one process) answers running/pending. (3) Anything else (the
//! app missing from the view, failed, a view that cannot be had, `fleet.enabled: false`) is one
//! direct ARM GET. Never reports a live app as gone: only ARM's 404 ResourceNotFound for the
//! app's id means gone; any error is "unknown" with a null exit status. A terminally failed app is
//! deleted first, then reported gone (the hub does not call stop after a poll says "not running").
//!
//! Worst case (full ARM outage): every ARM request of a poll ends by [`POLL_DEADLINE`], and the
//! whole command is cut off at [`POLL_DEADLINE`] + [`POLL_GRACE`] (20 s, well inside the exec
//! spawner's 60 s `poll_timeout`), answering "unknown".

use std::time::Duration;

use crate::arm::Arm;
use crate::arm::budget::Priority;
use crate::arm::fleet::Fleet;
use crate::arm::lro;
use crate::cli::TargetArgs;
use crate::env::Env;
use crate::error::{Error, ErrorCode, Result};
use crate::liveness::{PollStatus, Polled, poll, probe_jupyter, unknown};
use crate::output::{self, Outcome};
use crate::ownership::{self, AppRef};
use crate::phase::{self as status, Phase};
use crate::settings::Settings;

/// Every ARM request of a poll (retries and throttling included) ends by then.
pub const POLL_DEADLINE: Duration = Duration::from_secs(15);
/// Extra time for the token and local work before the whole poll is cut off.
pub const POLL_GRACE: Duration = Duration::from_secs(5);
/// How long a poll waits for another process's refresh of the fleet view.
const FLEET_WAIT: Duration = Duration::from_secs(3);

pub async fn run(target: &TargetArgs, settings: &Settings, env: &dyn Env) -> Result<Outcome> {
    let r = ownership::app_ref(target, settings, env)?;
    // The common case at scale: a view that needs no refresh answers before any HTTP client,
    // token or budget is set up (a poll is a whole process; those cost most of its time).
    let probe = if settings.fleet.enabled { probe_url(target, env) } else { None };
    if probe.is_none()
        && let Some(v) = from_current_view(settings, &r)
    {
        return Ok(Outcome::json(v));
    }
    let arm = match crate::arm::connect(settings) {
        Ok(a) => a,
        Err(e) => return Ok(Outcome::json(unknown(&r, &e))),
    };
    arm.set_deadline(lro::after(POLL_DEADLINE));
    arm.set_priority(Priority::Normal);
    // `fleet.enabled: false` is the classic one-GET-per-poll, probe included.
    let polled = async {
        if let Some(url) = &probe
            && probe_jupyter(&arm, url).await
        {
            return Polled::new(PollStatus::Running, &r.name).from("ingress");
        }
        // Without a probe, the view on disk was just tried (`from_current_view`).
        if let Some(v) = from_fleet(&arm, settings, &r, probe.is_some()).await {
            return v;
        }
        poll(&arm, settings, &r).await
    };
    match tokio::time::timeout(POLL_DEADLINE.saturating_add(POLL_GRACE), polled).await {
        Ok(v) => Ok(Outcome::json(v)),
        Err(_) => Ok(Outcome::json(unknown(
            &r,
            &Error::new(
                ErrorCode::PollTimeout,
                format!("no answer within {} s", POLL_DEADLINE.saturating_add(POLL_GRACE).as_secs()),
            ),
        ))),
    }
}

/// `<state url><JUPYTERHUB_SERVICE_PREFIX>api`, when the hub gave both (and they look sane).
fn probe_url(target: &TargetArgs, env: &dyn Env) -> Option<String> {
    if target.user.is_some() {
        return None;
    }
    let url = crate::request::state(env).ok().flatten()?.url?;
    let prefix = env.var("JUPYTERHUB_SERVICE_PREFIX")?;
    let sane = prefix.starts_with('/') && !prefix.contains(['?', '#', '\\']) && !prefix.contains("..");
    let base = url.trim_end_matches('/');
    (sane && (base.starts_with("http://") || base.starts_with("https://")))
        .then(|| format!("{base}{}api", if prefix.ends_with('/') { prefix } else { format!("{prefix}/") }))
}

/// The fleet view for this app's id, if it can speak for it at all.
fn fleet_for(settings: &Settings, r: &AppRef) -> Option<Fleet> {
    match Fleet::open(settings) {
        Ok(f) => f.filter(|f| f.covers(&r.id)),
        Err(why) => {
            output::verbose(&format!("fleet view unavailable: {why}"));
            None
        }
    }
}

/// [`from_fleet`] from the view on disk only, when it needs no refresh by this poll: no ARM client
/// at all (see [`Fleet::answering`]).
fn from_current_view(settings: &Settings, r: &AppRef) -> Option<Polled> {
    let fleet = fleet_for(settings, r)?;
    let snap = fleet.answering()?;
    answer_from(&fleet, &snap, settings, r)
}

/// running/pending from a fresh fleet view; `None` when only ARM itself can tell (missing from
/// the view, failed, activating, or no trustworthy view).
async fn from_fleet(arm: &Arm, settings: &Settings, r: &AppRef, try_disk: bool) -> Option<Polled> {
    let fleet = fleet_for(settings, r)?;
    let on_disk = if try_disk { fleet.answering() } else { None };
    let snap = match on_disk {
        Some(s) => s,
        None => fleet.fresh(arm, fleet.max_age, lro::after(FLEET_WAIT)).await?,
    };
    answer_from(&fleet, &snap, settings, r)
}

fn answer_from(fleet: &Fleet, snap: &crate::arm::fleet::Snapshot, settings: &Settings, r: &AppRef) -> Option<Polled> {
    let entry = snap.get(&r.name).filter(|e| e.id.eq_ignore_ascii_case(&r.id) && fleet.speaks_for(snap, &r.name))?;
    let app = entry.app();
    if !ownership::is_ours(&app, settings, r) {
        // The same ownership rule as the direct GET, which says what to report for it.
        return None;
    }
    match status::app_phase(&app) {
        Phase::Running => Some(Polled::new(PollStatus::Running, &r.name).from("fleet")),
        Phase::Pending | Phase::Deleting if !status::needs_revision_check(&app) => {
            Some(Polled::new(PollStatus::Pending, &r.name).from("fleet"))
        }
        _ => None,
    }
}
