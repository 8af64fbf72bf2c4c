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

use serde_json::{Value, json};

use crate::arm::budget::Priority;
use crate::arm::fleet::{self, Fleet};
use crate::arm::lro;
use crate::arm::{Arm, DeleteStarted};
use crate::cli::TargetArgs;
use crate::commands;
use crate::env::Env;
use crate::error::{Error, ErrorCode, Result};
use crate::output;
use crate::ownership::{self, AppRef, Expect};
use crate::phase::{self as status, Phase};
use crate::settings::Settings;

/// Every ARM request of a poll (retries and throttling included) ends by then.
pub const POLL_DEADLINE: Duration = Duration::from_secs(15);
/// Extra time for the token and local work before the whole poll is cut off.
pub const POLL_GRACE: Duration = Duration::from_secs(5);
/// How long the ingress probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a poll waits for another process's refresh of the fleet view.
const FLEET_WAIT: Duration = Duration::from_secs(3);

pub async fn run(target: &TargetArgs, settings: &Settings, env: &dyn Env) -> Result<Value> {
    let r = ownership::app_ref(target, settings, env)?;
    // The common case at scale: a view that needs no refresh answers before any HTTP client,
    // token or budget is set up (a poll is a whole process; those cost most of its time).
    let probe = if settings.fleet.enabled { probe_url(target, env) } else { None };
    if probe.is_none()
        && let Some(v) = from_current_view(settings, &r)
    {
        return Ok(v);
    }
    let arm = match commands::arm(settings) {
        Ok(a) => a,
        Err(e) => return Ok(unknown(&r, &e)),
    };
    arm.set_deadline(lro::after(POLL_DEADLINE));
    arm.set_priority(Priority::Normal);
    // `fleet.enabled: false` is the classic one-GET-per-poll, probe included.
    let polled = async {
        if let Some(url) = &probe
            && probe_jupyter(&arm, url).await
        {
            return json!({ "status": "running", "exit_status": null, "name": r.name, "source": "ingress" });
        }
        if let Some(v) = from_fleet(&arm, settings, &r).await {
            return v;
        }
        poll(&arm, settings, &r).await
    };
    match tokio::time::timeout(POLL_DEADLINE.saturating_add(POLL_GRACE), polled).await {
        Ok(v) => Ok(v),
        Err(_) => Ok(unknown(
            &r,
            &Error::new(
                ErrorCode::PollTimeout,
                format!("no answer within {} s", POLL_DEADLINE.saturating_add(POLL_GRACE).as_secs()),
            ),
        )),
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

/// Whether Jupyter itself answers (ACA's 404 page or a 503 while starting do not count).
pub async fn probe_jupyter(arm: &Arm, url: &str) -> bool {
    probe(arm.http(), url).await
}

/// The most of Jupyter's `/api` answer we read (it is ~30 bytes): the body comes from the user's
/// own container, polled every 500 ms by start and by every poll.
const PROBE_MAX_BODY: usize = 64 << 10;

async fn probe(http: &reqwest::Client, url: &str) -> bool {
    let Ok(resp) = http.get(url).timeout(PROBE_TIMEOUT).send().await else {
        return false;
    };
    if resp.status().as_u16() != 200 {
        return false;
    }
    let body: Option<Value> = tokio::time::timeout(PROBE_TIMEOUT, crate::http::read_capped(resp, PROBE_MAX_BODY))
        .await
        .ok()
        .and_then(|r| r.ok())
        .and_then(|b| serde_json::from_slice(&b).ok());
    body.is_some_and(|b| b.get("version").is_some())
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

/// [`from_fleet`] from the view on disk only, when it needs no refresh: no ARM client at all.
fn from_current_view(settings: &Settings, r: &AppRef) -> Option<Value> {
    let fleet = fleet_for(settings, r)?;
    let snap = fleet.current(fleet.max_age)?;
    answer_from(&fleet, &snap, settings, r)
}

/// running/pending from a fresh fleet view; `None` when only ARM itself can tell (missing from
/// the view, failed, activating, or no trustworthy view).
async fn from_fleet(arm: &Arm, settings: &Settings, r: &AppRef) -> Option<Value> {
    let fleet = fleet_for(settings, r)?;
    let snap = fleet.fresh(arm, fleet.max_age, lro::after(FLEET_WAIT)).await?;
    answer_from(&fleet, &snap, settings, r)
}

fn answer_from(fleet: &Fleet, snap: &crate::arm::fleet::Snapshot, settings: &Settings, r: &AppRef) -> Option<Value> {
    let entry = snap.get(&r.name).filter(|e| e.id.eq_ignore_ascii_case(&r.id) && fleet.speaks_for(snap, &r.name))?;
    let app = entry.app();
    if !ownership::is_ours(&app, settings, r) {
        // The same ownership rule as the direct GET, which says what to report for it.
        return None;
    }
    match status::app_phase(&app) {
        Phase::Running => Some(json!({ "status": "running", "exit_status": null, "name": r.name, "source": "fleet" })),
        Phase::Pending | Phase::Deleting if !status::needs_revision_check(&app) => {
            Some(json!({ "status": "pending", "exit_status": null, "name": r.name, "source": "fleet" }))
        }
        _ => None,
    }
}

fn unknown(r: &AppRef, e: &Error) -> Value {
    output::warn(&format!("cannot tell whether {} is running: {}", r.name, e.message));
    json!({ "status": "unknown", "exit_status": null, "name": r.name, "error": { "code": e.code, "message": e.message } })
}

pub async fn poll(arm: &Arm, settings: &Settings, r: &AppRef) -> Value {
    let app = match arm.get_app(&r.id).await {
        Ok(Some(app)) => app,
        Ok(None) => {
            fleet::forget(settings, &r.name);
            return json!({ "status": "stopped", "exit_status": 0, "name": r.name });
        }
        Err(e) => return unknown(r, &e.into()),
    };
    if !ownership::is_ours(&app, settings, r) {
        if r.legacy_state && ownership::owns(&app, settings, &Expect::Name(r.name.clone())) {
            // The app this (keyless, 0.1) state's name was made for, tagged for another user: the
            // user was renamed since, or the state was handed to the wrong server. Not proof enough
            // to act on, and certainly not "gone".
            return unknown(
                r,
                &Error::new(
                    ErrorCode::OwnerUnproven,
                    format!(
                        "{} is this hub's app for this state's name but tagged for another user; a state written before acactl recorded server keys cannot prove it is this server's (stop it as an admin: acactl stop --user <old name>)",
                        r.name
                    ),
                ),
            );
        }
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
                &Error::new(e.code.clone(), format!("{} failed ({reason}) and deleting it failed: {e}", r.name)),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A one-connection HTTP server answering 200 with `head_body` then `pad` repeated until the
    /// client goes away; returns its URL and how many bytes it managed to send.
    fn serve(head_body: &'static str, pad: &'static [u8]) -> (String, std::thread::JoinHandle<usize>) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/api", l.local_addr().unwrap());
        let t = std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            // The client's connection task cannot run while the test joins this thread.
            c.set_write_timeout(Some(Duration::from_secs(1))).unwrap();
            let mut req = [0u8; 4096];
            let _ = c.read(&mut req);
            let mut sent = 0;
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
            if c.write_all(head.as_bytes()).and_then(|_| c.write_all(head_body.as_bytes())).is_err() {
                return 0;
            }
            if pad.is_empty() {
                return head_body.len();
            }
            while sent < (1 << 30) && c.write_all(pad).is_ok() {
                sent += pad.len();
            }
            sent
        });
        (url, t)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_probe_reads_a_capped_body() {
        let http = reqwest::Client::new();
        let (url, t) = serve(r#"{"version": "2.14.0"}"#, b"");
        assert!(probe(&http, &url).await);
        t.join().unwrap();
        // A container answering an endless "JSON" body: given up after 64 KiB, not read for 2 s.
        let (url, t) = serve(r#"{"version": "2.14.0", "pad": ""#, &[b'x'; 8192]);
        let started = std::time::Instant::now();
        assert!(!probe(&http, &url).await);
        assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
        let sent = t.join().unwrap();
        assert!(sent < 16 << 20, "{sent} bytes sent before the probe hung up");
    }
}
