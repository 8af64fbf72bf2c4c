//! `fake-arm`: a faithful, in-process fake of the Azure pieces `acactl` talks to.
//!
//! One HTTPS listener (own rcgen CA, SAN `127.0.0.1` + `localhost`) serves
//! * ARM `Microsoft.App` (container apps, revisions, replicas, managed environment, storages,
//!   async-operation status/result URLs, list paging, throttling, fault injection),
//! * the Entra v2 token endpoint `POST /{tenant}/oauth2/v2.0/token`,
//! * the Container Apps managed-identity endpoint `GET /msi/token` (App Service protocol 2019-08-01),
//! * an admin API under `/_fake/` (used by the `fake-arm` binary's clients).
//!
//! [`FakeHub`] (module [`hub`]) is a separate plain-HTTP fake of the JupyterHub REST API for gc/status.
//!
//! A second, plain-HTTP listener emulates the ACA (envoy) ingress: it routes by `Host`
//! (absolute-form proxy requests `GET http://app/... HTTP/1.1` work, so point `HTTP_PROXY` at it).
//!
//! Behaviour follows `/work/shared/reference/aca-arm.md`. Asynchronous operations advance in
//! *ticks*: every GET of an operation status/result URL and every GET of the app itself is one
//! tick (standing in for time passing). An operation answers `InProgress` for
//! [`Options::provision_polls`] ticks, then completes.
//!
//! ```no_run
//! use fake_arm::{FakeArm, Options, Behaviour};
//! let fake = FakeArm::start(Options::default());
//! // acactl config: arm endpoint = fake.base_url(), ca file = fake.ca_pem_path(),
//! //   AZURE_AUTHORITY_HOST = fake.base_url(), HTTP_PROXY = fake.ingress_proxy_url()
//! fake.set_behaviour("broken-image", Behaviour::ImagePullFailure);
//! // ... run acactl ...
//! assert_eq!(fake.apps().len(), 1);
//! let secrets = fake.app_secrets("jupyter-alice");
//! # let _ = secrets;
//! ```
//!
//! The server runs on its own thread with its own multi-thread tokio runtime, so blocking
//! callers (assert_cmd) never stall it. Dropping [`FakeArm`] shuts everything down.

mod admin;
mod arm;
pub mod hub;
mod ingress;
mod launch;
mod model;
mod server;
mod state;
mod tls;
pub mod validate;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

pub use hub::{FakeHub, HubServer};
pub use state::InsertApp;

/// The api-versions this fake accepts (`?api-version=`); anything else is 400 `InvalidApiVersionParameter`.
pub const API_VERSIONS: &[&str] = &["2026-07-01", "2026-01-01", "2025-07-01", "2025-01-01", "2024-03-01"];

