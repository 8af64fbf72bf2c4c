//! Wait estimates in start's progress events: "usually ready in about 35 s", from the median of this
//! hub's last successful starts of the same profile, and which phase is slow when a start runs past
//! its usual time (kubespawner#651).
//!
//! History: `<cache_dir>/start-times-<hub_id>.json`, per profile key (profile slug and option choices:
//! operator-defined names, never user names or anything a user typed) the last `MAX_SAMPLES` starts'
//! total and per-phase durations; at most `MAX_KEYS` keys. Written atomically (temp file + rename);
//! concurrent starts may lose one another's sample, which only makes an estimate a little older.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::output;

const MAX_SAMPLES: usize = 20;
const MAX_KEYS: usize = 50;
/// Fewer successful starts than this give no estimate (one slow or fast start is not "usually").
const MIN_SAMPLES: usize = 3;
const FORMAT_VERSION: u32 = 1;

/// Where a start spends its time, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Preflight checks, reading or replacing an existing app.
    Preparing,
    /// Sending the PUT, including waits for ARM's write budget (429) or a conflicting operation (409).
    WriteBudget,
    /// ARM's operation running.
    Provisioning,
    /// The revision activating: image pull and container start.
    Activating,
    /// Jupyter answering through the ingress.
    Jupyter,
    /// The server answered: the start is recorded.
    Ready,
}

impl Phase {
    fn label(self) -> &'static str {
        match self {
            Phase::Preparing => "preparing",
            Phase::WriteBudget => "waiting for Azure's write budget",
            Phase::Provisioning => "provisioning",
            Phase::Activating => "pulling the image and starting the container",
            Phase::Jupyter => "waiting for Jupyter",
            Phase::Ready => "ready",
        }
    }
}

pub trait Clock: Send {
    fn now(&self) -> Duration;
}

struct MonotonicClock(Instant);

