//! `acactl gc`: delete this hub's apps that no active or pending JupyterHub server refers to (older
//! than a grace period), and terminally failed apps. Safe by construction:
//! * the hub's view must be complete (unfiltered scopes, every page) or nothing is deleted;
//! * only apps carrying this hub's ownership tags are ever considered;
//! * every candidate's server is re-checked individually just before deleting;
//! * deletes are paced to ARM's delete bucket, honour 429 Retry-After, and each app is deleted at
//!   most once (a delete counts as done when ARM accepted it).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::status as shared;
use crate::arm::Arm;
use crate::arm::model::ContainerApp;
use crate::cli::{GcArgs, OutputFormat};
use crate::error::{Error, Exit, Result};
use crate::hub::Hub;
use crate::output;
use crate::ownership::{self, HubView};
use crate::phase::{self, Phase};
use crate::settings::Settings;

/// ARM's documented refill rate of the per-principal delete bucket (200 burst, 10/s).
const DELETE_RATE_PER_S: f64 = 10.0;
/// 429s one app's delete may meet before it counts as failed (the next run retries it).
const MAX_THROTTLED_PER_APP: u32 = 100;
const MARGIN: Duration = Duration::from_secs(300);

/// The largest start timeout + the hub's http_timeout + 5 minutes: an app younger than that may
/// belong to a start whose state the hub has not stored yet.
pub fn default_grace(settings: &Settings) -> Duration {
    settings.max_start_timeout() + settings.hub.http_timeout + MARGIN
}

#[derive(Debug, Clone, PartialEq)]
enum Why {
    Orphan,
    Failed(String),
}

struct Entry {
    name: String,
    id: String,
    user: Option<String>,
    server: Option<String>,
    action: &'static str,
    reason: String,
    candidate: Option<Why>,
}

pub async fn run(args: &GcArgs, settings: &Settings) -> Result<Exit> {
    let lock = if args.dry_run { None } else { Some(Lock::acquire(settings)?) };
    // One overall deadline, whatever ARM or the hub say (a Retry-After of years included): the
    // work is dropped at the deadline and the lock released with it.
    let outcome = tokio::time::timeout(settings.gc_deadline, run_locked(args, settings)).await;
    drop(lock);
    outcome.unwrap_or_else(|_| {
        Err(Error::runtime(
            "GcDeadline",
            format!(
                "gc stopped at its deadline (gc.deadline, {} s); deletes already sent go on, the next run continues",
                settings.gc_deadline.as_secs()
            ),
        ))
    })
}

