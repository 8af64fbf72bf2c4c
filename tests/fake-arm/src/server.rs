//! HTTP plumbing: listeners, logging, latency/fault injection, token endpoints.

use crate::state::{Shared, guid};
use crate::{FaultAction, RequestKind, RequestLog};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::Response;
use rand::Rng;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub const DROP_MARKER: &str = "fake-arm: dropping connection (injected fault)";

/// Suppress the panic message of the deliberate connection drops.
pub fn install_panic_filter() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned());
            if msg.as_deref() == Some(DROP_MARKER) {
                return;
            }
            prev(info)
        }));
    });
}

pub struct Handles {
    https: axum_server::Handle<SocketAddr>,
    ingress: axum_server::Handle<SocketAddr>,
}

impl Handles {
    pub fn shutdown(&self) {
        self.https.shutdown();
        self.ingress.shutdown();
    }
}

pub async fn serve(
    sh: Arc<Shared>,
    https: std::net::TcpListener,
    ingress: std::net::TcpListener,
    certs: crate::tls::Certs,
) -> anyhow::Result<Handles> {
    let tls =
        axum_server::tls_rustls::RustlsConfig::from_pem(certs.leaf_pem.into_bytes(), certs.leaf_key_pem.into_bytes())
            .await?;
    let hh = axum_server::Handle::new();
    let ih = axum_server::Handle::new();
    let app = Router::new().fallback(https_entry).with_state(sh.clone());
    let server = axum_server::from_tcp_rustls(https, tls)?.handle(hh.clone());
    tokio::spawn(async move {
        let _ = server.serve(app.into_make_service()).await;
    });
    let iapp = Router::new().fallback(crate::ingress::ingress_entry).with_state(sh.clone());
    let iserver = axum_server::from_tcp(ingress)?.handle(ih.clone());
    tokio::spawn(async move {
        let _ = iserver.serve(iapp.into_make_service()).await;
    });
    Ok(Handles { https: hh, ingress: ih })
}

