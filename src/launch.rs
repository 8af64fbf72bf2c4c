//! Creating a server's app up to Jupyter answering (what `start` and batchspawner's `submit` share):
//! the preflight checks, the PUT (or adopting an existing app of this server), waiting for the
//! revision and the ingress, and deleting what a failed start created.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::arm::Arm;
use crate::arm::budget::Priority;
use crate::arm::fleet::{self, Fleet};
use crate::arm::lro;
use crate::arm::model::ContainerApp;
use crate::env::Env;
use crate::error::{Error, ErrorCode, Result};
use crate::estimates::{self, Phase as Waiting};
use crate::naming;
use crate::output;
use crate::ownership::{self, AppRef, Expect};
use crate::phase::{self as status, Phase};
use crate::request::{self, STATE_VERSION};
use crate::settings::Settings;
use crate::spec::{self, ServerSpec};
use crate::template::IngressKind;

/// batchspawner's submit: returns the app name as soon as ARM accepted the PUT, so a batchspawner
/// timeout during a blocking submit cannot orphan the app; its query loop waits for readiness.
pub async fn submit(settings: &Settings, env: &dyn Env) -> Result<String> {
    let args = crate::cli::TargetArgs { user: None, server: None };
    let req = request::server_request(&args, env)?;
    if req.api_token.is_none() {
        return Err(Error::new(
            ErrorCode::MissingApiToken,
            "JUPYTERHUB_API_TOKEN is not set: batch submit must run with the spawner's get_env()",
        ));
    }
    let spec = spec::build(settings, &req, &crate::clock::now_rfc3339(), &naming::spawn_suffix(crate::clock::seed()))?;
    let arm = crate::arm::connect(settings)?;
    let starter = Starter::new(&arm, settings, &spec);
    let deadline = lro::after(spec.start_timeout);
    arm.set_deadline(deadline);
    arm.set_priority(Priority::High);
    let _lock = crate::lock::server(settings.cache_dir.as_deref(), &spec.name, deadline).await?;
    let outcome = tokio::select! {
        r = starter.create(deadline) => r.map(|_| ()),
        sig = terminated() => Err(Error::new(ErrorCode::Terminated, format!("submit of {} interrupted by {sig}", spec.name))),
    };
    if let Err(e) = outcome {
        if starter.put_sent.get() {
            cleanup(&arm, &spec, !starter.put_answered.get()).await;
        }
        return Err(e);
    }
    Ok(spec.name)
}

pub async fn terminated() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

/// This server's app, owned by this server's key (never just "some app of this hub").
fn spec_ref(spec: &ServerSpec) -> AppRef {
    let key = spec.tags.get(ownership::TAG_KEY).cloned().unwrap_or_default();
    AppRef { id: spec.id.clone(), name: spec.name.clone(), expect: Expect::Key(key), legacy_state: false }
}

/// Delete what we created or changed, bounded: the exec spawner gives us a short grace after SIGTERM.
/// Called only after this process sent its PUT under the server's lock, having checked there that
/// the name was free or carried this server's key: so DELETE at once, no GET first (a GET's 404
/// while the PUT is still in flight would leave the app it then creates running orphaned).
/// `outcome_unknown`: the PUT was never answered (cut short, transport failure): ARM may still
/// carry it out, so a 404 only counts once `PUT_MAY_LAND` has passed since it was abandoned.
pub async fn cleanup(arm: &Arm, spec: &ServerSpec, outcome_unknown: bool) {
    output::progress(100, &format!("Start failed; deleting {}", spec.name));
    let id = &spec.id;
    // The start's own deadline may have passed: the cleanup gets its own, and its requests skip
    // the hub's budget (a refusal there would orphan the app).
    arm.set_deadline(lro::after(CLEANUP_TIMEOUT));
    arm.set_unpaced(true);
    let landed_by = lro::after(if outcome_unknown { PUT_MAY_LAND } else { Duration::ZERO });
    let attempt = async {
        loop {
            match arm.delete_app(id).await {
                Ok(crate::arm::DeleteStarted::Absent) if Instant::now() < landed_by => {
                    output::verbose(&format!("{} absent; the abandoned PUT may still land, checking again", spec.name));
                    tokio::time::sleep(RECHECK_EVERY).await;
                }
                Ok(_) => return true,
                Err(e) if e.status == Some(409) => tokio::time::sleep(RECHECK_EVERY).await,
                Err(e) => {
                    output::warn(&format!(
                        "could not delete {} after the failed start: {e}; `acactl gc` will",
                        spec.name
                    ));
                    return false;
                }
            }
        }
    };
    match tokio::time::timeout(CLEANUP_TIMEOUT, attempt).await {
        Ok(true) => output::info(&format!("deletion of {} requested after the failed start", spec.name)),
        Ok(false) => {}
        Err(_) => output::warn(&format!(
            "could not delete {} within 15 s after the failed start; `acactl gc` will",
            spec.name
        )),
    }
}

