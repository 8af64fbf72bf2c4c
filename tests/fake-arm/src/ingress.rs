//! Plain-HTTP listener emulating the ACA (envoy) ingress: Host-routed.

use crate::server::{json_response, log, msi_token, query_pairs};
use crate::state::Shared;
use crate::{Behaviour, RequestKind};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::Response;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::sync::Arc;

const NOT_FOUND_PAGE: &str = "<!DOCTYPE html>\n<html>\n<head>\n<title>Azure Container App - Unavailable</title>\n</head>\n<body>\n<h1>Error 404 - This Container App is stopped or does not exist.</h1>\n<p>The Container App you have attempted to reach is currently stopped or does not exist.</p>\n<p>If you are the Container App administrator, please visit <a href=\"https://portal.azure.com\">Azure Portal</a>.</p>\n</body>\n</html>\n";

enum Route {
    NotFound,
    Redirect(String),
    Unavailable(&'static str),
    Jupyter { prefix: String },
    Proxy { port: u16, transport: String },
}

fn html(status: u16, body: &str) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn text(status: u16, body: &str) -> Response {
    Response::builder().status(status).header("content-type", "text/plain").body(Body::from(body.to_string())).unwrap()
}

fn service_prefix(app: &crate::state::App) -> Option<String> {
    let env = app.spec.pointer("/properties/template/containers/0/env").and_then(Value::as_array)?;
    for e in env {
        if e["name"] == json!("JUPYTERHUB_SERVICE_PREFIX") {
            return match (e.get("value").and_then(Value::as_str), e.get("secretRef").and_then(Value::as_str)) {
                (Some(v), _) => Some(v.to_string()),
                (None, Some(sr)) => app.secrets.iter().find(|(k, _)| k == sr).map(|x| x.1.clone()),
                _ => None,
            };
        }
    }
    None
}

fn decide(sh: &Shared, host: &str, path_q: &str) -> Route {
    let st = sh.lock();
    let h = host.to_ascii_lowercase();
    let dom = sh.default_domain.to_ascii_lowercase();
    let by_host = st.apps.values().find(|a| {
        let n = &a.name;
        h == *n
            || h == format!("{n}.{dom}")
            || h == format!("{n}.internal.{dom}")
            || a.revisions.iter().any(|r| {
                let rn = r.name.to_ascii_lowercase();
                h == format!("{rn}.{dom}") || h == format!("{rn}.internal.{dom}")
            })
    });
    let app = by_host.or_else(|| {
        if !sh.opts.ingress_route_by_prefix {
            return None;
        }
        let path = path_q.split('?').next().unwrap_or("");
        st.apps
            .values()
            .filter_map(|a| service_prefix(a).map(|p| (a, p)))
            .filter(|(_, p)| {
                let p = p.trim_end_matches('/');
                !p.is_empty() && (path == p || path.starts_with(&format!("{p}/")))
            })
            .max_by_key(|(_, p)| p.len())
            .map(|(a, _)| a)
    });
    let Some(app) = app else {
        return Route::NotFound;
    };
    let Some(ing) = app.spec.pointer("/properties/configuration/ingress").filter(|v| v.is_object()) else {
        return Route::NotFound;
    };
    if app.latest_ready.is_empty() && app.revisions.iter().all(|r| r.provisioning_state != "Provisioned") {
        return Route::NotFound;
    }
    if app.provisioning_state == "Deleting" {
        return Route::NotFound;
    }
    if !ing.get("allowInsecure").and_then(Value::as_bool).unwrap_or(false) {
        return Route::Redirect(format!("https://{host}{path_q}"));
    }
    if app.behaviour == Behaviour::NotServing {
        return Route::Unavailable("no healthy upstream");
    }
    let Some(rev) = app.revisions.iter().find(|r| r.name == app.latest_ready) else {
        return Route::Unavailable("no healthy upstream");
    };
    if !(rev.running_state == "Running" || rev.running_state == "ScaledToZero") || rev.container_waiting.is_some() {
        return Route::Unavailable(
            "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
        );
    }
    let transport = ing.get("transport").and_then(Value::as_str).unwrap_or("auto").to_string();
    if sh.opts.launch {
        return match (app.local_port, app.listening) {
            (Some(port), true) => Route::Proxy { port, transport },
            _ => Route::Unavailable(
                "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
            ),
        };
    }
    let env = app
        .spec
        .pointer("/properties/template/containers/0/env")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut prefix = "/".to_string();
    for e in env {
        if e["name"] == json!("JUPYTERHUB_SERVICE_PREFIX") {
            prefix = match (e.get("value").and_then(Value::as_str), e.get("secretRef").and_then(Value::as_str)) {
                (Some(v), _) => v.to_string(),
                (None, Some(sr)) => app.secrets.iter().find(|(k, _)| k == sr).map(|x| x.1.clone()).unwrap_or_default(),
                _ => "/".into(),
            };
        }
    }
    if !prefix.ends_with('/') {
        prefix.push('/');
    }
    Route::Jupyter { prefix }
}

pub async fn ingress_entry(State(sh): State<Arc<Shared>>, mut req: Request) -> Response {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let host_full = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_string))
        .unwrap_or_default();
    let host = match host_full.strip_prefix('[') {
        Some(_) => host_full.split_once(']').map(|x| format!("{}]", x.0)).unwrap_or(host_full.clone()),
        None => host_full.split(':').next().unwrap_or("").to_string(),
    };
    let path_q = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    let path = uri.path().to_string();

    // Managed-identity endpoint also reachable over plain HTTP (like the real one on localhost).
    if (host == "127.0.0.1" || host == "localhost") && path.to_ascii_lowercase().starts_with("/msi/token") {
        let q = query_pairs(uri.query());
        let (r, detail) = msi_token(&sh, &method, &q, req.headers());
        log(&sh, &method, &path_q, r.status().as_u16(), RequestKind::Token, Some(host), detail);
        return r;
    }

    crate::arm::advance(&sh);
    let route = decide(&sh, &host, &path_q);
    let resp = match route {
        Route::NotFound => html(404, NOT_FOUND_PAGE),
        Route::Redirect(loc) => Response::builder()
            .status(301)
            .header("location", loc)
            .header("content-length", "0")
            .body(Body::empty())
            .unwrap(),
        Route::Unavailable(msg) => text(503, msg),
        Route::Jupyter { prefix } => jupyter(&method, &path, &prefix),
        Route::Proxy { port, transport } => {
            let upgrade = req.headers().get(header::UPGRADE).is_some();
            if upgrade && !transport.eq_ignore_ascii_case("http") {
                text(503, "upstream connect error or disconnect/reset before headers. reset reason: protocol error")
            } else {
                proxy(&mut req, port, &host_full).await
            }
        }
    };
    log(&sh, &method, &path_q, resp.status().as_u16(), RequestKind::Ingress, Some(host), Value::Null);
    resp
}

