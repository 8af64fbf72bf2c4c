//! The JupyterHub REST API, as `gc` and `status` need it (reference/jupyterhub.md §5): the active
//! users with their servers, paginated; the token's own scopes; one server. Every answer other than
//! the expected one is an error here: gc must never act on a partial or narrowed view.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, ErrorCode, Result};
use crate::output;
use crate::settings::Settings;

const PAGINATION: &str = "application/jupyterhub-pagination+json";
/// JupyterHub's `api_page_max_limit` default; larger limits are clamped by the hub anyway.
const PAGE_LIMIT: usize = 200;

/// The scopes gc needs, unfiltered (a `!group=`/`!user=` filter silently narrows what the hub shows).
pub const REQUIRED_SCOPES: &[&str] = &["list:users", "read:servers", "admin:server_state"];

#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub name: String,
    #[serde(default)]
    pub servers: BTreeMap<String, Server>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[allow(dead_code)] // `ready` and `started` document the model; decisions use pending/stopped/state.
pub struct Server {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub pending: Option<String>,
    #[serde(default)]
    pub ready: bool,
    #[serde(default)]
    pub stopped: bool,
    #[serde(default)]
    pub started: Option<String>,
    #[serde(default)]
    pub state: Option<Value>,
}

impl Server {
    /// Active (running, or a spawn/stop/check in flight), as opposed to a stopped server's row.
    pub fn active(&self) -> bool {
        !self.stopped || self.pending.is_some()
    }

    /// Every string in the spawner state, lowercased; container app resource ids also contribute
    /// their last segment (the app name). acactl's exec spawner keeps `{"acactl": {"id", "name", ..}}`,
    /// batchspawner keeps `job_id` = the app name: both are found without knowing the layout.
    pub fn state_refs(&self) -> Vec<String> {
        let mut out = Vec::new();
        fn walk(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => {
                    let l = s.to_ascii_lowercase();
                    if l.contains("/providers/microsoft.app/containerapps/")
                        && let Some(last) = l.trim_end_matches('/').rsplit('/').next()
                    {
                        out.push(last.to_string());
                    }
                    out.push(l);
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
                Value::Object(m) => m.values().for_each(|x| walk(x, out)),
                _ => {}
            }
        }
        if let Some(s) = &self.state {
            walk(s, &mut out);
        }
        out
    }
}

#[derive(Debug, Deserialize)]
struct PageDoc {
    items: Vec<User>,
    #[serde(rename = "_pagination")]
    pagination: Pagination,
}

#[derive(Debug, Deserialize)]
struct Pagination {
    #[serde(default)]
    total: Option<usize>,
    next: Option<Next>,
}

#[derive(Debug, Deserialize)]
struct Next {
    offset: usize,
    #[serde(default)]
    limit: Option<usize>,
}

/// The active users, and what listing them cost.
pub struct Listing {
    pub users: Vec<User>,
    pub pages: usize,
}

pub struct Hub {
    http: reqwest::Client,
    base: String,
    token: String,
    retry_base: Duration,
}

fn hub_error(code: ErrorCode, message: String) -> Error {
    Error::new(code, message)
}

impl Hub {
    /// `None` when no hub API is configured (status then omits `hub_knows`); gc requires one.
    pub fn from_settings(settings: &Settings, http: reqwest::Client) -> Option<Hub> {
        let base = settings.hub.api_url.clone()?;
        let token = settings.hub.api_token.clone()?;
        Some(Hub { http, base, token, retry_base: settings.arm.retry_base })
    }

    pub fn require(settings: &Settings, http: reqwest::Client) -> Result<Hub> {
        if settings.hub.api_url.is_none() {
            return Err(Error::config(
                "`hub.api_url` is required for gc: the Hub REST API, e.g. http://jupyterhub:8081/hub/api (or ACACTL_HUB_API_URL)",
            ));
        }
        Self::from_settings(settings, http).ok_or_else(|| {
            Error::config(
                "`hub.api_token` is required for gc: a service token with list:users, read:servers and admin:server_state \
                 (or ACACTL_HUB_API_TOKEN; JUPYTERHUB_API_TOKEN is never used)",
            )
        })
    }

