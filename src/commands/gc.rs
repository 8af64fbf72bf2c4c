//! `acactl gc`: delete this hub's apps that no active or pending JupyterHub server refers to (older
//! than a grace period), and terminally failed apps. Safe by construction:
//! * the hub's view must be complete (unfiltered scopes, every page) or nothing is deleted;
//! * only apps carrying this hub's ownership tags are ever considered;
//! * every candidate's server is re-checked individually just before deleting;
//! * deletes are paced to ARM's delete bucket, honour 429 Retry-After, and each app is deleted at
//!   most once (a delete counts as done when ARM accepted it).

use std::cell::{Cell, RefCell};
use std::time::Duration;

use serde_json::{Value, json};

use crate::arm::bulk_delete::{self, DeleteStats};
use crate::arm::lro;
use crate::arm::model::ContainerApp;
use crate::cli::GcArgs;
use crate::error::{Error, ErrorCode, Exit, Result};
use crate::hub::Hub;
use crate::join::join_all;
use crate::lock::{self, FileLock, LockFile, LockFileError};
use crate::output::{self, Outcome};
use crate::ownership::{self, HubView};
use crate::phase::{self, Phase};
use crate::settings::Settings;
use crate::table::Table;

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

pub async fn run(args: &GcArgs, settings: &Settings) -> Result<Outcome> {
    let lock = if args.dry_run { None } else { Some(Lock::acquire(settings)?) };
    // One overall deadline, whatever ARM or the hub say (a Retry-After of years included): the
    // work is dropped at the deadline and the lock released with it.
    let outcome = tokio::time::timeout(settings.gc_deadline, run_locked(args, settings)).await;
    drop(lock);
    outcome.unwrap_or_else(|_| {
        Err(Error::new(
            ErrorCode::GcDeadline,
            format!(
                "gc stopped at its deadline (gc.deadline, {} s); deletes already sent go on, the next run continues",
                settings.gc_deadline.as_secs()
            ),
        ))
    })
}

/// A delete goes out at most this long after its server's re-check (or not at all, for the next
/// run): a user who starts the server meanwhile gets a new app of the same name, which a late
/// delete would take down. (The hub's budget, at gc's low priority, can hold deletes back.)
const RECHECK_VALID: Duration = Duration::from_secs(300);

async fn run_locked(args: &GcArgs, settings: &Settings) -> Result<Outcome> {
    let grace = args.grace.unwrap_or_else(|| default_grace(settings));
    let http = crate::http::client(settings).map_err(|e| Error::config("").because(e))?;
    let hub = Hub::require(settings, http)?;
    let arm = crate::arm::connect(settings)?;
    // Background work: gc's reads and deletes leave the hub's budget's floor to starts and polls.
    arm.set_priority(crate::arm::budget::Priority::Low);
    arm.set_deadline(lro::after(settings.gc_deadline));

    // 1. The hub's complete view, or nothing happens.
    let refuse =
        |e: Error| Error::new(e.code.clone(), format!("{}; gc deleted nothing", e.message.trim_end_matches('.')));
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
        let send_by = lro::after(RECHECK_VALID);
        let outcomes =
            bulk_delete::delete_all(&arm, &settings.arm, &ids, args.concurrency as usize, send_by, &mut stats).await;
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
    let footer = format!(
        "{} scanned, {kept} kept, {} {}, {failed} failed ({other} apps of other hubs or untagged left alone)",
        entries.len(),
        if args.dry_run { would } else { deleted },
        if args.dry_run { "would be deleted" } else { "deleted" },
    );
    let table = Table { footer: Some(footer), ..Table::new(&["APP", "USER", "SERVER", "ACTION", "REASON"], rows) };
    let exit = if failed > 0 { Exit::Runtime } else { Exit::Ok };
    Ok(Outcome::json(doc).table(table).exit(exit))
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

/// An exclusive `flock` on `<cache_dir>/gc-<hub_id>.lock`, released when the process ends (also on
/// a crash). The cache dir, not XDG_RUNTIME_DIR: cron has no runtime dir, and both runs must agree.
struct Lock;

impl Lock {
    fn acquire(settings: &Settings) -> Result<FileLock> {
        let base = lock::base(settings.cache_dir.as_deref())
            .map_err(|why| Error::new(ErrorCode::GcLockFailed, format!("no place for the gc lock: {why}")))?;
        let path = base.join(format!("gc-{}.lock", settings.hub_id));
        let file = LockFile::open(&path).map_err(|e| {
            let msg = match e {
                LockFileError::Open(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                    format!("cannot open the gc lock {}: it is a symbolic link", path.display())
                }
                LockFileError::Open(e) => format!("cannot open the gc lock {}: {e}", path.display()),
                LockFileError::Inspect(e) => format!("cannot inspect {}: {e}", path.display()),
                LockFileError::NotOurs { me } => {
                    format!("the gc lock {} is not a regular file owned by uid {me}; remove it", path.display())
                }
            };
            Error::new(ErrorCode::GcLockFailed, msg)
        })?;
        match file.try_lock() {
            Ok(Ok(held)) => Ok(held),
            Ok(Err(_busy)) => Err(Error::new(
                ErrorCode::GcAlreadyRunning,
                format!(
                    "another `acactl gc` of hub {} is running ({}lock {} is held); this run did nothing",
                    settings.hub_id,
                    LockFile::holder(&path).map(|p| format!("pid {p}, ")).unwrap_or_default(),
                    path.display()
                ),
            )),
            Err(err) => {
                Err(Error::new(ErrorCode::GcLockFailed, format!("cannot lock {}", path.display())).because(err))
            }
        }
    }
}
