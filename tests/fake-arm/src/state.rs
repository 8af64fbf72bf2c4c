//! Shared state and the app lifecycle (PUT / DELETE / operation ticks).

use crate::{Behaviour, Fault, Options, RequestLog, Throttle};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

pub struct Shared {
    pub opts: Options,
    pub base_url: String,
    pub default_domain: String,
    pub state_dir: PathBuf,
    pub state: Mutex<State>,
    pub ingress_url: Mutex<Option<String>>,
}

impl Shared {
    pub fn new(opts: Options, base_url: String, state_dir: PathBuf) -> Shared {
        let mut rng = rand::rng();
        const ADJ: &[&str] =
            &["happy", "white", "gentle", "proud", "calm", "bravesky", "yellow", "mango", "kind", "orange"];
        const NOUN: &[&str] =
            &["river", "hill", "sea", "pond", "field", "stone", "meadow", "forest", "desert", "island"];
        let default_domain = format!(
            "{}{}-{:08x}.{}.azurecontainerapps.io",
            ADJ[rng.random_range(0..ADJ.len())],
            NOUN[rng.random_range(0..NOUN.len())],
            rng.random::<u32>(),
            opts.location
        );
        let knobs = Knobs {
            provision_polls: opts.provision_polls,
            provision_secs: opts.provision_secs,
            delete_secs: opts.delete_secs,
            failure_polls: opts.failure_polls,
            retry_after: opts.retry_after,
            page_size: opts.page_size.max(1),
            latency_ms: 0,
            token_expires_in: opts.token_expires_in,
            bad_client_secret: opts.bad_client_secret.clone(),
            audiences: vec!["https://management.azure.com/".into(), "https://management.core.windows.net/".into()],
            delete_async_header: false,
            delete_conflicts_while_provisioning: false,
        };
        let mut wps = vec![("Consumption".to_string(), "Consumption".to_string())];
        wps.extend(opts.workload_profiles.iter().cloned());
        let st = State {
            apps: BTreeMap::new(),
            ops: HashMap::new(),
            op_signed: HashMap::new(),
            op_urls: HashMap::new(),
            tokens: HashMap::new(),
            log: Vec::new(),
            knobs,
            behaviours: Vec::new(),
            faults: Vec::new(),
            random: None,
            random_counts: Default::default(),
            buckets: Buckets::new(&Throttle::default()),
            throttle_enforced: Throttle::default(),
            workload_profiles: wps,
            storages: BTreeMap::new(),
            identities: BTreeMap::new(),
            permissions: (vec!["*".into()], vec![]),
        };
        Shared { opts, base_url, default_domain, state_dir, state: Mutex::new(st), ingress_url: Mutex::new(None) }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn environment_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.App/managedEnvironments/{}",
            self.opts.subscription, self.opts.resource_group, self.opts.environment_name
        )
    }
}

pub struct Knobs {
    pub provision_polls: u32,
    /// > 0: operations complete by wall clock (see `Options::provision_secs`).
    pub provision_secs: f64,
    pub delete_secs: f64,
    pub failure_polls: u32,
    pub retry_after: u32,
    pub page_size: usize,
    pub latency_ms: u64,
    pub token_expires_in: u64,
    pub bad_client_secret: Option<String>,
    /// Token audiences ARM accepts (compared case-insensitively, trailing '/' ignored).
    pub audiences: Vec<String>,
    /// Also send Azure-AsyncOperation (status URL) on DELETE 202, besides Location.
    pub delete_async_header: bool,
    /// DELETE while a PUT operation is in progress: 409 (true) or cancel the PUT (false, default).
    pub delete_conflicts_while_provisioning: bool,
}

pub struct RandomFaults {
    pub p: f64,
    pub rng: rand::rngs::StdRng,
    /// The soak's wider mix: also 429 without Retry-After and, when > 0, delays of this many ms
    /// (past the client's request timeout).
    pub extended: bool,
    pub delay_ms: u64,
}

pub struct Bucket {
    pub burst: f64,
    pub rate: f64,
    pub tokens: f64,
    pub last: Instant,
}

