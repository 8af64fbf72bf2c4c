//! Rendering stored state as the ARM JSON the real service returns.

use crate::state::{App, Revision, Shared, State};
use crate::validate::region_display;
use serde_json::{Map, Value, json};

pub fn app_id(sh: &Shared, name: &str) -> String {
    // The real service returns lowercase "containerapps" in ids (REC).
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.App/containerapps/{}",
        sh.opts.subscription, sh.opts.resource_group, name
    )
}

fn set_default(m: &mut Map<String, Value>, k: &str, v: Value) {
    if !m.contains_key(k) {
        m.insert(k.to_string(), v);
    }
}

fn obj(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = json!({});
    }
    v.as_object_mut().unwrap()
}

/// "auto" -> "Auto", "http" -> "Http", "http2" -> "Http2", "tcp" -> "Tcp" (what the service returns).
pub fn transport_display(t: &str) -> String {
    let mut c = t.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

pub fn ingress_fqdn(sh: &Shared, app: &App, host_name: &str) -> String {
    let external =
        app.spec.pointer("/properties/configuration/ingress/external").and_then(Value::as_bool).unwrap_or(false);
    if external {
        format!("{host_name}.{}", sh.default_domain)
    } else {
        format!("{host_name}.internal.{}", sh.default_domain)
    }
}

pub fn has_ingress(app: &App) -> bool {
    app.spec.pointer("/properties/configuration/ingress").is_some_and(Value::is_object)
}

pub fn render_app(sh: &Shared, st: &State, app: &App) -> Value {
    let spec = &app.spec;
    let mut out = json!({});
    let o = obj(&mut out);
    o.insert("id".into(), json!(app_id(sh, &app.name)));
    o.insert("name".into(), json!(app.name));
    o.insert("type".into(), json!("Microsoft.App/containerApps"));
    let loc = spec.get("location").and_then(Value::as_str).unwrap_or(&sh.opts.location);
    let short = crate::validate::region_short(loc).unwrap_or(&sh.opts.location);
    o.insert("location".into(), json!(region_display(short)));
    if let Some(t) = spec.get("tags") {
        o.insert("tags".into(), t.clone());
    }
    if let Some(k) = spec.get("kind") {
        o.insert("kind".into(), k.clone());
    }
    o.insert(
        "systemData".into(),
        json!({
            "createdBy": "fake-arm@example.com",
            "createdByType": "Application",
            "createdAt": app.created_at,
            "lastModifiedBy": "fake-arm@example.com",
            "lastModifiedByType": "Application",
            "lastModifiedAt": app.modified_at,
        }),
    );
    // identity
    let mut ident = spec.get("identity").cloned().unwrap_or(json!({"type": "None"}));
    {
        let io = obj(&mut ident);
        let t = io.get("type").and_then(Value::as_str).unwrap_or("None").to_string();
        if t.contains("SystemAssigned") {
            io.insert("principalId".into(), json!(fake_guid(&format!("{}-principal", app.name))));
            io.insert("tenantId".into(), json!("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        }
        if let Some(Value::Object(u)) = io.get_mut("userAssignedIdentities") {
            for (k, v) in u.iter_mut() {
                *v = match st.identities.get(&k.to_ascii_lowercase()) {
                    Some((client, principal)) => json!({"principalId": principal, "clientId": client}),
                    None => json!({
                        "principalId": fake_guid(&format!("{k}-principal")),
                        "clientId": fake_guid(&format!("{k}-client")),
                    }),
                };
            }
        }
    }
    let mut props = spec.get("properties").cloned().unwrap_or(json!({}));
    let p = obj(&mut props);
    let env_id = sh.environment_id();
    let mut front = Map::new();
    front.insert("provisioningState".into(), json!(app.provisioning_state));
    front.insert("runningStatus".into(), json!(app.running_status));
    front.insert("managedEnvironmentId".into(), json!(env_id));
    front.insert("environmentId".into(), json!(env_id));
    front.insert("workloadProfileName".into(), p.get("workloadProfileName").cloned().unwrap_or(Value::Null));
    front.insert("outboundIpAddresses".into(), json!(["20.105.32.11", "20.105.32.12", "20.105.33.40"]));
    front.insert("latestRevisionName".into(), json!(app.latest_revision));
    front.insert("latestReadyRevisionName".into(), json!(app.latest_ready));
    let latest_fqdn = if has_ingress(app) && !app.latest_revision.is_empty() {
        ingress_fqdn(sh, app, &app.latest_revision)
    } else {
        String::new()
    };
    front.insert("latestRevisionFqdn".into(), json!(latest_fqdn));
    front.insert("customDomainVerificationId".into(), json!(fake_hex(&sh.opts.subscription, 64).to_uppercase()));
    // configuration
    let mut conf = p.get("configuration").cloned().unwrap_or(json!({}));
    {
        let c = obj(&mut conf);
        // secrets without values
        if let Some(Value::Array(secs)) = c.get_mut("secrets") {
            for s in secs.iter_mut() {
                if let Some(so) = s.as_object_mut() {
                    so.remove("value");
                }
            }
        }
        set_default(c, "secrets", Value::Null);
        set_default(c, "activeRevisionsMode", json!("Single"));
        match c.get_mut("ingress") {
            Some(ing @ Value::Object(_)) => {
                let fq = ingress_fqdn(sh, app, &app.name);
                let i = obj(ing);
                i.insert("fqdn".into(), json!(fq));
                set_default(i, "external", json!(false));
                set_default(i, "targetPort", json!(80));
                set_default(i, "exposedPort", json!(0));
                let t = i.get("transport").and_then(Value::as_str).unwrap_or("auto").to_string();
                i.insert("transport".into(), json!(transport_display(&t)));
                set_default(i, "traffic", json!([{"weight": 100, "latestRevision": true}]));
                set_default(i, "customDomains", Value::Null);
                set_default(i, "allowInsecure", json!(false));
                set_default(i, "ipSecurityRestrictions", Value::Null);
                set_default(i, "corsPolicy", Value::Null);
                set_default(i, "clientCertificateMode", Value::Null);
                set_default(i, "stickySessions", Value::Null);
                set_default(i, "additionalPortMappings", Value::Null);
                set_default(i, "targetPortHttpScheme", Value::Null);
            }
            _ => {
                c.insert("ingress".into(), Value::Null);
            }
        }
        set_default(c, "registries", Value::Null);
        set_default(c, "identitySettings", json!([]));
        set_default(c, "dapr", Value::Null);
        set_default(c, "runtime", Value::Null);
        set_default(c, "maxInactiveRevisions", json!(100));
        set_default(c, "service", Value::Null);
    }
    front.insert("configuration".into(), conf);
    // template
    let mut tmpl = p.get("template").cloned().unwrap_or(json!({}));
    {
        let t = obj(&mut tmpl);
        let suffix = t.get("revisionSuffix").cloned().unwrap_or(json!(""));
        t.insert("revisionSuffix".into(), suffix);
        set_default(t, "terminationGracePeriodSeconds", Value::Null);
        for key in ["containers", "initContainers"] {
            if let Some(Value::Array(cs)) = t.get_mut(key) {
                for c in cs.iter_mut() {
                    fill_resources(c);
                }
            }
        }
        set_default(t, "initContainers", Value::Null);
        let scale = t.entry("scale").or_insert_with(|| json!({}));
        let s = obj(scale);
        set_default(s, "minReplicas", Value::Null);
        set_default(s, "maxReplicas", json!(10));
        set_default(s, "cooldownPeriod", json!(300));
        set_default(s, "pollingInterval", json!(30));
        set_default(s, "rules", Value::Null);
        set_default(t, "volumes", Value::Null);
        set_default(t, "serviceBinds", Value::Null);
    }
    front.insert("template".into(), tmpl);
    // user-supplied properties not covered above (e.g. networking)
    for (k, v) in p.iter() {
        if !front.contains_key(k) && k != "managedEnvironmentId" && k != "environmentId" {
            front.insert(k.clone(), v.clone());
        }
    }
    front.insert(
        "eventStreamEndpoint".into(),
        json!(format!(
            "https://{}.azurecontainerapps.dev/subscriptions/{}/resourceGroups/{}/containerApps/{}/eventstream",
            sh.opts.location, sh.opts.subscription, sh.opts.resource_group, app.name
        )),
    );
    front.insert("delegatedIdentities".into(), json!([]));
    o.insert("properties".into(), Value::Object(front));
    o.insert("identity".into(), ident);
    out
}

fn fill_resources(c: &mut Value) {
    let Some(co) = c.as_object_mut() else { return };
    let r = co.entry("resources").or_insert_with(|| json!({}));
    let ro = obj(r);
    set_default(ro, "cpu", json!(0.5));
    set_default(ro, "memory", json!("1Gi"));
    let cpu = ro.get("cpu").and_then(Value::as_f64).unwrap_or(0.5);
    let eph = if cpu <= 0.25 {
        "1Gi"
    } else if cpu <= 0.5 {
        "2Gi"
    } else if cpu <= 1.0 {
        "4Gi"
    } else {
        "8Gi"
    };
    ro.insert("ephemeralStorage".into(), json!(eph));
}

/// Deterministic fake GUID from a seed string.
pub fn fake_guid(seed: &str) -> String {
    let h = fake_hex(seed, 32);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

pub fn fake_hex(seed: &str, n: usize) -> String {
    use std::hash::{Hash, Hasher};
    let mut out = String::new();
    let mut i = 0u64;
    while out.len() < n {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        seed.hash(&mut h);
        i.hash(&mut h);
        out.push_str(&format!("{:016x}", h.finish()));
        i += 1;
    }
    out.truncate(n);
    out
}

fn rev_id(sh: &Shared, app: &str, rev: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.App/containerApps/{}/revisions/{}",
        sh.opts.subscription, sh.opts.resource_group, app, rev
    )
}

fn replica_count(app: &App, r: &Revision) -> u32 {
    if !r.active || r.running_state == "ScaledToZero" || r.running_state == "Stopped" {
        return 0;
    }
    let _ = app;
    1
}

pub fn render_revision(sh: &Shared, _st: &State, app: &App, r: &Revision) -> Value {
    let mut template = r.template.clone();
    if let Some(Value::Array(cs)) = template.get_mut("containers") {
        for c in cs.iter_mut() {
            fill_resources(c);
        }
    }
    let traffic = if r.name == app.latest_ready || (app.latest_ready.is_empty() && r.name == app.latest_revision) {
        100
    } else {
        0
    };
    let fqdn = if has_ingress(app) { ingress_fqdn(sh, app, &r.name) } else { String::new() };
    json!({
        "id": rev_id(sh, &app.name, &r.name),
        "name": r.name,
        "type": "Microsoft.App/containerApps/revisions",
        "properties": {
            "createdTime": r.created,
            "lastActiveTime": r.created,
            "fqdn": fqdn,
            "template": template,
            "active": r.active,
            "replicas": replica_count(app, r),
            "trafficWeight": traffic,
            "labels": null,
            "provisioningError": r.provisioning_error,
            "healthState": r.health_state,
            "provisioningState": r.provisioning_state,
            "runningState": r.running_state,
            "runningStateDetails": r.container_waiting.clone().unwrap_or_default(),
        }
    })
}

/// Replicas of a revision (empty when scaled to zero / inactive).
pub fn render_replicas(sh: &Shared, app: &App, r: &Revision) -> Vec<Value> {
    if replica_count(app, r) == 0 {
        return vec![];
    }
    let containers = r.template.get("containers").and_then(Value::as_array).cloned().unwrap_or_default();
    let launch_waiting =
        if sh.opts.launch && r.provisioning_state == "Provisioned" && r.name == app.latest_ready && !app.listening {
            Some("ContainerCreating: waiting for the server to listen".to_string())
        } else {
            None
        };
    let waiting = r.container_waiting.clone().or(launch_waiting);
    let ready = waiting.is_none();
    // A failing init container shows the failure; the app containers wait for it.
    let init_failure = app.failing_init.as_ref().and(r.container_waiting.as_ref());
    let inits: Vec<Value> = r
        .template
        .get("initContainers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("init");
            let (state, details, restarts) = match init_failure {
                Some(d) if app.failing_init.as_deref() == Some(name) => {
                    if d.starts_with("CrashLoopBackOff") && r.ticks % 2 == 1 {
                        ("Terminated", "Error: exit code 1".to_string(), r.restart_count)
                    } else {
                        ("Waiting", d.clone(), r.restart_count)
                    }
                }
                _ => ("Terminated", "Completed".to_string(), 0),
            };
            json!({"name": name, "ready": false, "started": false, "restartCount": restarts,
                   "runningState": state, "runningStateDetails": details})
        })
        .collect();
    let waiting = if init_failure.is_some() { Some("PodInitializing".to_string()) } else { waiting };
    let cs: Vec<Value> = containers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("main");
            let (state, details, started) = match &waiting {
                None => ("Running", "".to_string(), true),
                Some(d) if d.starts_with("CrashLoopBackOff") => {
                    if r.ticks % 2 == 1 { ("Terminated", "Error: exit code 1".to_string(), false) } else { ("Waiting", d.clone(), false) }
                }
                Some(d) => ("Waiting", d.clone(), false),
            };
            json!({
                "name": name,
                "containerId": format!("containerd://{}", fake_hex(&format!("{}-{i}", r.replica_name), 64)),
                "ready": ready,
                "started": started,
                "restartCount": r.restart_count,
                "runningState": state,
                "runningStateDetails": details,
                "logStreamEndpoint": format!("https://{}.azurecontainerapps.dev/subscriptions/{}/resourceGroups/{}/containerApps/{}/revisions/{}/replicas/{}/logstream?container={name}", sh.opts.location, sh.opts.subscription, sh.opts.resource_group, app.name, r.name, r.replica_name),
                "execEndpoint": format!("wss://{}.azurecontainerapps.dev/subscriptions/{}/resourceGroups/{}/containerApps/{}/revisions/{}/replicas/{}/exec/{name}", sh.opts.location, sh.opts.subscription, sh.opts.resource_group, app.name, r.name, r.replica_name),
            })
        })
        .collect();
    vec![json!({
        "id": format!("{}/replicas/{}", rev_id(sh, &app.name, &r.name), r.replica_name),
        "name": r.replica_name,
        "type": "Microsoft.App/containerapps/revisions/replicas",
        "properties": {
            "createdTime": r.created,
            "runningState": if ready { "Running" } else { "NotRunning" },
            "runningStateDetails": if ready { "".to_string() } else { waiting.clone().unwrap_or_default() },
            "containers": cs,
            "initContainers": inits,
        }
    })]
}

pub fn render_environment(sh: &Shared, st: &State) -> Value {
    let wps: Vec<Value> = st
        .workload_profiles
        .iter()
        .map(|(n, t)| {
            if t == "Consumption" || t.starts_with("Consumption-") {
                json!({"name": n, "workloadProfileType": t})
            } else {
                json!({"name": n, "workloadProfileType": t, "minimumCount": 0, "maximumCount": 3})
            }
        })
        .collect();
    json!({
        "id": sh.environment_id(),
        "name": sh.opts.environment_name,
        "type": "Microsoft.App/managedEnvironments",
        "location": region_display(&sh.opts.location),
        "tags": {},
        "systemData": {
            "createdBy": "fake-arm@example.com", "createdByType": "User",
            "createdAt": "2026-01-05T10:00:00.0000000Z",
            "lastModifiedBy": "fake-arm@example.com", "lastModifiedByType": "User",
            "lastModifiedAt": "2026-01-05T10:00:00.0000000Z"
        },
        "properties": {
            "provisioningState": "Succeeded",
            "daprAIInstrumentationKey": null,
            "daprAIConnectionString": null,
            "vnetConfiguration": null,
            "deploymentErrors": null,
            "defaultDomain": sh.default_domain,
            "staticIp": "20.105.40.7",
            "appLogsConfiguration": null,
            "appInsightsConfiguration": null,
            "openTelemetryConfiguration": null,
            "zoneRedundant": false,
            "customDomainConfiguration": {"customDomainVerificationId": fake_hex(&sh.opts.subscription, 64).to_uppercase(), "dnsSuffix": null, "certificateKeyVaultProperties": null, "certificateValue": null, "certificatePassword": null, "expirationDate": null, "thumbprint": null, "subjectName": null},
            "eventStreamEndpoint": format!("https://{}.azurecontainerapps.dev/subscriptions/{}/resourceGroups/{}/managedEnvironments/{}/eventstream", sh.opts.location, sh.opts.subscription, sh.opts.resource_group, sh.opts.environment_name),
            "workloadProfiles": wps,
            "kedaConfiguration": {"version": "2.17.2"},
            "daprConfiguration": {"version": "1.15.9"},
            "infrastructureResourceGroup": format!("ME_{}_{}_{}", sh.opts.environment_name, sh.opts.resource_group, sh.opts.location),
            "peerAuthentication": {"mtls": {"enabled": false}},
            "peerTrafficConfiguration": {"encryption": {"enabled": false}},
            "ingressConfiguration": null,
            "publicNetworkAccess": "Enabled",
            "privateEndpointConnections": [],
        }
    })
}

pub fn render_storage(sh: &Shared, name: &str, props: &Value) -> Value {
    let mut p = props.clone();
    if let Some(af) = p.get_mut("azureFile").and_then(Value::as_object_mut) {
        af.remove("accountKey");
        af.entry("accountKey".to_string()).or_insert(Value::Null);
        af.insert("accountKey".into(), Value::Null);
    }
    json!({
        "id": format!("{}/storages/{}", sh.environment_id(), name),
        "name": name,
        "type": "Microsoft.App/managedEnvironments/storages",
        "properties": p,
    })
}
