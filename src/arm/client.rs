//! The ARM client: one reqwest client, bearer tokens from `auth`, the hub-wide budget
//! (`budget.rs`), retries with exponential backoff and jitter, and the LRO primitives
//! (Azure-AsyncOperation and Location polling).
//!
//! Throttling slows a command down but never fails it early: a 429 waits (Retry-After, else
//! backoff) for as long as the command's own deadline allows ([`Arm::set_deadline`]), without an
//! attempt count. Other retryable failures (5xx, 408, connection errors, 409
//! operation-in-progress) are bounded by `arm.max_attempts` and `arm.retry_max_total`. Every
//! server-provided delay is clamped (`lro.rs`), every request's timeout is cut to the time left.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode, header::HeaderMap};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::budget::{Budget, Class, Priority};
use super::lro;
use super::model::ErrorResponse;
use crate::auth::TokenProvider;
use crate::error::{Error, ErrorCode};
use crate::output;
use crate::settings::ArmSettings;

/// ARM said no, or could not be reached. `code`/`message` are ARM's own when it sent an error body.
#[derive(Debug)]
pub struct ArmError {
    pub status: Option<u16>,
    /// ARM's own code, or ours when the failure was ours (a bad credential configuration keeps
    /// its usage exit through here).
    pub code: ErrorCode,
    pub message: String,
    /// Our own error, when the failure was ours: it goes back out whole (code, causes).
    source: Option<Box<Error>>,
}

impl ArmError {
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404) && self.code.as_str().eq_ignore_ascii_case("ResourceNotFound")
    }
}

impl std::fmt::Display for ArmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) => write!(f, "ARM answered {s} {}: {}", self.code, self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl From<ArmError> for Error {
    fn from(e: ArmError) -> Self {
        match e.source {
            Some(ours) => *ours,
            None => {
                let message = e.to_string();
                Error::new(e.code, message)
            }
        }
    }
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ArmError> {
        serde_json::from_slice(&self.body).map_err(|e| ArmError {
            source: None,
            status: Some(self.status.as_u16()),
            code: ErrorCode::InvalidResponse,
            message: format!("ARM sent a body acactl cannot read: {e}"),
        })
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }
    /// Retry-After in seconds (ARM sends seconds; an HTTP date is treated as absent).
    /// Clamped to [`lro::MAX_SERVER_DELAY`]: an absurd value must not overflow anything.
    pub fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after").and_then(|v| lro::parse_retry_after(&v))
    }
    pub fn error(&self) -> ArmError {
        let parsed: Option<ErrorResponse> = serde_json::from_slice(&self.body).ok();
        let detail = parsed.and_then(|p| p.error);
        ArmError {
            source: None,
            status: Some(self.status.as_u16()),
            code: ErrorCode::Arm(
                detail.as_ref().and_then(|d| d.code.clone()).unwrap_or_else(|| format!("Http{}", self.status.as_u16())),
            ),
            message: detail.and_then(|d| d.message).unwrap_or_else(|| {
                let text = String::from_utf8_lossy(&self.body);
                let text = text.trim();
                if text.is_empty() {
                    self.status.canonical_reason().unwrap_or("").to_string()
                } else {
                    // Redact before cutting: a cut could leave part of a secret that no longer matches.
                    output::redact(text).chars().take(300).collect()
                }
            }),
        }
    }
}

pub struct PutStarted {
    pub async_operation: Option<String>,
    pub retry_after: Option<Duration>,
    /// The ingress FQDN in ARM's answer to the PUT (ARM fills it in at once).
    pub fqdn: Option<String>,
}

pub enum DeleteStarted {
    /// 204: there was nothing to delete.
    Absent,
    /// 200: deleted synchronously.
    Done,
    /// 202: poll `url` (Azure-AsyncOperation status body if `async_status`, else Location).
    Accepted { url: Option<String>, async_status: bool, retry_after: Option<Duration> },
}

mod resources;
pub use resources::ListedApps;

pub struct Arm {
    http: reqwest::Client,
    base: String,
    api_version: String,
    auth: TokenProvider,
    token: RefCell<Option<String>>,
    retry: ArmSettings,
    rng: Cell<u64>,
    /// The command's deadline: 429 waits end here, and no request outlives it.
    deadline: Cell<Option<Instant>>,
    priority: Cell<Priority>,
    budget: Option<Budget>,
    /// Skip the budget's reservation (a failed start's cleanup must not be refused by it).
    unpaced: Cell<bool>,
    /// Progress percentage to report "waiting for Azure's request budget" at (start), and when
    /// it was last said.
    throttle_note: Cell<Option<u8>>,
    noted: Cell<Option<Instant>>,
}