/// How long after an unanswered PUT was abandoned ARM may still create the app (its front door
/// has accepted the request; creation is recorded within seconds). Below `CLEANUP_TIMEOUT`.
const PUT_MAY_LAND: Duration = Duration::from_secs(10);
/// Pause between the cleanup's DELETEs (absent while a PUT may land, or 409 while it provisions).
const RECHECK_EVERY: Duration = Duration::from_millis(500);
/// How long deleting the app after a failed start may take (the exec spawner's grace is short).
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(15);
/// How often a start asks Jupyter through the ingress (free: not ARM).
const PROBE_EVERY: Duration = Duration::from_millis(500);
/// How long a start waits for another process's refresh of the fleet view before it asks ARM.
const VIEW_WAIT: Duration = Duration::from_secs(2);

/// The view's age a waiting start accepts: `fleet.max_age`, so starts add no lists to the polls'.
fn view_age(settings: &Settings) -> Duration {
    settings.fleet.max_age
}

pub struct Starter<'a> {
    arm: &'a Arm,
    settings: &'a Settings,
    spec: &'a ServerSpec,
    /// The PUT may have created or changed the app: a failed start must delete it.
    pub put_sent: Cell<bool>,
    /// ARM answered the PUT (so it will not land later).
    pub put_answered: Cell<bool>,
    /// Where the server answers: `spec.url`, or for the https ingress modes the FQDN ARM assigned.
    url: RefCell<String>,
    /// Updating an existing app: its old revision may answer, so the ingress proves nothing.
    adopting: Cell<bool>,
    /// `fleet.enabled`: spend reads only where the ingress cannot tell.
    frugal: bool,
}

