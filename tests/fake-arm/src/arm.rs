//! ARM Microsoft.App routes.
#![allow(clippy::result_large_err)]

use crate::API_VERSIONS;
use crate::model;
use crate::server::{empty_response, json_response, qget};
use crate::state::{self, App, OpKind, Pending, Shared, State, TickEffect, guid, now_rfc3339};
use crate::validate::{ArmError, EnvCtx, validate_put};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};
use std::time::SystemTime;

const SUPPORTED: &str = "2022-03-01, 2022-06-01-preview, 2022-10-01, 2022-11-01-preview, 2023-04-01-preview, 2023-05-01, 2023-05-02-preview, 2023-08-01-preview, 2023-11-02-preview, 2024-02-02-preview, 2024-03-01, 2024-08-02-preview, 2024-10-02-preview, 2025-01-01, 2025-02-02-preview, 2025-07-01, 2025-10-02-preview, 2026-01-01, 2026-03-02-preview, 2026-07-01";

pub fn common_headers(sh: &Shared, h: &mut HeaderMap, req: &HeaderMap) {
    let rid = guid();
    let corr =
        req.get("x-ms-correlation-request-id").and_then(|v| v.to_str().ok()).map(str::to_string).unwrap_or_else(guid);
    let set = |h: &mut HeaderMap, k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set(h, "api-supported-versions", SUPPORTED.into());
    set(h, "x-ms-request-id", rid.clone());
    set(h, "x-ms-correlation-request-id", corr);
    set(
        h,
        "x-ms-routing-request-id",
        format!(
            "{}:{}:{}",
            sh.opts.location.to_ascii_uppercase(),
            time::OffsetDateTime::now_utc().unix_timestamp(),
            rid
        ),
    );
    if let Some(c) = req.get("x-ms-client-request-id") {
        h.insert("x-ms-client-request-id", c.clone());
    }
    set(h, "cache-control", "no-cache".into());
    set(h, "pragma", "no-cache".into());
    set(h, "expires", "-1".into());
    set(h, "strict-transport-security", "max-age=31536000; includeSubDomains".into());
    set(h, "x-content-type-options", "nosniff".into());
    set(h, "server", "Microsoft-IIS/10.0".into());
    set(h, "x-powered-by", "ASP.NET".into());
}

fn err(e: &ArmError) -> Response {
    json_response(e.status, &e.body())
}

fn arm_err(status: u16, code: &str, msg: impl Into<String>) -> Response {
    err(&ArmError::new(status, code, msg))
}

fn not_found_app(sh: &Shared, name: &str) -> Response {
    arm_err(
        404,
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.App/containerApps/{name}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            sh.opts.resource_group
        ),
    )
}

/// Effects to run outside the state lock.
enum Effect {
    Provisioned(String),
    Removed(Box<App>),
}

/// Wall-clock mode: complete due operations and run their effects (the ingress calls this too).
pub fn advance(sh: &std::sync::Arc<Shared>) {
    let mut effects = Vec::new();
    {
        let mut st = sh.lock();
        for (key, e) in state::advance(&mut st) {
            collect(&mut effects, &key, e);
        }
    }
    for e in effects {
        match e {
            Effect::Provisioned(key) => crate::launch::on_provisioned(sh, &key),
            Effect::Removed(mut app) => crate::launch::kill_app(&mut app),
        }
    }
}

fn collect(effects: &mut Vec<Effect>, key: &str, e: TickEffect) {
    match e {
        TickEffect::None => {}
        TickEffect::Provisioned => effects.push(Effect::Provisioned(key.to_string())),
        TickEffect::Removed(a) => effects.push(Effect::Removed(a)),
    }
}

pub fn handle(
    sh: &std::sync::Arc<Shared>,
    method: &Method,
    path: &str,
    q: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let mut effects = Vec::new();
    let mut resp = {
        let mut st = sh.lock();
        for (key, e) in state::advance(&mut st) {
            collect(&mut effects, &key, e);
        }
        route(sh, &mut st, method, path, q, headers, body, &mut effects)
    };
    for e in effects {
        match e {
            Effect::Provisioned(key) => crate::launch::on_provisioned(sh, &key),
            Effect::Removed(mut app) => crate::launch::kill_app(&mut app),
        }
    }
    let mut h = std::mem::take(resp.headers_mut());
    common_headers(sh, &mut h, headers);
    resp.headers_mut().extend(h);
    resp
}

