//! The standalone binary: startup JSON line, admin API, SIGTERM.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test(flavor = "multi_thread")]
async fn binary_startup_admin_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-arm"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--ingress-listen",
            "127.0.0.1:0",
            "--provision-polls",
            "1",
            "--retry-after",
            "0",
            "--state-dir",
        ])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    for k in
        ["base_url", "ca_pem", "ingress_url", "admin_url", "subscription", "resource_group", "environment", "location"]
    {
        assert!(info[k].is_string(), "{k} missing in {line}");
    }
    let pem = std::fs::read(info["ca_pem"].as_str().unwrap()).unwrap();
    let c = reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(&pem).unwrap())
        .no_proxy()
        .build()
        .unwrap();
    let admin = info["admin_url"].as_str().unwrap();
    let post = |p: &str, b: Value| c.post(format!("{admin}/{p}")).json(&b).send();
    assert_eq!(
        post("apps", json!({"name": "other-hub-app", "tags": {"hub": "other"}, "created_at": "2024-01-01T00:00:00Z"}))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        post("behaviour", json!({"match": "broken", "behaviour": "ImagePullFailure"})).await.unwrap().status(),
        200
    );
    assert_eq!(
        post("behaviour", json!({"match": "slow", "behaviour": "SlowProvision", "polls": 2})).await.unwrap().status(),
        200
    );
    assert_eq!(post("fault", json!({"method": "GET", "path_contains": "/containerApps/x", "times": 1, "action": "status", "status": 500, "code": "InternalServerError"})).await.unwrap().status(), 200);
    assert_eq!(post("throttle", json!({"writes": [10, 1.0]})).await.unwrap().status(), 200);
    assert_eq!(post("knobs", json!({"page_size": 5})).await.unwrap().status(), 200);
    let tok: Value = post("token", json!({})).await.unwrap().json().await.unwrap();
    let url = format!(
        "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.App/containerApps/x?api-version=2025-07-01",
        info["base_url"].as_str().unwrap(),
        info["subscription"].as_str().unwrap(),
        info["resource_group"].as_str().unwrap()
    );
    let r = c.get(&url).bearer_auth(tok["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 500);
    let r = c.get(&url).bearer_auth(tok["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let apps: Value = c.get(format!("{admin}/apps")).send().await.unwrap().json().await.unwrap();
    assert_eq!(apps[0]["name"], "other-hub-app");
    assert_eq!(apps[0]["tags"]["hub"], "other");
    assert_eq!(apps[0]["ingress"]["targetPort"], 8888);
    let reqs: Value = c.get(format!("{admin}/requests")).send().await.unwrap().json().await.unwrap();
    assert_eq!(reqs.as_array().unwrap().len(), 2);
    assert_eq!(post("reset_log", json!({})).await.unwrap().status(), 200);

    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn binary_throttle_flag() {
    let bad = Command::new(env!("CARGO_BIN_EXE_fake-arm")).args(["--throttle", "reads=lots"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2), "a bad --throttle is a usage error");
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-arm"))
        .args(["--throttle", "reads=2/0.01", "--state-dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    let pem = std::fs::read(info["ca_pem"].as_str().unwrap()).unwrap();
    let c = reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(&pem).unwrap())
        .no_proxy()
        .build()
        .unwrap();
    let admin = info["admin_url"].as_str().unwrap();
    let tok: Value = c.post(format!("{admin}/token")).json(&json!({})).send().await.unwrap().json().await.unwrap();
    let url = format!(
        "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.App/containerApps/x?api-version=2025-07-01",
        info["base_url"].as_str().unwrap(),
        info["subscription"].as_str().unwrap(),
        info["resource_group"].as_str().unwrap()
    );
    let mut statuses = vec![];
    for _ in 0..3 {
        let r = c.get(&url).bearer_auth(tok["access_token"].as_str().unwrap()).send().await.unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [404, 404, 429], "reads throttled from the command line");
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    assert!(child.wait().unwrap().success());
}