impl<'a> Starter<'a> {
    pub fn new(arm: &'a Arm, settings: &'a Settings, spec: &'a ServerSpec) -> Starter<'a> {
        Starter {
            arm,
            settings,
            spec,
            put_sent: Cell::new(false),
            put_answered: Cell::new(false),
            url: RefCell::new(spec.url.clone()),
            adopting: Cell::new(false),
            frugal: settings.fleet.enabled,
        }
    }

    /// Whether Jupyter of this (new) app already answers through the ingress.
    async fn answers(&self) -> bool {
        if self.adopting.get() {
            return false;
        }
        let url = format!("{}{}", self.url.borrow(), self.spec.readiness_path);
        crate::liveness::probe_jupyter(self.arm, &url).await
    }

    fn revision_name(&self) -> String {
        format!("{}--{}", self.spec.name, self.spec.revision_suffix)
    }

    pub async fn run(&self, deadline: Instant) -> Result<Value> {
        let started = self.create(deadline).await?;
        self.wait_ready(started, deadline).await
    }

    /// Up to ARM accepting the PUT (batch submit stops here).
    async fn create(&self, deadline: Instant) -> Result<crate::arm::PutStarted> {
        let spec = self.spec;
        match &spec.profile {
            Some(p) => estimates::progress(Waiting::Preparing, 5, &format!("Preparing {} (profile {p})", spec.name)),
            None => estimates::progress(Waiting::Preparing, 5, &format!("Preparing {}", spec.name)),
        }
        let location = crate::preflight::check(self.arm, self.settings, spec).await?;
        let mut body = spec.body(&location, false)?;

        let mut adopting = false;
        if let Some(existing) = self.arm.get_app(&spec.id).await? {
            if !ownership::is_ours(&existing, self.settings, &self.app_ref()) {
                return Err(Error::new(
                    ErrorCode::NameConflict,
                    format!(
                        "an app named {} exists but its tags do not say it is this server's (hub {}); refusing to touch it",
                        spec.name, self.settings.hub_id
                    ),
                ));
            }
            match status::app_phase(&existing) {
                Phase::Deleting => {
                    estimates::progress(
                        Waiting::Preparing,
                        8,
                        &format!("Waiting for the previous {} to finish deleting", spec.name),
                    );
                    self.wait_gone(deadline).await?;
                }
                Phase::Failed(reason) => {
                    estimates::progress(
                        Waiting::Preparing,
                        8,
                        &format!("Replacing the failed {} ({reason})", spec.name),
                    );
                    let r = self.app_ref();
                    crate::teardown::delete_and_wait(
                        self.arm,
                        self.settings,
                        &r,
                        deadline.saturating_duration_since(Instant::now()),
                    )
                    .await?;
                    self.wait_gone(deadline).await?;
                }
                _ => {
                    adopting = true;
                    // Keep the original creation time: the app is older than this spawn.
                    if let Some(created) = existing.tag(ownership::TAG_CREATED) {
                        body["tags"][ownership::TAG_CREATED] = Value::String(created.to_string());
                    }
                }
            }
        }

        self.adopting.set(adopting);
        let verb = if adopting { "Updating the existing" } else { "Creating" };
        estimates::progress(Waiting::WriteBudget, 10, &format!("{verb} container app {}", spec.name));
        self.put_sent.set(true);
        self.put_with_conflict_wait(&body, deadline).await
    }

    async fn wait_ready(&self, started: crate::arm::PutStarted, deadline: Instant) -> Result<Value> {
        let spec = self.spec;
        if spec.ingress != IngressKind::Internal
            && let Some(fqdn) = &started.fqdn
        {
            *self.url.borrow_mut() = format!("https://{fqdn}");
        }
        let mut answered = false;
        if let Some(url) = &started.async_operation {
            self.arm.check_url(url)?;
            answered = self.follow_operation(url, started.retry_after, deadline).await?;
        }
        if !answered {
            let app = self.wait_revision_ready(deadline).await?;
            if spec.ingress != IngressKind::Internal {
                let fqdn = app.fqdn().ok_or_else(|| {
                    Error::new(ErrorCode::InvalidResponse, format!("ARM assigned no ingress FQDN to {}", spec.name))
                })?;
                *self.url.borrow_mut() = format!("https://{fqdn}");
            }
            let url = self.url.borrow().clone();
            estimates::progress(Waiting::Jupyter, 85, &format!("Waiting for Jupyter to answer at {url}"));
            self.wait_http(deadline).await?;
        }
        let url = self.url.borrow().clone();
        // Views listed before now (e.g. the one this start waited on, showing it provisioning)
        // no longer speak for the app: the hub's next poll asks the ingress or ARM instead.
        crate::arm::fleet::forget(self.settings, &self.spec.name);
        estimates::progress(Waiting::Ready, 100, &format!("Server ready at {url}"));
        let state = request::State {
            version: STATE_VERSION,
            id: spec.id.clone(),
            name: spec.name.clone(),
            url: Some(url.clone()),
            hub_id: Some(self.settings.hub_id.clone()),
            key: self.spec.tags.get(ownership::TAG_KEY).cloned(),
        };
        Ok(json!({ "name": spec.name, "url": url, "state": state }))
    }

    fn app_ref(&self) -> AppRef {
        spec_ref(self.spec)
    }

    async fn put_with_conflict_wait(&self, body: &Value, deadline: Instant) -> Result<crate::arm::PutStarted> {
        let every = self.settings.arm.poll_interval;
        match lro::while_conflicting(every, deadline, || self.arm.put_app(&self.spec.id, body)).await {
            Ok(s) => {
                self.put_answered.set(true);
                Ok(s)
            }
            Err(e) => {
                if put_refused(e.status) {
                    // ARM changed nothing: an adopted app must survive the failed start.
                    self.put_answered.set(true);
                    self.put_sent.set(false);
                }
                Err(e.into())
            }
        }
    }

    async fn wait_gone(&self, deadline: Instant) -> Result<()> {
        crate::teardown::wait_gone(self.arm, &self.spec.id, self.settings.arm.poll_interval, deadline).await
    }

    /// Poll the Azure-AsyncOperation status; meanwhile look at the new revision's replicas so an
    /// image-pull failure or a crash loop fails the start. `Ok(true)` when Jupyter of the new app
    /// already answered through the ingress (the start is done).
    ///
    /// With the fleet view on (frugal), readiness comes from the ingress (free) and provisioning
    /// from the shared snapshot (one list for every waiting start): the operation is read once
    /// the view, listed after our PUT, shows the app Succeeded/Failed/Canceled (ARM's error code
    /// and message are what the user sees); only while no view lists it yet (no view, or the app
    /// is younger than the last refresh) is it read every 5 x `arm.poll_interval`. The revision
    /// and replicas are read only once the start is slower than usual (10 x
    /// `arm.poll_interval`), then at that rate. Without the view, every wait reads all of them.
    async fn follow_operation(&self, url: &str, first_wait: Option<Duration>, deadline: Instant) -> Result<bool> {
        let poll = self.settings.arm.poll_interval;
        let op_every = if self.frugal { poll.saturating_mul(5) } else { Duration::ZERO };
        let revision_every = poll.saturating_mul(10);
        let began = Instant::now();
        let mut next_op = lro::after(self.settings.arm.lro_wait(first_wait).max(op_every));
        let mut next_revision = lro::after(revision_every);
        let mut pct = 20u8;
        let put_ms = crate::clock::now_ms();
        let mut view = if self.frugal {
            Fleet::open(self.settings).ok().flatten().filter(|f| f.covers(&self.spec.id)).map(fleet::Watcher::new)
        } else {
            None
        };
        let mut next_progress = lro::after(op_every);
        loop {
            let read_op = if self.frugal {
                lro::sleep_within(PROBE_EVERY, deadline).await;
                if self.answers().await {
                    return Ok(true);
                }
                match self.provisioning_in_view(view.as_mut(), put_ms).await {
                    // The view says the operation has ended: read it (once) for ARM's verdict.
                    Some(true) => true,
                    // Still provisioning, as of a list made after our PUT.
                    Some(false) => {
                        next_op = lro::after(op_every);
                        false
                    }
                    // Not listed yet: the operation itself, at the frugal pace.
                    None => Instant::now() >= next_op,
                }
            } else {
                lro::sleep_within(lro::remaining(next_op), deadline).await;
                true
            };
            if read_op {
                let (op, next) = self.arm.operation_status(url).await?;
                match self.operation_outcome(op).await {
                    Some(Ok(())) => return Ok(false),
                    Some(Err(e)) => return Err(e),
                    None => {}
                }
                next_op = lro::after(self.settings.arm.lro_wait(next).max(op_every));
            }
            if self.frugal && Instant::now() < next_revision {
                if Instant::now() >= next_progress {
                    next_progress = lro::after(op_every);
                    pct = (pct + 8).min(75);
                    estimates::progress(
                        Waiting::Provisioning,
                        pct,
                        &format!("Provisioning {} ({} s)", self.spec.name, began.elapsed().as_secs()),
                    );
                }
                continue;
            }
            pct = (pct + 8).min(75);
            next_revision = lro::after(revision_every);
            let app = self.arm.get_app(&self.spec.id).await?;
            let replicas = match self.check_revision(app.as_ref()).await {
                Ok(r) => r,
                Err(e) => {
                    // The operation may have failed meanwhile: ARM's own code and message win.
                    if let Ok((op, _)) = self.arm.operation_status(url).await
                        && let Some(Err(op_err)) = self.operation_outcome(op).await
                    {
                        return Err(op_err);
                    }
                    return Err(e);
                }
            };
            if let Some(app) = &app {
                estimates::progress(
                    Waiting::Provisioning,
                    pct,
                    &format!("Provisioning {}: {}", self.spec.name, status::describe(app, &replicas)),
                );
            }
        }
    }

    /// What the fleet view (listed after our PUT at `put_ms`) says of our provisioning:
    /// `Some(true)` it ended (Succeeded, Failed, Canceled), `Some(false)` still in progress,
    /// `None` the view cannot tell (none, or it does not list the app yet).
    async fn provisioning_in_view(&self, view: Option<&mut fleet::Watcher>, put_ms: i64) -> Option<bool> {
        let view = view?;
        let (snap, _) = view.look(self.arm, view_age(self.settings), lro::after(VIEW_WAIT)).await?;
        if !snap.listed_since(put_ms) {
            return None;
        }
        let e = snap.get(&self.spec.name).filter(|e| e.id.eq_ignore_ascii_case(&self.spec.id))?;
        let st = e.provisioning_state.as_deref().unwrap_or_default().to_ascii_lowercase();
        Some(matches!(st.as_str(), "succeeded" | "failed" | "canceled"))
    }

    /// `Some(Ok)` succeeded, `Some(Err)` failed or canceled (with ARM's code), `None` still running.
    async fn operation_outcome(&self, op: crate::arm::model::OperationStatus) -> Option<Result<()>> {
        match lro::Operation::of(op) {
            lro::Operation::Running => None,
            lro::Operation::Succeeded => Some(Ok(())),
            lro::Operation::Ended { canceled, code, message } => {
                let code = code.map_or(ErrorCode::ProvisioningFailed, ErrorCode::Arm);
                let verb = if canceled { "canceled" } else { "failed" };
                let mut message = format!("provisioning {} {verb}: {code}: {message}", self.spec.name);
                // The platform's reason, when it adds something to ARM's.
                if let Some(reason) = self.revision_failure().await.filter(|r| !message.contains(r.as_str())) {
                    message.push_str(&format!(" (revision: {reason})"));
                }
                Some(Err(Error::new(code, message)))
            }
        }
    }

    /// Replicas of our revision, failing fast on a fatal state.
    async fn check_revision(&self, app: Option<&ContainerApp>) -> Result<Vec<crate::arm::model::Replica>> {
        let ours = self.revision_name();
        let latest = app.and_then(|a| a.props().latest_revision_name.clone()).unwrap_or_default();
        if !latest.eq_ignore_ascii_case(&ours) {
            return Ok(Vec::new());
        }
        let replicas = self.arm.list_replicas(&self.spec.id, &ours).await?;
        let revision = self.arm.get_revision(&self.spec.id, &ours).await?;
        if let Some(reason) = status::revision_failure(revision.as_ref(), &replicas) {
            return Err(revision_error(&self.spec.name, &reason));
        }
        Ok(replicas)
    }

    async fn revision_failure(&self) -> Option<String> {
        let ours = self.revision_name();
        let replicas = self.arm.list_replicas(&self.spec.id, &ours).await.ok()?;
        let revision = self.arm.get_revision(&self.spec.id, &ours).await.ok()?;
        status::revision_failure(revision.as_ref(), &replicas)
    }

    async fn wait_revision_ready(&self, deadline: Instant) -> Result<ContainerApp> {
        let ours = self.revision_name();
        loop {
            let app = self.arm.get_app(&self.spec.id).await?.ok_or_else(|| {
                Error::new(
                    ErrorCode::AppVanished,
                    format!("{} disappeared while starting (deleted by someone else?)", self.spec.name),
                )
            })?;
            let phase = status::app_phase(&app);
            let ready =
                app.props().latest_ready_revision_name.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(&ours));
            match phase {
                Phase::Running if ready => return Ok(app),
                Phase::Failed(reason) => {
                    return Err(Error::new(ErrorCode::ProvisioningFailed, format!("{} {reason}", self.spec.name)));
                }
                _ => {}
            }
            let replicas = self.check_revision(Some(&app)).await?;
            estimates::progress(
                Waiting::Activating,
                80,
                &format!("Activating {}: {}", self.spec.name, status::describe(&app, &replicas)),
            );
            sleep_until_next(self.settings.arm.poll_interval, deadline).await;
        }
    }