async fn run_locked(args: &GcArgs, settings: &Settings) -> Result<Exit> {
    let fmt = shared::format(args.output);
    let grace = args.grace.unwrap_or_else(|| default_grace(settings));
    let http = crate::http::client(settings).map_err(|e| Error::config(format!("{e:#}")))?;
    let hub = Hub::require(settings, http)?;
    let arm = super::arm(settings)?;

    // 1. The hub's complete view, or nothing happens.
    let refuse = |e: Error| {
        Error::new(e.exit, e.code.clone(), format!("{}; gc deleted nothing", e.message.trim_end_matches('.')))
    };
    hub.check_scopes().await.map_err(refuse)?;
    let listing = hub.active_users().await.map_err(refuse)?;
    let view = HubView::build(settings, &listing.users, listing.pages);
    output::verbose(&format!(
        "hub: {} active users, {} active servers ({} page(s))",
        view.users, view.servers, view.pages
    ));

    // 2. ARM's view (after the hub's, so anything the hub started since is young or re-checked).
    let listed = arm.list_apps(&settings.subscription, &settings.resource_group).await.map_err(|e| refuse(e.into()))?;
    let now = time::OffsetDateTime::now_utc();
    let mut entries: Vec<Entry> = Vec::new();
    let mut other = 0usize;
    for app in &listed.apps {
        if !ownership::ours(app, settings) {
            other += 1;
            continue;
        }
        entries.push(classify(app, settings, &view, grace, now));
    }

    // 3. Re-check each candidate's server individually.
    let candidates: Vec<usize> = (0..entries.len()).filter(|&i| entries[i].candidate.is_some()).collect();
    let rechecks = recheck(&hub, &entries, &candidates, args.concurrency as usize).await;
    let mut hub_requests = 1 + listing.pages;
    for (i, r) in candidates.iter().zip(rechecks) {
        hub_requests += 1;
        let e = &mut entries[*i];
        match r {
            Err(err) => return Err(refuse(err)),
            Ok(Some(keep_reason)) => {
                e.candidate = None;
                e.action = "kept";
                e.reason = keep_reason;
            }
            Ok(None) => {}
        }
    }

    // 4. Delete (or say what would be deleted).
    let to_delete: Vec<usize> = (0..entries.len()).filter(|&i| entries[i].candidate.is_some()).collect();
    let mut stats = DeleteStats::default();
    if args.dry_run {
        for &i in &to_delete {
            entries[i].action = "would_delete";
        }
    } else if !to_delete.is_empty() {
        let ids: Vec<String> = to_delete.iter().map(|&i| entries[i].id.clone()).collect();
        let outcomes = delete_all(&arm, settings, &ids, args.concurrency as usize, &mut stats).await;
        for (&i, outcome) in to_delete.iter().zip(outcomes) {
            let e = &mut entries[i];
            match outcome {
                Ok(note) => {
                    e.action = "deleted";
                    if let Some(n) = note {
                        e.reason = format!("{} ({n})", e.reason);
                    }
                }
                Err(msg) => {
                    e.action = "failed";
                    e.reason = format!("{}; delete failed: {msg}", e.reason);
                }
            }
        }
    }

    let count = |a: &str| entries.iter().filter(|e| e.action == a).count();
    let (kept, deleted, failed, would) = (count("kept"), count("deleted"), count("failed"), count("would_delete"));
    for e in entries.iter().filter(|e| e.action == "failed") {
        output::warn(&format!("{}: {}", e.name, e.reason));
    }
    let mut doc = json!({
        "dry_run": args.dry_run,
        "scanned": entries.len(),
        "other": other,
        "kept": kept,
        "deleted": deleted,
        "failed": failed,
        "grace_seconds": grace.as_secs(),
        "requests": {
            "arm_list_pages": listed.pages,
            "arm_deletes": stats.requests,
            "arm_throttled": stats.throttled,
            "hub": hub_requests,
        },
        "apps": entries.iter().map(|e| json!({
            "name": e.name, "user": e.user, "server": e.server, "action": e.action, "reason": e.reason,
        })).collect::<Vec<Value>>(),
    });
    if args.dry_run {
        doc["would_delete"] = json!(would);
    }
    match fmt {
        OutputFormat::Json => output::result(&doc),
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = entries
                .iter()
                .map(|e| {
                    vec![
                        e.name.clone(),
                        e.user.clone().unwrap_or("-".into()),
                        match e.server.as_deref() {
                            Some("") => "(default)".into(),
                            Some(s) => s.into(),
                            None => "-".into(),
                        },
                        e.action.to_string(),
                        e.reason.clone(),
                    ]
                })
                .collect();
            let mut text = shared::table(&["APP", "USER", "SERVER", "ACTION", "REASON"], &rows);
            text.push_str(&format!(
                "\n\n{} scanned, {kept} kept, {} {}, {failed} failed ({other} apps of other hubs or untagged left alone)",
                entries.len(),
                if args.dry_run { would } else { deleted },
                if args.dry_run { "would be deleted" } else { "deleted" },
            ));
            output::text(text.trim_start());
        }
    }
    Ok(if failed > 0 { Exit::Runtime } else { Exit::Ok })
}

fn classify(
    app: &ContainerApp,
    settings: &Settings,
    view: &HubView,
    grace: Duration,
    now: time::OffsetDateTime,
) -> Entry {
    let name = phase::app_name(app);
    let mut e = Entry {
        id: app.id.clone().unwrap_or_else(|| ownership::app_id(settings, &name)),
        name,
        user: app.tag(ownership::TAG_USER).map(str::to_string),
        server: app.tag(ownership::TAG_SERVER).map(str::to_string),
        action: "kept",
        reason: String::new(),
        candidate: None,
    };
    let referenced = if view.by_state(app) {
        Some("an active hub server's state refers to it")
    } else if view.by_tags(app) {
        Some("the hub has this user/server active")
    } else {
        None
    };
    let mut delete = |why: Why, reason: String| {
        e.candidate = Some(why);
        e.action = "delete";
        e.reason = reason;
    };
    match phase::app_phase(app) {
        Phase::Deleting => e.reason = "already being deleted".into(),
        Phase::Failed(r) if view.spawning(app) => {
            e.reason = format!("failed terminally ({r}), but a spawn is in progress and start handles it")
        }
        Phase::Failed(r) => delete(Why::Failed(r.clone()), format!("failed terminally: {r}")),
        _ => match referenced {
            Some(r) => e.reason = r.into(),
            None => match phase::touched_at(app) {
                None => e.reason = "no creation time: age unknown".into(),
                Some(t) if now - t < grace => {
                    let age = (now - t).whole_seconds().max(0);
                    e.reason = format!(
                        "no hub server refers to it, but it is younger ({age} s) than the grace period ({} s)",
                        grace.as_secs()
                    )
                }
                Some(t) => {
                    let age = (now - t).whole_seconds();
                    delete(Why::Orphan, format!("no active or pending hub server refers to it (age {age} s)"))
                }
            },
        },
    }
    e
}