pub fn json_response(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

pub fn empty_response(status: u16) -> Response {
    Response::builder().status(status).header("content-length", "0").body(Body::empty()).unwrap()
}

pub fn log(
    sh: &Shared,
    method: &Method,
    path: &str,
    status: u16,
    kind: RequestKind,
    host: Option<String>,
    detail: Value,
) {
    let mut st = sh.lock();
    st.log.push(RequestLog {
        method: method.to_string(),
        path: path.to_string(),
        status,
        kind,
        time: SystemTime::now(),
        host,
        detail,
    });
}

pub fn query_pairs(q: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(q.unwrap_or("").as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

pub fn qget<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(a, _)| a.eq_ignore_ascii_case(k)).map(|(_, v)| v.as_str())
}

fn is_token_path(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p.ends_with("/oauth2/v2.0/token") || p.starts_with("/msi/token")
}

/// Decide whether a fault applies; decrements counters.
pub fn take_fault(sh: &Shared, kind: RequestKind, method: &Method, pq: &str) -> Option<FaultAction> {
    let mut st = sh.lock();
    let lpq = pq.to_ascii_lowercase();
    let mut hit = None;
    for (i, f) in st.faults.iter().enumerate() {
        if f.times == 0 {
            continue;
        }
        if f.kind.unwrap_or(RequestKind::Arm) != kind {
            continue;
        }
        if let Some(m) = &f.method
            && !m.eq_ignore_ascii_case(method.as_str())
        {
            continue;
        }
        if let Some(p) = &f.path_contains
            && !lpq.contains(&p.to_ascii_lowercase())
        {
            continue;
        }
        hit = Some(i);
        break;
    }
    if let Some(i) = hit {
        st.faults[i].times -= 1;
        let a = st.faults[i].action.clone();
        st.faults.retain(|f| f.times > 0);
        return Some(a);
    }
    if kind == RequestKind::Arm
        && let Some(r) = st.random.as_mut()
        && r.rng.random_bool(r.p.clamp(0.0, 1.0))
    {
        let write = *method == Method::PUT || *method == Method::DELETE;
        if r.extended {
            let choices = if write { 7 } else { 6 };
            let (kind, action) = match r.rng.random_range(0..choices) {
                0 => (
                    "429",
                    FaultAction::Status {
                        status: 429,
                        code: "SubscriptionRequestsThrottled".into(),
                        retry_after: Some(1),
                    },
                ),
                1 => (
                    "429-no-retry-after",
                    FaultAction::Status {
                        status: 429,
                        code: "SubscriptionRequestsThrottled".into(),
                        retry_after: None,
                    },
                ),
                2 => {
                    ("500", FaultAction::Status { status: 500, code: "InternalServerError".into(), retry_after: None })
                }
                3 => (
                    "503",
                    FaultAction::Status { status: 503, code: "ServiceUnavailable".into(), retry_after: Some(1) },
                ),
                4 => ("drop", FaultAction::Drop),
                5 if r.delay_ms > 0 => ("delay", FaultAction::Delay { ms: r.delay_ms }),
                5 => {
                    ("500", FaultAction::Status { status: 500, code: "InternalServerError".into(), retry_after: None })
                }
                _ => (
                    "409",
                    FaultAction::Status {
                        status: 409,
                        code: "ContainerAppOperationInProgress".into(),
                        retry_after: None,
                    },
                ),
            };
            *st.random_counts.entry(kind.to_string()).or_default() += 1;
            return Some(action);
        }
        let choice = r.rng.random_range(0..if write { 5 } else { 4 });
        return Some(match choice {
            0 => {
                FaultAction::Status { status: 429, code: "SubscriptionRequestsThrottled".into(), retry_after: Some(1) }
            }
            1 => FaultAction::Status { status: 500, code: "InternalServerError".into(), retry_after: None },
            2 => FaultAction::Status { status: 503, code: "ServiceUnavailable".into(), retry_after: Some(1) },
            3 => FaultAction::Drop,
            _ => FaultAction::Status { status: 409, code: "ContainerAppOperationInProgress".into(), retry_after: None },
        });
    }
    None
}

pub fn fault_message(code: &str, sub: &str) -> String {
    match code {
        "SubscriptionRequestsThrottled" => format!("Number of 'read' requests for subscription '{sub}' actor 'fake-principal' exceeded. Please try again after '1' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information."),
        "ContainerAppOperationInProgress" => "Cannot modify a container app because there is an active provisioning operation in progress. Please retry the operation.".into(),
        "InternalServerError" => "Encountered internal server error. Diagnostic information: timestamp '2026-11-23T00:00:00Z', subscription id '', tracking id '', request correlation id ''.".into(),
        "ServiceUnavailable" => "The service is temporarily unavailable. Please try again later.".into(),
        "GatewayTimeout" => "The gateway did not receive a response from 'Microsoft.App' within the specified time period.".into(),
        _ => format!("Injected fault '{code}'."),
    }
}

async fn https_entry(State(sh): State<Arc<Shared>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/_fake/") || path == "/_fake" {
        return crate::admin::handle(sh, req).await;
    }
    let method = req.method().clone();
    let pq = req.uri().path_and_query().map(|x| x.as_str().to_string()).unwrap_or(path.clone());
    let kind = if is_token_path(&path) { RequestKind::Token } else { RequestKind::Arm };
    let latency = sh.lock().knobs.latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let mut post = None;
    match take_fault(&sh, kind, &method, &pq) {
        Some(FaultAction::Delay { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        Some(FaultAction::Redirect { status, location }) => {
            log(&sh, &method, &pq, status, kind, None, json!({"fault": "redirect"}));
            return Response::builder()
                .status(status)
                .header("location", location)
                .header("content-length", "0")
                .body(Body::empty())
                .unwrap();
        }
        Some(FaultAction::Endless) => {
            log(&sh, &method, &pq, 200, kind, None, json!({"fault": "endless"}));
            return Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::new(Endless))
                .unwrap();
        }
        Some(FaultAction::Huge { bytes }) => {
            log(&sh, &method, &pq, 200, kind, None, json!({"fault": "huge"}));
            let mut body = vec![b' '; bytes];
            if bytes >= 2 {
                body[0] = b'{';
                body[bytes - 1] = b'}';
            }
            return Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap();
        }
        Some(other @ (FaultAction::EchoBody | FaultAction::Rewrite { .. } | FaultAction::Header { .. })) => {
            post = Some(other)
        }
        Some(FaultAction::Drop) => {
            log(&sh, &method, &pq, 0, kind, None, json!({"fault": "drop"}));
            std::panic::panic_any(DROP_MARKER);
        }
        Some(FaultAction::Status { status, code, retry_after }) => {
            let mut resp = if kind == RequestKind::Token {
                json_response(
                    status,
                    &json!({"error": code, "error_description": format!("Injected fault {code}"), "error_codes": [50000]}),
                )
            } else {
                let mut r = json_response(
                    status,
                    &json!({"error": {"code": code, "message": fault_message(&code, &sh.opts.subscription)}}),
                );
                crate::arm::common_headers(&sh, r.headers_mut(), req.headers());
                r
            };
            if let Some(ra) = retry_after {
                resp.headers_mut().insert("retry-after", HeaderValue::from_str(&ra.to_string()).unwrap());
            }
            log(&sh, &method, &pq, status, kind, None, json!({"fault": code}));
            return resp;
        }
        Some(FaultAction::Respond { status, headers, body }) => {
            let mut resp = if body.is_null() { empty_response(status) } else { json_response(status, &body) };
            for (k, v) in &headers {
                if let (Ok(k), Ok(v)) = (axum::http::HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
                    resp.headers_mut().insert(k, v);
                }
            }
            log(&sh, &method, &pq, status, kind, None, json!({"fault": "respond"}));
            return resp;
        }
        None => {}
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => return empty_response(400),
    };
    if post == Some(FaultAction::EchoBody) {
        let echoed = String::from_utf8_lossy(&bytes);
        let r = json_response(
            400,
            &json!({"error": {"code": "InvalidParameterValue", "message": format!("The request body is invalid: {echoed}")}}),
        );
        log(&sh, &method, &pq, 400, kind, None, json!({"fault": "echo"}));
        return r;
    }
    let q = query_pairs(parts.uri.query());
    let (resp, detail) = match kind {
        RequestKind::Token => {
            if path.to_ascii_lowercase().starts_with("/msi/token") {
                msi_token(&sh, &method, &q, &parts.headers)
            } else {
                entra_token(&sh, &method, &path, &bytes)
            }
        }
        _ => {
            let r = crate::arm::handle(&sh, &method, &path, &q, &parts.headers, &bytes);
            (
                r,
                json!({
                    "api_version": qget(&q, "api-version"),
                    "user_agent": parts.headers.get("user-agent").and_then(|v| v.to_str().ok()),
                }),
            )
        }
    };
    log(&sh, &method, &pq, resp.status().as_u16(), kind, None, detail);
    match post {
        Some(FaultAction::Rewrite { from, to }) => rewrite(resp, &from, &to).await,
        Some(FaultAction::Header { name, value }) => {
            let mut resp = resp;
            if let (Ok(n), Ok(v)) = (axum::http::HeaderName::try_from(name), HeaderValue::from_str(&value)) {
                resp.headers_mut().insert(n, v);
            }
            resp
        }
        _ => resp,
    }
}

/// Replace `from` with `to` in every header value and in the body.
async fn rewrite(resp: Response, from: &str, to: &str) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).replace(from, to);
    for v in parts.headers.values_mut() {
        if let Ok(s) = v.to_str()
            && s.contains(from)
            && let Ok(n) = HeaderValue::from_str(&s.replace(from, to))
        {
            *v = n;
        }
    }
    parts.headers.remove("content-length");
    Response::from_parts(parts, Body::from(text))
}

