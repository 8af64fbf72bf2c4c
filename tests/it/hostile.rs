//! Issue 10: a hostile or broken ARM, hub or local file never gets a token sent where it does not
//! belong, never leaks a secret, never makes acactl hang, panic or act on someone else's app.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_arm::{FakeHub, Fault, FaultAction, InsertApp, Options};
use serde_json::Value;

use crate::common::*;
use crate::gc::{HUB_TOKEN, OLD, hub_config, insert};

/// A plain TCP server that records whatever reaches it (and answers `{}`): a foreign host a
/// hostile URL points at. acactl must never connect to it.
struct Foreign {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Foreign {
    fn start() -> Foreign {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        std::thread::spawn(move || {
            for mut c in l.incoming().flatten() {
                let _ = c.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = vec![0u8; 8192];
                let n = c.read(&mut buf).unwrap_or(0);
                s.lock().unwrap().push(String::from_utf8_lossy(&buf[..n]).into_owned());
                let _ =
                    c.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}");
            }
        });
        Foreign { port, seen }
    }
    fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    fn https(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
    fn hits(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

fn rewrite(h: &Harness, method: &str, path: &str, to: &str) {
    let action = FaultAction::Rewrite { from: h.fake.base_url(), to: to.to_string() };
    h.fake.inject(Fault::action(method, path, 1, action));
}

#[test]
fn foreign_async_operation_url_gets_no_token_and_start_cleans_up() {
    let h = Harness::new();
    let f = Foreign::start();
    for to in [f.http(), f.https()] {
        let deletes = h.fake.requests_matching("DELETE", "/containerApps/").len();
        rewrite(&h, "PUT", "/containerApps/", &to);
        let r = run(h.spawner("foreign-op", "").arg("start"));
        assert_eq!(r.code, 3, "{}", r.stderr);
        assert_eq!(r.json()["error"]["code"], "ForeignUrl", "{}", r.stdout);
        assert!(r.stderr.contains("refusing to send the ARM token"), "{}", r.stderr);
        assert_eq!(f.hits(), 0, "a request reached the foreign host");
        // The PUT went out, so start deleted its app.
        assert!(h.fake.requests_matching("DELETE", "/containerApps/").len() > deletes, "no cleanup");
    }
}

#[test]
fn foreign_location_on_delete_is_refused() {
    let h = Harness::new();
    let f = Foreign::start();
    let start = run(h.spawner("foreign-loc", "").arg("start"));
    assert_eq!(start.code, 0, "{}", start.stderr);
    h.fake.set_delete_async_header(false);
    rewrite(&h, "DELETE", "/containerApps/", &f.http());
    let stop = run(h.spawner("foreign-loc", "").env("ACACTL_STATE", state_of(&start.json())).arg("stop"));
    assert_eq!(stop.code, 3, "{}", stop.stderr);
    assert_eq!(stop.json()["error"]["code"], "ForeignUrl");
    assert_eq!(f.hits(), 0);
}

#[test]
fn foreign_next_link_is_refused() {
    let (h, hub) = crate::gc::setup();
    let _ = hub;
    h.fake.set_page_size(1);
    insert(&h, "ann", "", None, None);
    insert(&h, "bob", "", None, None);
    let f = Foreign::start();
    rewrite(&h, "GET", "/providers/Microsoft.App/containerApps?", &f.https());
    let r = run(h.acactl().args(["status", "-o", "json"]));
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["error"]["code"], "ForeignUrl", "{}", r.stdout);
    assert_eq!(f.hits(), 0);
}

#[test]
fn redirects_are_refused_not_followed() {
    // The app's own GET (with the fleet view a poll would read the list instead).
    let h = Harness::with(Options::default(), "fleet:\n  enabled: false\n");
    let f = Foreign::start();
    let name = insert_own_app(&h, "redir", "Succeeded");
    let action = FaultAction::Redirect { status: 307, location: format!("{}/steal", f.http()) };
    h.fake.inject(Fault::action("GET", &format!("/containerApps/{name}"), 1, action));
    let r = run(h.spawner("redir", "").arg("poll"));
    let v = r.json();
    assert_eq!(v["status"], "unknown", "{v}");
    assert_eq!(v["error"]["code"], "ForeignUrl", "{v}");
    assert_eq!(f.hits(), 0);
}

#[test]
fn hub_token_stays_on_the_hub_origin() {
    let hub = FakeHub::start();
    hub.add_token(HUB_TOKEN, crate::gc::SCOPES);
    let h = Harness::with(Options::default(), &hub_config(&hub));
    for i in 0..60 {
        hub.add_server(&format!("u{i:02}"), "", fake_arm::HubServer::running(serde_json::json!({})));
    }
    let f = Foreign::start();
    // A `next.url` on another host is never followed (acactl pages by offset on its own origin).
    hub.set_next_host(Some(&format!("127.0.0.1:{}", f.port)));
    let r = run(h.acactl().args(["gc", "--dry-run", "-o", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A redirect is refused.
    hub.set_redirect(Some(&format!("{}/steal", f.http())));
    let r = run(h.acactl().args(["gc", "-o", "json"]));
    assert_eq!(r.code, 3);
    assert_eq!(r.json()["error"]["code"], "ForeignUrl", "{}", r.stdout);
    assert_eq!(f.hits(), 0);
    // An endless body fails that request, quickly and without growing without bound.
    hub.set_redirect(None);
    hub.set_endless(true);
    let t = Instant::now();
    let r = run(h.acactl().args(["gc", "-o", "json"]));
    assert_eq!(r.code, 3);
    assert_eq!(r.json()["error"]["code"], "ResponseTooLarge", "{}", r.stdout);
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
}

#[test]
fn an_error_echoing_the_put_body_leaks_no_secret() {
    let h = Harness::new();
    h.write_config("server:\n  image: example.azurecr.io/notebook:1\n  start_timeout: 20\n  env:\n    EXTRA:\n      secret: config-secret-value-4242\n");
    h.fake.inject(Fault::action("PUT", "/containerApps/", 1, FaultAction::EchoBody));
    let forward = spawner_env("echo", "").into_iter().find(|(k, _)| k == "ACACTL_FORWARD").unwrap().1;
    let r = run(h
        .spawner("echo", "")
        .env("DB_PASSWORD", "forwarded-db-password-99")
        .env("ACACTL_FORWARD", format!("{forward},DB_PASSWORD"))
        .args(["-vv", "start"]));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.json()["error"]["code"], "InvalidParameterValue");
    assert!(r.stdout.contains("<redacted>"), "the echo is there, redacted: {}", r.stdout);
    for s in [TOKEN, "config-secret-value-4242", "forwarded-db-password-99", HUB_SECRET, "fake-identity-header-secret"]
    {
        assert!(!r.all_output().contains(s), "{s} leaked:\n{}", r.all_output());
    }
}

#[test]
fn endless_and_huge_arm_bodies_fail_the_request() {
    // The app's own GET (with the fleet view a poll would read the list instead).
    let h = Harness::with(Options::default(), "fleet:\n  enabled: false\n");
    let name = insert_own_app(&h, "endless", "Succeeded");
    for action in [FaultAction::Endless, FaultAction::Huge { bytes: 40 << 20 }] {
        // Every attempt of the GET gets it (a retry must not read it again either).
        h.fake.inject(Fault::action("GET", &format!("/containerApps/{name}"), 10, action));
        let t = Instant::now();
        let v = run(h.spawner("endless", "").arg("poll")).json();
        assert_eq!(v["status"], "unknown", "{v}");
        assert_eq!(v["error"]["code"], "ResponseTooLarge", "{v}");
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        h.fake.clear_faults();
    }
}

fn throttle_delete(h: &Harness, retry_after: u64) {
    h.fake.inject(Fault::status(
        "DELETE",
        "/containerApps/",
        1,
        429,
        "SubscriptionRequestsThrottled",
        Some(retry_after),
    ));
}

#[test]
fn an_endless_token_answer_fails_the_command() {
    let h = Harness::new();
    let name = insert_own_app(&h, "endless-token", "Succeeded");
    let _ = name;
    h.fake.inject(Fault::action("GET", "/", 20, FaultAction::Endless).for_kind(fake_arm::RequestKind::Token));
    h.fake.inject(Fault::action("POST", "/", 20, FaultAction::Endless).for_kind(fake_arm::RequestKind::Token));
    let t = Instant::now();
    let r = run(h.spawner("endless-token", "").args(["-vv", "poll"]));
    let v = r.json();
    assert_eq!(v["status"], "unknown", "{v}");
    assert_eq!(v["error"]["code"], "AuthenticationFailed", "{v}");
    eprintln!("endless token answer: {:?}", t.elapsed());
    // Each attempt fails at the cap, not at the 5 s request timeout after buffering gigabytes.
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[test]
fn gc_deadline_ends_an_absurd_retry_after_and_releases_the_lock() {
    let (h, hub) = crate::gc::setup();
    h.write_config(&format!("{}gc:\n  deadline: 10\n", hub_config(&hub)));
    insert(&h, "orphan", "", Some(OLD), None);
    throttle_delete(&h, 1_000_000_000);
    let t = Instant::now();
    let r = run(h.acactl().args(["gc", "-o", "json"]));
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["error"]["code"], "GcDeadline");
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    // The lock is free: the next run does its work.
    let r = run(h.acactl().args(["gc", "-o", "json"]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn gc_survives_a_u64_max_retry_after() {
    let (h, hub) = crate::gc::setup();
    h.write_config(&format!("{}gc:\n  deadline: 10\n", hub_config(&hub)));
    insert(&h, "orphan", "", Some(OLD), None);
    throttle_delete(&h, u64::MAX);
    let r = run(h.acactl().args(["gc", "-o", "json"]));
    assert_ne!(r.code, 101, "panicked: {}", r.stderr);
    assert_eq!(r.json()["error"]["code"], "GcDeadline", "{}", r.stdout);
}

#[test]
fn absurd_durations_and_deep_nesting_are_refused_at_load() {
    let h = Harness::new();
    for (key, yaml) in [
        ("arm.stop_timeout", "arm:\n  stop_timeout: 18446744073709551615\n"),
        ("arm.poll_interval_ms", "arm:\n  poll_interval_ms: 0\n"),
        ("arm.request_timeout", "arm:\n  request_timeout: 0\n"),
        ("hub.http_timeout", "hub:\n  http_timeout: 18446744073709551615\n"),
        ("gc.deadline", "gc:\n  deadline: 1\n"),
    ] {
        h.write_config(yaml);
        let r = run(h.spawner("dur", "").arg("poll"));
        assert_eq!(r.code, 2, "{key}: {}", r.stderr);
        assert!(r.stderr.contains(key), "{key}: {}", r.stderr);
    }
    let depth = 200_000;
    h.write_config(&format!(
        "server:\n  image: example.azurecr.io/notebook:1\n  patch: {}1{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    ));
    let t = Instant::now();
    let r = run(h.spawner("deep", "").arg("poll"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nested"), "{}", r.stderr);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    h.write_config(&format!("server:\n  image: example.azurecr.io/notebook:1\n  patch:\n{}", {
        let mut s = String::new();
        for i in 0..100 {
            s.push_str(&format!("{}k{i}:\n", " ".repeat(4 + 2 * i)));
        }
        s
    }));
    let r = run(h.spawner("deep", "").arg("poll"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nested"), "{}", r.stderr);
}

#[test]
fn insecure_config_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::new();
    for mode in [0o666, 0o620] {
        std::fs::set_permissions(&h.config, std::fs::Permissions::from_mode(mode)).unwrap();
        let r = run(h.spawner("perm", "").arg("poll"));
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert_eq!(r.json()["error"]["code"], "ConfigInsecure");
    }
    std::fs::set_permissions(&h.config, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(run(h.spawner("perm", "").arg("poll")).code, 0);
    // Owned by someone else (only root can hand a file over; elsewhere this part is skipped).
    if std::os::unix::fs::chown(&h.config, Some(54321), None).is_ok() {
        let r = run(h.spawner("perm", "").arg("poll"));
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert_eq!(r.json()["error"]["code"], "ConfigInsecure");
        assert!(r.stderr.contains("owned by uid 54321"), "{}", r.stderr);
    }
}

#[test]
fn a_state_cannot_steer_acactl_at_another_app() {
    let h = Harness::new();
    let ann = run(h.spawner("ann", "").arg("start"));
    assert_eq!(ann.code, 0, "{}", ann.stderr);
    let ann_state = ann.json()["state"].clone();
    assert!(ann_state["key"].is_string(), "the state records the server key: {ann_state}");
    let ann_name = ann_state["name"].as_str().unwrap().to_string();
    // Another resource group or subscription: refused outright.
    for (from, to) in [
        (h.fake.resource_group(), "other-rg".to_string()),
        (h.fake.subscription(), "00000000-0000-0000-0000-0000000000ff".to_string()),
    ] {
        let mut s = ann_state.clone();
        s["id"] = Value::String(s["id"].as_str().unwrap().replace(&format!("/{from}/"), &format!("/{to}/")));
        for cmd in ["poll", "stop"] {
            let r = run(h.spawner("bob", "").env("ACACTL_STATE", s.to_string()).arg(cmd));
            assert_eq!(r.code, 2, "{cmd}: {}", r.stdout);
            assert_eq!(r.json()["error"]["code"], "InvalidState");
        }
    }
    // `?` or `#` in a segment.
    let mut s = ann_state.clone();
    s["id"] = Value::String(s["id"].as_str().unwrap().replace("/containerApps/", "/containerApps?x=/"));
    assert_eq!(run(h.spawner("bob", "").env("ACACTL_STATE", s.to_string()).arg("stop")).code, 2);
    // An old-format state (no key) of ann's app handed to bob's poll and stop (or ann's own 0.1
    // state after an admin renamed her to bob: the two cannot be told apart): never acted on, and
    // never reported gone either.
    let mut s = ann_state.clone();
    s.as_object_mut().unwrap().remove("key");
    let poll = run(h.spawner("bob", "").env("ACACTL_STATE", s.to_string()).arg("poll")).json();
    assert_eq!(poll["status"], "unknown", "{poll}");
    assert_eq!(poll["exit_status"], Value::Null, "{poll}");
    assert_eq!(poll["error"]["code"], "OwnerUnproven", "{poll}");
    // The same old-format state with the user it was made for still proves ownership.
    let poll = run(h.spawner("ann", "").env("ACACTL_STATE", s.to_string()).arg("poll")).json();
    assert_eq!(poll["status"], "running", "{poll}");
    let stop = run(h.spawner("bob", "").env("ACACTL_STATE", s.to_string()).arg("stop"));
    assert_eq!(stop.code, 3, "{}", stop.stdout);
    assert_eq!(stop.json()["error"]["code"], "NotOwned");
    assert!(h.fake.app(&ann_name).is_some(), "ann's app survived");
    // A state whose key does not belong to its name is refused.
    let mut s = ann_state.clone();
    s["key"] = Value::String("a".repeat(52));
    assert_eq!(
        run(h.spawner("ann", "").env("ACACTL_STATE", s.to_string()).arg("poll")).json()["error"]["code"],
        "InvalidState"
    );
    // ann's own state still works, also for a renamed ann (the key, not the user name, decides).
    let poll = run(h.spawner("ann-renamed", "").env("ACACTL_STATE", ann_state.to_string()).arg("poll")).json();
    assert_eq!(poll["status"], "running", "{poll}");
}

#[test]
fn start_refuses_to_adopt_another_users_app() {
    let h = Harness::new();
    let (bob_name, _) = dry_run_identity(&h, "bob");
    let (_, ann_tags) = dry_run_identity(&h, "ann");
    let app = ann_tags.iter().fold(InsertApp::new(&bob_name), |a, (k, v)| a.tag(k, v));
    h.fake.insert_app(app).unwrap();
    let r = run(h.spawner("bob", "").arg("start"));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.json()["error"]["code"], "NameConflict");
    assert!(h.fake.requests_matching("PUT", "/containerApps/").is_empty());
    // batchspawner's job id is bob's app name, but the app is ann's: query sees no job, cancel refuses.
    let q = run(h.acactl().args(["batch", "query", &bob_name])).json();
    assert_eq!(q["state"], "gone", "{q}");
    let c = run(h.acactl().args(["batch", "cancel", &bob_name]));
    assert_eq!(c.code, 3, "{}", c.stdout);
    assert_eq!(c.json()["error"]["code"], "NotOwned");
    assert!(h.fake.requests_matching("DELETE", "/containerApps/").is_empty());
}

#[test]
fn gc_refuses_a_redirected_delete() {
    let (h, _hub) = crate::gc::setup();
    let f = Foreign::start();
    let name = insert(&h, "orphan", "", Some(OLD), None);
    let action = FaultAction::Redirect { status: 308, location: format!("{}/steal", f.http()) };
    h.fake.inject(Fault::action("DELETE", "/containerApps/", 10, action));
    let r = run(h.acactl().args(["gc", "-o", "json"]));
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert!(r.stdout.contains("does not follow redirects"), "{}", r.stdout);
    assert!(h.fake.app(&name).is_some());
    assert_eq!(f.hits(), 0);
}

#[test]
fn lifecycle_commands_of_one_server_are_serialised() {
    let h = Harness::new();
    let (name, _) = dry_run_identity(&h, "serial");
    let locks = h.dir.path().join("cache/locks");
    std::fs::create_dir_all(&locks).unwrap();
    // Hold the server's lock from outside (as a concurrent start would) for 2 s.
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(locks.join(format!("{name}.lock")))
        .unwrap();
    // SAFETY: flock on a file descriptor this test owns.
    assert_eq!(unsafe { libc::flock(std::os::unix::io::AsRawFd::as_raw_fd(&file), libc::LOCK_EX) }, 0);
    let holder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        drop(file);
    });
    let t = Instant::now();
    let r = run(h.spawner("serial", "").arg("start"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("waiting for it"), "{}", r.stderr);
    assert!(t.elapsed() >= Duration::from_millis(1500), "did not wait: {:?}", t.elapsed());
    holder.join().unwrap();
    // Two concurrent starts: both succeed, the app survives (no loser deletes the winner's app).
    let a = h.spawner_std("serial2", "").arg("start").stdout(std::process::Stdio::piped()).spawn().unwrap();
    let b = h.spawner_std("serial2", "").arg("start").stdout(std::process::Stdio::piped()).spawn().unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success(), "{a:?} {b:?}");
    let poll = run(h.spawner("serial2", "").arg("poll")).json();
    assert_eq!(poll["status"], "running", "{poll}");
    assert!(h.fake.requests_matching("DELETE", "/containerApps/").is_empty());
}

#[test]
fn gc_lock_symlink_is_refused_untouched() {
    let (h, _hub) = crate::gc::setup();
    let cache = h.dir.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    let victim = h.dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, cache.join("gc-test.lock")).unwrap();
    let r = run(h.acactl().args(["gc", "-o", "json"]));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.json()["error"]["code"], "GcLockFailed");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn forwarding_is_exact_and_injective() {
    let h = Harness::new();
    let forward = spawner_env("fwd", "").into_iter().find(|(k, _)| k == "ACACTL_FORWARD").unwrap().1;
    let r = run(h
        .spawner("fwd", "")
        .env("DB_PASSWORD", "first-password-1")
        .env("DB__PASSWORD", "second-password-2")
        .env("db_password", "third-password-3")
        .env("EMPTY_TOKEN", "")
        .env("ACACTL_FORWARD", format!("{forward},DB_PASSWORD,DB__PASSWORD,db_password,EMPTY_TOKEN"))
        .arg("start"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let name = h.app_name("fwd");
    let body = h.fake.app_put_body(&name).unwrap();
    let env = body["properties"]["template"]["containers"][0]["env"].as_array().unwrap().clone();
    let get = |k: &str| env.iter().find(|e| e["name"] == k).cloned().unwrap_or_else(|| panic!("{k} missing: {env:?}"));
    // Empty values are forwarded as they are (JupyterHub sends JUPYTERHUB_SERVER_NAME="").
    assert_eq!(get("JUPYTERHUB_SERVER_NAME")["value"], "");
    assert_eq!(get("JUPYTERHUB_HOST")["value"], "");
    assert_eq!(get("EMPTY_TOKEN")["value"], "");
    let refs: Vec<String> = ["DB_PASSWORD", "DB__PASSWORD", "db_password"]
        .iter()
        .map(|k| get(k)["secretRef"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(refs[0], "env-db-password");
    assert!(refs[0] != refs[1] && refs[1] != refs[2] && refs[0] != refs[2], "{refs:?}");
    let secrets = h.fake.app_secrets(&name);
    let value = |n: &str| secrets.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(value(&refs[0]).as_deref(), Some("first-password-1"));
    assert_eq!(value(&refs[1]).as_deref(), Some("second-password-2"));
    assert_eq!(value(&refs[2]).as_deref(), Some("third-password-3"));
}

#[test]
fn usage_errors_print_json_too() {
    let h = Harness::new();
    for args in [vec!["--bogus"], vec!["poll", "--user"], vec!["batch", "query"]] {
        let r = run(h.acactl().args(&args));
        assert_eq!(r.code, 2, "{args:?}");
        assert_eq!(r.json()["error"]["code"], "Usage", "{args:?}: {}", r.stdout);
        assert!(r.stderr.contains("error:"), "clap's message stays on stderr: {}", r.stderr);
    }
}

#[test]
fn retry_after_zero_still_backs_off() {
    let h = Harness::new();
    // An unusable cache dir, so no hub budget: only the client's own backoff stands between 429s.
    let text = std::fs::read_to_string(&h.config).unwrap();
    let text: String = text
        .lines()
        .map(|l| if l.starts_with("cache_dir:") { "cache_dir: /dev/null/none".into() } else { l.to_string() })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&h.config, text).unwrap();
    h.fake.inject(Fault::status("GET", "/containerApps", 100_000, 429, "SubscriptionRequestsThrottled", Some(0)));
    let t = Instant::now();
    let r = run(h.acactl().args(["status", "-o", "json"]));
    assert_ne!(r.code, 0, "{}", r.stdout);
    // retry_max_total 3 s with a 10 ms base: a dozen backed-off attempts, not a tight loop.
    let n = h.fake.requests_matching("GET", "/containerApps").len();
    assert!(n > 3 && n < 40, "{n} requests in {:?}: {}", t.elapsed(), r.stderr);
}