    /// Ready means Jupyter itself answers `<prefix>api` through the ingress (ACA's own 404 page or
    /// a 503 while the container starts do not count).
    async fn wait_http(&self, deadline: Instant) -> Result<()> {
        let url = format!("{}{}", self.url.borrow(), self.spec.readiness_path);
        let mut last;
        let mut checks = 0u32;
        loop {
            let r = self.arm.http().get(&url).timeout(Duration::from_secs(5)).send().await;
            match r {
                Ok(resp) => {
                    let code = resp.status().as_u16();
                    let body: Option<Value> = crate::http::read_capped(resp, crate::http::MAX_BODY)
                        .await
                        .ok()
                        .and_then(|b| serde_json::from_slice(&b).ok());
                    if code == 200 && body.as_ref().is_some_and(|b| b.get("version").is_some()) {
                        return Ok(());
                    }
                    last = format!("HTTP {code}");
                }
                Err(e) => last = e.to_string(),
            }
            checks += 1;
            if checks.is_multiple_of(10) {
                // Repeat the message so the estimate can say that Jupyter is the slow phase.
                estimates::progress(
                    Waiting::Jupyter,
                    85,
                    &format!("Waiting for Jupyter to answer at {}", self.url.borrow()),
                );
                // Still not answering: make sure the revision did not start crashing.
                let app = self.arm.get_app(&self.spec.id).await?;
                self.check_revision(app.as_ref()).await?;
            }
            output::verbose(&format!("{url}: {last}"));
            if !lro::fits(Duration::from_millis(500), deadline) {
                return Err(Error::new(
                    ErrorCode::StartTimeout,
                    format!(
                        "{} was not ready within its start timeout ({} s): {url} never answered like Jupyter (last: {last})",
                        self.spec.name,
                        self.spec.start_timeout.as_secs()
                    ),
                ));
            }
            sleep_until_next(Duration::from_millis(500), deadline).await;
        }
    }
}

/// A 4xx answer to a PUT means ARM refused it and changed nothing (408 and 429 excepted: the
/// request may not have been looked at, and the client retries those anyway).
fn put_refused(status: Option<u16>) -> bool {
    status.is_some_and(|s| (400..500).contains(&s) && s != 408 && s != 429)
}

fn revision_error(name: &str, reason: &str) -> Error {
    let code = if reason.contains("ImagePull") || reason.contains("ErrImagePull") || reason.contains("InvalidImageName")
    {
        ErrorCode::ImagePullFailed
    } else if reason.contains("CrashLoop") || reason.contains("crashing") || reason.contains("Crashing") {
        ErrorCode::ContainerCrashing
    } else {
        ErrorCode::RevisionFailed
    };
    Error::new(code, format!("{name} cannot start: {reason}"))
}

async fn sleep_until_next(wait: Duration, deadline: Instant) {
    lro::sleep_within(wait, deadline).await;
}