impl Clock for MonotonicClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Sample {
    total_ms: u64,
    #[serde(default)]
    phases: BTreeMap<Phase, u64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct History {
    version: u32,
    /// Profile key -> (last use as a sequence number, samples oldest first).
    #[serde(default)]
    profiles: BTreeMap<String, Entry>,
    #[serde(default)]
    seq: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Entry {
    used: u64,
    samples: Vec<Sample>,
}

/// One start's timings and its history.
pub struct Tracker {
    clock: Box<dyn Clock>,
    started: Duration,
    file: Option<PathBuf>,
    key: String,
    /// Usual total and per-phase durations (medians), when there are enough samples.
    usual_total: Option<Duration>,
    usual_phase: BTreeMap<Phase, Duration>,
    phase: Phase,
    phase_started: Duration,
    phases: BTreeMap<Phase, Duration>,
}

impl Tracker {
    pub fn new(clock: Box<dyn Clock>, file: Option<PathBuf>, key: String) -> Tracker {
        let history = file.as_deref().map(load).unwrap_or_default();
        let samples = history.profiles.get(&key).map(|e| e.samples.as_slice()).unwrap_or_default();
        let (mut usual_total, mut usual_phase) = (None, BTreeMap::new());
        if samples.len() >= MIN_SAMPLES {
            usual_total = median(samples.iter().map(|s| s.total_ms)).map(Duration::from_millis);
            for p in [Phase::Preparing, Phase::WriteBudget, Phase::Provisioning, Phase::Activating, Phase::Jupyter] {
                if let Some(m) = median(samples.iter().filter_map(|s| s.phases.get(&p).copied())) {
                    usual_phase.insert(p, Duration::from_millis(m));
                }
            }
        }
        let now = clock.now();
        Tracker {
            clock,
            started: now,
            file,
            key,
            usual_total,
            usual_phase,
            phase: Phase::Preparing,
            phase_started: now,
            phases: BTreeMap::new(),
        }
    }

    /// Enter `phase` (a no-op when already in it); entering `Ready` records the start.
    pub fn enter(&mut self, phase: Phase) {
        if phase == self.phase {
            return;
        }
        let now = self.clock.now();
        *self.phases.entry(self.phase).or_default() += now.saturating_sub(self.phase_started);
        self.phase = phase;
        self.phase_started = now;
        if phase == Phase::Ready {
            self.record(now.saturating_sub(self.started));
        }
    }

    /// The progress message with the estimate appended, when there is one.
    pub fn annotate(&self, message: &str) -> String {
        let Some(usual) = self.usual_total else { return message.to_string() };
        if self.phase == Phase::Ready {
            return message.to_string();
        }
        let elapsed = self.clock.now().saturating_sub(self.started);
        if elapsed <= usual {
            return format!("{message} (usually ready in about {})", secs(usual));
        }
        let in_phase =
            elapsed.saturating_sub(self.phase_started) + self.phases.get(&self.phase).copied().unwrap_or_default();
        let slow = match self.usual_phase.get(&self.phase) {
            Some(u) => format!("{} for {}, usually {}", self.phase.label(), secs(in_phase), secs(*u)),
            None => format!("{} for {}", self.phase.label(), secs(in_phase)),
        };
        format!("{message} (slower than the usual {}: {slow})", secs(usual))
    }

    fn record(&self, total: Duration) {
        let Some(file) = &self.file else { return };
        let mut h = load(file);
        h.version = FORMAT_VERSION;
        h.seq += 1;
        let seq = h.seq;
        let entry = h.profiles.entry(self.key.clone()).or_default();
        entry.used = seq;
        entry.samples.push(Sample {
            total_ms: ms(total),
            phases: self.phases.iter().filter(|(p, _)| **p != Phase::Ready).map(|(p, d)| (*p, ms(*d))).collect(),
        });
        let excess = entry.samples.len().saturating_sub(MAX_SAMPLES);
        entry.samples.drain(..excess);
        while h.profiles.len() > MAX_KEYS {
            let oldest = h.profiles.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                h.profiles.remove(&k);
            }
        }
        if let Err(e) = store(file, &h) {
            output::debug(&format!("could not record the start time in {}: {e}", file.display()));
        }
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// "35 s", rounded to 5 s from 20 s on (an estimate, not a promise).
fn secs(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    if s >= 20 { format!("{} s", (s + 2) / 5 * 5) } else { format!("{} s", s.max(1)) }
}

fn median(values: impl Iterator<Item = u64>) -> Option<u64> {
    let mut v: Vec<u64> = values.collect();
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { v[n / 2 - 1] / 2 + v[n / 2] / 2 + (v[n / 2 - 1] % 2 + v[n / 2] % 2) / 2 })
}

/// A missing, unreadable, foreign, oversized or torn file is an empty history (the same rules as
/// every private file of the cache dir: `lock::read_private`).
fn load(file: &Path) -> History {
    let h =
        crate::lock::read_private(file).and_then(|b| serde_json::from_slice::<History>(&b).ok()).unwrap_or_default();
    if h.version == FORMAT_VERSION { h } else { History::default() }
}

/// Only into a directory private to us (`history_file` makes it), atomically and privately.
fn store(file: &Path, h: &History) -> std::io::Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    crate::lock::private(dir).map_err(|why| std::io::Error::other(format!("{} {why}", dir.display())))?;
    crate::lock::write_durable(file, &serde_json::to_vec(h).map_err(std::io::Error::other)?)
}

/// The history file of a hub, in the cache dir's private `estimates` directory (`None` without a
/// cache dir, or when that directory cannot be trusted: no estimates then).
pub fn history_file(cache_dir: Option<&Path>, hub_id: &str) -> Option<PathBuf> {
    let dir = crate::lock::private_dir(cache_dir?, "estimates")
        .inspect_err(|why| crate::output::verbose(&format!("no start-time history: {why}")))
        .ok()?;
    Some(dir.join(format!("start-times-{hub_id}.json")))
}

/// How long this hub's recent deletions took (stop times its direct GETs by it): the last
/// `MAX_SAMPLES` durations from ARM accepting a DELETE to its 404, in `delete-times-<hub_id>.json`
/// next to the start times.
pub struct Deletions {
    file: PathBuf,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct DeletionFile {
    version: u32,
    #[serde(default)]
    ms: Vec<u64>,
}

impl Deletions {
    pub fn open(cache_dir: Option<&Path>, hub_id: &str) -> Option<Deletions> {
        let dir = crate::lock::private_dir(cache_dir?, "estimates").ok()?;
        Some(Deletions { file: dir.join(format!("delete-times-{hub_id}.json")) })
    }

