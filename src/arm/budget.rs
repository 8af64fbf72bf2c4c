//! The hub-wide client-side ARM budget: one token bucket per request class (reads, writes,
//! deletes) in the cache dir, shared by every acactl process of the hub under a file lock, so
//! hundreds of processes pace themselves instead of racing into 429s.
//!
//! The buckets mirror ARM's per-principal ones (reads 250 burst + 25/s, writes and deletes
//! 200 + 10/s), refilled at 90% of ARM's rate. Each request *reserves* a token: the bucket may go negative, and a reservation
//! waits until the refill covers it, so waiters are served in the order they asked (FIFO), each
//! knowing its wait up front. Priorities keep a floor: a poll (normal) only gets a slot that
//! leaves 10% of the burst for starts, status and gc (low) one that leaves 30%. ARM's
//! `x-ms-ratelimit-remaining-subscription-*` headers lower the bucket when ARM has seen more
//! traffic than we counted (other tools, other machines); a 429's Retry-After empties it for that
//! long. Wall-clock jumps never create tokens: time going backwards refills nothing.
//!
//! Anything wrong with the file (torn, foreign, loose permissions) means we start from a fresh
//! bucket rather than trust it; ARM's own 429s remain the backstop.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::now_ms;
use crate::lock::{self, FileLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Reads,
    Writes,
    Deletes,
}

impl Class {
    pub fn of(method: &reqwest::Method) -> Class {
        match *method {
            reqwest::Method::GET | reqwest::Method::HEAD => Class::Reads,
            reqwest::Method::DELETE => Class::Deletes,
            _ => Class::Writes,
        }
    }
    pub fn header(self) -> &'static str {
        match self {
            Class::Reads => "x-ms-ratelimit-remaining-subscription-reads",
            Class::Writes => "x-ms-ratelimit-remaining-subscription-writes",
            Class::Deletes => "x-ms-ratelimit-remaining-subscription-deletes",
        }
    }
    /// ARM's per-principal bucket: (burst, refill per second).
    pub fn arm_limits(self) -> (f64, f64) {
        match self {
            Class::Reads => (250.0, 25.0),
            Class::Writes | Class::Deletes => (200.0, 10.0),
        }
    }
    /// What the hub paces itself to: ARM's burst, 90% of its refill. A request reaches ARM a
    /// little after it reserved its slot (scheduling, TLS); while ARM's bucket is full that
    /// refill is lost on ARM's side, and the margin keeps us from running into its 429s.
    pub fn limits(self) -> (f64, f64) {
        let (burst, rate) = self.arm_limits();
        (burst, rate * 0.9)
    }
}

/// Who asks: a start's decisive reads and its writes come first, polls next, status last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Low,
    Normal,
    High,
}