/// Startup configuration. Everything has a sensible default (`Options::default()`).
#[derive(Clone, Debug)]
pub struct Options {
    /// Subscription id (GUID).
    pub subscription: String,
    pub resource_group: String,
    /// Name of the one managed environment that exists.
    pub environment_name: String,
    /// ARM short location name, e.g. `westeurope` (answers use the display name "West Europe").
    pub location: String,
    /// InProgress answers an async operation gives before completing (default 2).
    pub provision_polls: u32,
    /// Wall-clock provisioning: a PUT's operation completes this many seconds after it began,
    /// however often it is polled (0 = the default tick model: `provision_polls` polls).
    pub provision_secs: f64,
    /// Wall-clock deletion in seconds (0 = ticks).
    pub delete_secs: f64,
    /// `Retry-After` seconds on 202s and operation polls (default 0; never on a PUT's 201, like ARM).
    pub retry_after: u32,
    /// Page size of list operations (default 100).
    pub page_size: usize,
    /// `expires_in` of Entra tokens and lifetime of MI tokens, seconds (default 3600).
    pub token_expires_in: u64,
    /// The `X-IDENTITY-HEADER` secret the MI endpoint requires (default "fake-identity-header-secret").
    pub identity_header: String,
    /// A client secret that the STS rejects with `invalid_client` / AADSTS7000215 (default "bad-secret").
    pub bad_client_secret: Option<String>,
    /// Start a local process for every provisioned app (see the crate README / binary docs).
    pub launch: bool,
    /// HTTPS listen address (default 127.0.0.1:0).
    pub listen: SocketAddr,
    /// Plain-HTTP ingress listen address (default 127.0.0.1:0).
    pub ingress_listen: SocketAddr,
    /// Where the CA bundle and per-app working dirs go; default: a tempdir owned by FakeArm.
    pub state_dir: Option<PathBuf>,
    /// Extra workload profiles on the environment: (name, workloadProfileType), besides "Consumption".
    pub workload_profiles: Vec<(String, String)>,
    /// Polls an ImagePullFailure/CrashLoop operation stays InProgress before it fails (default 50).
    pub failure_polls: u32,
    /// NOT faithful, opt-in convenience for end-to-end setups whose proxy cannot set the Host
    /// (e.g. configurable-http-proxy targets): when the Host matches no app, route by the longest
    /// `JUPYTERHUB_SERVICE_PREFIX` (of the app's first container) that prefixes the path.
    pub ingress_route_by_prefix: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            subscription: "8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d".into(),
            resource_group: "rg-jupyter".into(),
            environment_name: "aca-env".into(),
            location: "westeurope".into(),
            provision_polls: 2,
            provision_secs: 0.0,
            delete_secs: 0.0,
            retry_after: 0,
            page_size: 100,
            token_expires_in: 3600,
            identity_header: "fake-identity-header-secret".into(),
            bad_client_secret: Some("bad-secret".into()),
            launch: false,
            listen: "127.0.0.1:0".parse().unwrap(),
            ingress_listen: "127.0.0.1:0".parse().unwrap(),
            state_dir: None,
            workload_profiles: vec![],
            failure_polls: 50,
            ingress_route_by_prefix: false,
        }
    }
}

/// How an app behaves once created. Chosen at PUT time from [`FakeArm::set_behaviour`] rules
/// (the pattern is a substring of the app name (case-insensitive) or of any container image).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "behaviour")]
pub enum Behaviour {
    /// Provisions after `provision_polls`, revision Healthy/Running, one ready replica.
    #[default]
    Healthy,
    /// Operation stays InProgress for `failure_polls`, then Failed; revision Activating/Unhealthy,
    /// replica container Waiting with `ImagePullBackOff: Back-off pulling image "<image>"`.
    ImagePullFailure,
    /// Like ImagePullFailure, but `CrashLoopBackOff`, restartCount increasing, Terminated/Waiting alternating.
    CrashLoop,
    /// Operation Failed after `provision_polls` with `ContainerAppOperationError` "... Operation expired.".
    ProvisionFailed,
    /// Healthy, but needs this many extra InProgress polls.
    SlowProvision { polls: u32 },
    /// Deleting needs this many extra 202 polls.
    StuckDeleting { polls: u32 },
    /// Provisioned, but the revision is `ScaledToZero` with no replicas (ingress still answers: cold start).
    ScaledToZero,
    /// Provisioned and healthy per ARM, but the ingress answers 503 forever.
    NotServing,
}

/// What kind of request a log entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestKind {
    /// Entra STS or managed-identity endpoint.
    Token,
    /// ARM (anything under /subscriptions, plus unknown paths on the HTTPS listener).
    Arm,
    /// A request on the plain-HTTP ingress listener.
    Ingress,
}

/// One logged request.
#[derive(Clone, Debug, Serialize)]
pub struct RequestLog {
    pub method: String,
    /// Path plus `?query` (for ingress: the path as routed).
    pub path: String,
    /// Status answered; 0 if the connection was dropped by an injected fault.
    pub status: u16,
    pub kind: RequestKind,
    #[serde(serialize_with = "ser_time")]
    pub time: SystemTime,
    /// Ingress: the Host routed on. Others: None.
    pub host: Option<String>,
    /// Token requests: {endpoint: "entra"|"msi", tenant, client_id, grant_type, scope|resource,
    /// client_secret_sent, client_assertion_sent, identity_header_ok}. ARM: {"api_version"}.
    pub detail: Value,
}

fn ser_time<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    s.serialize_f64(d.as_secs_f64())
}