    fn load(&self) -> DeletionFile {
        crate::lock::read_private(&self.file)
            .and_then(|b| serde_json::from_slice::<DeletionFile>(&b).ok())
            .filter(|f| f.version == FORMAT_VERSION)
            .unwrap_or_default()
    }

    /// The shortest and the longest of the recent deletions, once there are enough of them
    /// (durations over an hour are not a deletion's: ignored).
    pub fn usual(&self) -> Option<(Duration, Duration)> {
        let f = self.load();
        let ms: Vec<u64> = f.ms.into_iter().filter(|&m| m <= 3_600_000).collect();
        if ms.len() < MIN_SAMPLES {
            return None;
        }
        let lo = ms.iter().min().copied()?;
        let hi = ms.iter().max().copied()?;
        Some((Duration::from_millis(lo), Duration::from_millis(hi)))
    }

    /// Concurrent stops may lose one another's sample (atomic replace, no lock): harmless.
    pub fn record(&self, took: Duration) {
        let mut f = self.load();
        f.version = FORMAT_VERSION;
        f.ms.push(ms(took));
        let excess = f.ms.len().saturating_sub(MAX_SAMPLES);
        f.ms.drain(..excess);
        if let Ok(bytes) = serde_json::to_vec(&f)
            && let Err(e) = crate::lock::write_atomic(&self.file, &bytes)
        {
            output::debug(&format!("could not record the deletion time in {}: {e}", self.file.display()));
        }
    }
}

/// The key of a profile and its choices (operator-defined slugs only).
pub fn profile_key<'a>(profile: Option<&str>, choices: impl IntoIterator<Item = (&'a String, &'a String)>) -> String {
    let mut key = profile.unwrap_or("").to_string();
    let mut c: Vec<_> = choices.into_iter().map(|(o, v)| format!("{o}={v}")).collect();
    c.sort();
    if !c.is_empty() {
        key.push(':');
        key.push_str(&c.join(","));
    }
    key
}

// The one tracker of this process's start (start.rs feeds it through `begin` and `progress`).
static CURRENT: Mutex<Option<Tracker>> = Mutex::new(None);

/// Start timing this process's start.
pub fn begin(file: Option<PathBuf>, key: String) {
    let t = Tracker::new(Box::new(MonotonicClock(Instant::now())), file, key);
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some(t);
}

/// `output::progress`, in `phase`, with the estimate appended.
pub fn progress(phase: Phase, pct: u8, message: &str) {
    let mut guard = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
    let message = match guard.as_mut() {
        Some(t) => {
            t.enter(phase);
            t.annotate(message)
        }
        None => message.to_string(),
    };
    drop(guard);
    output::progress(pct, &message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[derive(Clone, Default)]
    struct FakeClock(Arc<AtomicU64>);
    impl FakeClock {
        fn advance(&self, secs: u64) {
            self.0.fetch_add(secs * 1000, Ordering::SeqCst);
        }
    }
    impl Clock for FakeClock {
        fn now(&self) -> Duration {
            Duration::from_millis(self.0.load(Ordering::SeqCst))
        }
    }

    /// One start: seconds spent in write budget, provisioning, activating, Jupyter.
    fn start(file: &Path, key: &str, secs: [u64; 4]) {
        let clock = FakeClock::default();
        let mut t = Tracker::new(Box::new(clock.clone()), Some(file.to_path_buf()), key.into());
        for (phase, s) in
            [Phase::WriteBudget, Phase::Provisioning, Phase::Activating, Phase::Jupyter].into_iter().zip(secs)
        {
            t.enter(phase);
            clock.advance(s);
        }
        t.enter(Phase::Ready);
    }

    #[test]
    fn no_estimate_until_three_starts_then_the_median() {
        let dir = tempfile::tempdir().unwrap();
        let file = history_file(Some(dir.path()), "hub1").unwrap();
        let fresh = || Tracker::new(Box::new(FakeClock::default()), Some(file.clone()), "small".into());
        assert_eq!(fresh().annotate("Creating x"), "Creating x");
        start(&file, "small", [1, 20, 10, 4]); // 35 s
        start(&file, "small", [1, 50, 30, 9]); // 90 s: an outlier does not move the median much
        assert_eq!(fresh().annotate("Creating x"), "Creating x", "two starts are not 'usually'");
        start(&file, "small", [1, 18, 12, 3]); // 34 s
        assert_eq!(fresh().annotate("Creating x"), "Creating x (usually ready in about 35 s)");
        // other profiles and other hubs have their own history
        let gpu = Tracker::new(Box::new(FakeClock::default()), Some(file.clone()), "gpu".into());
        assert_eq!(gpu.annotate("m"), "m");
        let other = history_file(Some(dir.path()), "hub2").unwrap();
        assert_eq!(Tracker::new(Box::new(FakeClock::default()), Some(other), "small".into()).annotate("m"), "m");
    }

    #[test]
    fn a_slow_start_names_the_slow_phase() {
        let dir = tempfile::tempdir().unwrap();
        let file = history_file(Some(dir.path()), "t").unwrap();
        for _ in 0..3 {
            start(&file, "small", [1, 20, 10, 4]);
        }
        let clock = FakeClock::default();
        let mut t = Tracker::new(Box::new(clock.clone()), Some(file.clone()), "small".into());
        t.enter(Phase::WriteBudget);
        clock.advance(1);
        t.enter(Phase::Provisioning);
        clock.advance(15);
        assert_eq!(t.annotate("Provisioning a"), "Provisioning a (usually ready in about 35 s)");
        t.enter(Phase::Activating);
        clock.advance(40); // 56 s in, 40 s pulling where 10 s is usual
        assert_eq!(
            t.annotate("Activating a"),
            "Activating a (slower than the usual 35 s: pulling the image and starting the container for 40 s, usually 10 s)"
        );
        t.enter(Phase::Ready);
        assert_eq!(t.annotate("Server ready"), "Server ready");
        // the slow start is now history too, and the phase of a write-budget wait is named
        let clock = FakeClock::default();
        let mut t = Tracker::new(Box::new(clock.clone()), Some(file), "small".into());
        t.enter(Phase::WriteBudget);
        clock.advance(70);
        assert_eq!(
            t.annotate("Creating a"),
            "Creating a (slower than the usual 35 s: waiting for Azure's write budget for 70 s, usually 1 s)"
        );
    }

    #[test]
    fn history_is_bounded_and_holds_only_durations_and_profile_keys() {
        let dir = tempfile::tempdir().unwrap();
        let file = history_file(Some(dir.path()), "t").unwrap();
        for i in 0..(MAX_SAMPLES + 5) {
            start(&file, "small", [0, i as u64, 0, 0]);
        }
        for k in 0..(MAX_KEYS + 10) {
            start(&file, &format!("p{k}"), [0, 1, 0, 0]);
        }
        let h = load(&file);
        assert_eq!(h.profiles.len(), MAX_KEYS);
        assert!(!h.profiles.contains_key("small"), "the least recently used key goes first");
        assert!(h.profiles.contains_key(&format!("p{}", MAX_KEYS + 9)));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.len() < 64 << 10, "{} bytes", text.len());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let sample = &v["profiles"]["p59"]["samples"][0];
        assert_eq!(sample.as_object().unwrap().keys().collect::<Vec<_>>(), ["phases", "total_ms"]);
        // samples per key are bounded too: the oldest drop out
        let clock = FakeClock::default();
        for i in 0..(MAX_SAMPLES + 5) {
            let mut t = Tracker::new(Box::new(clock.clone()), Some(file.clone()), "p59".into());
            clock.advance(i as u64);
            t.enter(Phase::Ready);
        }
        assert_eq!(load(&file).profiles["p59"].samples.len(), MAX_SAMPLES);
    }

    #[test]
    fn unusable_history_is_no_estimate_and_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let file = history_file(Some(dir.path()), "t").unwrap();
        for junk in ["", "{", "[]", r#"{"version": 99, "profiles": {}}"#, "\u{0}\u{1}"] {
            std::fs::write(&file, junk).unwrap();
            let t = Tracker::new(Box::new(FakeClock::default()), Some(file.clone()), "small".into());
            assert_eq!(t.annotate("m"), "m");
        }
        start(&file, "small", [0, 1, 0, 0]);
        assert_eq!(load(&file).profiles["small"].samples.len(), 1);
        // no cache dir: no history, no error
        let mut t = Tracker::new(Box::new(FakeClock::default()), None, "small".into());
        t.enter(Phase::Ready);
        assert_eq!(history_file(None, "hub"), None);
    }

