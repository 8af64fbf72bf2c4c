//! Deleting many apps at once (gc): a client-side mirror of ARM's delete bucket paces the
//! DELETEs so 429s stay rare, `concurrency` workers share one queue, and each delete is one
//! request whose every 429 the pacer sees (`Arm::delete_once`, no hidden retry loop). Each delete
//! first takes its token from the hub-wide budget (`budget.rs`, at gc's low priority, which leaves
//! 30% of the bucket to the hub's stops), and goes out by `send_by` or not at all.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::budget::Class;
use super::{Arm, lro};
use crate::join::join_all;
use crate::output;
use crate::settings::ArmSettings;

/// ARM's documented refill rate of the per-principal delete bucket (200 burst, 10/s).
const DELETE_RATE_PER_S: f64 = 10.0;
/// 429s one app's delete may meet before it counts as failed (the next run retries it).
const MAX_THROTTLED_PER_APP: u32 = 100;

/// Ok(None) accepted, Ok(Some(note)) nothing to delete, Err(why) failed.
pub type DeleteOutcome = std::result::Result<Option<&'static str>, String>;

#[derive(Default)]
pub struct DeleteStats {
    pub requests: usize,
    pub throttled: usize,
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
        let until = Instant::now().checked_add(retry_after.min(lro::MAX_SERVER_DELAY)).unwrap_or_else(Instant::now);
        if self.pause_until.is_none_or(|p| p < until) {
            self.pause_until = Some(until);
        }
    }
}

/// Delete `ids`; a delete that cannot be sent by `send_by` is not sent (failed, for the next run).
pub async fn delete_all(
    arm: &Arm,
    cfg: &ArmSettings,
    ids: &[String],
    concurrency: usize,
    send_by: Instant,
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
            let r = delete_one(arm, cfg, &ids[i], send_by, &pacer, &requests, &throttled).await;
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
    cfg: &ArmSettings,
    id: &str,
    send_by: Instant,
    pacer: &RefCell<Pacer>,
    requests: &Cell<usize>,
    throttled: &Cell<usize>,
) -> DeleteOutcome {
    let mut attempts = 0u32;
    let mut throttles = 0u32;
    let late = || {
        "not sent: no room in the hub's ARM budget before its server's re-check went stale; the next run deletes it"
            .to_string()
    };
    loop {
        // The hub's token first, then the pacer's slot: `seq` then numbers requests as they go out.
        if let Err(e) = arm.wait_for_budget(Class::Deletes, send_by).await {
            return Err(format!("{} ({})", late(), e.message));
        }
        loop {
            let wait = pacer.borrow_mut().try_take();
            match wait {
                None => break,
                Some(d) => tokio::time::sleep(d).await,
            }
        }
        if Instant::now() > send_by {
            return Err(late());
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
                        (lro::operation_in_progress(e.code.as_str()), e.to_string(), r.retry_after())
                    }
                    _ => (false, err().to_string(), None),
                }
            }
            Err(e) => (true, e.to_string(), None),
        };
        attempts += 1;
        if !retry || attempts >= cfg.max_attempts {
            return Err(why);
        }
        let backoff = lro::backoff(cfg.retry_base, attempts + 1);
        output::verbose(&format!("{why}; retrying the delete in {:.1} s", delay.unwrap_or(backoff).as_secs_f64()));
        tokio::time::sleep(delay.unwrap_or(backoff).min(lro::MAX_SERVER_DELAY)).await;
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