/// What an injected fault does to a matching request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer with this status and an ARM error body `{"error":{"code","message"}}` (or an
    /// Entra-style body for token requests), optionally with `Retry-After`.
    Status { status: u16, code: String, retry_after: Option<u64> },
    /// Close the connection without answering.
    Drop,
    /// Delay the request by this many milliseconds, then process it normally.
    Delay { ms: u64 },
    // Hostile answers (issue 10): what a compromised or misdirected endpoint could send.
    /// Answer `status` (a 3xx) with `Location: location`, empty body.
    Redirect { status: u16, location: String },
    /// Answer 200 with a body that never ends.
    Endless,
    /// Answer 200 with a body of `bytes` bytes (with Content-Length).
    Huge { bytes: usize },
    /// Answer 400 `InvalidParameterValue` whose message echoes the request body (ARM does this for
    /// some malformed PUTs).
    EchoBody,
    /// Process normally, then replace `from` with `to` in the answer's headers and body (e.g. the
    /// fake's base URL with a foreign origin in Azure-AsyncOperation, Location or nextLink).
    Rewrite { from: String, to: String },
    /// Process normally, then set header `name` to `value` (e.g. an absurd Retry-After).
    Header { name: String, value: String },
    /// Answer with exactly this status, these headers and this JSON body (hostile servers:
    /// absurd Retry-After values, self-referencing nextLinks).
    Respond {
        status: u16,
        #[serde(default)]
        headers: Vec<(String, String)>,
        #[serde(default)]
        body: Value,
    },
}

/// A fault rule: the next `times` requests that match get `action`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// HTTP method to match (case-insensitive); None = any.
    #[serde(default)]
    pub method: Option<String>,
    /// Substring of the path+query to match (case-insensitive); None = any.
    #[serde(default)]
    pub path_contains: Option<String>,
    /// Request kind to match; None = Arm.
    #[serde(default)]
    pub kind: Option<RequestKind>,
    /// How many matching requests get the fault (default 1).
    #[serde(default = "one")]
    pub times: u32,
    #[serde(flatten)]
    pub action: FaultAction,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// `times` matching ARM requests get `status` + ARM error `code` (+ optional Retry-After).
    pub fn status(
        method: &str,
        path_contains: &str,
        times: u32,
        status: u16,
        code: &str,
        retry_after: Option<u64>,
    ) -> Fault {
        Fault {
            method: Some(method.to_string()),
            path_contains: Some(path_contains.to_string()),
            kind: None,
            times,
            action: FaultAction::Status { status, code: code.to_string(), retry_after },
        }
    }
    /// `times` matching ARM requests get their connection closed without a response.
    pub fn drop_conn(method: &str, path_contains: &str, times: u32) -> Fault {
        Fault {
            method: Some(method.to_string()),
            path_contains: Some(path_contains.to_string()),
            kind: None,
            times,
            action: FaultAction::Drop,
        }
    }
    /// `times` matching ARM requests are delayed by `ms`.
    pub fn delay(method: &str, path_contains: &str, times: u32, ms: u64) -> Fault {
        Fault {
            method: Some(method.to_string()),
            path_contains: Some(path_contains.to_string()),
            kind: None,
            times,
            action: FaultAction::Delay { ms },
        }
    }
    /// `times` matching ARM requests get `action` (the hostile ones above).
    pub fn action(method: &str, path_contains: &str, times: u32, action: FaultAction) -> Fault {
        Fault {
            method: Some(method.to_string()),
            path_contains: Some(path_contains.to_string()),
            kind: None,
            times,
            action,
        }
    }
    /// `times` matching ARM requests get exactly `status`, `headers` and `body`.
    pub fn respond(
        method: &str,
        path_contains: &str,
        times: u32,
        status: u16,
        headers: &[(&str, &str)],
        body: Value,
    ) -> Fault {
        let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Fault::action(method, path_contains, times, FaultAction::Respond { status, headers, body })
    }
    /// Apply to token requests instead of ARM requests.
    pub fn for_kind(mut self, kind: RequestKind) -> Fault {
        self.kind = Some(kind);
        self
    }
}