/// The most pages a list follows (at ARM's 100 apps a page, 100,000 apps): beyond it, or on a
/// `nextLink` seen before, the list fails instead of looping.
pub const MAX_LIST_PAGES: usize = 1000;

/// The longest a 429 pauses the whole hub's budget, whatever Retry-After says (ARM's refill makes
/// room within seconds; an absurd value must not stall every process of the hub). The request that
/// got it still honours its own (clamped) Retry-After.
const MAX_BUDGET_PAUSE: Duration = Duration::from_secs(5);

impl Arm {
    pub fn new(http: reqwest::Client, base: &str, api_version: &str, auth: TokenProvider, retry: ArmSettings) -> Self {
        Arm {
            http,
            base: base.trim_end_matches('/').to_string(),
            api_version: api_version.to_string(),
            auth,
            token: RefCell::new(None),
            retry,
            rng: Cell::new(crate::clock::seed()),
            deadline: Cell::new(None),
            priority: Cell::new(Priority::Normal),
            budget: None,
            unpaced: Cell::new(false),
            throttle_note: Cell::new(None),
            noted: Cell::new(None),
        }
    }

    /// Pace every request through the hub-wide budget.
    pub fn with_budget(mut self, budget: Option<Budget>) -> Self {
        self.budget = budget;
        self
    }

    /// The command's own deadline: throttled requests wait until at most then.
    pub fn set_deadline(&self, deadline: Instant) {
        self.deadline.set(Some(deadline));
    }

    /// Who is asking, for the budget's priorities.
    pub fn set_priority(&self, p: Priority) {
        self.priority.set(p);
    }

    /// Send without reserving from the hub's budget (ARM's 429s still pace us).
    pub fn set_unpaced(&self, on: bool) {
        self.unpaced.set(on);
    }

    /// Wait for room in the hub-wide budget for one request of `class` sent outside
    /// [`Arm::send`] (gc's bulk deletes, which also pace themselves but share ARM's bucket with
    /// every acactl of the hub). An error when no room comes before `give_up`: nothing is sent.
    pub async fn wait_for_budget(&self, class: Class, give_up: Instant) -> Result<(), Error> {
        let Some(b) = self.budget.as_ref().filter(|_| !self.unpaced.get()) else { return Ok(()) };
        loop {
            let max_wait = lro::remaining(give_up);
            match b.reserve(class, self.priority.get(), max_wait) {
                Ok(w) => {
                    if !w.is_zero() {
                        self.note_throttled(w);
                        tokio::time::sleep(w).await;
                    }
                    return Ok(());
                }
                Err(w) if w <= max_wait => {
                    if w >= Duration::from_millis(500) {
                        self.note_throttled(w);
                    }
                    tokio::time::sleep(w.max(Duration::from_millis(20))).await;
                }
                Err(w) => {
                    return Err(Error::new(
                        ErrorCode::RequestBudgetExhausted,
                        format!(
                            "the hub's ARM request budget has no room within the time left ({:.1} s needed)",
                            w.as_secs_f64()
                        ),
                    ));
                }
            }
        }
    }

    /// Tell the hub-wide budget what ARM answered a request of `class` sent outside [`Arm::send`].
    pub fn observe_budget(&self, class: Class, r: &Response) {
        if let Some(b) = &self.budget {
            let remaining = r.header(class.header()).and_then(|v| v.trim().parse::<u64>().ok());
            let paused = (r.status == StatusCode::TOO_MANY_REQUESTS)
                .then(|| r.retry_after().unwrap_or(Duration::from_secs(1)).min(MAX_BUDGET_PAUSE));
            b.observe(class, remaining, paused);
        }
    }

    /// Say "waiting for Azure's request budget" as progress at `pct` while throttled (start).
    pub fn report_throttling(&self, pct: Option<u8>) {
        self.throttle_note.set(pct);
    }

    fn note_throttled(&self, wait: Duration) {
        let due = self.noted.get().is_none_or(|t| t.elapsed() >= Duration::from_secs(5));
        if !due {
            return;
        }
        self.noted.set(Some(Instant::now()));
        let msg = format!("waiting for Azure's request budget ({:.1} s)", wait.as_secs_f64());
        match self.throttle_note.get() {
            Some(pct) => output::progress(pct, &msg),
            None => output::verbose(&msg),
        }
    }

