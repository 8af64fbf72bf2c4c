//! Admin HTTP API under `/_fake/` (no auth). See the crate docs / report for the shapes.

use crate::server::{json_response, query_pairs};
use crate::state::{InsertApp, Shared};
use crate::{Behaviour, Fault, Throttle, model};
use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

fn bad(msg: impl Into<String>) -> Response {
    json_response(400, &json!({"error": msg.into()}))
}

fn ok() -> Response {
    json_response(200, &json!({"ok": true}))
}

pub fn info(sh: &Shared, ingress_url: Option<String>) -> Value {
    json!({
        "base_url": sh.base_url,
        "ca_pem": sh.state_dir.join("ca.pem"),
        "ingress_url": ingress_url,
        "admin_url": format!("{}/_fake", sh.base_url),
        "subscription": sh.opts.subscription,
        "resource_group": sh.opts.resource_group,
        "environment": sh.opts.environment_name,
        "environment_id": sh.environment_id(),
        "location": sh.opts.location,
        "default_domain": sh.default_domain,
        "identity_endpoint": format!("{}/msi/token", sh.base_url),
        "identity_header": sh.opts.identity_header,
    })
}

pub fn apps_json(sh: &Shared) -> Value {
    let st = sh.lock();
    let v: Vec<Value> = st
        .apps
        .values()
        .map(|a| {
            let ing = a.spec.pointer("/properties/configuration/ingress").cloned().unwrap_or(Value::Null);
            json!({
                "name": a.name,
                "provisioningState": a.provisioning_state,
                "latestRevisionName": a.latest_revision,
                "latestReadyRevisionName": a.latest_ready,
                "behaviour": a.behaviour,
                "tags": a.spec.get("tags"),
                "ingress": if ing.is_object() { json!({
                    "fqdn": model::ingress_fqdn(sh, a, &a.name),
                    "external": ing.get("external").and_then(Value::as_bool).unwrap_or(false),
                    "targetPort": ing.get("targetPort"),
                    "transport": ing.get("transport").and_then(Value::as_str).unwrap_or("auto"),
                    "allowInsecure": ing.get("allowInsecure").and_then(Value::as_bool).unwrap_or(false),
                }) } else { Value::Null },
                "local_port": a.local_port,
                "listening": a.listening,
                "secret_names": a.secrets.iter().map(|s| s.0.clone()).collect::<Vec<_>>(),
                "app": model::render_app(sh, &st, a),
            })
        })
        .collect();
    json!(v)
}