/// Token-bucket throttling like ARM (per operation type). `None` for a class = unlimited.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Throttle {
    /// (burst, refill per second) for GETs.
    pub reads: Option<(u32, f64)>,
    /// (burst, refill per second) for PUT/PATCH/POST.
    pub writes: Option<(u32, f64)>,
    /// (burst, refill per second) for DELETEs.
    pub deletes: Option<(u32, f64)>,
}

/// A running fake. Drop it to stop the servers and kill launched processes.
pub struct FakeArm {
    shared: Arc<state::Shared>,
    base_url: String,
    ingress_url: String,
    ca_pem: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _tmp: Option<tempfile::TempDir>,
}

impl FakeArm {
    /// Start the fake (binds both listeners before returning). Panics if it cannot start.
    pub fn start(opts: Options) -> FakeArm {
        Self::try_start(opts).expect("fake-arm failed to start")
    }

    /// Like [`FakeArm::start`] but returns errors.
    pub fn try_start(opts: Options) -> anyhow::Result<FakeArm> {
        server::install_panic_filter();
        let (tmp, dir) = match &opts.state_dir {
            Some(d) => {
                std::fs::create_dir_all(d)?;
                (None, d.clone())
            }
            None => {
                let t = tempfile::Builder::new().prefix("fake-arm-").tempdir()?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        let certs = tls::make_certs()?;
        let ca_pem = dir.join("ca.pem");
        std::fs::write(&ca_pem, &certs.ca_pem)?;

        let https = std::net::TcpListener::bind(opts.listen)?;
        https.set_nonblocking(true)?;
        let ingress = std::net::TcpListener::bind(opts.ingress_listen)?;
        ingress.set_nonblocking(true)?;
        let base_url = format!("https://127.0.0.1:{}", https.local_addr()?.port());
        let ingress_url = format!("http://127.0.0.1:{}", ingress.local_addr()?.port());

        let shared = Arc::new(state::Shared::new(opts, base_url.clone(), dir));
        *shared.ingress_url.lock().unwrap() = Some(ingress_url.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<anyhow::Result<()>>();
        let sh = shared.clone();
        let thread = std::thread::Builder::new().name("fake-arm".into()).spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.into()));
                    return;
                }
            };
            rt.block_on(async move {
                match server::serve(sh.clone(), https, ingress, certs).await {
                    Ok(handles) => {
                        let _ = ready_tx.send(Ok(()));
                        let _ = rx.await;
                        handles.shutdown();
                        launch::kill_all(&sh);
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
            rt.shutdown_timeout(std::time::Duration::from_millis(500));
        })?;
        ready_rx.recv()??;
        Ok(FakeArm { shared, base_url, ingress_url, ca_pem, shutdown: Some(tx), thread: Some(thread), _tmp: tmp })
    }

    /// `https://127.0.0.1:PORT` — ARM, STS (authority host) and the MI endpoint (`{base}/msi/token`).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }
    /// PEM file with the fake's CA certificate.
    pub fn ca_pem_path(&self) -> PathBuf {
        self.ca_pem.clone()
    }
    /// `http://127.0.0.1:PORT` of the ingress listener (use as HTTP_PROXY).
    pub fn ingress_proxy_url(&self) -> String {
        self.ingress_url.clone()
    }
    /// `{base}/msi/token`, the value for IDENTITY_ENDPOINT.
    pub fn identity_endpoint(&self) -> String {
        format!("{}/msi/token", self.base_url)
    }
    /// `{ingress}/msi/token`: the same MI endpoint over plain HTTP (as the real one on localhost).
    pub fn identity_endpoint_http(&self) -> String {
        format!("{}/msi/token", self.ingress_url)
    }
    /// The secret for IDENTITY_HEADER.
    pub fn identity_header(&self) -> String {
        self.shared.opts.identity_header.clone()
    }
    pub fn subscription(&self) -> &str {
        &self.shared.opts.subscription
    }
    pub fn resource_group(&self) -> &str {
        &self.shared.opts.resource_group
    }
    pub fn environment_name(&self) -> &str {
        &self.shared.opts.environment_name
    }
    /// Short location name, e.g. "westeurope".
    pub fn location(&self) -> &str {
        &self.shared.opts.location
    }
    /// `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.App/managedEnvironments/{env}`
    pub fn environment_id(&self) -> String {
        self.shared.environment_id()
    }
    /// The environment's default domain, e.g. `happyriver-1a2b3c4d.westeurope.azurecontainerapps.io`.
    pub fn default_domain(&self) -> String {
        self.shared.default_domain.clone()
    }

    fn st(&self) -> std::sync::MutexGuard<'_, state::State> {
        self.shared.lock()
    }

