//! A fake of the JupyterHub 6 REST API, as much as `acactl gc`/`status` use (reference/jupyterhub.md §5):
//!
//! * `GET /hub/api/users?state=active[&offset&limit]`: with `Accept: application/jupyterhub-pagination+json`
//!   `{"items": [...], "_pagination": {"offset", "limit", "total", "next": {"offset", "limit", "url"} | null}}`
//!   (default limit 50, max 200); WITHOUT that header a bare list cut at 200 users and no error, as the
//!   real hub does. `servers` holds only active servers (`""` = default); `state` only with
//!   `admin:server_state`. Filtered scopes (`list:users!group=g`, `!user=u`) silently narrow the list.
//! * `GET /hub/api/user`: the token owner's model with its `scopes`.
//! * `GET /hub/api/users/{name}/server` and `/users/{name}/servers/{server}` (empty name = default):
//!   one server model (also a stopped one: `stopped: true`) or 404.
//! * 403 for an unknown token; knobs to fail everything (e.g. 401), one list page (500 on page N), or
//!   the single-server GETs.
//!
//! Plain HTTP on loopback, its own thread and runtime. Admin API under `/_hub/` (see the README).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const PAGINATION: &str = "application/jupyterhub-pagination+json";

/// One server of a user as the hub stores it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct HubServer {
    /// "spawn" | "stop" | "check" | None
    #[serde(default)]
    pub pending: Option<String>,
    #[serde(default)]
    pub ready: bool,
    #[serde(default)]
    pub stopped: bool,
    /// The spawner's get_state().
    #[serde(default)]
    pub state: Value,
    #[serde(default)]
    pub started: Option<String>,
}

impl HubServer {
    /// Ready, with this spawner state.
    pub fn running(state: Value) -> HubServer {
        HubServer { ready: true, state, started: Some("2026-11-23T00:00:00.000000Z".into()), ..Default::default() }
    }
    /// A spawn in progress (no state stored yet).
    pub fn spawning() -> HubServer {
        HubServer { pending: Some("spawn".into()), state: json!({}), ..Default::default() }
    }
    /// A stopped server's row (named servers keep theirs).
    pub fn stopped() -> HubServer {
        HubServer { stopped: true, state: json!({}), ..Default::default() }
    }
    fn active(&self) -> bool {
        !self.stopped || self.pending.is_some()
    }
}

/// One logged hub request.
#[derive(Clone, Debug, Serialize)]
pub struct HubRequest {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// Whether `Accept: application/jupyterhub-pagination+json` was sent.
    pub paginated: bool,
}

/// (groups, server name -> server)
type UserEntry = (Vec<String>, BTreeMap<String, HubServer>);

#[derive(Default)]
struct HubState {
    users: BTreeMap<String, UserEntry>,
    /// token -> (owner name, scopes)
    tokens: BTreeMap<String, (String, Vec<String>)>,
    fail_all: Option<u16>,
    /// (0-based page index, status) for `GET /users`.
    fail_page: Option<(usize, u16)>,
    fail_servers: Option<u16>,
    latency_ms: u64,
    /// Hostile modes: `next.url` on another host; every API call redirected there; endless bodies.
    next_host: Option<String>,
    redirect_to: Option<String>,
    endless: bool,
    log: Vec<HubRequest>,
}