fn check_auth(st: &State, headers: &HeaderMap) -> Result<(), Response> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let www = |desc: &str| {
        format!(
            "Bearer authorization_uri=\"https://login.microsoftonline.com/common\", error=\"invalid_token\", error_description=\"{desc}\""
        )
    };
    let fail = |code: &str, msg: String, desc: &str| {
        let mut r = arm_err(401, code, msg);
        r.headers_mut().insert("www-authenticate", HeaderValue::from_str(&www(desc)).unwrap());
        Err(r)
    };
    if auth.is_empty() {
        return fail(
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.".into(),
            "The authentication failed because of missing 'Authorization' header.",
        );
    }
    let Some(tok) = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("bearer ")) else {
        return fail(
            "AuthenticationFailedInvalidHeader",
            "Authentication failed. The 'Authorization' header is provided in an invalid format.".into(),
            "The authentication scheme is not Bearer.",
        );
    };
    match st.tokens.get(tok.trim()) {
        None => {
            fail("InvalidAuthenticationToken", "The access token is invalid.".into(), "The access token is invalid.")
        }
        Some((exp, _)) if *exp <= SystemTime::now() => {
            let fmt = |t: SystemTime| {
                time::OffsetDateTime::from(t).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
            };
            fail(
                "ExpiredAuthenticationToken",
                format!(
                    "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                    fmt(*exp),
                    fmt(SystemTime::now())
                ),
                "The access token has expired.",
            )
        }
        Some((_, Some(aud)))
            if !st
                .knobs
                .audiences
                .iter()
                .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(aud.trim_end_matches('/'))) =>
        {
            fail(
                "InvalidAuthenticationTokenAudience",
                format!(
                    "The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences {}.",
                    st.knobs.audiences.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(",")
                ),
                "The access token audience is invalid.",
            )
        }
        Some(_) => Ok(()),
    }
}

/// Apply the token bucket for the request class; Ok(remaining) or Err(429 response).
fn throttle(sh: &Shared, st: &mut State, method: &Method) -> Result<(&'static str, u32), Response> {
    let (class, enforced) = match *method {
        Method::GET | Method::HEAD => ("reads", st.throttle_enforced.reads.is_some()),
        Method::DELETE => ("deletes", st.throttle_enforced.deletes.is_some()),
        _ => ("writes", st.throttle_enforced.writes.is_some()),
    };
    let b = match class {
        "reads" => &mut st.buckets.reads,
        "deletes" => &mut st.buckets.deletes,
        _ => &mut st.buckets.writes,
    };
    match b.take() {
        Ok(rem) => Ok((class, rem)),
        Err(secs) if enforced => {
            let op = match class {
                "reads" => "read",
                "deletes" => "delete",
                _ => "write",
            };
            let mut r = arm_err(
                429,
                "SubscriptionRequestsThrottled",
                format!(
                    "Number of '{op}' requests for subscription '{}' actor 'fake-principal' exceeded. Please try again after '{secs}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.",
                    sh.opts.subscription
                ),
            );
            r.headers_mut().insert("retry-after", HeaderValue::from_str(&secs.to_string()).unwrap());
            ratelimit_headers(&mut r, class, 0);
            Err(r)
        }
        Err(_) => Ok((class, 0)),
    }
}

fn ratelimit_headers(r: &mut Response, class: &str, rem: u32) {
    let h = r.headers_mut();
    let k1 = format!("x-ms-ratelimit-remaining-subscription-{class}");
    let k2 = format!("x-ms-ratelimit-remaining-subscription-global-{class}");
    h.insert(
        axum::http::HeaderName::from_bytes(k1.as_bytes()).unwrap(),
        HeaderValue::from_str(&rem.to_string()).unwrap(),
    );
    h.insert(
        axum::http::HeaderName::from_bytes(k2.as_bytes()).unwrap(),
        HeaderValue::from_str(&(rem * 15 + 14).to_string()).unwrap(),
    );
}