/// A response body that never ends (64 KiB of spaces per frame).
pub(crate) struct Endless;

impl hyper::body::Body for Endless {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        static CHUNK: [u8; 65536] = [b' '; 65536];
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(axum::body::Bytes::from_static(&CHUNK)))))
    }
}

/// Entra v2 client-credentials endpoint.
fn entra_token(sh: &Shared, method: &Method, path: &str, body: &[u8]) -> (Response, Value) {
    let tenant = path.trim_start_matches('/').split('/').next().unwrap_or("").to_string();
    let form: Vec<(String, String)> =
        form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let f = |k: &str| form.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
    let detail = json!({
        "endpoint": "entra",
        "tenant": tenant,
        "client_id": f("client_id"),
        "grant_type": f("grant_type"),
        "scope": f("scope"),
        "client_secret_sent": f("client_secret").is_some(),
        "client_assertion_sent": f("client_assertion").is_some(),
        "client_assertion_type": f("client_assertion_type"),
    });
    let now = time::OffsetDateTime::now_utc();
    let err = |status: u16, error: &str, code: u32, desc: String| -> Response {
        json_response(
            status,
            &json!({
                "error": error,
                "error_description": format!("AADSTS{code}: {desc} Trace ID: {} Correlation ID: {} Timestamp: {}", guid(), guid(), now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()),
                "error_codes": [code],
                "timestamp": now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                "trace_id": guid(),
                "correlation_id": guid(),
                "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
            }),
        )
    };
    if *method != Method::POST {
        return (err(405, "invalid_request", 900561, "The endpoint only accepts POST requests.".into()), detail);
    }
    if f("grant_type").as_deref() != Some("client_credentials") {
        return (
            err(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.".into()),
            detail,
        );
    }
    if f("client_id").unwrap_or_default().is_empty() {
        return (
            err(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.".into(),
            ),
            detail,
        );
    }
    let scope = f("scope").unwrap_or_default();
    if scope.is_empty() {
        return (
            err(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.".into(),
            ),
            detail,
        );
    }
    if !scope.split(' ').all(|s| s.ends_with("/.default")) {
        return (
            err(
                400,
                "invalid_scope",
                1002012,
                format!(
                    "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            ),
            detail,
        );
    }
    let secret = f("client_secret");
    let assertion = f("client_assertion");
    if secret.is_none() && assertion.is_none() {
        return (
            err(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".into(),
            ),
            detail,
        );
    }
    let mut st = sh.lock();
    if let (Some(s), Some(bad)) = (&secret, &st.knobs.bad_client_secret)
        && s == bad
    {
        let cid = f("client_id").unwrap_or_default();
        return (
            err(
                401,
                "invalid_client",
                7000215,
                format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{cid}'."
                ),
            ),
            detail,
        );
    }
    if assertion.is_some()
        && f("client_assertion_type").as_deref() != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        return (
            err(
                400,
                "invalid_request",
                700025,
                "Client assertion type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.".into(),
            ),
            detail,
        );
    }
    let exp = st.knobs.token_expires_in;
    let audience = scope.split(' ').next().map(|s| s.trim_end_matches(".default").to_string());
    let tok = st.issue_token_for(exp, audience);
    (
        json_response(
            200,
            &json!({"token_type": "Bearer", "expires_in": exp, "ext_expires_in": exp, "access_token": tok}),
        ),
        detail,
    )
}

/// Container Apps / App Service managed-identity endpoint (api-version 2019-08-01).
pub fn msi_token(sh: &Shared, method: &Method, q: &[(String, String)], headers: &HeaderMap) -> (Response, Value) {
    let hdr = headers.get("x-identity-header").and_then(|v| v.to_str().ok()).map(str::to_string);
    let ok_hdr = hdr.as_deref() == Some(sh.opts.identity_header.as_str());
    let detail = json!({
        "endpoint": "msi",
        "api_version": qget(q, "api-version"),
        "resource": qget(q, "resource"),
        "client_id": qget(q, "client_id"),
        "object_id": qget(q, "object_id"),
        "msi_res_id": qget(q, "mi_res_id").or(qget(q, "msi_res_id")),
        "identity_header_ok": ok_hdr,
        "metadata_header": headers.get("metadata").and_then(|v| v.to_str().ok()),
    });
    if *method != Method::GET {
        return (json_response(405, &json!({"statusCode": 405, "message": "Method not allowed"})), detail);
    }
    if hdr.is_none() {
        return (
            json_response(401, &json!({"statusCode": 401, "message": "Unauthorized. X-IDENTITY-HEADER is missing."})),
            detail,
        );
    }
    if !ok_hdr {
        return (
            json_response(401, &json!({"statusCode": 401, "message": "Unauthorized. X-IDENTITY-HEADER is invalid."})),
            detail,
        );
    }
    if qget(q, "api-version") != Some("2019-08-01") {
        return (
            json_response(400, &json!({"statusCode": 400, "message": "The api-version must be 2019-08-01."})),
            detail,
        );
    }
    let Some(resource) = qget(q, "resource").filter(|r| !r.is_empty()) else {
        return (
            json_response(400, &json!({"statusCode": 400, "message": "The resource parameter is required."})),
            detail,
        );
    };
    let mut st = sh.lock();
    let exp = st.knobs.token_expires_in;
    let tok = st.issue_token_for(exp, Some(resource.to_string()));
    let expires_on = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() + exp;
    let client_id =
        qget(q, "client_id").map(str::to_string).unwrap_or_else(|| crate::model::fake_guid("system-assigned-client"));
    (
        json_response(
            200,
            &json!({
                "access_token": tok,
                "expires_on": expires_on.to_string(),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": client_id,
            }),
        ),
        detail,
    )
}