/// A running fake hub. Drop it to stop.
pub struct FakeHub {
    st: Arc<Mutex<HubState>>,
    base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeHub {
    pub fn start() -> FakeHub {
        Self::start_on("127.0.0.1:0".parse().unwrap()).expect("fake hub failed to start")
    }

    pub fn start_on(addr: std::net::SocketAddr) -> anyhow::Result<FakeHub> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let base = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
        let st = Arc::new(Mutex::new(HubState::default()));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let shared = st.clone();
        let thread = std::thread::Builder::new().name("fake-hub".into()).spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let app = Router::new().fallback(entry).with_state(shared);
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
            rt.shutdown_timeout(std::time::Duration::from_millis(200));
        })?;
        Ok(FakeHub { st, base, shutdown: Some(tx), thread: Some(thread) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HubState> {
        self.st.lock().unwrap()
    }

    /// `http://127.0.0.1:PORT/hub/api` (acactl's `hub.api_url`).
    pub fn api_url(&self) -> String {
        format!("{}/hub/api", self.base)
    }
    /// `http://127.0.0.1:PORT/_hub` (admin API).
    pub fn admin_url(&self) -> String {
        format!("{}/_hub", self.base)
    }
    /// Accept `token`, owned by a service named "acactl-gc", with these (expanded) scopes.
    pub fn add_token(&self, token: &str, scopes: &[&str]) {
        self.lock().tokens.insert(token.into(), ("acactl-gc".into(), scopes.iter().map(|s| s.to_string()).collect()));
    }
    /// Add or replace a server ("" = the default server); creates the user.
    pub fn add_server(&self, user: &str, server: &str, s: HubServer) {
        self.lock().users.entry(user.into()).or_default().1.insert(server.into(), s);
    }
    pub fn remove_server(&self, user: &str, server: &str) {
        if let Some(u) = self.lock().users.get_mut(user) {
            u.1.remove(server);
        }
    }
    pub fn set_groups(&self, user: &str, groups: &[&str]) {
        self.lock().users.entry(user.into()).or_default().0 = groups.iter().map(|s| s.to_string()).collect();
    }
    /// Answer every API request with this status (e.g. 401, 500); None = normal.
    pub fn set_fail_all(&self, status: Option<u16>) {
        self.lock().fail_all = status;
    }
    /// Answer `GET /users` page `page` (0-based: offset / limit) with `status`.
    pub fn set_fail_page(&self, page: Option<(usize, u16)>) {
        self.lock().fail_page = page;
    }
    /// Answer the single-server GETs with this status.
    pub fn set_fail_servers(&self, status: Option<u16>) {
        self.lock().fail_servers = status;
    }
    /// Hostile: pagination `next.url` points at `host` (e.g. `127.0.0.1:PORT` of another server).
    pub fn set_next_host(&self, host: Option<&str>) {
        self.lock().next_host = host.map(str::to_string);
    }
    /// Hostile: every API call answers 307 to `url`.
    pub fn set_redirect(&self, url: Option<&str>) {
        self.lock().redirect_to = url.map(str::to_string);
    }
    /// Hostile: every API call answers 200 with a body that never ends.
    pub fn set_endless(&self, on: bool) {
        self.lock().endless = on;
    }
    pub fn set_latency_ms(&self, ms: u64) {
        self.lock().latency_ms = ms;
    }
    pub fn requests(&self) -> Vec<HubRequest> {
        self.lock().log.clone()
    }
    pub fn reset_log(&self) {
        self.lock().log.clear();
    }
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn resp(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap()
}

fn err(status: u16, message: &str) -> Response {
    resp(status, &json!({"status": status, "message": message}))
}

/// Percent-decode a path segment.
fn unquote(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `scopes` grant `scope` for this user: unfiltered, or filtered to the user or one of its groups.
fn grants(scopes: &[String], scope: &str, user: &str, groups: &[String]) -> bool {
    scopes.iter().any(|s| match s.split_once('!') {
        None => s == scope,
        Some((base, filter)) if base == scope => match filter.split_once('=') {
            Some(("user", u)) => u == user,
            Some(("group", g)) => groups.iter().any(|x| x == g),
            _ => false,
        },
        _ => false,
    })
}

fn server_model(name: &str, user: &str, s: &HubServer, with_state: bool) -> Value {
    let mut m = json!({
        "name": name,
        "full_name": if name.is_empty() { user.to_string() } else { format!("{user}/{name}") },
        "pending": s.pending,
        "ready": s.ready,
        "stopped": s.stopped,
        "started": s.started,
        "last_activity": s.started,
        "url": if name.is_empty() { format!("/user/{user}/") } else { format!("/user/{user}/{name}/") },
        "user_options": {},
        "progress_url": if name.is_empty() { format!("/hub/api/users/{user}/server/progress") } else { format!("/hub/api/users/{user}/servers/{name}/progress") },
    });
    if with_state {
        m["state"] = s.state.clone();
    }
    m
}

async fn entry(State(st): State<Arc<Mutex<HubState>>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query: Vec<(String, String)> = form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let host = req.headers().get("host").and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1").to_string();
    if let Some(admin) = path.strip_prefix("/_hub/") {
        let bytes = axum::body::to_bytes(req.into_body(), 64 << 20).await.unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        return admin_api(&st, &method, admin, body);
    }
    let paginated = req.headers().get("accept").and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains(PAGINATION));
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let latency = st.lock().unwrap().latency_ms;
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let (redirect, endless) = {
        let g = st.lock().unwrap();
        (g.redirect_to.clone(), g.endless)
    };
    let r = if let Some(to) = redirect {
        Response::builder().status(307).header("location", to).body(axum::body::Body::empty()).unwrap()
    } else if endless {
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(axum::body::Body::new(crate::server::Endless))
            .unwrap()
    } else {
        api(&st, &method, &path, &query, &host, paginated, &auth)
    };
    st.lock().unwrap().log.push(HubRequest {
        method: method.to_string(),
        path: req.uri().path_and_query().map(|p| p.to_string()).unwrap_or(path),
        status: r.status().as_u16(),
        paginated,
    });
    r
}

fn api(
    st: &Mutex<HubState>,
    method: &Method,
    path: &str,
    query: &[(String, String)],
    host: &str,
    paginated: bool,
    auth: &str,
) -> Response {
    let st = st.lock().unwrap();
    if let Some(s) = st.fail_all {
        return err(s, "Injected failure");
    }
    let Some(rest) = path.strip_prefix("/hub/api") else {
        return err(404, "Not Found");
    };
    if rest.is_empty() || rest == "/" {
        return resp(200, &json!({"version": "6.1.0"}));
    }
    let token = auth.strip_prefix("token ").or_else(|| auth.strip_prefix("Bearer ")).unwrap_or("").trim();
    let Some((owner, scopes)) = st.tokens.get(token) else {
        return err(403, "Missing or invalid credentials.");
    };
    if *method != Method::GET {
        return err(405, "Method Not Allowed");
    }
    let q = |k: &str| query.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
    let segs: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match segs.as_slice() {
        ["user"] => resp(200, &json!({"kind": "service", "name": owner, "roles": [], "scopes": scopes})),
        ["users"] => {
            let state = q("state");
            let offset: usize = q("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
            let limit: usize = q("limit").and_then(|v| v.parse().ok()).unwrap_or(50).clamp(1, 200);
            let limit = if paginated { limit } else { 200 };
            let offset = if paginated { offset } else { 0 };
            if paginated
                && let Some((page, status)) = st.fail_page
                && offset / limit == page
            {
                return err(status, "Injected page failure");
            }
            let visible: Vec<(&String, &UserEntry)> = st
                .users
                .iter()
                .filter(|(name, (groups, _))| grants(scopes, "list:users", name, groups))
                .filter(|(_, (_, servers))| match state {
                    Some("active") => servers.values().any(HubServer::active),
                    Some("ready") => servers.values().any(|s| s.ready && !s.stopped),
                    Some("inactive") => !servers.values().any(HubServer::active),
                    _ => true,
                })
                .collect();
            let total = visible.len();
            let items: Vec<Value> = visible
                .iter()
                .skip(offset)
                .take(limit)
                .map(|(name, (groups, servers))| {
                    let mut m = json!({"kind": "user", "name": name, "admin": false, "groups": groups,
                        "pending": null, "last_activity": null, "created": "2026-11-01T00:00:00.000000Z"});
                    if grants(scopes, "read:servers", name, groups) {
                        let with_state = grants(scopes, "admin:server_state", name, groups);
                        let sv: serde_json::Map<String, Value> = servers
                            .iter()
                            .filter(|(_, s)| s.active())
                            .map(|(sn, s)| (sn.clone(), server_model(sn, name, s, with_state)))
                            .collect();
                        m["servers"] = Value::Object(sv);
                        m["server"] = servers
                            .get("")
                            .filter(|s| s.ready)
                            .map_or(Value::Null, |_| json!(format!("/user/{name}/")));
                    }
                    m
                })
                .collect();
            if !paginated {
                return resp(200, &json!(items));
            }
            let next = if offset + limit < total {
                let host = st.next_host.as_deref().unwrap_or(host);
                let mut url = format!("http://{host}/hub/api/users?offset={}&limit={limit}", offset + limit);
                if let Some(s) = state {
                    url.push_str(&format!("&state={s}"));
                }
                json!({"offset": offset + limit, "limit": limit, "url": url})
            } else {
                Value::Null
            };
            resp(
                200,
                &json!({"items": items, "_pagination": {"offset": offset, "limit": limit, "total": total, "next": next}}),
            )
        }
        ["users", user, "server"] | ["users", user, "servers", ""] => one_server(&st, scopes, &unquote(user), ""),
        ["users", user, "servers", server] => one_server(&st, scopes, &unquote(user), &unquote(server)),
        ["users", user] => {
            let user = unquote(user);
            match st.users.get(&user) {
                Some((groups, _))
                    if grants(scopes, "read:users", &user, groups) || grants(scopes, "read:servers", &user, groups) =>
                {
                    resp(200, &json!({"kind": "user", "name": user, "groups": groups}))
                }
                _ => err(404, "Not Found"),
            }
        }
        _ => err(404, "Not Found"),
    }
}

fn one_server(st: &HubState, scopes: &[String], user: &str, server: &str) -> Response {
    if let Some(s) = st.fail_servers {
        return err(s, "Injected server failure");
    }
    let Some((groups, servers)) = st.users.get(user) else {
        return err(404, "Not Found");
    };
    if !grants(scopes, "read:servers", user, groups) {
        return err(404, "Not Found");
    }
    match servers.get(server) {
        Some(s) => resp(200, &server_model(server, user, s, grants(scopes, "admin:server_state", user, groups))),
        None => err(404, &format!("{user} has no server named '{server}'")),
    }
}

/// `POST /_hub/servers` `[{user, server, pending?, ready?, stopped?, state?}]`; `POST /_hub/tokens`
/// `{token, scopes}`; `POST /_hub/knobs` `{fail_all?, fail_page?: [n, status], fail_servers?, latency_ms?}`;
/// `GET /_hub/requests`; `POST /_hub/reset_log`.
fn admin_api(st: &Mutex<HubState>, method: &Method, path: &str, body: Value) -> Response {
    let mut st = st.lock().unwrap();
    match (method.clone(), path.trim_matches('/')) {
        (Method::POST, "servers") => {
            let Some(list) = body.as_array() else {
                return err(400, "expected a list");
            };
            for v in list {
                let user = v.get("user").and_then(Value::as_str).unwrap_or("").to_string();
                let server = v.get("server").and_then(Value::as_str).unwrap_or("").to_string();
                let s: HubServer = serde_json::from_value(v.clone()).unwrap_or_default();
                st.users.entry(user).or_default().1.insert(server, s);
            }
            resp(200, &json!({"ok": true, "users": st.users.len()}))
        }
        (Method::POST, "tokens") => {
            let token = body.get("token").and_then(Value::as_str).unwrap_or("").to_string();
            let scopes = body
                .get("scopes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            st.tokens.insert(token, ("acactl-gc".into(), scopes));
            resp(200, &json!({"ok": true}))
        }
        (Method::POST, "knobs") => {
            if let Some(v) = body.get("fail_all") {
                st.fail_all = v.as_u64().map(|s| s as u16);
            }
            if let Some(v) = body.get("fail_page") {
                st.fail_page =
                    v.as_array().and_then(|a| Some((a.first()?.as_u64()? as usize, a.get(1)?.as_u64()? as u16)));
            }
            if let Some(v) = body.get("fail_servers") {
                st.fail_servers = v.as_u64().map(|s| s as u16);
            }
            if let Some(v) = body.get("latency_ms").and_then(Value::as_u64) {
                st.latency_ms = v;
            }
            resp(200, &json!({"ok": true}))
        }
        (Method::GET, "requests") => resp(200, &serde_json::to_value(&st.log).unwrap_or(Value::Null)),
        (Method::POST, "reset_log") => {
            st.log.clear();
            resp(200, &json!({"ok": true}))
        }
        _ => err(404, "unknown admin endpoint"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquote_and_grants() {
        assert_eq!(unquote("a%40b%2Fc"), "a@b/c");
        assert_eq!(unquote("100%"), "100%");
        let s = vec!["list:users!group=x".to_string(), "read:servers".to_string()];
        assert!(grants(&s, "list:users", "u", &["x".into()]));
        assert!(!grants(&s, "list:users", "u", &[]));
        assert!(grants(&s, "read:servers", "u", &[]));
    }
}