    /// GET with the token; transport errors and 502/503/504 are retried twice, anything else
    /// non-2xx (other than an allowed 404) is an error naming the status.
    async fn get(&self, url: &str, paginated: bool, allow_404: bool) -> Result<Option<Value>> {
        crate::origin::require(url, &self.base, false, "hub service")?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self.http.get(url).header("authorization", format!("token {}", self.token));
            req = req.header("accept", if paginated { PAGINATION } else { "application/json" });
            output::debug(&format!("GET {url}"));
            let outcome = req.send().await;
            let resp = match outcome {
                Ok(r) => r,
                Err(e) if attempt < 3 => {
                    output::verbose(&format!("hub API {url}: {e}; retrying"));
                    tokio::time::sleep(self.retry_base * attempt).await;
                    continue;
                }
                Err(e) => {
                    return Err(
                        hub_error(ErrorCode::HubUnreachable, format!("cannot reach the hub API at {url}")).because(e)
                    );
                }
            };
            let status = resp.status();
            if matches!(status.as_u16(), 502..=504) && attempt < 3 {
                tokio::time::sleep(self.retry_base * attempt).await;
                continue;
            }
            if status.is_redirection() {
                let to = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("(no Location)");
                return Err(hub_error(
                    ErrorCode::ForeignUrl,
                    format!(
                        "the hub API answered {status} for {url} redirecting to {to}; acactl does not follow redirects"
                    ),
                ));
            }
            let body = crate::http::read_capped(resp, crate::http::MAX_BODY).await.map_err(|e| match e {
                crate::http::BodyError::TooLarge => {
                    hub_error(ErrorCode::ResponseTooLarge, format!("the hub API's answer from {url}: {e}"))
                }
                e => {
                    hub_error(ErrorCode::HubUnreachable, format!("reading the hub API's answer from {url} failed: {e}"))
                }
            })?;
            if status == StatusCode::NOT_FOUND && allow_404 {
                return Ok(None);
            }
            if !status.is_success() {
                let text: String = output::redact(&String::from_utf8_lossy(&body)).chars().take(300).collect();
                let code = match status.as_u16() {
                    401 | 403 => ErrorCode::HubAuthFailed,
                    _ => ErrorCode::HubError,
                };
                return Err(hub_error(code, format!("the hub API answered {status} for {url}: {}", text.trim())));
            }
            return serde_json::from_slice(&body).map(Some).map_err(|e| {
                hub_error(
                    ErrorCode::HubInvalidResponse,
                    format!("the hub API sent a body acactl cannot read from {url}: {e}"),
                )
            });
        }
    }

    /// Refuse unless the token holds every required scope unfiltered, naming what is missing.
    pub async fn check_scopes(&self) -> Result<()> {
        let url = format!("{}/user", self.base);
        let me = self.get(&url, false, false).await?.unwrap_or_default();
        let scopes: Vec<String> = me
            .get("scopes")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let missing = missing_scopes(&scopes);
        if missing.is_empty() {
            return Ok(());
        }
        let who = me.get("name").and_then(Value::as_str).unwrap_or("?");
        let filtered: Vec<&String> = scopes
            .iter()
            .filter(|s| s.contains('!') && missing.iter().any(|m| s.starts_with(&format!("{m}!"))))
            .collect();
        let mut msg = format!(
            "the hub API token (of `{who}`) lacks the unfiltered scope{} {}: gc needs list:users, read:servers and \
             admin:server_state on all users, or it would see only part of the hub and delete live servers",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        );
        if !filtered.is_empty() {
            msg.push_str(&format!(
                " (it has only filtered ones: {})",
                filtered.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        Err(hub_error(ErrorCode::HubScopeMissing, msg))
    }

    /// All users with an active (running or pending) server, following the hub's pagination to the
    /// end. A page error, a bare list (the Accept header was ignored) or fewer users than the hub's
    /// own total is an error: the view would be incomplete.
    pub async fn active_users(&self) -> Result<Listing> {
        let mut users: Vec<User> = Vec::new();
        let mut offset = 0usize;
        let mut limit = PAGE_LIMIT;
        let mut pages = 0usize;
        let mut total = None;
        loop {
            let url = format!("{}/users?state=active&offset={offset}&limit={limit}", self.base);
            let doc = self.get(&url, true, false).await?.unwrap_or_default();
            pages += 1;
            if doc.is_array() {
                return Err(hub_error(
                    ErrorCode::HubNotPaginated,
                    format!(
                        "the hub API answered {url} with a bare list: it ignored `Accept: {PAGINATION}` (JupyterHub < 2.0, \
                         or a proxy dropped the header), so the list may be cut at 200 users"
                    ),
                ));
            }
            let page: PageDoc = serde_json::from_value(doc).map_err(|e| {
                hub_error(
                    ErrorCode::HubInvalidResponse,
                    format!("the hub API's page {url} is not a paginated user list: {e}"),
                )
            })?;
            total = page.pagination.total.or(total);
            let n = page.items.len();
            users.extend(page.items);
            match page.pagination.next {
                Some(next) => {
                    if next.offset <= offset || n == 0 {
                        return Err(hub_error(
                            ErrorCode::HubPaginationIncomplete,
                            format!("the hub API's pagination does not advance at offset {offset}"),
                        ));
                    }
                    offset = next.offset;
                    limit = next.limit.unwrap_or(limit).clamp(1, PAGE_LIMIT);
                }
                None => break,
            }
        }
        users.sort_by(|a, b| a.name.cmp(&b.name));
        users.dedup_by(|a, b| a.name == b.name);
        if let Some(t) = total
            && users.len() < t
        {
            return Err(hub_error(
                ErrorCode::HubPaginationIncomplete,
                format!("the hub API reported {t} active users but its pages held only {}", users.len()),
            ));
        }
        Ok(Listing { users, pages })
    }

    /// One server (JupyterHub 6: `GET /users/{name}/servers/{server}`; the default server is
    /// `/users/{name}/server`, the same handler). `None` on 404 (no such user or server).
    pub async fn server(&self, user: &str, server: &str) -> Result<Option<Server>> {
        let url = if server.is_empty() {
            format!("{}/users/{}/server", self.base, crate::request::quote(user))
        } else {
            format!("{}/users/{}/servers/{}", self.base, crate::request::quote(user), crate::request::quote(server))
        };
        match self.get(&url, false, true).await? {
            None => Ok(None),
            Some(v) => serde_json::from_value(v).map(Some).map_err(|e| {
                hub_error(
                    ErrorCode::HubInvalidResponse,
                    format!("the hub API's server model from {url} is unreadable: {e}"),
                )
            }),
        }
    }
}

/// Which required scopes are absent unfiltered (implied by broader scopes the hub may list).
pub fn missing_scopes(scopes: &[String]) -> Vec<&'static str> {
    let has = |s: &str| scopes.iter().any(|x| x == s);
    REQUIRED_SCOPES
        .iter()
        .copied()
        .filter(|need| {
            let implied = match *need {
                "list:users" => has("users") || has("admin:users"),
                "read:servers" => has("servers") || has("admin:servers"),
                "admin:server_state" => has("admin:servers") || has("admin:users"),
                _ => false,
            };
            !(has(need) || implied)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scopes_must_be_unfiltered() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(missing_scopes(&s(&["list:users", "read:servers", "admin:server_state"])).is_empty());
        assert_eq!(
            missing_scopes(&s(&["list:users!group=x", "read:servers", "admin:server_state"])),
            vec!["list:users"]
        );
        assert!(missing_scopes(&s(&["admin:users", "admin:servers"])).is_empty());
        assert_eq!(missing_scopes(&s(&[])).len(), 3);
    }

    /// Every parser acactl applies to a hub answer, on arbitrary bytes and arbitrary JSON.
    fn parse_all(body: &[u8]) {
        let Ok(v) = serde_json::from_slice::<Value>(body) else { return };
        if let Ok(page) = serde_json::from_value::<PageDoc>(v.clone()) {
            for u in &page.items {
                for s in u.servers.values() {
                    let _ = (s.active(), s.state_refs());
                }
            }
        }
        if let Ok(s) = serde_json::from_value::<Server>(v.clone()) {
            let _ = (s.active(), s.state_refs());
        }
        let scopes: Vec<String> = v
            .get("scopes")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let _ = missing_scopes(&scopes);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, rng_seed: proptest::test_runner::RngSeed::Fixed(12), ..Default::default() })]
        #[test]
        fn hub_parsers_never_panic_on_bytes(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            parse_all(&body);
        }

        #[test]
        fn hub_parsers_never_panic_on_hub_shaped_json(
            names in proptest::collection::vec("\\PC{0,12}", 0..5),
            offset in proptest::prelude::any::<u64>(),
            total in proptest::prelude::any::<i64>(),
            state in "\\PC{0,40}",
        ) {
            let items: Vec<Value> = names.iter().map(|n| json!({"name": n, "servers": {n.as_str(): {"name": n, "pending": n, "stopped": n.is_empty(), "state": {"job_id": state, "id": format!("/subscriptions/s/resourceGroups/r/providers/Microsoft.App/containerApps/{state}")}}}})).collect();
            let doc = json!({"items": items, "_pagination": {"offset": offset, "total": total, "next": {"offset": offset, "limit": total}}, "scopes": names});
            parse_all(&serde_json::to_vec(&doc).unwrap());
        }
    }

    #[test]
    fn state_refs_find_ids_and_names() {
        let srv: Server = serde_json::from_value(json!({"name": "", "state": {"acactl": {"version": 1,
            "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.App/containerApps/Hub1-A-x", "name": "hub1-a-x"}},
            "pending": null, "ready": true, "stopped": false}))
        .unwrap();
        let refs = srv.state_refs();
        assert!(refs.contains(&"hub1-a-x".to_string()));
        let batch: Server =
            serde_json::from_value(json!({"state": {"job_id": "hub1-b-y", "job_status": "running"}})).unwrap();
        assert!(batch.state_refs().contains(&"hub1-b-y".to_string()));
    }
}