pub async fn handle(sh: Arc<Shared>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().trim_start_matches("/_fake").trim_matches('/').to_string();
    let q = query_pairs(req.uri().query());
    let bytes = axum::body::to_bytes(req.into_body(), 16 * 1024 * 1024).await.unwrap_or_default();
    let body: Value = if bytes.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => return bad(format!("invalid JSON: {e}")),
        }
    };
    let _ = q;
    match (method, path.as_str()) {
        (Method::GET, "" | "info") => json_response(200, &info(&sh, sh.ingress_url.lock().unwrap().clone())),
        (Method::GET, "apps") => json_response(200, &apps_json(&sh)),
        (Method::POST, "apps") => {
            let name = body.get("name").and_then(Value::as_str).unwrap_or("").to_string();
            if name.is_empty() {
                return bad("name required");
            }
            let mut ins = InsertApp::new(&name);
            if let Some(t) = body.get("tags").and_then(Value::as_object) {
                for (k, v) in t {
                    ins.tags.push((k.clone(), v.as_str().unwrap_or("").to_string()));
                }
            }
            ins.image = body.get("image").and_then(Value::as_str).map(str::to_string);
            ins.body = body.get("body").cloned();
            ins.created_at = body.get("created_at").and_then(Value::as_str).map(str::to_string);
            ins.provisioning_state = body.get("provisioning_state").and_then(Value::as_str).map(str::to_string);
            if let Some(b) = body.get("behaviour") {
                match serde_json::from_value::<Behaviour>(if b.is_string() {
                    json!({"behaviour": b})
                } else {
                    b.clone()
                }) {
                    Ok(b) => ins.behaviour = b,
                    Err(e) => return bad(format!("behaviour: {e}")),
                }
            }
            let mut st = sh.lock();
            match crate::state::insert_app(&sh, &mut st, ins) {
                Ok(()) => ok(),
                Err(e) => bad(e.to_string()),
            }
        }
        (Method::DELETE, p) if p.starts_with("apps/") => {
            let name = p.trim_start_matches("apps/").to_ascii_lowercase();
            let removed = sh.lock().apps.remove(&name);
            match removed {
                Some(mut a) => {
                    crate::launch::kill_app(&mut a);
                    ok()
                }
                None => json_response(404, &json!({"error": "no such app"})),
            }
        }
        (Method::POST, "behaviour") => {
            // {"match": "...", "behaviour": "SlowProvision", "polls": 3} or {"app": "name", "behaviour": ...}
            let b: Behaviour = match serde_json::from_value(body.clone()) {
                Ok(b) => b,
                Err(e) => return bad(format!("behaviour: {e}")),
            };
            let mut st = sh.lock();
            if let Some(app) = body.get("app").and_then(Value::as_str) {
                match st.apps.get_mut(&app.to_ascii_lowercase()) {
                    Some(a) => a.behaviour = b,
                    None => return json_response(404, &json!({"error": "no such app"})),
                }
            } else if let Some(m) = body.get("match").and_then(Value::as_str) {
                st.behaviours.push((m.to_string(), b));
            } else {
                return bad("need 'match' or 'app'");
            }
            ok()
        }
        (Method::POST, "fault") => {
            let mut st = sh.lock();
            if body.get("clear").and_then(Value::as_bool) == Some(true) {
                st.faults.clear();
                st.set_random_faults(0.0, 0);
                return ok();
            }
            if let Some(p) = body.get("random").and_then(Value::as_f64) {
                let seed = body.get("seed").and_then(Value::as_u64).unwrap_or(1);
                st.set_random_faults(p, seed);
                if body.get("extended").and_then(Value::as_bool) == Some(true)
                    && let Some(r) = st.random.as_mut()
                {
                    r.extended = true;
                    r.delay_ms = body.get("delay_ms").and_then(Value::as_u64).unwrap_or(0);
                }
                return ok();
            }
            match serde_json::from_value::<Fault>(body) {
                Ok(f) => {
                    st.faults.push(f);
                    ok()
                }
                Err(e) => bad(format!("fault: {e}")),
            }
        }
        (Method::GET, "fault_counts") => {
            let st = sh.lock();
            json_response(200, &serde_json::to_value(&st.random_counts).unwrap_or(Value::Null))
        }
        (Method::GET, "requests") => {
            let st = sh.lock();
            json_response(200, &serde_json::to_value(&st.log).unwrap_or(Value::Null))
        }
        (Method::POST, "reset_log") => {
            sh.lock().log.clear();
            ok()
        }
        (Method::POST, "throttle") => match serde_json::from_value::<Throttle>(body) {
            Ok(t) => {
                sh.lock().set_throttle(t);
                ok()
            }
            Err(e) => bad(format!("throttle: {e}")),
        },
        (Method::POST, "knobs") => {
            let mut st = sh.lock();
            let k = &mut st.knobs;
            if let Some(v) = body.get("provision_polls").and_then(Value::as_u64) {
                k.provision_polls = v as u32;
            }
            if let Some(v) = body.get("failure_polls").and_then(Value::as_u64) {
                k.failure_polls = v as u32;
            }
            if let Some(v) = body.get("provision_secs").and_then(Value::as_f64) {
                k.provision_secs = v.max(0.0);
            }
            if let Some(v) = body.get("delete_secs").and_then(Value::as_f64) {
                k.delete_secs = v.max(0.0);
            }
            if let Some(v) = body.get("retry_after").and_then(Value::as_u64) {
                k.retry_after = v as u32;
            }
            if let Some(v) = body.get("page_size").and_then(Value::as_u64) {
                k.page_size = (v as usize).max(1);
            }
            if let Some(v) = body.get("latency_ms").and_then(Value::as_u64) {
                k.latency_ms = v;
            }
            if let Some(v) = body.get("token_expires_in").and_then(Value::as_u64) {
                k.token_expires_in = v;
            }
            if let Some(v) = body.get("delete_conflicts_while_provisioning").and_then(Value::as_bool) {
                k.delete_conflicts_while_provisioning = v;
            }
            if let Some(v) = body.get("delete_async_header").and_then(Value::as_bool) {
                k.delete_async_header = v;
            }
            if let Some(v) = body.get("audiences").and_then(Value::as_array) {
                k.audiences = v.iter().filter_map(Value::as_str).map(str::to_string).collect();
            }
            if let Some(v) = body.get("bad_client_secret") {
                k.bad_client_secret = v.as_str().map(str::to_string);
            }
            ok()
        }
        (Method::POST, "token") => {
            let mut st = sh.lock();
            let exp = body.get("expires_in").and_then(Value::as_u64).unwrap_or(st.knobs.token_expires_in);
            let t = st.issue_token(exp);
            json_response(200, &json!({"access_token": t, "expires_in": exp}))
        }
        (Method::POST, "expire_tokens") => {
            sh.lock().expire_tokens();
            ok()
        }
        (Method::POST, "workload_profiles") => {
            let n = body.get("name").and_then(Value::as_str).unwrap_or("");
            let t = body.get("workloadProfileType").and_then(Value::as_str).unwrap_or("");
            if n.is_empty() || t.is_empty() {
                return bad("need name and workloadProfileType");
            }
            sh.lock().workload_profiles.push((n.to_string(), t.to_string()));
            ok()
        }
        (Method::POST, "storages") => {
            let n = body.get("name").and_then(Value::as_str).unwrap_or("");
            if n.is_empty() {
                return bad("need name");
            }
            sh.lock().storages.insert(n.to_string(), body.get("properties").cloned().unwrap_or(json!({})));
            ok()
        }
        _ => json_response(
            404,
            &json!({"error": "unknown admin endpoint", "endpoints": [
            "GET /_fake/info", "GET /_fake/apps", "POST /_fake/apps", "DELETE /_fake/apps/{name}", "POST /_fake/behaviour",
            "POST /_fake/fault", "GET /_fake/requests", "POST /_fake/reset_log", "POST /_fake/throttle", "POST /_fake/knobs",
            "POST /_fake/token", "POST /_fake/expire_tokens", "POST /_fake/workload_profiles", "POST /_fake/storages"]}),
        ),
    }
}
