//! Whether a server's app is running, in poll's vocabulary ([`PollStatus`]): the ingress probe
//! and the direct ARM GET that `poll` and batchspawner's `query` (and start's readiness wait) share.
//! Only ARM's 404 for the app's id means gone; any error is "unknown".

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::arm::fleet;
use crate::arm::{Arm, DeleteStarted};
use crate::error::{Error, ErrorCode};
use crate::output;
use crate::ownership::{self, AppRef, Expect};
use crate::phase::{self as status, Phase};
use crate::settings::Settings;

/// How long the ingress probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PollStatus {
    Running,
    Pending,
    /// Gone (never created, deleted, or not this server's).
    Stopped,
    /// Failed terminally (and deleted).
    Failed,
    Unknown,
}

impl PollStatus {
    /// The hub's exit status: null while it may run, 0 gone, 1 failed.
    fn exit_status(self) -> Option<u8> {
        match self {
            PollStatus::Stopped => Some(0),
            PollStatus::Failed => Some(1),
            _ => None,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ErrorDoc {
    pub code: ErrorCode,
    pub message: String,
}

/// poll's document (keys come out sorted, as serde_json's map keeps them).
#[derive(Debug, Serialize)]
pub struct Polled {
    pub status: PollStatus,
    pub exit_status: Option<u8>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owned: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDoc>,
}

impl Polled {
    pub fn new(status: PollStatus, name: &str) -> Polled {
        Polled {
            status,
            exit_status: status.exit_status(),
            name: name.to_string(),
            source: None,
            owned: None,
            reason: None,
            deleted: None,
            error: None,
        }
    }

    pub fn from(mut self, source: &'static str) -> Polled {
        self.source = Some(source);
        self
    }
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

/// "unknown" because of `e`, with a warning on stderr.
pub fn unknown(r: &AppRef, e: &Error) -> Polled {
    output::warn(&format!("cannot tell whether {} is running: {}", r.name, e.message));
    Polled {
        error: Some(ErrorDoc { code: e.code.clone(), message: e.message.clone() }),
        ..Polled::new(PollStatus::Unknown, &r.name)
    }
}

/// One direct ARM GET (and a revision GET when ARM cannot tell activating from failed to activate);
/// a terminally failed app is deleted, then reported failed.
pub async fn poll(arm: &Arm, settings: &Settings, r: &AppRef) -> Polled {
    let app = match arm.get_app(&r.id).await {
        Ok(Some(app)) => app,
        Ok(None) => {
            fleet::forget(settings, &r.name);
            return Polled::new(PollStatus::Stopped, &r.name);
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
        return Polled { owned: Some(false), ..Polled::new(PollStatus::Stopped, &r.name) };
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
        Phase::Running => Polled::new(PollStatus::Running, &r.name),
        Phase::Pending | Phase::Deleting => Polled::new(PollStatus::Pending, &r.name),
        Phase::Failed(reason) => match arm.delete_app(&r.id).await {
            Ok(DeleteStarted::Absent | DeleteStarted::Done | DeleteStarted::Accepted { .. }) => {
                output::info(&format!("{} failed terminally ({reason}); deleted it", r.name));
                Polled { reason: Some(reason), deleted: Some(true), ..Polled::new(PollStatus::Failed, &r.name) }
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
