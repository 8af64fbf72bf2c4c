//! Taking one of our apps down, for stop, for start (replacing a failed app) and for batch:
//! delete it only if the ownership rule says it is ours, then wait (bounded) until ARM says 404,
//! noticing within about [`GONE_CHECK`] that it is, without one GET per check per app.

use std::time::{Duration, Instant};

use crate::arm::fleet::Fleet;
use crate::arm::{Arm, DeleteStarted, lro};
use crate::error::{Error, ErrorCode, Result};
use crate::estimates::Deletions;
use crate::output;
use crate::ownership::{self, AppRef};
use crate::settings::Settings;

/// How often stop asks whether the app is gone while ARM deletes it (`fleet.enabled: false`), and
/// how often around the time deletions usually take.
pub const GONE_CHECK: Duration = Duration::from_millis(500);
/// How often stop looks at the fleet view while ARM deletes the app (a file stat; no ARM request).
const VIEW_CHECK: Duration = Duration::from_millis(200);
/// While deletions are pending the view is refreshed this often per page of the list (at least
/// [`DELETING_MIN_AGE`], at most `fleet.max_age`): 300 stops share one list instead of 600 GETs
/// a second, and a list costs at most ~20 reads a second of ARM's 25.
const DELETING_AGE_PER_PAGE: Duration = Duration::from_millis(50);
const DELETING_MIN_AGE: Duration = Duration::from_millis(500);
/// Without a history of deletions, the first direct GET after this, then at doubling intervals
/// up to [`MAX_GUESS_STEP`].
const FIRST_GUESS: Duration = Duration::from_secs(1);
const MAX_GUESS_STEP: Duration = Duration::from_secs(5);
/// With the view on, the delete operation is read at most this often.
const OP_EVERY_WITH_VIEW: Duration = Duration::from_secs(5);

/// What the view says of an app being deleted.
enum Seen {
    /// A list that began after ARM accepted the DELETE no longer shows it: worth one direct GET.
    Unlisted,
    /// Still listed, or nothing new since the last look.
    Listed,
    /// No trustworthy view right now (refresh failed or slow, lock unusable).
    NoView,
}

/// stop's use of the fleet view: "gone" is only a candidate when a list that began after ARM
/// accepted the DELETE no longer shows the app; the caller confirms with one direct GET (only
/// ARM's 404 means gone).
struct GoneView {
    fleet: Fleet,
    accepted_ms: i64,
    seen_mtime: Option<i64>,
    /// Pages of the last list seen (sets the refresh period).
    pages: usize,
    /// Since when no trustworthy view could be had.
    no_view_since: Option<Instant>,
}

/// How long the view may be unavailable (another process's slow refresh, a failing list) before
/// stop stops counting on it.
const VIEW_PATIENCE: Duration = Duration::from_secs(2);

impl GoneView {
    fn open(settings: &Settings, r: &AppRef) -> Option<GoneView> {
        let fleet = Fleet::open(settings).ok().flatten().filter(|f| f.covers(&r.id))?;
        Some(GoneView { fleet, accepted_ms: crate::clock::now_ms(), seen_mtime: None, pages: 1, no_view_since: None })
    }

    /// Never waits for another process's refresh beyond one check: a stop stuck behind a slow
    /// list would miss the moment its own guess was due.
    async fn look(&mut self, arm: &Arm, r: &AppRef) -> Seen {
        let mtime = self.fleet.modified_ms();
        let period = DELETING_AGE_PER_PAGE
            .saturating_mul(self.pages.min(10_000) as u32)
            .clamp(DELETING_MIN_AGE, self.fleet.max_age.max(DELETING_MIN_AGE));
        let stale = mtime.is_none_or(|m| crate::clock::now_ms().saturating_sub(m) >= period.as_millis() as i64 * 4 / 5);
        if !stale && mtime == self.seen_mtime {
            // Nothing new since the last look, and not due for a refresh: no need to parse it.
            return Seen::Listed;
        }
        let Some(snap) = self.fleet.fresh(arm, period, lro::after(VIEW_CHECK)).await else {
            let since = *self.no_view_since.get_or_insert_with(Instant::now);
            return if since.elapsed() >= VIEW_PATIENCE { Seen::NoView } else { Seen::Listed };
        };
        self.no_view_since = None;
        self.seen_mtime = self.fleet.modified_ms();
        self.pages = snap.pages.max(1);
        let unlisted = snap.get(&r.name).is_none_or(|e| !e.id.eq_ignore_ascii_case(&r.id));
        if snap.listed_since(self.accepted_ms) && unlisted { Seen::Unlisted } else { Seen::Listed }
    }
}