impl Bucket {
    fn new(burst: u32, rate: f64) -> Bucket {
        Bucket { burst: burst as f64, rate, tokens: burst as f64, last: Instant::now() }
    }
    fn refill(&mut self) {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.burst);
        self.last = now;
    }
    /// Take one token; Err(seconds until one is available).
    pub fn take(&mut self) -> Result<u32, u32> {
        self.refill();
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(self.tokens.floor() as u32)
        } else {
            let need = (1.0 - self.tokens) / self.rate.max(0.001);
            Err(need.ceil().max(1.0) as u32)
        }
    }
}

pub struct Buckets {
    pub reads: Bucket,
    pub writes: Bucket,
    pub deletes: Bucket,
}

impl Buckets {
    /// ARM defaults (250/25, 200/10, 200/10) for classes not configured.
    fn new(t: &Throttle) -> Buckets {
        let (rb, rr) = t.reads.unwrap_or((250, 25.0));
        let (wb, wr) = t.writes.unwrap_or((200, 10.0));
        let (db, dr) = t.deletes.unwrap_or((200, 10.0));
        Buckets { reads: Bucket::new(rb, rr), writes: Bucket::new(wb, wr), deletes: Bucket::new(db, dr) }
    }
}

pub struct State {
    /// Keyed by lowercase name.
    pub apps: BTreeMap<String, App>,
    pub ops: HashMap<String, Op>,
    /// op id -> the signed query handed out (must come back verbatim)
    pub op_signed: HashMap<String, String>,
    /// op id -> full URL handed out
    pub op_urls: HashMap<String, String>,
    /// token -> expiry
    /// token -> (expiry, audience; None = any)
    pub tokens: HashMap<String, (SystemTime, Option<String>)>,
    pub log: Vec<RequestLog>,
    pub knobs: Knobs,
    pub behaviours: Vec<(String, Behaviour)>,
    pub faults: Vec<Fault>,
    pub random: Option<RandomFaults>,
    /// Random faults injected so far, by kind (`429`, `429-no-retry-after`, `500`, `503`, `409`,
    /// `drop`, `delay`).
    pub random_counts: std::collections::BTreeMap<String, u64>,
    pub buckets: Buckets,
    pub throttle_enforced: Throttle,
    pub workload_profiles: Vec<(String, String)>,
    pub storages: BTreeMap<String, Value>,
    /// User-assigned identities by lowercase resource id: (clientId, principalId).
    pub identities: BTreeMap<String, (String, String)>,
    /// What `Microsoft.Authorization/permissions` reports for the caller: (actions, notActions).
    pub permissions: (Vec<String>, Vec<String>),
}