impl Priority {
    /// Fraction of the burst a reservation of this priority must leave in the bucket.
    fn floor(self) -> f64 {
        match self {
            Priority::High => 0.0,
            Priority::Normal => 0.1,
            Priority::Low => 0.3,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Bucket {
    tokens: f64,
    /// Wall clock (ms since the epoch) of the last update.
    at_ms: i64,
    /// After a 429: nobody asks before this (ms since the epoch).
    #[serde(default)]
    paused_until_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BudgetFile {
    v: u32,
    reads: Bucket,
    writes: Bucket,
    deletes: Bucket,
}

const VERSION: u32 = 1;
/// How long a request waits for the budget's lock before going unpaced (ARM's 429s remain).
const LOCK_PATIENCE: Duration = Duration::from_millis(200);

impl BudgetFile {
    fn fresh(now: i64) -> BudgetFile {
        let b = |c: Class| Bucket { tokens: c.limits().0, at_ms: now, paused_until_ms: 0 };
        BudgetFile { v: VERSION, reads: b(Class::Reads), writes: b(Class::Writes), deletes: b(Class::Deletes) }
    }
    fn bucket(&mut self, c: Class) -> &mut Bucket {
        match c {
            Class::Reads => &mut self.reads,
            Class::Writes => &mut self.writes,
            Class::Deletes => &mut self.deletes,
        }
    }
}

impl Bucket {
    fn refill(&mut self, c: Class, now: i64) {
        let (burst, rate) = c.limits();
        // A clock that went backwards refills nothing (and restarts the count from now).
        let elapsed = now.saturating_sub(self.at_ms).max(0) as f64 / 1000.0;
        if !self.tokens.is_finite() {
            self.tokens = 0.0;
        }
        self.tokens = (self.tokens + elapsed * rate).min(burst);
        self.at_ms = now;
    }
}

/// What [`Budget::state`] reports (doctor).
#[derive(Debug, Clone, Serialize)]
pub struct ClassState {
    pub class: &'static str,
    pub available: f64,
    pub burst: f64,
    pub per_second: f64,
}

pub struct Budget {
    file: PathBuf,
    lock: PathBuf,
    /// How long to wait for the file's lock ([`LOCK_PATIENCE`]; tests that check the lock's
    /// arbitration under load wait longer).
    patience: Duration,
}

impl Budget {
    /// The budget shared by every process using `cache_dir` against `key` (the ARM endpoint and
    /// subscription); `None` (with the reason) when the directory cannot be trusted.
    pub fn open(cache_dir: &Path, key: &str) -> Result<Budget, String> {
        let dir = lock::private_dir(cache_dir, "fleet")?;
        let name = crate::arm::fleet::digest(key);
        Ok(Budget {
            file: dir.join(format!("budget-{name}.json")),
            lock: dir.join(format!("budget-{name}.lock")),
            patience: LOCK_PATIENCE,
        })
    }

    fn with_file<T>(&self, f: impl FnOnce(&mut BudgetFile, i64) -> T) -> Option<T> {
        self.with_file_at(now_ms(), f)
    }

    fn with_file_at<T>(&self, now: i64, f: impl FnOnce(&mut BudgetFile, i64) -> T) -> Option<T> {
        let _guard = match FileLock::exclusive_within(&self.lock, self.patience) {
            Ok(g) => g,
            Err(e) => {
                crate::output::verbose(&format!("hub budget not used for this request ({}: {e})", self.lock.display()));
                return None;
            }
        };
        let mut state = lock::read_private(&self.file)
            .and_then(|b| serde_json::from_slice::<BudgetFile>(&b).ok())
            .filter(|s| s.v == VERSION)
            .unwrap_or_else(|| BudgetFile::fresh(now));
        let out = f(&mut state, now);
        if let Ok(bytes) = serde_json::to_vec(&state) {
            let _ = lock::write_atomic(&self.file, &bytes);
        }
        Some(out)
    }

    /// Reserve one request of `class`: `Ok(wait)` (reserved: sleep that long, then send), or
    /// `Err(wait)`: nothing reserved, no slot before `wait` (ask again then if it fits the caller's
    /// `max_wait`). Only `High` reserves ahead (`Ok` with a wait); `Normal` and `Low` get `Ok(0)`
    /// while taking a token leaves their floor, else `Err`, so they never dig below it. A file that cannot be locked
    /// means no pacing (`Ok(0)`): ARM's 429 handling still applies.
    pub fn reserve(&self, class: Class, prio: Priority, max_wait: Duration) -> Result<Duration, Duration> {
        self.reserve_at(now_ms(), class, prio, max_wait)
    }

    fn reserve_at(&self, now: i64, class: Class, prio: Priority, max_wait: Duration) -> Result<Duration, Duration> {
        let (burst, rate) = class.limits();
        let floor = burst * prio.floor();
        self.with_file_at(now, |s, now| {
            let b = s.bucket(class);
            b.refill(class, now);
            // Tokens needed so that taking one leaves `floor`; the refill pays the shortfall.
            let short = floor + 1.0 - b.tokens;
            let refill = if short > 0.0 { Duration::from_secs_f64((short / rate).min(1e6)) } else { Duration::ZERO };
            // A pause longer than ours can only come from a file dated by a clock now gone back:
            // cap it at the most a 429 may pause for.
            let paused = Duration::from_millis(b.paused_until_ms.saturating_sub(now).clamp(0, 600_000) as u64);
            let wait = refill.max(paused);
            // Only a start may reserve into the future (a FIFO queue of debt): a poll or status
            // that did would push the bucket below its floor and make the next start wait for it.
            if wait > max_wait || (prio != Priority::High && !wait.is_zero()) {
                return Err(wait);
            }
            b.tokens -= 1.0;
            Ok(wait)
        })
        .unwrap_or(Ok(Duration::ZERO))
    }

    /// Feed back what ARM said: its remaining count (never raises ours), and after a 429 its
    /// Retry-After (nobody of this hub asks again before it elapsed).
    pub fn observe(&self, class: Class, remaining: Option<u64>, throttled_for: Option<Duration>) {
        if remaining.is_none() && throttled_for.is_none() {
            return;
        }
        self.with_file(|s, now| {
            let b = s.bucket(class);
            b.refill(class, now);
            if let Some(r) = remaining {
                b.tokens = b.tokens.min(r as f64);
            }
            if let Some(d) = throttled_for {
                // ARM's bucket is empty: no tokens, and nobody asks again before Retry-After.
                b.tokens = b.tokens.min(0.0);
                let until = now.saturating_add(d.as_millis().min(600_000) as i64);
                b.paused_until_ms = b.paused_until_ms.max(until);
            }
        });
    }

    /// The buckets now (doctor); `None` when the file cannot be read.
    pub fn state(&self) -> Option<Vec<ClassState>> {
        self.with_file(|s, now| {
            [(Class::Reads, "reads"), (Class::Writes, "writes"), (Class::Deletes, "deletes")]
                .into_iter()
                .map(|(c, name)| {
                    let b = s.bucket(c);
                    b.refill(c, now);
                    let (burst, rate) = c.limits();
                    ClassState { class: name, available: (b.tokens * 10.0).round() / 10.0, burst, per_second: rate }
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000_000;

    #[test]
    fn burst_then_refill_in_order() {
        let d = tempfile::tempdir().unwrap();
        let b = Budget::open(d.path(), "k").unwrap();
        let hour = Duration::from_secs(3600);
        b.with_file_at(T0, |s, now| *s = BudgetFile::fresh(now));
        for _ in 0..200 {
            assert_eq!(b.reserve_at(T0, Class::Writes, Priority::High, Duration::ZERO), Ok(Duration::ZERO));
        }
        // Beyond the burst: the n-th next reservation waits n refill intervals, in order.
        let (_, rate) = Class::Writes.limits();
        let secs = |tokens: f64| Duration::from_secs_f64(tokens / rate);
        let waits: Vec<Duration> =
            (0..100).map(|_| b.reserve_at(T0, Class::Writes, Priority::High, hour).unwrap()).collect();
        for (n, w) in waits.iter().enumerate() {
            assert!(w.abs_diff(secs(n as f64 + 1.0)) < Duration::from_millis(2), "{n}: {w:?}");
        }
        // Too long for the caller: refused, nothing reserved.
        assert!(b.reserve_at(T0, Class::Writes, Priority::High, Duration::from_secs(1)).is_err());
        let next = b.reserve_at(T0, Class::Writes, Priority::High, hour).unwrap();
        assert!(next.abs_diff(secs(101.0)) < Duration::from_millis(2), "{next:?}");
        // Ten seconds later the queue has drained by ten seconds of refill.
        let later = b.reserve_at(T0 + 10_000, Class::Writes, Priority::High, hour).unwrap();
        assert!(later.abs_diff(secs(102.0 - 10.0 * rate)) < Duration::from_millis(2), "{later:?}");
    }

    #[test]
    fn priorities_leave_room_for_starts() {
        let d = tempfile::tempdir().unwrap();
        let b = Budget::open(d.path(), "k").unwrap();
        b.with_file_at(T0, |s, now| *s = BudgetFile::fresh(now));
        // Polls may use 90% of the burst (225 of 250) without waiting, status 70%.
        let mut free = 0;
        while b.reserve_at(T0, Class::Reads, Priority::Normal, Duration::ZERO).is_ok() {
            free += 1;
        }
        assert_eq!(free, 225);
        assert!(b.reserve_at(T0, Class::Reads, Priority::Low, Duration::ZERO).is_err());
        assert_eq!(b.reserve_at(T0, Class::Reads, Priority::High, Duration::ZERO), Ok(Duration::ZERO));
        // Status is told to come back once the bucket is back above 30% of the burst (75 + 1
        // tokens; 24 left), without reserving anything meanwhile.
        let w = b.reserve_at(T0, Class::Reads, Priority::Low, Duration::from_secs(60)).unwrap_err();
        let want = Duration::from_secs_f64(52.0 / Class::Reads.limits().1);
        assert!(w.abs_diff(want) < Duration::from_millis(2), "{w:?}");
        let left = b.with_file_at(T0, |s, _| s.reads.tokens).unwrap();
        assert_eq!(left, 24.0);
    }

    #[test]
    fn polls_never_dig_below_their_floor_so_starts_do_not_wait() {
        let d = tempfile::tempdir().unwrap();
        let b = Budget::open(d.path(), "k").unwrap();
        b.with_file_at(T0, |s, now| *s = BudgetFile::fresh(now));
        let poll_max = Duration::from_secs(15);
        let (burst, _) = Class::Reads.limits();
        let floor = burst * Priority::Normal.floor();
        // 60 polls (15 s deadlines) ask every 100 ms for 4 s: each gets a slot only when one
        // is free above the floor, the others come back later.
        let (mut granted, mut deferred) = (0, 0);
        for tick in 0..40 {
            let now = T0 + tick * 100;
            for _ in 0..60 {
                match b.reserve_at(now, Class::Reads, Priority::Normal, poll_max) {
                    Ok(w) => {
                        assert_eq!(w, Duration::ZERO);
                        granted += 1;
                    }
                    Err(w) => {
                        assert!(w <= Duration::from_secs(1), "{w:?}");
                        deferred += 1;
                    }
                }
            }
            let left = b.with_file_at(now, |s, _| s.reads.tokens).unwrap();
            assert!(left >= floor, "tick {tick}: {left}");
        }
        assert!(granted > 225 && deferred > 0, "{granted} {deferred}");
        // A start's read meanwhile goes at once (before: ~14 s behind the polls' debt).
        let now = T0 + 40 * 100;
        assert_eq!(b.reserve_at(now, Class::Reads, Priority::High, poll_max), Ok(Duration::ZERO));
    }

    #[test]
    fn concurrent_writers_lose_no_reservation() {
        // Four threads (separate opens, so flock really arbitrates) reserve 100 each.
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().to_path_buf();
        Budget::open(&dir, "k").unwrap().with_file_at(T0, |s, now| *s = BudgetFile::fresh(now));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let dir = dir.clone();
                std::thread::spawn(move || {
                    // Patient: a busy machine must not turn a slow lock into an unpaced request
                    // (which the production patience allows, and which is not what this checks).
                    let b = Budget { patience: Duration::from_secs(60), ..Budget::open(&dir, "k").unwrap() };
                    for _ in 0..100 {
                        b.reserve_at(T0, Class::Deletes, Priority::High, Duration::from_secs(3600)).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let b = Budget::open(&dir, "k").unwrap();
        let left = b.with_file_at(T0, |s, _| s.deletes.tokens).unwrap();
        assert_eq!(left, 200.0 - 400.0, "every reservation counted exactly once");
    }

    #[test]
    fn arm_headers_and_429_lower_the_bucket() {
        let d = tempfile::tempdir().unwrap();
        let b = Budget::open(d.path(), "k").unwrap();
        b.observe(Class::Reads, Some(3), None);
        let avail = b.state().unwrap()[0].available;
        assert!(avail <= 3.5, "{avail}");
        b.observe(Class::Reads, None, Some(Duration::from_secs(2)));
        let w = b.reserve(Class::Reads, Priority::High, Duration::from_secs(60)).unwrap();
        assert!(w >= Duration::from_millis(1900), "{w:?}");
        // Absurd values neither panic nor poison the file.
        b.observe(Class::Reads, Some(u64::MAX), Some(Duration::MAX));
        assert!(b.state().is_some());
    }

    #[test]
    fn torn_or_loose_file_starts_fresh() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let b = Budget::open(d.path(), "k").unwrap();
        b.reserve(Class::Reads, Priority::High, Duration::ZERO).unwrap();
        std::fs::write(&b.file, b"{\"v\":1,\"reads\":{\"tok").unwrap();
        assert!(b.state().unwrap()[0].available >= 249.0);
        // A file others may write is not trusted: starting fresh beats being steered by it.
        std::fs::write(&b.file, serde_json::to_vec(&BudgetFile::fresh(now_ms())).unwrap()).unwrap();
        std::fs::set_permissions(&b.file, std::fs::Permissions::from_mode(0o666)).unwrap();
        b.observe(Class::Reads, Some(0), None);
        let meta = std::fs::metadata(&b.file).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "rewritten privately");
    }

    #[test]
    fn a_stuck_lock_holder_means_no_pacing_not_a_hang() {
        let d = tempfile::tempdir().unwrap();
        let b = Budget::open(d.path(), "k").unwrap();
        b.with_file_at(T0, |s, now| {
            *s = BudgetFile::fresh(now);
            s.reads.tokens = -1000.0;
        });
        let held = FileLock::exclusive_within(&b.lock, Duration::ZERO).unwrap();
        let t = std::time::Instant::now();
        // Would wait ~45 s with the bucket; unpaced instead, after the lock's patience.
        assert_eq!(b.reserve_at(T0, Class::Reads, Priority::High, Duration::from_secs(60)), Ok(Duration::ZERO));
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        drop(held);
        assert!(
            b.reserve_at(T0, Class::Reads, Priority::High, Duration::from_secs(60)).unwrap() > Duration::from_secs(30)
        );
    }

    #[test]
    fn clock_going_back_refills_nothing() {
        let mut b = Bucket { tokens: 0.0, at_ms: 10_000, paused_until_ms: 0 };
        b.refill(Class::Reads, 5_000);
        assert_eq!(b.tokens, 0.0);
        b.refill(Class::Reads, 6_000);
        assert_eq!(b.tokens, Class::Reads.limits().1);
        b.refill(Class::Reads, i64::MAX);
        assert_eq!(b.tokens, 250.0);
    }
}