    #[test]
    fn foreign_or_planted_history_files_are_not_followed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = history_file(Some(dir.path()), "hub").unwrap();
        let private = file.parent().unwrap();
        assert_eq!(std::fs::metadata(private).unwrap().permissions().mode() & 0o777, 0o700);
        start(&file, "small", [0, 1, 0, 0]);
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(load(&file).profiles["small"].samples.len(), 1);
        // Loosened: not trusted (and rewritten privately by the next start).
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(load(&file).profiles.is_empty());
        // A symlink planted at the name is neither read nor written through.
        let target = dir.path().join("target");
        std::fs::write(&target, "precious").unwrap();
        std::fs::remove_file(&file).unwrap();
        std::os::unix::fs::symlink(&target, &file).unwrap();
        assert!(load(&file).profiles.is_empty());
        start(&file, "small", [0, 1, 0, 0]);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        // A shared directory is not written into.
        let loose = dir.path().join("loose");
        std::fs::create_dir(&loose).unwrap();
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o777)).unwrap();
        start(&loose.join("h.json"), "small", [0, 1, 0, 0]);
        assert!(!loose.join("h.json").exists());
    }

    #[test]
    fn an_unwritable_history_does_not_fail_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-dir");
        std::fs::write(&blocker, "").unwrap();
        start(&blocker.join("h.json"), "small", [0, 1, 0, 0]); // not a private directory: logged, not fatal
        assert!(!blocker.join("h.json").exists());
    }

    #[test]
    fn keys_and_rounding() {
        let choices = [("image".to_string(), "pytorch".to_string()), ("gpu".to_string(), "t4".to_string())];
        assert_eq!(profile_key(Some("gpu"), choices.iter().map(|(a, b)| (a, b))), "gpu:gpu=t4,image=pytorch");
        assert_eq!(profile_key(None, std::iter::empty()), "");
        assert_eq!(secs(Duration::from_millis(400)), "1 s");
        assert_eq!(secs(Duration::from_secs(12)), "12 s");
        assert_eq!(secs(Duration::from_secs(33)), "35 s");
        assert_eq!(secs(Duration::from_secs(32)), "30 s");
        assert_eq!(median([3, 1, 2].into_iter()), Some(2));
        assert_eq!(median([4, 1, 2, 3].into_iter()), Some(2));
        assert_eq!(median([u64::MAX, u64::MAX].into_iter()), Some(u64::MAX));
        assert_eq!(median(std::iter::empty()), None);
    }

    #[test]
    fn deletion_times_need_three_samples_and_keep_the_last_twenty() {
        let d = tempfile::tempdir().unwrap();
        let del = Deletions::open(Some(d.path()), "hub").unwrap();
        assert_eq!(del.usual(), None);
        del.record(Duration::from_millis(3300));
        del.record(Duration::from_millis(3500));
        assert_eq!(del.usual(), None, "two deletions are not \"usually\"");
        del.record(Duration::from_millis(4100));
        assert_eq!(del.usual(), Some((Duration::from_millis(3300), Duration::from_millis(4100))));
        for _ in 0..MAX_SAMPLES {
            del.record(Duration::from_millis(9000));
        }
        assert_eq!(del.usual(), Some((Duration::from_millis(9000), Duration::from_millis(9000))));
        // Absurd durations (a tampered file) are not history, and never an overflow.
        std::fs::write(
            &del.file,
            format!("{{\"version\":1,\"ms\":[{},{},{},{}]}}", u64::MAX, u64::MAX, u64::MAX, 5000),
        )
        .unwrap();
        assert_eq!(del.usual(), None);
        // A torn file is no history, not an error.
        std::fs::write(&del.file, b"{\"version\":1,\"ms\":[1,").unwrap();
        assert_eq!(del.usual(), None);
    }
}
