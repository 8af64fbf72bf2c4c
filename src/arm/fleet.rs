//! The fleet view: one shared snapshot of the hub's apps in the cache dir, so hundreds of polls
//! and waiting starts cost one paged ARM list per `fleet.max_age` instead of one GET each.
//!
//! Rules that keep it correct rather than merely fast:
//! - at most one process refreshes at a time (a `flock`, released by the kernel if it dies), and
//!   the snapshot is replaced atomically (rename), so a reader sees a whole old or a whole new one;
//! - a file that is torn, foreign (other subscription/resource group/hub), not private to us, or
//!   dated in the future (clock jump) is not trusted: it counts as stale;
//! - the view only ever says "exists, in this state": absence from it (pages shift while being
//!   read; an app may be younger than the last refresh) is never "gone"; callers confirm with
//!   one direct GET, and only ARM's 404 for the app means gone.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Arm;
use super::client::ListedApps;
use super::model::{AppProperties, Configuration, ContainerApp, Ingress};
use crate::clock::{now_ms, unix_ms};
use crate::lock::{self, FileLock};
use crate::output;
use crate::settings::Settings;

/// 3: manifest and shards (1 and 2 were one file).
const VERSION: u32 = 3;

/// Short stable file-name component for a key.
pub fn digest(key: &str) -> String {
    Sha256::digest(key.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// What the view keeps of one app: exactly what phases, readiness and ownership need.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub provisioning_state: Option<String>,
    pub running_status: Option<String>,
    pub latest_revision: Option<String>,
    pub latest_ready_revision: Option<String>,
    pub fqdn: Option<String>,
}

impl Entry {
    fn of(app: &ContainerApp) -> Option<Entry> {
        let p = app.props();
        Some(Entry {
            id: app.id.clone()?,
            name: app.name.clone()?,
            tags: app.tags.clone().unwrap_or_default(),
            provisioning_state: p.provisioning_state.clone(),
            running_status: p.running_status.clone(),
            latest_revision: p.latest_revision_name.clone(),
            latest_ready_revision: p.latest_ready_revision_name.clone(),
            fqdn: app.fqdn().map(str::to_string),
        })
    }

    /// Back to the wire type, so the one phase function serves both sources.
    pub fn app(&self) -> ContainerApp {
        ContainerApp {
            id: Some(self.id.clone()),
            name: Some(self.name.clone()),
            tags: Some(self.tags.clone()),
            properties: Some(AppProperties {
                provisioning_state: self.provisioning_state.clone(),
                running_status: self.running_status.clone(),
                latest_revision_name: self.latest_revision.clone(),
                latest_ready_revision_name: self.latest_ready_revision.clone(),
                configuration: Some(Configuration {
                    ingress: Some(Ingress { fqdn: self.fqdn.clone(), ..Default::default() }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

/// The view on disk is a small manifest (`view-<hash>.json`: whose view, when listed, how many
/// apps, in how many shards, which generation) and the apps in shards (`view-<hash>.shards/<k>.json`,
/// an app in shard `hash(name) % shards`), so a reader that needs one app (every poll, start and
/// stop) reads the manifest and one shard of ~50 apps, not a 2 MB file of 3,000. Shards are written
/// first and the manifest last, each atomically; a shard of another generation than the manifest (a
/// refresh in progress, or one killed halfway) is not used: the app then counts as not listed.
#[derive(Serialize, Deserialize)]
struct Manifest {
    v: u32,
    /// subscription/resource group/hub this view is of: a view of anything else is ignored.
    key: String,
    refreshed_ms: i64,
    pages: usize,
    count: usize,
    shards: usize,
    generation: u64,
}

#[derive(Serialize, Deserialize)]
struct Shard {
    v: u32,
    generation: u64,
    apps: HashMap<String, Entry>,
}

/// Apps per shard the writer aims at, and the most shards it makes.
const APPS_PER_SHARD: usize = 50;
const MAX_SHARDS: usize = 256;

fn shard_of(name_lower: &str, shards: usize) -> usize {
    let d = Sha256::digest(name_lower.as_bytes());
    let n = u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
    (n % shards.max(1) as u64) as usize
}

/// One trusted snapshot. Shards are read when an app in them is first asked for.
pub struct Snapshot {
    refreshed_ms: i64,
    pub pages: usize,
    count: usize,
    generation: u64,
    dir: PathBuf,
    shards: Vec<std::cell::OnceCell<Option<HashMap<String, Entry>>>>,
}

impl Snapshot {
    /// How old it is; `None` when it is dated in the future (the clock went back): untrusted.
    pub fn age(&self) -> Option<Duration> {
        let now = now_ms();
        (now >= self.refreshed_ms).then(|| Duration::from_millis(now.saturating_sub(self.refreshed_ms) as u64))
    }
    /// The app called `name` as the last refresh saw it, if it saw it (an unreadable shard counts
    /// as not seen: the caller then asks ARM).
    pub fn get(&self, name: &str) -> Option<&Entry> {
        let name = name.to_ascii_lowercase();
        let k = shard_of(&name, self.shards.len());
        let shard = self.shards.get(k)?.get_or_init(|| self.load(k));
        shard.as_ref()?.get(&name)
    }
    fn load(&self, k: usize) -> Option<HashMap<String, Entry>> {
        let path = self.dir.join(format!("{k}.json"));
        let shard: Shard = serde_json::from_slice(&lock::read_private(&path)?)
            .inspect_err(|e| output::debug(&format!("ignoring fleet view shard {}: {e}", path.display())))
            .ok()?;
        if shard.v != VERSION || shard.generation != self.generation {
            output::debug(&format!("ignoring fleet view shard {}: another generation", path.display()));
            return None;
        }
        Some(shard.apps)
    }
    /// Whether the list behind it began at or after `t` (Unix ms): it can tell what happened
    /// after `t`, e.g. whether an app deleted at `t` is still listed.
    pub fn listed_since(&self, t: i64) -> bool {
        self.refreshed_ms >= t
    }
    /// How many of the hub's apps it holds.
    pub fn count(&self) -> usize {
        self.count
    }
}

pub struct Fleet {
    file: PathBuf,
    shards: PathBuf,
    lock: PathBuf,
    key: String,
    prefix: String,
    subscription: String,
    resource_group: String,
    hub_id: String,
    pub max_age: Duration,
}

impl Fleet {
    /// `Ok(None)` when the view is switched off (`fleet.enabled: false`) or there is no cache dir;
    /// `Err` when the cache dir cannot be trusted (callers fall back to direct GETs).
    pub fn open(settings: &Settings) -> Result<Option<Fleet>, String> {
        let Some(cache) = settings.cache_dir.as_deref().filter(|_| settings.fleet.enabled) else {
            return Ok(None);
        };
        Self::open_in(cache, settings).map(Some)
    }

    fn open_in(cache: &Path, settings: &Settings) -> Result<Fleet, String> {
        let dir = lock::private_dir(cache, "fleet")?;
        let key = format!(
            "{}|{}|{}|{}",
            settings.cloud.resource_manager,
            settings.subscription.to_ascii_lowercase(),
            settings.resource_group.to_ascii_lowercase(),
            settings.hub_id
        );
        let d = digest(&key);
        Ok(Fleet {
            file: dir.join(format!("view-{d}.json")),
            shards: dir.join(format!("view-{d}.shards")),
            lock: dir.join(format!("view-{d}.lock")),
            prefix: format!(
                "/subscriptions/{}/resourcegroups/{}/providers/microsoft.app/containerapps/",
                settings.subscription.to_ascii_lowercase(),
                settings.resource_group.to_ascii_lowercase()
            ),
            key,
            subscription: settings.subscription.clone(),
            resource_group: settings.resource_group.clone(),
            hub_id: settings.hub_id.clone(),
            max_age: settings.fleet.max_age,
        })
    }

    /// Whether the view can speak for the app with this resource id (this subscription and
    /// resource group; a state pointing elsewhere is always read directly).
    pub fn covers(&self, id: &str) -> bool {
        id.to_ascii_lowercase().strip_prefix(&self.prefix).is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
    }

    /// The snapshot on disk, if it is trustworthy (whatever its age).
    pub fn read(&self) -> Option<Snapshot> {
        let bytes = lock::read_private(&self.file)?;
        let m: Manifest = match serde_json::from_slice(&bytes) {
            Ok(m) => m,
            Err(e) => {
                output::debug(&format!("ignoring fleet view {}: {e}", self.file.display()));
                return None;
            }
        };
        if m.v != VERSION || m.key != self.key || m.shards == 0 || m.shards > MAX_SHARDS {
            output::debug(&format!("ignoring fleet view {}: written for something else", self.file.display()));
            return None;
        }
        lock::private(&self.shards).ok()?;
        Some(Snapshot {
            refreshed_ms: m.refreshed_ms,
            pages: m.pages,
            count: m.count,
            generation: m.generation,
            dir: self.shards.clone(),
            shards: (0..m.shards).map(|_| std::cell::OnceCell::new()).collect(),
        })
    }

    fn is_fresh(&self, s: &Snapshot, max_age: Duration) -> bool {
        s.age().is_some_and(|a| a <= max_age)
    }

    /// The view on disk if a poll may answer from it without an ARM client: not yet due (its
    /// last fifth, the last 2 s at most), or within `max_age` while another process refreshes
    /// it. `None`: the caller connects and calls [`Fleet::fresh`], which refreshes it (one poll
    /// per refresh pays for the list; the others never build a client to learn that).
    pub fn answering(&self) -> Option<Snapshot> {
        let s = self.read().filter(|s| self.is_fresh(s, self.max_age))?;
        let due = !self.is_fresh(&s, self.max_age.saturating_sub(lead(self.max_age)));
        (!due || self.refreshing()).then_some(s)
    }

    /// Whether another process holds the refresh lock right now.
    fn refreshing(&self) -> bool {
        matches!(FileLock::try_exclusive(&self.lock), Ok(None))
    }

    /// A snapshot no older than `max_age`: the one on disk, or a new one if this process wins the
    /// refresh lock. The refresh starts a little before `max_age` (the last fifth, at most 2 s),
    /// so while one process lists, the others still answer from a view within `max_age`; past
    /// it they wait for the refresher until `give_up`. `None`: the caller asks ARM directly.
    pub async fn fresh(&self, arm: &Arm, max_age: Duration, give_up: Instant) -> Option<Snapshot> {
        let early = max_age.saturating_sub(lead(max_age));
        loop {
            let current = self.read();
            if current.as_ref().is_some_and(|s| self.is_fresh(s, early)) {
                return current;
            }
            match FileLock::try_exclusive(&self.lock) {
                Ok(Some(_guard)) => {
                    // Someone may have finished just before we got the lock.
                    if let Some(s) = self.read().filter(|s| self.is_fresh(s, early)) {
                        return Some(s);
                    }
                    return self.refresh(arm).await;
                }
                Ok(None) => {
                    // Another process is refreshing; a view within max_age still answers.
                    if let Some(s) = current.filter(|s| self.is_fresh(s, max_age)) {
                        return Some(s);
                    }
                }
                Err(e) => {
                    output::debug(&format!("fleet view lock {}: {e}", self.lock.display()));
                    return None;
                }
            }
            if !super::lro::fits(Duration::from_millis(50), give_up) {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// List the resource group (caller holds the lock) and replace the snapshot.
    async fn refresh(&self, arm: &Arm) -> Option<Snapshot> {
        lock::sweep_temp(self.file.parent()?);
        // Dated when the list began: the pages are at least that old.
        let began = now_ms();
        match arm.list_apps(&self.subscription, &self.resource_group).await {
            Ok(l) => Some(self.write(&l, began)),
            Err(e) => {
                output::verbose(&format!("fleet view refresh failed: {e}"));
                None
            }
        }
    }

    /// Publish a complete list someone else made (status) as the view, if nobody is refreshing.
    pub fn publish(&self, listed: &ListedApps, began: SystemTime) {
        let began = unix_ms(began).unwrap_or(0);
        if let Ok(Some(_guard)) = FileLock::try_exclusive(&self.lock) {
            self.write(listed, began);
        }
    }

    fn write(&self, listed: &ListedApps, began: i64) -> Snapshot {
        let mine = |a: &&ContainerApp| a.tag(crate::ownership::TAG_HUB) == Some(self.hub_id.as_str());
        let apps: Vec<Entry> = listed.apps.iter().filter(mine).filter_map(Entry::of).collect();
        let count = apps.len();
        let n = count.div_ceil(APPS_PER_SHARD).clamp(1, MAX_SHARDS);
        let generation = crate::clock::seed();
        let mut shards: Vec<HashMap<String, Entry>> = (0..n).map(|_| HashMap::new()).collect();
        for e in apps {
            let name = e.name.to_ascii_lowercase();
            shards[shard_of(&name, n)].insert(name, e);
        }
        let snap = |shards: Vec<HashMap<String, Entry>>| Snapshot {
            refreshed_ms: began,
            pages: listed.pages,
            count,
            generation,
            dir: self.shards.clone(),
            shards: shards.into_iter().map(|s| std::cell::OnceCell::from(Some(s))).collect(),
        };
        if let Err(e) = self.store(&shards, began, listed.pages, count, generation) {
            output::verbose(&format!("cannot write the fleet view {}: {e}", self.file.display()));
        }
        snap(shards)
    }

    /// Shards first, the manifest last; shards beyond the new count are removed.
    fn store(
        &self,
        shards: &[HashMap<String, Entry>],
        refreshed_ms: i64,
        pages: usize,
        count: usize,
        generation: u64,
    ) -> std::io::Result<()> {
        let parent = self.shards.parent().unwrap_or(Path::new("."));
        let name = self.shards.file_name().and_then(|n| n.to_str()).unwrap_or("shards");
        let dir = lock::private_dir(parent, name).map_err(std::io::Error::other)?;
        lock::sweep_temp(&dir);
        for (k, apps) in shards.iter().enumerate() {
            let shard = serde_json::json!({ "v": VERSION, "generation": generation, "apps": apps });
            lock::write_atomic(&dir.join(format!("{k}.json")), &serde_json::to_vec(&shard)?)?;
        }
        for k in shards.len()..MAX_SHARDS {
            if std::fs::remove_file(dir.join(format!("{k}.json"))).is_err() {
                break;
            }
        }
        let m = Manifest {
            v: VERSION,
            key: self.key.clone(),
            refreshed_ms,
            pages,
            count,
            shards: shards.len(),
            generation,
        };
        lock::write_atomic(&self.file, &serde_json::to_vec(&m)?)
    }

    fn tombstone(&self, name: &str) -> Option<PathBuf> {
        Some(self.file.parent()?.join(format!("gone-{}", digest(&name.to_ascii_lowercase()))))
    }

    /// Remember that ARM said 404 for `name` (stop, poll): views listed before now no longer
    /// speak for it, so our own stop is never followed by a "running" from an older view.
    pub fn forget(&self, name: &str) {
        if let Some(p) = self.tombstone(name) {
            let _ = lock::write_atomic(&p, b"");
        }
    }

    /// Whether `snap` still speaks for `name` (no 404 was seen for it after the view was listed).
    pub fn speaks_for(&self, snap: &Snapshot, name: &str) -> bool {
        let Some(p) = self.tombstone(name) else { return false };
        let gone_at = std::fs::symlink_metadata(&p).ok().and_then(|m| m.modified().ok()).and_then(unix_ms);
        gone_at.is_none_or(|g| g < snap.refreshed_ms)
    }

    /// When the snapshot file was last replaced (Unix ms), without reading it: lets a waiter
    /// skip parsing a view it has already seen.
    pub fn modified_ms(&self) -> Option<i64> {
        let t = std::fs::symlink_metadata(&self.file).ok()?.modified().ok()?;
        unix_ms(t)
    }

    /// The snapshot file (doctor, tests).
    pub fn path(&self) -> &Path {
        &self.file
    }
}

/// How long before `max_age` a view is refreshed: its last fifth, at most 2 s.
fn lead(max_age: Duration) -> Duration {
    (max_age / 5).min(Duration::from_secs(2))
}

/// ARM said 404 for the app `name`, or a start just made it ready: older views no longer speak
/// for it.
pub fn forget(settings: &Settings, name: &str) {
    if let Ok(Some(f)) = Fleet::open(settings) {
        f.forget(name);
    }
}

/// A waiter's view (start, stop): looks at the snapshot often but parses it only when the file
/// changed or is due for a refresh, so hundreds of waiters cost a stat each, not a parse each.
pub struct Watcher {
    pub fleet: Fleet,
    seen_mtime: Option<i64>,
    last: Option<Snapshot>,
}

impl Watcher {
    pub fn new(fleet: Fleet) -> Watcher {
        Watcher { fleet, seen_mtime: None, last: None }
    }

    /// The newest snapshot within `max_age` (refreshing it if due, see [`Fleet::fresh`]), and
    /// whether it is new since the last look. `None`: no trustworthy view could be had.
    pub async fn look(&mut self, arm: &Arm, max_age: Duration, give_up: Instant) -> Option<(&Snapshot, bool)> {
        let mtime = self.fleet.modified_ms();
        let due = (max_age.as_millis() as i64).saturating_mul(4) / 5;
        let stale = mtime.is_none_or(|m| now_ms().saturating_sub(m) >= due);
        if !stale && mtime == self.seen_mtime && self.last.is_some() {
            return self.last.as_ref().map(|s| (s, false));
        }
        self.seen_mtime = self.fleet.modified_ms();
        self.last = self.fleet.fresh(arm, max_age, give_up).await;
        self.last.as_ref().map(|s| (s, true))
    }
}
