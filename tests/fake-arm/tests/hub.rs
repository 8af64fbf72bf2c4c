//! The fake hub paginates like JupyterHub 6 (and, without the Accept header, cuts silently at 200),
//! hides `state` without admin:server_state, narrows filtered scopes, and serves single servers.

use fake_arm::{FakeHub, HubServer};
use serde_json::{Value, json};

const PAGINATION: &str = "application/jupyterhub-pagination+json";

async fn get(url: &str, token: &str, paginated: bool) -> (u16, Value) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut req = client.get(url).header("authorization", format!("token {token}"));
    if paginated {
        req = req.header("accept", PAGINATION);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn pagination_scopes_and_single_servers() {
    let hub = FakeHub::start();
    hub.add_token("full", &["list:users", "read:servers", "admin:server_state"]);
    hub.add_token("nostate", &["list:users", "read:servers"]);
    hub.add_token("narrow", &["list:users!group=class1", "read:servers"]);
    for i in 0..250 {
        hub.add_server(&format!("u{i:03}"), "", HubServer::running(json!({"acactl": {"name": format!("app{i}")}})));
    }
    hub.add_server("u000", "gpu", HubServer::spawning());
    hub.add_server("zed", "old", HubServer::stopped());
    hub.set_groups("u001", &["class1"]);
    let api = hub.api_url();

    // Paginated: default limit 50, next offsets until null, total counts only active users.
    let (s, page) = get(&format!("{api}/users?state=active"), "full", true).await;
    assert_eq!(s, 200);
    assert_eq!(page["items"].as_array().unwrap().len(), 50);
    assert_eq!(page["_pagination"]["total"], 250);
    assert_eq!(page["_pagination"]["next"]["offset"], 50);
    let (_, last) = get(&format!("{api}/users?state=active&offset=200&limit=200"), "full", true).await;
    assert_eq!(last["items"].as_array().unwrap().len(), 50);
    assert!(last["_pagination"]["next"].is_null());
    let u0 = &page["items"][0];
    assert_eq!(u0["name"], "u000");
    assert_eq!(u0["servers"][""]["state"]["acactl"]["name"], "app0");
    assert_eq!(u0["servers"]["gpu"]["pending"], "spawn");
    // Without the Accept header: a bare list cut at 200, no error.
    let (s, bare) = get(&format!("{api}/users?state=active"), "full", false).await;
    assert_eq!(s, 200);
    assert_eq!(bare.as_array().unwrap().len(), 200);
    // No admin:server_state: no state. A filtered list:users narrows the list silently.
    let (_, p) = get(&format!("{api}/users?state=active"), "nostate", true).await;
    assert!(p["items"][0]["servers"][""].get("state").is_none());
    let (_, p) = get(&format!("{api}/users?state=active"), "narrow", true).await;
    assert_eq!(p["_pagination"]["total"], 1);
    let (_, me) = get(&format!("{api}/user"), "narrow", false).await;
    assert_eq!(me["scopes"][0], "list:users!group=class1");
    // Single servers: default via /server, named, stopped ones too; 404 for unknown.
    assert_eq!(get(&format!("{api}/users/u000/server"), "full", false).await.1["ready"], true);
    assert_eq!(get(&format!("{api}/users/u000/servers/"), "full", false).await.1["ready"], true);
    assert_eq!(get(&format!("{api}/users/zed/servers/old"), "full", false).await.1["stopped"], true);
    assert_eq!(get(&format!("{api}/users/nobody/server"), "full", false).await.0, 404);
    assert_eq!(get(&format!("{api}/users/u000/servers/nope"), "full", false).await.0, 404);
    // Bad token, injected failures.
    assert_eq!(get(&format!("{api}/user"), "wrong", false).await.0, 403);
    hub.set_fail_page(Some((1, 500)));
    assert_eq!(get(&format!("{api}/users?state=active&offset=0&limit=50"), "full", true).await.0, 200);
    assert_eq!(get(&format!("{api}/users?state=active&offset=50&limit=50"), "full", true).await.0, 500);
    hub.set_fail_all(Some(401));
    assert_eq!(get(&format!("{api}/user"), "full", false).await.0, 401);
    assert!(hub.requests().iter().any(|r| r.paginated) && hub.requests().iter().any(|r| !r.paginated));
}