#[allow(clippy::too_many_arguments)]
fn route(
    sh: &Shared,
    st: &mut State,
    method: &Method,
    path: &str,
    q: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
    effects: &mut Vec<Effect>,
) -> Response {
    if let Err(r) = check_auth(st, headers) {
        return r;
    }
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let l: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let ls: Vec<&str> = l.iter().map(String::as_str).collect();
    if ls.len() < 2 || ls[0] != "subscriptions" {
        return arm_err(404, "InvalidResourceType", format!("The resource type could not be found for path '{path}'."));
    }
    if !segs[1].eq_ignore_ascii_case(&sh.opts.subscription) {
        return arm_err(404, "SubscriptionNotFound", format!("The subscription '{}' could not be found.", segs[1]));
    }
    // Other resource providers acactl reads (doctor): identities and the caller's permissions.
    if let Some(r) = other_providers(sh, st, method, &segs, &ls, q) {
        return r;
    }
    match qget(q, "api-version") {
        None => {
            return arm_err(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            );
        }
        Some(v) if !API_VERSIONS.contains(&v) => {
            return arm_err(
                400,
                "InvalidApiVersionParameter",
                format!("The api-version '{v}' is invalid. The supported versions are '{}'.", API_VERSIONS.join(",")),
            );
        }
        _ => {}
    }
    let api = qget(q, "api-version").unwrap().to_string();
    let (class, rem) = match throttle(sh, st, method) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut r = route_inner(sh, st, method, &segs, &ls, q, headers, &api, body, effects);
    ratelimit_headers(&mut r, class, rem);
    r
}