/// Per candidate: Ok(Some(reason)) to keep it after all, Ok(None) to go ahead, Err on a hub error.
async fn recheck(hub: &Hub, entries: &[Entry], idx: &[usize], concurrency: usize) -> Vec<Result<Option<String>>> {
    let results: RefCell<Vec<Option<Result<Option<String>>>>> = RefCell::new((0..idx.len()).map(|_| None).collect());
    let next = Cell::new(0usize);
    let worker = || async {
        loop {
            let k = next.get();
            if k >= idx.len() {
                break;
            }
            next.set(k + 1);
            let e = &entries[idx[k]];
            let r = recheck_one(hub, e).await;
            results.borrow_mut()[k] = Some(r);
        }
    };
    join_all((0..concurrency.max(1)).map(|_| worker()).collect()).await;
    results.into_inner().into_iter().map(|r| r.unwrap_or_else(|| Ok(Some("not re-checked".into())))).collect()
}

async fn recheck_one(hub: &Hub, e: &Entry) -> Result<Option<String>> {
    let (Some(user), Some(server)) = (e.user.as_deref(), e.server.as_deref()) else {
        return Ok(Some("no acactl-user/acactl-server tags: cannot re-check with the hub".into()));
    };
    // tag_value shortens values over 256 characters with a `~hash` suffix: not the real name.
    if user.chars().count() >= 256 || server.chars().count() >= 256 {
        return Ok(Some("user or server name too long for its tag: cannot re-check with the hub".into()));
    }
    let s = hub.server(user, server).await?;
    Ok(match (&e.candidate, s) {
        (_, None) => None,
        (Some(Why::Failed(_)), Some(s)) if s.pending.as_deref() == Some("spawn") => {
            Some("failed, but a spawn started meanwhile (re-check)".into())
        }
        (Some(Why::Failed(_)), Some(_)) => None,
        (_, Some(s)) if s.active() => Some("the hub reports the server active on re-check".into()),
        (_, Some(_)) => None,
    })
}