    /// All stored apps as a GET would return them (no secret values). Does not advance operations.
    pub fn apps(&self) -> Vec<Value> {
        let st = self.st();
        st.apps.values().map(|a| model::render_app(&self.shared, &st, a)).collect()
    }
    /// One app as a GET would return it (no tick), or None.
    pub fn app(&self, name: &str) -> Option<Value> {
        let st = self.st();
        st.apps.get(&name.to_ascii_lowercase()).map(|a| model::render_app(&self.shared, &st, a))
    }
    /// Secrets stored by the last PUT: (name, value); value is "" for Key Vault references.
    pub fn app_secrets(&self, name: &str) -> Vec<(String, String)> {
        self.st().apps.get(&name.to_ascii_lowercase()).map(|a| a.secrets.clone()).unwrap_or_default()
    }
    /// The stored (normalized) PUT body of an app, secret values included. For deep assertions.
    pub fn app_put_body(&self, name: &str) -> Option<Value> {
        self.st().apps.get(&name.to_ascii_lowercase()).map(|a| a.spec.clone())
    }
    /// Revisions of an app as the revisions GET would return them.
    pub fn revisions(&self, name: &str) -> Vec<Value> {
        let st = self.st();
        st.apps
            .get(&name.to_ascii_lowercase())
            .map(|a| a.revisions.iter().map(|r| model::render_revision(&self.shared, &st, a, r)).collect())
            .unwrap_or_default()
    }
    /// Local port of the launched process (launch mode) and whether it is listening.
    pub fn launched(&self, name: &str) -> Option<(u16, bool)> {
        self.st().apps.get(&name.to_ascii_lowercase()).and_then(|a| a.local_port.map(|p| (p, a.listening)))
    }