/// When a direct GET is worth its read: around the time this hub's deletions usually take
/// (every [`GONE_CHECK`] from the shortest recent one until a second past the longest), else at
/// doubling intervals. The view catches the rest. 300 stops at once then cost about one GET each
/// instead of one every half second, and each learns "gone" within a check of it happening.
struct Guess {
    history: Option<Deletions>,
    usual: Option<(Duration, Duration)>,
    next_load: Instant,
    accepted: Instant,
    next: Instant,
    step: Duration,
}

impl Guess {
    fn new(settings: &Settings, accepted: Instant) -> Guess {
        let mut g = Guess {
            history: Deletions::open(settings.cache_dir.as_deref(), &settings.hub_id),
            usual: None,
            next_load: accepted,
            accepted,
            next: accepted + FIRST_GUESS,
            step: FIRST_GUESS,
        };
        g.load();
        g
    }

    /// Read the history until it has an answer (other stops may be adding to it right now).
    fn load(&mut self) {
        if self.usual.is_some() || Instant::now() < self.next_load {
            return;
        }
        self.next_load = lro::after(Duration::from_secs(1));
        self.usual = self.history.as_ref().and_then(Deletions::usual);
        if let Some((lo, _)) = self.usual {
            let first = lo.saturating_sub(GONE_CHECK / 5);
            self.next = self.accepted.checked_add(first).unwrap_or_else(|| lro::after(first));
        }
    }

    fn due(&mut self) -> bool {
        self.load();
        Instant::now() >= self.next
    }

    /// From acceptance, when this deletion counts as slower than usual (10 s without a history).
    fn slower_than_usual(&self) -> Duration {
        self.usual.map_or(Duration::from_secs(10), |(_, hi)| hi + Duration::from_secs(2))
    }

    /// Whether the deletion is within this hub's usual duration (plus a second), when known.
    fn in_usual_window(&self) -> bool {
        self.usual.is_some_and(|(_, hi)| self.accepted.elapsed() <= hi + Duration::from_secs(1))
    }

    /// Due within a check at the latest (nothing else will tell).
    fn soon(&mut self) {
        self.next = self.next.min(lro::after(GONE_CHECK));
    }

    /// A direct GET was sent: when the next one is due.
    fn sent(&mut self) {
        let since = self.accepted.elapsed();
        let dense = self.usual.is_some_and(|(_, hi)| since <= hi + Duration::from_secs(1));
        self.next = lro::after(if dense {
            GONE_CHECK
        } else {
            let s = self.step;
            self.step = (self.step * 2).min(MAX_GUESS_STEP);
            s
        });
    }

    fn gone(&self) {
        if let Some(h) = &self.history {
            h.record(self.accepted.elapsed());
        }
    }
}