/// Run futures concurrently on this task (the ARM client is single-threaded by design).
async fn join_all<F: Future<Output = ()>>(futs: Vec<F>) {
    let mut futs: Vec<Option<Pin<Box<F>>>> = futs.into_iter().map(|f| Some(Box::pin(f))).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for slot in futs.iter_mut() {
            if let Some(f) = slot {
                if f.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    pending = true;
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await
}

/// Ok(None) accepted, Ok(Some(note)) nothing to delete, Err(why) failed.
type DeleteOutcome = std::result::Result<Option<&'static str>, String>;

#[derive(Default)]
struct DeleteStats {
    requests: usize,
    throttled: usize,
}

/// A client-side mirror of ARM's delete token bucket: sends while the bucket has tokens, then at the
/// refill rate, so 429s stay rare. Corrected from `x-ms-ratelimit-remaining-subscription-deletes`
/// (minus the requests sent after the one answered); a 429 empties it and pauses everyone for the
/// Retry-After.
struct Pacer {
    tokens: f64,
    rate: f64,
    last: Instant,
    pause_until: Option<Instant>,
    sent: u64,
    /// The newest request whose answer corrected `tokens` (older answers arriving late are stale).
    observed: u64,
}

impl Pacer {
    fn new(initial: f64) -> Pacer {
        Pacer {
            tokens: initial,
            rate: DELETE_RATE_PER_S,
            last: Instant::now(),
            pause_until: None,
            sent: 0,
            observed: 0,
        }
    }

    /// How long to wait before sending, or None to send now (then a token is taken).
    fn try_take(&mut self) -> Option<Duration> {
        let now = Instant::now();
        if let Some(p) = self.pause_until {
            if p > now {
                return Some(p - now);
            }
            self.pause_until = None;
        }
        self.refill();
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.sent += 1;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        self.tokens += now.duration_since(self.last).as_secs_f64() * self.rate;
        self.last = now;
    }

    fn observe(&mut self, seq: u64, remaining: Option<u64>) {
        if let (Some(r), true) = (remaining, seq > self.observed) {
            self.observed = seq;
            // ARM reports whole tokens (floor), so within one token our continuous estimate is the
            // better one: resetting it on every answer would lose the fraction refilled meanwhile and
            // slow the steady state by a round trip per delete.
            let est = r as f64 - self.sent.saturating_sub(seq) as f64;
            self.refill();
            if est < self.tokens - 1.0 || est > self.tokens + 1.0 {
                self.tokens = est;
            }
        }
    }

    fn throttled(&mut self, retry_after: Duration) {
        self.tokens = self.tokens.min(0.0);
        // Checked: a Retry-After of u64::MAX seconds must not overflow (the run's deadline ends it).
        let until = Instant::now().checked_add(retry_after.min(MAX_SERVER_DELAY)).unwrap_or_else(Instant::now);
        if self.pause_until.is_none_or(|p| p < until) {
            self.pause_until = Some(until);
        }
    }
}

async fn delete_all(
    arm: &Arm,
    settings: &Settings,
    ids: &[String],
    concurrency: usize,
    stats: &mut DeleteStats,
) -> Vec<DeleteOutcome> {
    // Until ARM tells us its remaining budget, allow one request per worker.
    let pacer = RefCell::new(Pacer::new(concurrency as f64));
    let queue = RefCell::new((0..ids.len()).collect::<VecDeque<usize>>());
    let results: RefCell<Vec<Option<DeleteOutcome>>> = RefCell::new((0..ids.len()).map(|_| None).collect());
    let requests = Cell::new(0usize);
    let throttled = Cell::new(0usize);
    let progress_every = (ids.len() / 10).max(50);
    let done = Cell::new(0usize);
    let worker = || async {
        loop {
            let Some(i) = queue.borrow_mut().pop_front() else { break };
            let r = delete_one(arm, settings, &ids[i], &pacer, &requests, &throttled).await;
            results.borrow_mut()[i] = Some(r);
            done.set(done.get() + 1);
            if done.get().is_multiple_of(progress_every) {
                output::info(&format!("gc: {}/{} deletes done", done.get(), ids.len()));
            }
        }
    };
    join_all((0..concurrency.max(1)).map(|_| worker()).collect()).await;
    stats.requests = requests.get();
    stats.throttled = throttled.get();
    results.into_inner().into_iter().map(|r| r.unwrap_or(Err("not attempted".into()))).collect()
}

async fn delete_one(
    arm: &Arm,
    settings: &Settings,
    id: &str,
    pacer: &RefCell<Pacer>,
    requests: &Cell<usize>,
    throttled: &Cell<usize>,
) -> DeleteOutcome {
    let mut attempts = 0u32;
    let mut throttles = 0u32;
    loop {
        loop {
            let wait = pacer.borrow_mut().try_take();
            match wait {
                None => break,
                Some(d) => tokio::time::sleep(d).await,
            }
        }
        let seq = pacer.borrow().sent;
        requests.set(requests.get() + 1);
        let outcome = arm.delete_once(id).await;
        let (retry, why, delay) = match outcome {
            Ok(r) => {
                let remaining = r.header("x-ms-ratelimit-remaining-subscription-deletes").and_then(|v| v.parse().ok());
                pacer.borrow_mut().observe(seq, remaining);
                let err = || r.error();
                match r.status.as_u16() {
                    200 | 202 => return Ok(None),
                    204 => return Ok(Some("already gone")),
                    404 if err().is_not_found() => return Ok(Some("already gone")),
                    429 => {
                        throttled.set(throttled.get() + 1);
                        throttles += 1;
                        let after = r.retry_after().unwrap_or(Duration::from_secs(1));
                        pacer.borrow_mut().throttled(after);
                        if throttles >= MAX_THROTTLED_PER_APP {
                            return Err(format!("still throttled after {throttles} attempts: {}", err()));
                        }
                        // Not an attempt: the pacer waits for ARM's Retry-After before anyone sends.
                        continue;
                    }
                    408 | 500..=599 => (true, err().to_string(), r.retry_after()),
                    409 => {
                        let e = err();
                        let retryable = ["ContainerAppOperationInProgress", "ContainerAppLockConflict", "Conflict"]
                            .iter()
                            .any(|c| e.code.eq_ignore_ascii_case(c));
                        (retryable, e.to_string(), r.retry_after())
                    }
                    _ => (false, err().to_string(), None),
                }
            }
            Err(e) => (true, e.to_string(), None),
        };
        attempts += 1;
        if !retry || attempts >= settings.arm.max_attempts {
            return Err(why);
        }
        let backoff = settings.arm.retry_base.saturating_mul(1u32 << attempts.min(6)).min(Duration::from_secs(30));
        output::verbose(&format!("{why}; retrying the delete in {:.1} s", delay.unwrap_or(backoff).as_secs_f64()));
        tokio::time::sleep(delay.unwrap_or(backoff).min(MAX_SERVER_DELAY)).await;
    }
}

/// The longest wait a server's Retry-After can impose on gc (the run's deadline still bounds it).
const MAX_SERVER_DELAY: Duration = Duration::from_secs(24 * 3600);

/// An exclusive `flock` on `<cache_dir>/gc-<hub_id>.lock`, released when the process ends (also on
/// a crash). The cache dir, not XDG_RUNTIME_DIR: cron has no runtime dir, and both runs must agree.
struct Lock {
    _file: std::fs::File,
}

impl Lock {
    fn path(settings: &Settings) -> PathBuf {
        settings.cache_dir.clone().unwrap_or_else(std::env::temp_dir).join(format!("gc-{}.lock", settings.hub_id))
    }

    fn acquire(settings: &Settings) -> Result<Lock> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        use std::os::unix::io::AsRawFd;
        let path = Self::path(settings);
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // No-follow, no truncate at open: a symlink planted at the lock's path must not make us
        // truncate or write its target; the file is checked before anything is changed.
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| {
                let why = if e.raw_os_error() == Some(libc::ELOOP) {
                    "it is a symbolic link".to_string()
                } else {
                    e.to_string()
                };
                Error::runtime("GcLockFailed", format!("cannot open the gc lock {}: {why}", path.display()))
            })?;
        {
            use std::os::unix::fs::MetadataExt;
            let meta = file
                .metadata()
                .map_err(|e| Error::runtime("GcLockFailed", format!("cannot inspect {}: {e}", path.display())))?;
            // SAFETY: geteuid has no preconditions and cannot fail.
            let me = unsafe { libc::geteuid() };
            if !meta.file_type().is_file() || meta.uid() != me {
                return Err(Error::runtime(
                    "GcLockFailed",
                    format!("the gc lock {} is not a regular file owned by uid {me}; remove it", path.display()),
                ));
            }
        }
        // SAFETY: flock on a file descriptor we own; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                return Err(Error::new(
                    Exit::Busy,
                    "GcAlreadyRunning",
                    format!(
                        "another `acactl gc` of hub {} is running ({}lock {} is held); this run did nothing",
                        settings.hub_id,
                        holder.trim().strip_prefix("pid ").map(|p| format!("pid {p}, ")).unwrap_or_default(),
                        path.display()
                    ),
                ));
            }
            return Err(Error::runtime("GcLockFailed", format!("cannot lock {}: {err}", path.display())));
        }
        let _ = file.set_len(0);
        let _ = writeln!(file, "pid {}", std::process::id());
        Ok(Lock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_sends_the_burst_then_at_the_refill_rate() {
        let mut p = Pacer::new(3.0);
        assert!(p.try_take().is_none() && p.try_take().is_none() && p.try_take().is_none());
        let wait = p.try_take().unwrap();
        assert!(wait <= Duration::from_millis(101), "{wait:?}");
        // ARM says 0 left after the first of the three: the two sent after it are accounted for.
        p.observe(1, Some(0));
        assert!(p.tokens <= -1.9, "{}", p.tokens);
        // A stale answer does not undo that; a newer one with room raises it.
        p.observe(1, Some(150));
        assert!(p.tokens <= -1.9);
        p.observe(3, Some(150));
        assert!(p.tokens >= 149.0);
        p.throttled(Duration::from_secs(2));
        assert!(p.try_take().unwrap() > Duration::from_millis(1900));
    }
}
