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
use super::model::{ContainerApp, ErrorResponse, ManagedEnvironment, OperationStatus, Page, Replica, Revision};
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
        if !fresh {
            if let Some(t) = self.token.borrow().clone() {
                return Ok(t);
            }
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
                    if let Some(b) = &self.budget {
                        let remaining = r.header(class.header()).and_then(|v| v.trim().parse::<u64>().ok());
                        let paused = (status == StatusCode::TOO_MANY_REQUESTS)
                            .then(|| r.retry_after().unwrap_or(Duration::from_secs(1)).min(MAX_BUDGET_PAUSE));
                        b.observe(class, remaining, paused);
                    }
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

    /// GET a resource of any provider at `id` with its own api-version (doctor's lookups).
    pub async fn get_resource(&self, id: &str, api_version: &str) -> Result<Value, ArmError> {
        self.get_json(&format!("{}{}?api-version={api_version}", self.base, id)).await
    }

    async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, ArmError> {
        let r = self.send(Method::GET, url, None).await.map_err(to_arm)?;
        if r.status.is_success() { r.json() } else { Err(r.error()) }
    }

    /// [`Arm::get_app`] only if the hub's budget has a read to spare right now (above even a
    /// status's floor): `None` without sending anything. For guesses that may well be wasted
    /// (is the app gone yet?), so they never delay a start's or a poll's reads.
    pub async fn get_app_if_spare(&self, id: &str) -> Option<Result<Option<ContainerApp>, ArmError>> {
        if let Some(b) = self.budget.as_ref().filter(|_| !self.unpaced.get()) {
            b.reserve(Class::Reads, Priority::Low, Duration::ZERO).ok()?;
            // Reserved above: the request itself must not reserve again.
            self.unpaced.set(true);
            let r = self.get_app(id).await;
            self.unpaced.set(false);
            return Some(r);
        }
        Some(self.get_app(id).await)
    }

    /// The app, or `None` on ARM's 404 ResourceNotFound (and only then).
    pub async fn get_app(&self, id: &str) -> Result<Option<ContainerApp>, ArmError> {
        match self.get_json::<ContainerApp>(&self.url(id)).await {
            Ok(app) => Ok(Some(app)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn put_app(&self, id: &str, body: &Value) -> Result<PutStarted, ArmError> {
        let r = self.send(Method::PUT, &self.url(id), Some(body)).await.map_err(to_arm)?;
        if r.status != StatusCode::OK && r.status != StatusCode::CREATED {
            return Err(r.error());
        }
        let fqdn = r.json::<ContainerApp>().ok().and_then(|a| a.fqdn().map(str::to_string));
        Ok(PutStarted { async_operation: r.header("azure-asyncoperation"), retry_after: r.retry_after(), fqdn })
    }

    /// GET an Azure-AsyncOperation URL (verbatim: it carries signed query parameters).
    pub async fn operation_status(&self, url: &str) -> Result<(OperationStatus, Option<Duration>), ArmError> {
        let r = self.send(Method::GET, url, None).await.map_err(to_arm)?;
        if !r.status.is_success() {
            return Err(r.error());
        }
        Ok((r.json()?, r.retry_after()))
    }

    pub async fn delete_app(&self, id: &str) -> Result<DeleteStarted, ArmError> {
        let r = self.send(Method::DELETE, &self.url(id), None).await.map_err(to_arm)?;
        match r.status.as_u16() {
            204 => Ok(DeleteStarted::Absent),
            404 if r.error().is_not_found() => Ok(DeleteStarted::Absent),
            200 => Ok(DeleteStarted::Done),
            202 => {
                let asyncop = r.header("azure-asyncoperation");
                Ok(DeleteStarted::Accepted {
                    async_status: asyncop.is_some(),
                    url: asyncop.or_else(|| r.header("location")),
                    retry_after: r.retry_after(),
                })
            }
            _ => Err(r.error()),
        }
    }

    /// Poll a Location URL once: `Ok(true)` when the operation finished.
    pub async fn location_done(&self, url: &str) -> Result<(bool, Option<Duration>), ArmError> {
        let r = self.send(Method::GET, url, None).await.map_err(to_arm)?;
        match r.status.as_u16() {
            202 => Ok((false, r.retry_after())),
            200 | 201 | 204 => Ok((true, None)),
            404 => Ok((true, None)),
            _ => Err(r.error()),
        }
    }

    pub async fn get_revision(&self, app_id: &str, revision: &str) -> Result<Option<Revision>, ArmError> {
        match self.get_json::<Revision>(&self.url(&format!("{app_id}/revisions/{revision}"))).await {
            Ok(r) => Ok(Some(r)),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn list_replicas(&self, app_id: &str, revision: &str) -> Result<Vec<Replica>, ArmError> {
        match self.get_json::<Page<Replica>>(&self.url(&format!("{app_id}/revisions/{revision}/replicas"))).await {
            Ok(p) => Ok(p.value),
            Err(e) if e.status == Some(404) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    pub async fn get_environment(&self, env_id: &str) -> Result<ManagedEnvironment, ArmError> {
        self.get_json(&self.url(env_id)).await
    }

    /// An environment storage definition, or `None` on 404.
    pub async fn get_storage(
        &self,
        env_id: &str,
        name: &str,
    ) -> Result<Option<super::model::EnvironmentStorage>, ArmError> {
        match self.get_json::<super::model::EnvironmentStorage>(&self.url(&format!("{env_id}/storages/{name}"))).await {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every container app in the resource group: one GET per page, following `nextLink` verbatim
    /// (it carries api-version and `$skiptoken`). Any page failing (after retries) fails the list:
    /// callers that delete must never act on a partial view.
    pub async fn list_apps(&self, subscription: &str, resource_group: &str) -> Result<ListedApps, ArmError> {
        let mut url = self.url(&format!(
            "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.App/containerApps"
        ));
        let mut out = ListedApps::default();
        let mut seen = std::collections::HashSet::new();
        loop {
            let page: Page<ContainerApp> = self.get_json(&url).await?;
            out.pages += 1;
            out.apps.extend(page.value);
            seen.insert(url);
            match page.next_link.filter(|l| !l.is_empty()) {
                Some(next) if seen.contains(&next) => {
                    return Err(ArmError {
                        source: None,
                        status: None,
                        code: ErrorCode::PagingLoop,
                        message: format!(
                            "ARM's list of container apps repeated a nextLink after {} pages; the list is incomplete",
                            out.pages
                        ),
                    });
                }
                Some(_) if out.pages >= MAX_LIST_PAGES => {
                    return Err(ArmError {
                        source: None,
                        status: None,
                        code: ErrorCode::TooManyPages,
                        message: format!(
                            "ARM's list of container apps went on past {MAX_LIST_PAGES} pages; the list is incomplete"
                        ),
                    });
                }
                Some(next) => url = next,
                None => return Ok(out),
            }
        }
    }

    /// One DELETE of `id` without the retry loop (a 401 still refreshes the token once): for callers
    /// that pace many deletes themselves (gc) and must see every 429.
    pub async fn delete_once(&self, id: &str) -> Result<Response, ArmError> {
        let url = self.url(id);
        crate::origin::require(&url, &self.base, true, "ARM").map_err(to_arm)?;
        let mut refreshed = false;
        loop {
            let token = self.bearer(refreshed).await.map_err(to_arm)?;
            output::debug(&format!("DELETE {}", short(&url)));
            let resp =
                self.http.delete(&url).bearer_auth(&token).header("accept", "application/json").send().await.map_err(
                    |e| ArmError {
                        source: None,
                        status: None,
                        code: if e.is_timeout() { ErrorCode::Timeout } else { ErrorCode::ConnectionError },
                        message: e.to_string(),
                    },
                )?;
            let status = resp.status();
            let headers = resp.headers().clone();
            if status.is_redirection() {
                return Err(to_arm(redirect_error(status, &headers)));
            }
            let body = match crate::http::read_capped(resp, crate::http::MAX_BODY).await {
                Err(e @ crate::http::BodyError::TooLarge) => return Err(to_arm(too_large(status, e))),
                r => r.unwrap_or_default(),
            };
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                refreshed = true;
                continue;
            }
            return Ok(Response { status, headers, body });
        }
    }
}

/// The result of [`Arm::list_apps`].
#[derive(Default)]
pub struct ListedApps {
    pub apps: Vec<ContainerApp>,
    /// GET requests made (one per page).
    pub pages: usize,
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
mod tests {
    use super::*;
    use crate::arm::model::{EnvironmentStorage, ManagedEnvironment};
    use proptest::prelude::*;

    fn response(status: u16, body: Vec<u8>, retry_after: &str) -> Response {
        let mut headers = HeaderMap::new();
        if let Ok(v) = reqwest::header::HeaderValue::from_str(retry_after) {
            headers.insert("retry-after", v);
        }
        Response { status: StatusCode::from_u16(status).unwrap(), headers, body }
    }

    /// Every parser acactl applies to an ARM answer.
    fn parse_all(r: &Response) {
        let _ = r.json::<ContainerApp>();
        let _ = r.json::<Page<ContainerApp>>();
        let _ = r.json::<Page<Replica>>();
        let _ = r.json::<Revision>();
        let _ = r.json::<OperationStatus>();
        let _ = r.json::<ManagedEnvironment>();
        let _ = r.json::<EnvironmentStorage>();
        let e = r.error();
        let _ = e.is_not_found();
        let _ = r.retry_after();
        if let Ok(app) = r.json::<ContainerApp>() {
            let _ = crate::phase::app_phase(&app);
            let _ = app.fqdn();
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            "\\PC{0,20}".prop_map(Value::String),
            prop_oneof![Just("Succeeded"), Just("Failed"), Just("Running"), Just("Deleting"), Just("InProgress")]
                .prop_map(|s| Value::String(s.into())),
        ];
        let keys = prop_oneof![
            Just("properties".to_string()),
            Just("value".to_string()),
            Just("nextLink".to_string()),
            Just("error".to_string()),
            Just("code".to_string()),
            Just("message".to_string()),
            Just("status".to_string()),
            Just("tags".to_string()),
            Just("provisioningState".to_string()),
            Just("runningStatus".to_string()),
            Just("configuration".to_string()),
            Just("ingress".to_string()),
            Just("template".to_string()),
            "[a-zA-Z]{1,12}",
        ];
        leaf.prop_recursive(6, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(keys.clone(), inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, rng_seed: proptest::test_runner::RngSeed::Fixed(10), ..ProptestConfig::default() })]
        #[test]
        fn arm_parsers_never_panic_on_bytes(status in 100u16..600, body in prop::collection::vec(any::<u8>(), 0..512), ra in "\\PC{0,30}") {
            parse_all(&response(status, body, &ra));
        }

        #[test]
        fn arm_parsers_never_panic_on_json(status in 100u16..600, v in json_value()) {
            parse_all(&response(status, serde_json::to_vec(&v).unwrap(), "5"));
        }
    }
}