/// Ok(false) when there was nothing to delete.
pub async fn delete_and_wait(arm: &Arm, settings: &Settings, r: &AppRef, budget: Duration) -> Result<bool> {
    let deadline = lro::after(budget);
    let Some(app) = arm.get_app(&r.id).await? else {
        return Ok(false);
    };
    if !ownership::is_ours(&app, settings, r) {
        return Err(Error::new(
            ErrorCode::NotOwned,
            format!(
                "{} exists but is not tagged as this hub's ({}) server; refusing to delete it",
                r.name, settings.hub_id
            ),
        ));
    }
    output::progress(10, &format!("Deleting {}", r.name));
    // The client's retries ran out on "operation in progress": keep trying until our own deadline.
    let started = lro::while_conflicting(settings.arm.poll_interval, deadline, || arm.delete_app(&r.id)).await?;
    match started {
        DeleteStarted::Absent => return Ok(false),
        DeleteStarted::Done => return Ok(true),
        DeleteStarted::Accepted { url, async_status, retry_after } => {
            // Refused now, not when (or whether) it is read: the view may tell "gone" first.
            if let Some(u) = url.as_deref() {
                arm.check_url(u)?;
            }
            // Ask the app itself (404 = gone, the only proof that counts) when the view no longer
            // lists it or when deletions usually end, and the operation (for a failed delete) at
            // ARM's pace, or with the view once the deletion is slower than usual: ARM's
            // Retry-After can be far longer than the deletion, and the user cannot restart until
            // stop returns.
            let accepted = Instant::now();
            let mut view = GoneView::open(settings, r);
            let mut guess = Guess::new(settings, accepted);
            // With the view, the operation (read only to learn of a failed delete) waits until the
            // app is slower than usual: 300 stops polling it at ARM's 1 s would be 300 reads a second.
            let view_on = view.is_some();
            let op_pace = |wait: Option<Duration>| {
                let wait = settings.arm.lro_wait(wait);
                if view_on { wait.max(OP_EVERY_WITH_VIEW) } else { wait }
            };
            let mut next_op = lro::after(if view_on {
                guess.slower_than_usual().max(op_pace(retry_after))
            } else {
                op_pace(retry_after)
            });
            loop {
                let check = if view.is_some() { VIEW_CHECK } else { GONE_CHECK };
                if !lro::fits(check, deadline) {
                    break;
                }
                lro::sleep_within(check, deadline).await;
                let gone = match view.as_mut() {
                    None => arm.get_app(&r.id).await?.is_none(),
                    // Around the usual deletion time, ask the app (with a read the budget can spare).
                    Some(_) if guess.due() => match arm.get_app_if_spare(&r.id).await {
                        Some(got) => {
                            guess.sent();
                            got?.is_none()
                        }
                        None => false,
                    },
                    // Inside the usual window the guesses are denser than any list: no need to
                    // read (or refresh) the view, which costs every waiting stop a parse.
                    Some(_) if guess.in_usual_window() => false,
                    Some(v) => match v.look(arm, r).await {
                        Seen::Unlisted => arm.get_app(&r.id).await?.is_none(),
                        Seen::Listed => false,
                        // No view to wait for: the guesses carry on at the classic pace.
                        Seen::NoView => {
                            guess.soon();
                            false
                        }
                    },
                };
                if gone {
                    guess.gone();
                    return Ok(true);
                }
                let Some(url) = url.as_deref() else { continue };
                if Instant::now() < next_op {
                    continue;
                }
                let (done, next) = if async_status {
                    let (s, next) = arm.operation_status(url).await?;
                    match lro::Operation::of(s) {
                        lro::Operation::Ended { code, message, .. } => {
                            return Err(Error::new(
                                code.map_or(ErrorCode::DeleteFailed, ErrorCode::Arm),
                                format!("deleting {} failed: {message}", r.name),
                            ));
                        }
                        op => (op == lro::Operation::Succeeded, next),
                    }
                } else {
                    arm.location_done(url).await?
                };
                if done {
                    break;
                }
                next_op = lro::after(op_pace(next));
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

/// Until ARM says 404 for `id` (a previous app still deleting), asking every `every`; the ARM
/// client's deadline ends it.
pub async fn wait_gone(arm: &Arm, id: &str, every: Duration, deadline: Instant) -> Result<()> {
    loop {
        if arm.get_app(id).await?.is_none() {
            return Ok(());
        }
        lro::sleep_within(every, deadline).await;
    }
}