#[allow(clippy::too_many_arguments)]
fn route_inner(
    sh: &Shared,
    st: &mut State,
    method: &Method,
    segs: &[&str],
    ls: &[&str],
    q: &[(String, String)],
    headers: &HeaderMap,
    api: &str,
    body: &[u8],
    effects: &mut Vec<Effect>,
) -> Response {
    let n = ls.len();
    // /subscriptions/{sub}/providers/Microsoft.App/...
    if n >= 4 && ls[2] == "providers" && ls[3] == "microsoft.app" {
        if n == 5 && ls[4] == "containerapps" && *method == Method::GET {
            return list_apps(sh, st, q, api, None);
        }
        if n == 8 && ls[4] == "locations" {
            if !ls[5].eq_ignore_ascii_case(&sh.opts.location) {
                return arm_err(404, "LocationNotFound", format!("The location '{}' could not be found.", segs[5]));
            }
            if *method != Method::GET {
                return method_not_allowed(method);
            }
            if ls[6] == "containerappoperationstatuses" {
                return op_status(sh, st, segs[7], q, effects);
            }
            if ls[6] == "containerappoperationresults" {
                return op_result(sh, st, segs[7], q, effects);
            }
        }
        return arm_err(
            400,
            "InvalidResourceType",
            format!(
                "The resource type '{}' could not be found in the namespace 'Microsoft.App' for api version '{api}'.",
                segs.get(4).unwrap_or(&"")
            ),
        );
    }
    if n >= 4 && ls[2] == "resourcegroups" {
        if !segs[3].eq_ignore_ascii_case(&sh.opts.resource_group) {
            return arm_err(404, "ResourceGroupNotFound", format!("Resource group '{}' could not be found.", segs[3]));
        }
        if n >= 7 && ls[4] == "providers" && ls[5] == "microsoft.app" {
            let rest = &ls[6..];
            let rs = &segs[6..];
            match (rest.len(), rest[0]) {
                (1, "containerapps") if *method == Method::GET => {
                    return list_apps(sh, st, q, api, Some(()));
                }
                (2, "containerapps") => {
                    let name = rs[1];
                    return match *method {
                        Method::GET => get_app(sh, st, name, effects),
                        Method::PUT => {
                            let ct = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
                            if !ct.to_ascii_lowercase().starts_with("application/json") {
                                return arm_err(
                                    415,
                                    "UnsupportedMediaType",
                                    format!(
                                        "The content media type '{ct}' is not supported. Only 'application/json' is supported."
                                    ),
                                );
                            }
                            put_app(sh, st, name, body, api)
                        }
                        Method::DELETE => delete_app(sh, st, name, api),
                        Method::PATCH => {
                            arm_err(400, "PatchNotSupportedByFake", "PATCH is not implemented by fake-arm; use PUT.")
                        }
                        _ => method_not_allowed(method),
                    };
                }
                (3, "containerapps") if rest[2] == "listsecrets" && *method == Method::POST => {
                    return list_secrets(sh, st, rs[1]);
                }
                (3, "containerapps") if rest[2] == "revisions" && *method == Method::GET => {
                    let Some(app) = st.apps.get(rest[1]) else {
                        return not_found_app(sh, rs[1]);
                    };
                    let v: Vec<Value> = app.revisions.iter().map(|r| model::render_revision(sh, st, app, r)).collect();
                    return json_response(200, &json!({"value": v, "nextLink": null}));
                }
                (4, "containerapps") if rest[2] == "revisions" && *method == Method::GET => {
                    let Some(app) = st.apps.get(rest[1]) else {
                        return not_found_app(sh, rs[1]);
                    };
                    return match app.revisions.iter().find(|r| r.name.eq_ignore_ascii_case(rs[3])) {
                        Some(r) => json_response(200, &model::render_revision(sh, st, app, r)),
                        None => revision_not_found(sh, rs[1], rs[3]),
                    };
                }
                (5 | 6, "containerapps")
                    if rest[2] == "revisions" && rest[4] == "replicas" && *method == Method::GET =>
                {
                    let Some(app) = st.apps.get(rest[1]) else {
                        return not_found_app(sh, rs[1]);
                    };
                    let Some(r) = app.revisions.iter().find(|r| r.name.eq_ignore_ascii_case(rs[3])) else {
                        return revision_not_found(sh, rs[1], rs[3]);
                    };
                    let reps = model::render_replicas(sh, app, r);
                    if rest.len() == 5 {
                        return json_response(200, &json!({"value": reps}));
                    }
                    return match reps
                        .into_iter()
                        .find(|x| x["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(rs[5])))
                    {
                        Some(x) => json_response(200, &x),
                        None => arm_err(
                            404,
                            "ResourceNotFound",
                            format!("Replica '{}' of revision '{}' was not found.", rs[5], rs[3]),
                        ),
                    };
                }
                (2, "managedenvironments") if *method == Method::GET => {
                    if !rs[1].eq_ignore_ascii_case(&sh.opts.environment_name) {
                        return env_not_found(sh, rs[1]);
                    }
                    return json_response(200, &model::render_environment(sh, st));
                }
                (3, "managedenvironments") if rest[2] == "storages" && *method == Method::GET => {
                    if !rs[1].eq_ignore_ascii_case(&sh.opts.environment_name) {
                        return env_not_found(sh, rs[1]);
                    }
                    let v: Vec<Value> = st.storages.iter().map(|(k, p)| model::render_storage(sh, k, p)).collect();
                    return json_response(200, &json!({"value": v}));
                }
                (4, "managedenvironments") if rest[2] == "storages" && *method == Method::GET => {
                    if !rs[1].eq_ignore_ascii_case(&sh.opts.environment_name) {
                        return env_not_found(sh, rs[1]);
                    }
                    return match st.storages.iter().find(|(k, _)| k.eq_ignore_ascii_case(rs[3])) {
                        Some((k, p)) => json_response(200, &model::render_storage(sh, k, p)),
                        None => arm_err(
                            404,
                            "ResourceNotFound",
                            format!(
                                "The Resource 'Microsoft.App/managedEnvironments/{}/storages/{}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                                rs[1], rs[3], sh.opts.resource_group
                            ),
                        ),
                    };
                }
                _ => {}
            }
        }
    }
    arm_err(
        400,
        "InvalidResourceType",
        format!(
            "The resource type '{}' could not be found in the namespace 'Microsoft.App' for api version '{api}'.",
            segs.last().unwrap_or(&"")
        ),
    )
}

/// `GET .../providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}` (api 2023-01-31) and
/// `GET {scope}/providers/Microsoft.Authorization/permissions` (api 2022-04-01).
fn other_providers(
    sh: &Shared,
    st: &State,
    method: &Method,
    segs: &[&str],
    ls: &[&str],
    q: &[(String, String)],
) -> Option<Response> {
    let n = ls.len();
    let api = qget(q, "api-version").unwrap_or("");
    if n >= 2 && ls[n - 2] == "microsoft.authorization" && ls[n - 1] == "permissions" {
        if api != "2022-04-01" {
            return Some(arm_err(
                400,
                "InvalidApiVersionParameter",
                format!("The api-version '{api}' is invalid. The supported versions are '2022-04-01'."),
            ));
        }
        if *method != Method::GET {
            return Some(method_not_allowed(method));
        }
        let (actions, not_actions) = &st.permissions;
        return Some(json_response(
            200,
            &json!({"value": [{"actions": actions, "notActions": not_actions, "dataActions": [], "notDataActions": []}]}),
        ));
    }
    if n == 8 && ls[2] == "resourcegroups" && ls[5] == "microsoft.managedidentity" && ls[6] == "userassignedidentities"
    {
        if api != "2023-01-31" && api != "2024-11-30" {
            return Some(arm_err(
                400,
                "InvalidApiVersionParameter",
                format!("The api-version '{api}' is invalid. The supported versions are '2023-01-31,2024-11-30'."),
            ));
        }
        if *method != Method::GET {
            return Some(method_not_allowed(method));
        }
        let id = format!("/{}", segs.join("/"));
        return Some(match st.identities.get(&id.to_ascii_lowercase()) {
            Some((client, principal)) => json_response(
                200,
                &json!({
                    "id": id, "name": segs[7], "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
                    "location": sh.opts.location, "tags": {},
                    "properties": {"tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "principalId": principal, "clientId": client}
                }),
            ),
            None => arm_err(
                404,
                "ResourceNotFound",
                format!(
                    "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/{}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                    segs[7], segs[3]
                ),
            ),
        });
    }
    None
}

fn method_not_allowed(method: &Method) -> Response {
    arm_err(405, "MethodNotAllowed", format!("The requested resource does not support http method '{method}'."))
}

fn env_not_found(sh: &Shared, name: &str) -> Response {
    arm_err(
        404,
        "ResourceNotFound",
        format!(
            "The Resource 'Microsoft.App/managedEnvironments/{name}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            sh.opts.resource_group
        ),
    )
}

fn revision_not_found(_sh: &Shared, app: &str, rev: &str) -> Response {
    arm_err(404, "ContainerAppRevisionNotFound", format!("Revision '{rev}' was not found for container app '{app}'."))
}

fn list_apps(sh: &Shared, st: &State, q: &[(String, String)], api: &str, _rg: Option<()>) -> Response {
    let page = st.knobs.page_size.max(1);
    let skip = qget(q, "$skiptoken")
        .and_then(|t| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("offset:").and_then(|x| x.parse::<usize>().ok()))
        .unwrap_or(0);
    let all: Vec<&App> = st.apps.values().collect();
    let items: Vec<Value> = all.iter().skip(skip).take(page).map(|a| model::render_app(sh, st, a)).collect();
    let next = if skip + page < all.len() {
        let tok = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{}", skip + page));
        let base = if _rg.is_some() {
            format!(
                "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.App/containerApps",
                sh.base_url, sh.opts.subscription, sh.opts.resource_group
            )
        } else {
            format!("{}/subscriptions/{}/providers/Microsoft.App/containerApps", sh.base_url, sh.opts.subscription)
        };
        json!(format!("{base}?api-version={api}&%24skiptoken={tok}"))
    } else {
        Value::Null
    };
    json_response(200, &json!({"value": items, "nextLink": next}))
}

fn get_app(sh: &Shared, st: &mut State, name: &str, effects: &mut Vec<Effect>) -> Response {
    let key = name.to_ascii_lowercase();
    let e = state::tick(st, &key);
    collect(effects, &key, e);
    match st.apps.get(&key) {
        Some(a) => json_response(200, &model::render_app(sh, st, a)),
        None => not_found_app(sh, name),
    }
}

fn list_secrets(sh: &Shared, st: &State, name: &str) -> Response {
    let Some(app) = st.apps.get(&name.to_ascii_lowercase()) else {
        return not_found_app(sh, name);
    };
    let defs =
        app.spec.pointer("/properties/configuration/secrets").and_then(Value::as_array).cloned().unwrap_or_default();
    let v: Vec<Value> = app
        .secrets
        .iter()
        .map(|(n, val)| {
            let d = defs.iter().find(|d| d["name"] == json!(n)).cloned().unwrap_or(json!({}));
            json!({"name": n, "value": if d.get("keyVaultUrl").is_some() { Value::Null } else { json!(val) }, "identity": d.get("identity"), "keyVaultUrl": d.get("keyVaultUrl")})
        })
        .collect();
    json_response(200, &json!({"value": v}))
}

/// A long, opaque, signed-looking query (ARM style `t=&c=&s=&h=`), > 2 KB.
fn signed_query() -> String {
    use rand::RngCore;
    let mut rng = rand::rng();
    let mut c = vec![0u8; 1900];
    rng.fill_bytes(&mut c);
    let mut s = vec![0u8; 256];
    rng.fill_bytes(&mut s);
    let mut h = vec![0u8; 32];
    rng.fill_bytes(&mut h);
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let t: u64 = 638_990_000_000_000_000
        + (SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_micros() as u64 % 10_000_000_000);
    format!("t={t}&c={}&s={}&h={}", e.encode(c), e.encode(s), e.encode(h))
}

pub struct OpUrl {
    pub url: String,
    pub signed: String,
}

fn op_url(sh: &Shared, kind: &str, id: &str, api: &str, status: bool) -> OpUrl {
    let signed = signed_query();
    let extra = if status { "&azureAsyncOperation=true" } else { "" };
    OpUrl {
        url: format!(
            "{}/subscriptions/{}/providers/Microsoft.App/locations/{}/{kind}/{id}?api-version={api}{extra}&{signed}",
            sh.base_url, sh.opts.subscription, sh.opts.location
        ),
        signed,
    }
}

/// The signed params must come back verbatim.
fn check_signed(st: &State, id: &str, q: &[(String, String)]) -> Result<(), Response> {
    let Some(expected) = st.op_signed.get(id) else {
        return Ok(());
    };
    let exp = crate::server::query_pairs(Some(expected));
    for (k, v) in &exp {
        if qget(q, k) != Some(v.as_str()) {
            return Err(arm_err(
                400,
                "InvalidAsyncOperationUrl",
                format!(
                    "The operation URL is invalid: query parameter '{k}' is missing or was altered. Use the Azure-AsyncOperation / Location URL exactly as returned."
                ),
            ));
        }
    }
    Ok(())
}

fn retry_after(r: &mut Response, secs: u32) {
    r.headers_mut().insert("retry-after", HeaderValue::from_str(&secs.to_string()).unwrap());
}

fn op_status(sh: &Shared, st: &mut State, id: &str, q: &[(String, String)], effects: &mut Vec<Effect>) -> Response {
    if let Err(r) = check_signed(st, id, q) {
        return r;
    }
    let Some(op) = st.ops.get(id) else {
        return arm_err(404, "OperationNotFound", format!("The operation '{id}' could not be found."));
    };
    if op.status == "InProgress" {
        let key = op.app.clone();
        let e = state::tick(st, &key);
        collect(effects, &key, e);
    }
    let op = st.ops.get(id).unwrap();
    let body_id = model::fake_guid(&format!("status-{id}"));
    let mut b = json!({
        "id": format!("/subscriptions/{}/providers/Microsoft.App/locations/{}/containerappOperationStatuses/{body_id}", sh.opts.subscription, sh.opts.location),
        "name": body_id,
        "status": op.status,
        "startTime": op.start,
    });
    if let Some(end) = &op.end {
        b["endTime"] = json!(end);
    }
    if let Some(e) = &op.error {
        b["error"] = e.clone();
    }
    let in_progress = op.status == "InProgress";
    let mut r = json_response(200, &b);
    if in_progress {
        retry_after(&mut r, st.knobs.retry_after);
    }
    r
}

fn op_result(sh: &Shared, st: &mut State, id: &str, q: &[(String, String)], effects: &mut Vec<Effect>) -> Response {
    if let Err(r) = check_signed(st, id, q) {
        return r;
    }
    let Some(op) = st.ops.get(id) else {
        return arm_err(404, "OperationNotFound", format!("The operation '{id}' could not be found."));
    };
    if op.status == "InProgress" {
        let key = op.app.clone();
        let e = state::tick(st, &key);
        collect(effects, &key, e);
    }
    let op = st.ops.get(id).unwrap();
    match op.status.as_str() {
        "InProgress" => {
            let mut r = empty_response(202);
            let url = st.op_urls.get(id).cloned().unwrap_or_default();
            r.headers_mut().insert("location", HeaderValue::from_str(&url).unwrap());
            retry_after(&mut r, st.knobs.retry_after);
            r
        }
        "Succeeded" => {
            if op.kind == OpKind::Put {
                match st.apps.get(&op.app) {
                    Some(a) => json_response(200, &model::render_app(sh, st, a)),
                    None => empty_response(200),
                }
            } else {
                empty_response(200)
            }
        }
        _ => {
            let e = op
                .error
                .clone()
                .unwrap_or(json!({"code": "ContainerAppOperationError", "message": "Operation failed."}));
            json_response(400, &json!({"error": e}))
        }
    }
}

fn in_progress_conflict(name: &str) -> Response {
    arm_err(
        409,
        "ContainerAppOperationInProgress",
        format!(
            "Cannot modify a container app '{name}' because there is an active provisioning operation in progress. Please retry the operation."
        ),
    )
}

fn put_app(sh: &Shared, st: &mut State, name: &str, body: &[u8], api: &str) -> Response {
    let key = name.to_ascii_lowercase();
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return arm_err(
                400,
                "InvalidRequestContent",
                format!("The request content was invalid and could not be deserialized: '{e}'."),
            );
        }
    };
    if let Some(a) = st.apps.get(&key)
        && a.pending.is_some()
    {
        return in_progress_conflict(name);
    }
    let env_id = sh.environment_id();
    let ctx = EnvCtx {
        environment_id: &env_id,
        workload_profiles: &st.workload_profiles,
        storages: st.storages.keys().cloned().collect(),
    };
    let norm = match validate_put(name, &parsed, &ctx) {
        Ok(v) => v,
        Err(e) => return err(&e),
    };
    let old_secrets: Vec<(String, String)> = st.apps.get(&key).map(|a| a.secrets.clone()).unwrap_or_default();
    let mut secrets = vec![];
    for s in norm.pointer("/properties/configuration/secrets").and_then(Value::as_array).cloned().unwrap_or_default() {
        let n = s["name"].as_str().unwrap_or("").to_string();
        let v = if let Some(v) = s.get("value").and_then(Value::as_str) {
            v.to_string()
        } else if s.get("keyVaultUrl").is_some() {
            String::new()
        } else if let Some((_, v)) = old_secrets.iter().find(|(o, _)| *o == n) {
            v.clone()
        } else {
            return arm_err(
                400,
                "ContainerAppSecretInvalid",
                format!("Secret '{n}' must have either a 'value' or a 'keyVaultUrl'."),
            );
        };
        secrets.push((n, v));
    }
    let behaviour = st.behaviour_for(&key, &norm);
    let failing_init = st.failing_init(&key, &norm);
    let template = norm.pointer("/properties/template").cloned().unwrap_or(json!({}));
    let op_id = state::start_op(st, &key, OpKind::Put);
    let url = op_url(sh, "containerappOperationStatuses", &op_id, api, true);
    st.op_signed.insert(op_id.clone(), url.signed.clone());
    st.op_urls.insert(op_id.clone(), url.url.clone());
    let (needed, fail) = state::put_plan(&st.knobs, &behaviour);
    let now = now_rfc3339();
    let created;
    match st.apps.get_mut(&key) {
        Some(app) => {
            created = false;
            let old_t = app.spec.pointer("/properties/template").cloned().unwrap_or(json!({}));
            let strip = |t: &Value| {
                let mut t = t.clone();
                if let Some(o) = t.as_object_mut() {
                    o.remove("revisionSuffix");
                }
                t
            };
            let new_suffix = template.get("revisionSuffix").and_then(Value::as_str).unwrap_or("");
            let old_suffix = old_t.get("revisionSuffix").and_then(Value::as_str).unwrap_or("");
            let changed = strip(&old_t) != strip(&template) || (new_suffix != old_suffix && !new_suffix.is_empty());
            if changed
                && !new_suffix.is_empty()
                && app.revisions.iter().any(|r| r.name == format!("{key}--{new_suffix}"))
            {
                st.ops.remove(&op_id);
                return arm_err(
                    400,
                    "ContainerAppInvalidRevisionName",
                    format!("Revision '{key}--{new_suffix}' already exists. Use a different revisionSuffix."),
                );
            }
            app.spec = norm;
            app.secrets = secrets;
            app.behaviour = behaviour;
            app.failing_init = failing_init;
            app.modified_at = now;
            app.provisioning_state = "InProgress".into();
            app.pending_revision_template = if changed || app.revisions.is_empty() { Some(template) } else { None };
            app.pending = Some(Pending {
                op_id: op_id.clone(),
                kind: OpKind::Put,
                ticks: 0,
                needed,
                fail,
                since: std::time::Instant::now(),
            });
        }
        None => {
            created = true;
            let app = App {
                name: key.clone(),
                failing_init,
                spec: norm,
                secrets,
                provisioning_state: "InProgress".into(),
                running_status: "Running".into(),
                revisions: vec![],
                latest_revision: String::new(),
                latest_ready: String::new(),
                pending: Some(Pending {
                    op_id: op_id.clone(),
                    kind: OpKind::Put,
                    ticks: 0,
                    needed,
                    fail,
                    since: std::time::Instant::now(),
                }),
                behaviour,
                created_at: now.clone(),
                modified_at: now,
                local_port: None,
                listening: false,
                child: None,
                pending_revision_template: Some(template),
            };
            st.apps.insert(key.clone(), app);
        }
    }
    let app = st.apps.get(&key).unwrap();
    let mut r = json_response(if created { 201 } else { 200 }, &model::render_app(sh, st, app));
    let h = r.headers_mut();
    h.insert("azure-asyncoperation", HeaderValue::from_str(&url.url).unwrap());
    h.insert("x-ms-async-operation-timeout", HeaderValue::from_static("PT15M"));
    h.insert("x-ms-ratelimit-remaining-subscription-resource-requests", HeaderValue::from_static("699"));
    // Real ARM sends no Retry-After with the 201 of a create (aca-arm.md §3); updates keep one.
    if !created {
        retry_after(&mut r, st.knobs.retry_after);
    }
    r
}

fn delete_app(sh: &Shared, st: &mut State, name: &str, api: &str) -> Response {
    let key = name.to_ascii_lowercase();
    let Some(app) = st.apps.get(&key) else {
        return empty_response(204);
    };
    if let Some(p) = &app.pending {
        if p.kind == OpKind::Delete {
            // Already deleting: hand out the same operation again.
            let url = st.op_urls.get(&p.op_id).cloned().unwrap_or_default();
            let mut r = empty_response(202);
            r.headers_mut().insert("location", HeaderValue::from_str(&url).unwrap());
            retry_after(&mut r, st.knobs.retry_after);
            return r;
        }
        if st.knobs.delete_conflicts_while_provisioning {
            return in_progress_conflict(name);
        }
        // The DELETE wins: the running PUT operation ends as Canceled.
        let op_id = p.op_id.clone();
        if let Some(op) = st.ops.get_mut(&op_id) {
            op.status = "Canceled".into();
            op.end = Some(crate::state::now_op_time());
            op.error = Some(json!({
                "code": "OperationCanceled",
                "message": format!("The operation on container app '{key}' was canceled because the container app is being deleted.")
            }));
        }
    }
    let needed = state::delete_plan(&st.knobs, &st.apps[&key].behaviour);
    let op_id = state::start_op(st, &key, OpKind::Delete);
    let url = op_url(sh, "containerappOperationResults", &op_id, api, false);
    st.op_signed.insert(op_id.clone(), url.signed.clone());
    st.op_urls.insert(op_id.clone(), url.url.clone());
    let app = st.apps.get_mut(&key).unwrap();
    app.provisioning_state = "Deleting".into();
    app.pending_revision_template = None;
    app.pending = Some(Pending {
        op_id: op_id.clone(),
        kind: OpKind::Delete,
        ticks: 0,
        needed,
        fail: false,
        since: std::time::Instant::now(),
    });
    let mut r = empty_response(202);
    if st.knobs.delete_async_header {
        // Same operation, same signature, as a status URL.
        let status_url = url.url.replace("/containerappOperationResults/", "/containerappOperationStatuses/").replacen(
            &format!("api-version={api}&"),
            &format!("api-version={api}&azureAsyncOperation=true&"),
            1,
        );
        r.headers_mut().insert("azure-asyncoperation", HeaderValue::from_str(&status_url).unwrap());
    }
    r.headers_mut().insert("location", HeaderValue::from_str(&url.url).unwrap());
    retry_after(&mut r, st.knobs.retry_after);
    r
}