    pub fn describe_credential(&self) -> String {
        self.auth.describe()
    }

    /// Obtain (or reuse) the ARM token now.
    pub async fn token(&self) -> Result<(), Error> {
        self.bearer(false).await.map(|_| ())
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn url(&self, id: &str) -> String {
        format!("{}{}?api-version={}", self.base, id, self.api_version)
    }

    async fn bearer(&self, fresh: bool) -> Result<String, Error> {
        if !fresh && let Some(t) = self.token.borrow().clone() {
            return Ok(t);
        }
        let t = self.auth.token(fresh).await?;
        *self.token.borrow_mut() = Some(t.clone());
        Ok(t)
    }

    /// Jitter in [0.5, 1.5) from a xorshift; backoff need not be cryptographic.
    fn jitter(&self, d: Duration) -> Duration {
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        d.mul_f64(0.5 + (x % 1000) as f64 / 1000.0)
    }

    /// Refuse now a URL ARM handed out that `send` would refuse later (a foreign operation URL):
    /// a start that waits on the fleet view may otherwise never read it.
    pub fn check_url(&self, url: &str) -> Result<(), Error> {
        crate::origin::require(url, &self.base, true, "ARM")
    }

    /// One logical request with retries. Returns the final response whatever its status; only
    /// transport failures that outlast the retries (and a budget that cannot be had before the
    /// deadline) are errors here.
    pub async fn send(&self, method: Method, url: &str, body: Option<&Value>) -> Result<Response, Error> {
        crate::origin::require(url, &self.base, true, "ARM")?;
        let started = Instant::now();
        let backstop = started.checked_add(self.retry.retry_max_total).unwrap_or_else(|| lro::after(Duration::MAX));
        // 429s wait until the command's deadline; other failures stop at the backstop too.
        let throttle_limit = self.deadline.get().unwrap_or(backstop);
        let failure_limit = throttle_limit.min(backstop);
        let class = Class::of(&method);
        let mut refreshed = false;
        let mut attempt = 0u32;
        let mut throttles = 0u32;
        let mut min_wait = Duration::ZERO;
        loop {
            let mut wait = min_wait;
            if let Some(b) = self.budget.as_ref().filter(|_| !self.unpaced.get()) {
                let max_wait = lro::remaining(throttle_limit);
                match b.reserve(class, self.priority.get(), max_wait) {
                    Ok(w) => wait = wait.max(w),
                    // Not reserved (a poll or status must not dig below its floor): ask again.
                    Err(w) if w <= max_wait => {
                        if w >= Duration::from_millis(500) {
                            self.note_throttled(w);
                        }
                        let nap = w.max(Duration::from_millis(20));
                        tokio::time::sleep(nap).await;
                        // That nap counts towards a 429's wait too (no double wait).
                        min_wait = min_wait.saturating_sub(nap);
                        continue;
                    }
                    Err(w) => {
                        return Err(Error::new(
                            ErrorCode::RequestBudgetExhausted,
                            format!(
                                "the hub's ARM request budget has no room for {method} {} within the time left ({:.1} s needed)",
                                short(url),
                                w.as_secs_f64()
                            ),
                        ));
                    }
                }
            }
            if !wait.is_zero() {
                if !lro::fits(wait, throttle_limit) {
                    return Err(Error::new(
                        ErrorCode::RequestBudgetExhausted,
                        format!("no room in Azure's request budget for {method} {} before the deadline", short(url)),
                    ));
                }
                if wait >= Duration::from_millis(500) {
                    self.note_throttled(wait);
                }
                tokio::time::sleep(wait).await;
            }
            min_wait = Duration::ZERO;
            let left = lro::remaining(throttle_limit);
            if left.is_zero() {
                return Err(Error::new(ErrorCode::Timeout, format!("no time left for {method} {}", short(url))));
            }
            let token = self.bearer(false).await?;
            let mut req = self
                .http
                .request(method.clone(), url)
                .bearer_auth(&token)
                .header("accept", "application/json")
                .timeout(self.retry.request_timeout.min(left).max(Duration::from_millis(1)));
            if let Some(b) = body {
                req = req.json(b);
            }
            output::debug(&format!("{method} {}", short(url)));
            let outcome = req.send().await;
            let (delay_hint, failure) = match outcome {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    if status.is_redirection() {
                        return Err(redirect_error(status, &headers));
                    }
                    let bytes = match crate::http::read_capped(resp, crate::http::MAX_BODY).await {
                        Ok(b) => b,
                        Err(e @ crate::http::BodyError::TooLarge) => return Err(too_large(status, e)),
                        Err(e) => {
                            let err = ArmError {
                                source: None,
                                status: Some(status.as_u16()),
                                code: ErrorCode::ConnectionError,
                                message: e.to_string(),
                            };
                            attempt += 1;
                            let delay = self.backoff(attempt);
                            if attempt < self.retry.max_attempts && lro::fits(delay, failure_limit) {
                                tokio::time::sleep(delay).await;
                                continue;
                            }
                            return Err(err.into());
                        }
                    };
                    let r = Response { status, headers, body: bytes };
                    output::debug(&format!("-> {}", status.as_u16()));
                    self.observe_budget(class, &r);
                    if status == StatusCode::UNAUTHORIZED && !refreshed {
                        // A cached token may have been revoked: fetch a fresh one once.
                        refreshed = true;
                        self.bearer(true).await?;
                        continue;
                    }
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        // Throttled: wait, however often, as long as the deadline allows.
                        throttles += 1;
                        // Never below the backoff: `Retry-After: 0` must not make a tight loop
                        // (throttles are bounded only by the deadline).
                        let delay = r.retry_after().unwrap_or_default().max(self.backoff(throttles));
                        if lro::fits(delay, throttle_limit) {
                            self.note_throttled(delay);
                            output::verbose(&format!(
                                "429 {} on {method} {}; waiting {:.1} s",
                                r.error().code,
                                short(url),
                                delay.as_secs_f64()
                            ));
                            min_wait = delay;
                            continue;
                        }
                        return Ok(r);
                    }
                    let retryable = status == StatusCode::REQUEST_TIMEOUT
                        || status.is_server_error()
                        || (status == StatusCode::CONFLICT && lro::operation_in_progress(r.error().code.as_str()));
                    if !retryable {
                        return Ok(r);
                    }
                    let hint = r.retry_after();
                    let err = r.error();
                    (hint, RetryFailure::Response(r, err))
                }
                Err(e) => {
                    let code = if e.is_timeout() { ErrorCode::Timeout } else { ErrorCode::ConnectionError };
                    (None, RetryFailure::Transport(Error::new(code, "").because(e)))
                }
            };
            attempt += 1;
            let delay = delay_hint.unwrap_or_else(|| self.backoff(attempt));
            if attempt < self.retry.max_attempts && lro::fits(delay, failure_limit) {
                output::verbose(&format!(
                    "{} on {method} {}; retrying in {:.1} s (attempt {attempt}/{})",
                    failure.describe(),
                    short(url),
                    delay.as_secs_f64(),
                    self.retry.max_attempts
                ));
                tokio::time::sleep(delay).await;
                continue;
            }
            return match failure {
                RetryFailure::Response(r, _) => Ok(r),
                RetryFailure::Transport(e) => Err(e),
            };
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.jitter(lro::backoff(self.retry.retry_base, attempt))
    }
}

enum RetryFailure {
    Response(Response, ArmError),
    Transport(Error),
}

impl RetryFailure {
    fn describe(&self) -> String {
        match self {
            RetryFailure::Response(r, e) => format!("{} {}", r.status.as_u16(), e.code),
            RetryFailure::Transport(e) => e.code.to_string(),
        }
    }
}

/// ARM never redirects; a 3xx is refused, not followed (the token would go along to its target).
fn redirect_error(status: StatusCode, headers: &HeaderMap) -> Error {
    let to = headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("(no Location)");
    Error::new(
        ErrorCode::ForeignUrl,
        format!("ARM answered {} redirecting to {}; acactl does not follow redirects", status.as_u16(), short(to)),
    )
}

fn too_large(status: StatusCode, e: crate::http::BodyError) -> Error {
    Error::new(
        ErrorCode::ResponseTooLarge,
        format!("ARM answered {} but {e}; acactl stopped reading it", status.as_u16()),
    )
}

fn to_arm(e: Error) -> ArmError {
    ArmError { status: None, code: e.code.clone(), message: e.message.clone(), source: Some(Box::new(e)) }
}

/// URLs without their (possibly huge, signed) query string, for logs.
fn short(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

#[cfg(test)]
mod tests;