fn jupyter(method: &Method, path: &str, prefix: &str) -> Response {
    let p = path.strip_prefix(prefix.trim_end_matches('/')).unwrap_or("");
    let server_hdr = "TornadoServer/6.5.2";
    let mk = |status: u16, body: Value| {
        let mut r = json_response(status, &body);
        r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
        r.headers_mut().insert("server", HeaderValue::from_static(server_hdr));
        r
    };
    if !path.starts_with(prefix.trim_end_matches('/')) {
        return mk(404, json!({"message": "Not Found", "reason": null}));
    }
    match (method, p) {
        (&Method::GET, "/api" | "/api/") => mk(200, json!({"version": "2.21.1"})),
        (&Method::GET, "/api/status") => mk(
            200,
            json!({"started": "2026-11-23T00:00:00.000000Z", "last_activity": "2026-11-23T00:00:00.000000Z", "connections": 0, "kernels": 0}),
        ),
        _ => mk(404, json!({"message": "Not Found", "reason": null})),
    }
}

/// Reverse-proxy one request (and a websocket upgrade) to 127.0.0.1:port.
async fn proxy(req: &mut Request, port: u16, host_full: &str) -> Response {
    let unavailable =
        || text(503, "upstream connect error or disconnect/reset before headers. reset reason: connection failure");
    let stream = match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
        Ok(s) => s,
        Err(_) => return unavailable(),
    };
    let (mut sender, conn) = match hyper::client::conn::http1::handshake::<_, Body>(TokioIo::new(stream)).await {
        Ok(x) => x,
        Err(_) => return unavailable(),
    };
    tokio::spawn(async move {
        let _ = conn.with_upgrades().await;
    });
    let is_upgrade = req.headers().contains_key(header::UPGRADE);
    let client_upgrade = if is_upgrade { Some(hyper::upgrade::on(&mut *req)) } else { None };
    let pq = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    let mut b =
        axum::http::Request::builder().method(req.method().clone()).uri(pq).version(axum::http::Version::HTTP_11);
    for (k, v) in req.headers() {
        if k == header::HOST || k.as_str().eq_ignore_ascii_case("proxy-connection") {
            continue;
        }
        b = b.header(k, v);
    }
    b = b
        .header(header::HOST, host_full)
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", host_full)
        .header("x-forwarded-for", "10.0.0.10");
    let body = std::mem::replace(req.body_mut(), Body::empty());
    let upstream_req = match b.body(body) {
        Ok(r) => r,
        Err(_) => return text(400, "bad request"),
    };
    let mut resp = match sender.send_request(upstream_req).await {
        Ok(r) => r,
        Err(_) => return unavailable(),
    };
    if resp.status() == axum::http::StatusCode::SWITCHING_PROTOCOLS {
        let server_upgrade = hyper::upgrade::on(&mut resp);
        if let Some(cu) = client_upgrade {
            tokio::spawn(async move {
                if let (Ok(c), Ok(s)) = (cu.await, server_upgrade.await) {
                    let mut c = TokioIo::new(c);
                    let mut s = TokioIo::new(s);
                    let _ = tokio::io::copy_bidirectional(&mut c, &mut s).await;
                }
            });
        }
        let mut out = Response::builder().status(101);
        for (k, v) in resp.headers() {
            out = out.header(k, v);
        }
        return out.body(Body::empty()).unwrap();
    }
    resp.map(Body::new)
}