impl State {
    pub fn set_random_faults(&mut self, p: f64, seed: u64) {
        self.random = if p > 0.0 {
            Some(RandomFaults { p, rng: rand::rngs::StdRng::seed_from_u64(seed), extended: false, delay_ms: 0 })
        } else {
            None
        };
    }
    pub fn set_throttle(&mut self, t: Throttle) {
        self.buckets = Buckets::new(&t);
        self.throttle_enforced = t;
    }
    pub fn issue_token(&mut self, secs: u64) -> String {
        self.issue_token_for(secs, None)
    }
    pub fn issue_token_for(&mut self, secs: u64, audience: Option<String>) -> String {
        let tok = format!("fake.{}", random_alnum(64));
        self.tokens.insert(tok.clone(), (SystemTime::now() + Duration::from_secs(secs), audience));
        tok
    }
    pub fn add_token(&mut self, tok: &str, secs: u64) {
        self.tokens.insert(tok.to_string(), (SystemTime::now() + Duration::from_secs(secs), None));
    }
    pub fn expire_tokens(&mut self) {
        let past = SystemTime::now() - Duration::from_secs(1);
        for v in self.tokens.values_mut() {
            v.0 = past;
        }
    }
    pub fn behaviour_for(&self, name: &str, spec: &Value) -> Behaviour {
        let mut images: Vec<String> = container_images(spec, "containers").into_iter().map(|(_, i)| i).collect();
        images.extend(container_images(spec, "initContainers").into_iter().map(|(_, i)| i));
        let mut found = Behaviour::Healthy;
        for (pat, b) in &self.behaviours {
            let p = pat.to_ascii_lowercase();
            if name.to_ascii_lowercase().contains(&p) || images.iter().any(|i| i.contains(pat.as_str())) {
                found = b.clone();
            }
        }
        found
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum OpKind {
    Put,
    Delete,
}

pub struct Op {
    #[allow(dead_code)]
    pub id: String,
    pub app: String,
    pub kind: OpKind,
    pub status: String,
    pub start: String,
    pub end: Option<String>,
    pub error: Option<Value>,
}

pub struct Pending {
    pub op_id: String,
    pub kind: OpKind,
    pub ticks: u32,
    pub needed: u32,
    /// Outcome at completion.
    pub fail: bool,
    /// When the operation began (wall-clock mode).
    pub since: std::time::Instant,
}

/// Seconds an operation of `kind` needing `needed` ticks takes in wall-clock mode (None: ticks).
fn wall_secs(knobs: &Knobs, kind: &OpKind, needed: u32) -> Option<f64> {
    match kind {
        OpKind::Put if knobs.provision_secs > 0.0 => {
            Some(knobs.provision_secs * needed.max(1) as f64 / knobs.provision_polls.max(1) as f64)
        }
        OpKind::Delete if knobs.delete_secs > 0.0 => Some(knobs.delete_secs),
        _ => None,
    }
}

/// Wall-clock mode: complete every operation whose time has come (called on every request, so
/// a list or an ingress probe sees what a status poll would).
pub fn advance(st: &mut State) -> Vec<(String, TickEffect)> {
    if st.knobs.provision_secs <= 0.0 && st.knobs.delete_secs <= 0.0 {
        return Vec::new();
    }
    let due: Vec<String> = st
        .apps
        .iter()
        .filter(|(_, a)| {
            a.pending.as_ref().is_some_and(|p| {
                wall_secs(&st.knobs, &p.kind, p.needed).is_some_and(|w| p.since.elapsed().as_secs_f64() >= w)
            })
        })
        .map(|(k, _)| k.clone())
        .collect();
    due.into_iter().map(|k| (k.clone(), tick(st, &k))).collect()
}

#[derive(Clone, Debug)]
pub struct Revision {
    pub name: String,
    pub template: Value,
    pub created: String,
    pub provisioning_state: String,
    pub health_state: String,
    pub running_state: String,
    pub active: bool,
    pub replica_name: String,
    /// Container failure detail for the replica (None = healthy).
    pub container_waiting: Option<String>,
    pub restart_count: u32,
    pub provisioning_error: Option<String>,
    pub ticks: u32,
}

/// (name, image) of `template.<key>` (containers or initContainers).
pub fn container_images(spec: &Value, key: &str) -> Vec<(String, String)> {
    spec.pointer(&format!("/properties/template/{key}"))
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| {
                    let image = c.get("image").and_then(Value::as_str)?;
                    Some((c.get("name").and_then(Value::as_str).unwrap_or("").to_string(), image.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

impl State {
    /// The init container whose image (and nothing else) matched the deciding behaviour pattern: its
    /// replica state shows the failure, while the app containers wait in `PodInitializing`.
    pub fn failing_init(&self, name: &str, spec: &Value) -> Option<String> {
        let main: Vec<String> = container_images(spec, "containers").into_iter().map(|(_, i)| i).collect();
        let inits = container_images(spec, "initContainers");
        let mut found = None;
        for (pat, _) in &self.behaviours {
            if name.to_ascii_lowercase().contains(&pat.to_ascii_lowercase())
                || main.iter().any(|i| i.contains(pat.as_str()))
            {
                found = None;
            } else if let Some((n, _)) = inits.iter().find(|(_, i)| i.contains(pat.as_str())) {
                found = Some(n.clone());
            }
        }
        found
    }
}

pub struct App {
    pub name: String,
    /// Set when the behaviour came from an init container's image (see `State::failing_init`).
    pub failing_init: Option<String>,
    /// Normalized PUT body (secret values included), with server-side enums canonicalized.
    pub spec: Value,
    pub secrets: Vec<(String, String)>,
    pub provisioning_state: String,
    pub running_status: String,
    pub revisions: Vec<Revision>,
    pub latest_revision: String,
    pub latest_ready: String,
    pub pending: Option<Pending>,
    pub behaviour: Behaviour,
    pub created_at: String,
    pub modified_at: String,
    /// Launch mode
    pub local_port: Option<u16>,
    pub listening: bool,
    pub child: Option<std::process::Child>,
    pub pending_revision_template: Option<Value>,
}

pub fn random_alnum(n: usize) -> String {
    const CS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..n).map(|_| CS[rng.random_range(0..CS.len())] as char).collect()
}

pub fn guid() -> String {
    let mut rng = rand::rng();
    let b: [u8; 16] = rng.random();
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// `2026-11-23T05:54:08.6800357Z` (systemData style: 7 fractional digits, Z).
pub fn now_rfc3339() -> String {
    timestamp(7, "Z")
}

/// `2026-11-23T05:54:09.998080` (operation-status style: no offset, as recorded from the service).
pub fn now_op_time() -> String {
    timestamp(6, "")
}

/// Now in UTC with `digits` fractional digits (at most 9) and `suffix`.
fn timestamp(digits: u32, suffix: &str) -> String {
    let t = time::OffsetDateTime::now_utc();
    let frac = t.nanosecond() / 10u32.pow(9 - digits);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{frac:0w$}{suffix}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        w = digits as usize
    )
}

/// `2026-11-23T05:54:09+00:00` (revision createdTime style).
pub fn now_rev_time() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Input for [`crate::FakeArm::insert_app`]. `InsertApp::new("name")` then set fields.
#[derive(Clone, Debug, Default)]
pub struct InsertApp {
    pub name: String,
    pub tags: Vec<(String, String)>,
    /// Container image (default "mcr.microsoft.com/k8se/quickstart:latest").
    pub image: Option<String>,
    /// Full PUT body to store instead of the generated minimal one (tags above are merged in).
    pub body: Option<Value>,
    /// systemData.createdAt, RFC 3339 (default now).
    pub created_at: Option<String>,
    /// provisioningState (default "Succeeded"); "InProgress"/"Deleting" leave an operation pending
    /// that completes after `provision_polls` ticks.
    pub provisioning_state: Option<String>,
    pub behaviour: Behaviour,
}

impl InsertApp {
    pub fn new(name: &str) -> InsertApp {
        InsertApp { name: name.to_string(), ..Default::default() }
    }
    pub fn tag(mut self, k: &str, v: &str) -> InsertApp {
        self.tags.push((k.to_string(), v.to_string()));
        self
    }
    pub fn created_at(mut self, t: &str) -> InsertApp {
        self.created_at = Some(t.to_string());
        self
    }
    pub fn state(mut self, s: &str) -> InsertApp {
        self.provisioning_state = Some(s.to_string());
        self
    }
}

pub fn insert_app(sh: &Shared, st: &mut State, ins: InsertApp) -> anyhow::Result<()> {
    let mut body = ins.body.clone().unwrap_or_else(|| {
        json!({
            "location": sh.opts.location,
            "properties": {
                "environmentId": sh.environment_id(),
                "workloadProfileName": "Consumption",
                "configuration": {
                    "activeRevisionsMode": "Single",
                    "ingress": {"external": false, "targetPort": 8888, "transport": "http", "allowInsecure": true}
                },
                "template": {
                    "containers": [{
                        "name": "notebook",
                        "image": ins.image.clone().unwrap_or_else(|| "mcr.microsoft.com/k8se/quickstart:latest".into()),
                        "resources": {"cpu": 0.5, "memory": "1Gi"}
                    }],
                    "scale": {"minReplicas": 1, "maxReplicas": 1}
                }
            }
        })
    });
    if !ins.tags.is_empty() {
        let tags = body.as_object_mut().unwrap().entry("tags").or_insert_with(|| json!({}));
        for (k, v) in &ins.tags {
            tags[k] = json!(v);
        }
    }
    crate::validate::normalize(&mut body);
    let secrets = body
        .pointer("/properties/configuration/secrets")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s.get("name").and_then(Value::as_str).unwrap_or("").to_string(),
                        s.get("value").and_then(Value::as_str).unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let created = ins.created_at.clone().unwrap_or_else(now_rfc3339);
    let key = ins.name.to_ascii_lowercase();
    let template = body.pointer("/properties/template").cloned().unwrap_or(json!({}));
    let rev = new_revision(&ins.name, &template, None);
    let mut app = App {
        name: key.clone(),
        failing_init: None,
        spec: body,
        secrets,
        provisioning_state: "Succeeded".into(),
        running_status: "Running".into(),
        revisions: vec![],
        latest_revision: String::new(),
        latest_ready: String::new(),
        pending: None,
        behaviour: ins.behaviour.clone(),
        created_at: created.clone(),
        modified_at: created,
        local_port: None,
        listening: false,
        child: None,
        pending_revision_template: None,
    };
    let ps = ins.provisioning_state.clone().unwrap_or_else(|| "Succeeded".into());
    match ps.as_str() {
        "InProgress" => {
            app.provisioning_state = "InProgress".into();
            app.pending_revision_template = Some(template);
            let op = start_op(st, &key, OpKind::Put);
            app.pending = Some(Pending {
                op_id: op,
                kind: OpKind::Put,
                ticks: 0,
                needed: st.knobs.provision_polls,
                fail: false,
                since: std::time::Instant::now(),
            });
        }
        "Deleting" => {
            app.revisions.push(rev.clone());
            finish_revision(&mut app, 0);
            app.provisioning_state = "Deleting".into();
            let op = start_op(st, &key, OpKind::Delete);
            app.pending = Some(Pending {
                op_id: op,
                kind: OpKind::Delete,
                ticks: 0,
                needed: st.knobs.provision_polls,
                fail: false,
                since: std::time::Instant::now(),
            });
        }
        other => {
            app.revisions.push(rev);
            let idx = 0;
            finish_revision(&mut app, idx);
            app.provisioning_state = other.to_string();
            if other == "Failed" {
                let r = &mut app.revisions[0];
                r.provisioning_state = "Failed".into();
                r.health_state = "Unhealthy".into();
                r.running_state = "Failed".into();
                app.latest_ready = String::new();
            }
        }
    }
    st.apps.insert(key, app);
    Ok(())
}

pub fn new_revision(app: &str, template: &Value, suffix: Option<&str>) -> Revision {
    let suffix = suffix.map(str::to_string).unwrap_or_else(|| random_alnum(7));
    Revision {
        name: format!("{app}--{suffix}"),
        template: template.clone(),
        created: now_rev_time(),
        provisioning_state: "Provisioning".into(),
        health_state: "None".into(),
        running_state: "Activating".into(),
        active: true,
        replica_name: format!("{app}--{suffix}-{}-{}", random_alnum(9), random_alnum(5)),
        container_waiting: Some("ContainerCreating".into()),
        restart_count: 0,
        provisioning_error: None,
        ticks: 0,
    }
}

/// Mark revision `idx` provisioned & healthy and the latest ready one; deactivate the others (Single mode).
pub fn finish_revision(app: &mut App, idx: usize) {
    let multiple = app
        .spec
        .pointer("/properties/configuration/activeRevisionsMode")
        .and_then(Value::as_str)
        .map(|m| m.eq_ignore_ascii_case("multiple"))
        .unwrap_or(false);
    for (i, r) in app.revisions.iter_mut().enumerate() {
        if i == idx {
            r.provisioning_state = "Provisioned".into();
            r.health_state = "Healthy".into();
            r.running_state = "Running".into();
            r.container_waiting = None;
            r.active = true;
        } else if !multiple {
            r.active = false;
            r.running_state = "Stopped".into();
            r.health_state = "None".into();
        }
    }
    app.latest_revision = app.revisions[idx].name.clone();
    app.latest_ready = app.revisions[idx].name.clone();
}

pub fn start_op(st: &mut State, app: &str, kind: OpKind) -> String {
    let id = guid();
    st.ops.insert(
        id.clone(),
        Op {
            id: id.clone(),
            app: app.to_string(),
            kind,
            status: "InProgress".into(),
            start: now_op_time(),
            end: None,
            error: None,
        },
    );
    id
}

pub fn op_failed_error(app: &str) -> Value {
    json!({
        "code": "ContainerAppOperationError",
        "message": format!("Failed to provision revision for container app '{app}'. Error details: Operation expired.")
    })
}

/// Outcome of a tick that the caller must act on outside the lock.
pub enum TickEffect {
    None,
    /// Provisioning finished successfully: launch mode should (re)start the process.
    Provisioned,
    /// App was removed (delete finished): kill its process.
    Removed(Box<App>),
}

/// Advance the pending operation of `key` by one tick.
pub fn tick(st: &mut State, key: &str) -> TickEffect {
    let failure_polls = st.knobs.failure_polls;
    let Some(app) = st.apps.get_mut(key) else {
        return TickEffect::None;
    };
    let Some(p) = app.pending.as_mut() else {
        // Crash loops keep restarting even when nothing is pending.
        bump_crash(app);
        return TickEffect::None;
    };
    p.ticks += 1;
    let needed = p.needed;
    let kind = p.kind.clone();
    // In wall-clock mode an operation is done when its time has come, not after `needed` polls.
    let ticks = match wall_secs(&st.knobs, &kind, needed) {
        Some(w) if p.since.elapsed().as_secs_f64() >= w => needed.saturating_add(1),
        Some(_) => 0,
        None => p.ticks,
    };
    let op_id = p.op_id.clone();
    let fail = p.fail;
    match kind {
        OpKind::Put => {
            // First tick: the new revision appears.
            if let Some(t) = app.pending_revision_template.take() {
                let suffix =
                    t.get("revisionSuffix").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
                let rev = new_revision(&app.name, &t, suffix.as_deref());
                app.latest_revision = rev.name.clone();
                app.revisions.push(rev);
                apply_failure_look(app, 0);
            }
            bump_crash(app);
            if ticks <= needed {
                return TickEffect::None;
            }
            app.pending = None;
            let idx = app.revisions.len() - 1;
            let (status, error) = if fail {
                app.provisioning_state = "Failed".into();
                let r = &mut app.revisions[idx];
                r.provisioning_state = "Failed".into();
                r.health_state = "Unhealthy".into();
                r.running_state = "Failed".into();
                let err = op_failed_error(&app.name);
                r.provisioning_error = err["message"].as_str().map(str::to_string);
                ("Failed", Some(err))
            } else {
                app.provisioning_state = "Succeeded".into();
                app.running_status = "Running".into();
                match app.behaviour {
                    Behaviour::ScaledToZero => {
                        finish_revision(app, idx);
                        app.revisions[idx].running_state = "ScaledToZero".into();
                    }
                    _ => finish_revision(app, idx),
                }
                ("Succeeded", None)
            };
            let _ = failure_polls;
            if let Some(op) = st.ops.get_mut(&op_id) {
                op.status = status.into();
                op.end = Some(now_op_time());
                op.error = error;
            }
            if status == "Succeeded" { TickEffect::Provisioned } else { TickEffect::None }
        }
        OpKind::Delete => {
            if ticks <= needed {
                return TickEffect::None;
            }
            let app = st.apps.remove(key).unwrap();
            if let Some(op) = st.ops.get_mut(&op_id) {
                op.status = "Succeeded".into();
                op.end = Some(now_op_time());
            }
            TickEffect::Removed(Box::new(app))
        }
    }
}

/// Set the ImagePull/CrashLoop look on the latest revision.
fn apply_failure_look(app: &mut App, _n: u32) {
    let image = match &app.failing_init {
        Some(n) => container_images(&app.spec, "initContainers").into_iter().find(|(x, _)| x == n).map(|(_, i)| i),
        None => app.spec.pointer("/properties/template/containers/0/image").and_then(Value::as_str).map(str::to_string),
    }
    .unwrap_or_default();
    let Some(r) = app.revisions.last_mut() else {
        return;
    };
    match app.behaviour {
        Behaviour::ImagePullFailure => {
            r.health_state = "Unhealthy".into();
            r.running_state = "Activating".into();
            r.container_waiting = Some(format!("ImagePullBackOff: Back-off pulling image \"{image}\""));
        }
        Behaviour::CrashLoop => {
            r.health_state = "Unhealthy".into();
            r.running_state = "Activating".into();
            r.container_waiting = Some("CrashLoopBackOff: back-off restarting failed container".into());
        }
        _ => {}
    }
}

fn bump_crash(app: &mut App) {
    if app.behaviour == Behaviour::CrashLoop
        && let Some(r) = app.revisions.last_mut()
        && (r.provisioning_state != "Provisioned" || r.name == app.latest_revision)
    {
        r.ticks += 1;
        r.restart_count = r.ticks / 2 + 1;
    }
}

/// Needed ticks and failure flag for a PUT given the behaviour.
pub fn put_plan(knobs: &Knobs, b: &Behaviour) -> (u32, bool) {
    match b {
        Behaviour::SlowProvision { polls } => (knobs.provision_polls + polls, false),
        Behaviour::ImagePullFailure | Behaviour::CrashLoop => (knobs.failure_polls, true),
        Behaviour::ProvisionFailed => (knobs.provision_polls, true),
        _ => (knobs.provision_polls, false),
    }
}

pub fn delete_plan(knobs: &Knobs, b: &Behaviour) -> u32 {
    match b {
        Behaviour::StuckDeleting { polls } => knobs.provision_polls + polls,
        _ => knobs.provision_polls,
    }
}