    /// Every logged request (ARM, token, ingress), oldest first. Admin calls are not logged.
    pub fn requests(&self) -> Vec<RequestLog> {
        self.st().log.clone()
    }
    /// Number of logged requests of a kind.
    pub fn count(&self, kind: RequestKind) -> usize {
        self.st().log.iter().filter(|r| r.kind == kind).count()
    }
    pub fn token_requests(&self) -> Vec<RequestLog> {
        self.requests().into_iter().filter(|r| r.kind == RequestKind::Token).collect()
    }
    pub fn arm_requests(&self) -> Vec<RequestLog> {
        self.requests().into_iter().filter(|r| r.kind == RequestKind::Arm).collect()
    }
    pub fn ingress_requests(&self) -> Vec<RequestLog> {
        self.requests().into_iter().filter(|r| r.kind == RequestKind::Ingress).collect()
    }
    /// Logged requests with this method whose path contains `path_contains` (case-insensitive).
    pub fn requests_matching(&self, method: &str, path_contains: &str) -> Vec<RequestLog> {
        let needle = path_contains.to_ascii_lowercase();
        self.requests()
            .into_iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path.to_ascii_lowercase().contains(&needle))
            .collect()
    }
    pub fn reset_log(&self) {
        self.st().log.clear();
    }

    /// InProgress answers before an async operation completes (applies to operations started later).
    pub fn set_provision_polls(&self, n: u32) {
        self.st().knobs.provision_polls = n;
    }
    /// Polls an ImagePullFailure/CrashLoop operation stays InProgress before failing.
    pub fn set_failure_polls(&self, n: u32) {
        self.st().knobs.failure_polls = n;
    }
    /// `Retry-After` seconds on 201/202 and operation polls (0 = still sent as "0").
    pub fn set_retry_after(&self, secs: u32) {
        self.st().knobs.retry_after = secs;
    }
    /// Wall-clock deletion: a DELETE completes this many seconds after it began (0 = ticks).
    pub fn set_delete_secs(&self, secs: f64) {
        self.st().knobs.delete_secs = secs.max(0.0);
    }
    /// Wall-clock provisioning: a PUT's operation completes this many seconds after it began (0 = ticks).
    pub fn set_provision_secs(&self, secs: f64) {
        self.st().knobs.provision_secs = secs.max(0.0);
    }
    /// Behaviour for apps PUT later whose name contains `pattern` (case-insensitive) or whose
    /// image contains it. Later rules win. `Behaviour::Healthy` can override an earlier rule.
    /// Re-evaluated on every PUT of the app (an update picks up the current rules).
    pub fn set_behaviour(&self, pattern: &str, b: Behaviour) {
        self.st().behaviours.push((pattern.to_string(), b));
    }
    /// Change the behaviour of an existing app right now (e.g. NotServing after it is up).
    pub fn set_app_behaviour(&self, name: &str, b: Behaviour) -> bool {
        let mut st = self.st();
        match st.apps.get_mut(&name.to_ascii_lowercase()) {
            Some(a) => {
                a.behaviour = b;
                true
            }
            None => false,
        }
    }
    /// Add a fault rule (see [`Fault`]).
    pub fn inject(&self, f: Fault) {
        self.st().faults.push(f);
    }
    /// Random faults: each ARM request (not token, not ingress) has probability `p` of getting one
    /// of 429 (Retry-After 1), 500, 503, 409 ContainerAppOperationInProgress (writes only) or a dropped
    /// connection. Seeded for reproducibility. `p = 0.0` turns it off.
    pub fn inject_random(&self, p: f64, seed: u64) {
        self.st().set_random_faults(p, seed);
    }
    /// The soak's mix: like [`FakeArm::inject_random`] plus 429 without Retry-After and, when
    /// `delay_ms > 0`, requests delayed by `delay_ms` (past the client's request timeout).
    pub fn inject_random_extended(&self, p: f64, seed: u64, delay_ms: u64) {
        let mut st = self.st();
        st.set_random_faults(p, seed);
        if let Some(r) = st.random.as_mut() {
            r.extended = true;
            r.delay_ms = delay_ms;
        }
    }
    /// Random faults injected so far, by kind.
    pub fn random_fault_counts(&self) -> std::collections::BTreeMap<String, u64> {
        self.st().random_counts.clone()
    }
    /// Remove all fault rules and random faults.
    pub fn clear_faults(&self) {
        let mut st = self.st();
        st.faults.clear();
        st.set_random_faults(0.0, 0);
    }
    /// Pre-populate an app (state Succeeded, provisioned, no operation pending unless told otherwise).
    pub fn insert_app(&self, app: InsertApp) -> anyhow::Result<()> {
        let mut st = self.st();
        state::insert_app(&self.shared, &mut st, app)
    }
    /// Remove an app immediately (no LRO), killing its process in launch mode.
    pub fn remove_app(&self, name: &str) -> bool {
        let removed = self.st().apps.remove(&name.to_ascii_lowercase());
        match removed {
            Some(mut a) => {
                launch::kill_app(&mut a);
                true
            }
            None => false,
        }
    }
    /// Token buckets like ARM (0 args = unlimited for that class). Headers
    /// `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}` are sent always.
    pub fn set_throttle(&self, t: Throttle) {
        self.st().set_throttle(t);
    }
    /// Convenience form of [`FakeArm::set_throttle`].
    pub fn set_throttle_simple(
        &self,
        reads_burst: u32,
        reads_per_s: f64,
        writes_burst: u32,
        writes_per_s: f64,
        deletes_burst: u32,
        deletes_per_s: f64,
    ) {
        self.set_throttle(Throttle {
            reads: Some((reads_burst, reads_per_s)),
            writes: Some((writes_burst, writes_per_s)),
            deletes: Some((deletes_burst, deletes_per_s)),
        });
    }
    /// Page size of the list operations (nextLink with `$skiptoken` when more).
    pub fn set_page_size(&self, n: usize) {
        self.st().knobs.page_size = n.max(1);
    }
    /// Added latency for every ARM and token request.
    pub fn set_latency_ms(&self, ms: u64) {
        self.st().knobs.latency_ms = ms;
    }
    /// `expires_in` of tokens issued from now on.
    pub fn set_token_expires_in(&self, secs: u64) {
        self.st().knobs.token_expires_in = secs;
    }
    /// Client secret the STS rejects (AADSTS7000215); None = accept all.
    pub fn set_bad_client_secret(&self, s: Option<&str>) {
        self.st().knobs.bad_client_secret = s.map(str::to_string);
    }
    /// Token audiences ARM accepts (default `https://management.azure.com/` and
    /// `https://management.core.windows.net/`; trailing '/' and case ignored). A token for another
    /// audience gets 401 `InvalidAuthenticationTokenAudience`.
    pub fn set_accepted_audiences(&self, audiences: &[&str]) {
        self.st().knobs.audiences = audiences.iter().map(|a| a.to_string()).collect();
    }
    /// DELETE 202 also carries `Azure-AsyncOperation` (a status URL for the same operation), as in
    /// the 2025-07-01 Delete example. Default: only `Location`.
    pub fn set_delete_async_header(&self, on: bool) {
        self.st().knobs.delete_async_header = on;
    }
    /// What a DELETE does while a PUT operation is still in progress on the app: by default the
    /// delete is accepted and the PUT's operation ends `Canceled` (code `OperationCanceled`); with
    /// `true` the DELETE gets 409 `ContainerAppOperationInProgress` like any other write.
    pub fn set_delete_conflicts_while_provisioning(&self, conflict: bool) {
        self.st().knobs.delete_conflicts_while_provisioning = conflict;
    }
    /// Issue a bearer token the ARM endpoints accept (e.g. for a fake `az` on PATH).
    pub fn issue_token(&self) -> String {
        let mut st = self.st();
        let exp = st.knobs.token_expires_in;
        st.issue_token(exp)
    }
    /// Accept this string as a bearer token (lifetime `secs`).
    pub fn add_token(&self, token: &str, secs: u64) {
        self.st().add_token(token, secs);
    }
    /// Make every token issued so far invalid (ARM answers 401 ExpiredAuthenticationToken).
    pub fn expire_tokens(&self) {
        self.st().expire_tokens();
    }
    /// Create a user-assigned identity (any resource group); returns its client id.
    pub fn add_identity(&self, resource_id: &str) -> String {
        let client = format!(
            "{:08x}-0000-4000-8000-{:012x}",
            resource_id.len(),
            resource_id.bytes().map(u64::from).sum::<u64>()
        );
        let principal = format!(
            "{:08x}-1111-4000-8000-{:012x}",
            resource_id.len(),
            resource_id.bytes().map(u64::from).sum::<u64>()
        );
        self.st().identities.insert(resource_id.to_ascii_lowercase(), (client.clone(), principal));
        client
    }
    /// What the caller may do, as `Microsoft.Authorization/permissions` reports it (default `*`).
    pub fn set_permissions(&self, actions: &[&str], not_actions: &[&str]) {
        self.st().permissions =
            (actions.iter().map(|s| s.to_string()).collect(), not_actions.iter().map(|s| s.to_string()).collect());
    }
    /// Add a workload profile to the environment.
    pub fn add_workload_profile(&self, name: &str, workload_profile_type: &str) {
        self.st().workload_profiles.push((name.to_string(), workload_profile_type.to_string()));
    }
    /// Add an environment storage (the `properties` object, e.g. `{"azureFile":{...}}`; account keys
    /// are stored but never returned).
    pub fn insert_storage(&self, name: &str, properties: Value) {
        self.st().storages.insert(name.to_string(), properties);
    }
}

impl FakeArm {
    /// The JSON the binary prints on startup (base_url, ca_pem, ingress_url, admin_url, ...).
    pub fn info_json(&self) -> Value {
        admin::info(&self.shared, Some(self.ingress_url.clone()))
    }
}

impl Drop for FakeArm {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        launch::kill_all(&self.shared);
    }
}
