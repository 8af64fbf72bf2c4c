//! gc deletes exactly the orphans and failed apps of this hub, never on an incomplete hub view,
//! paces and retries deletes, and two runs never fight.

use std::collections::BTreeSet;

use fake_arm::{FakeHub, Fault, HubServer, InsertApp, Options};
use serde_json::{Value, json};

use crate::common::*;

pub const HUB_TOKEN: &str = "gc-service-token-0123456789abcdef";
pub const OLD: &str = "2026-01-01T00:00:00Z";
pub const SCOPES: &[&str] = &["list:users", "read:servers", "admin:server_state"];

pub fn hub_config(hub: &FakeHub) -> String {
    format!("hub:\n  api_url: {}\n  api_token: {HUB_TOKEN}\n  http_timeout: 30\n", hub.api_url())
}

pub fn setup() -> (Harness, FakeHub) {
    let hub = FakeHub::start();
    hub.add_token(HUB_TOKEN, SCOPES);
    let h = Harness::with(Options { provision_polls: 2, failure_polls: 3, ..Options::default() }, &hub_config(&hub));
    (h, hub)
}

/// Insert this hub's app for (user, server); returns its name.
pub fn insert(h: &Harness, user: &str, server: &str, created: Option<&str>, state: Option<&str>) -> String {
    let (name, tags) = dry_run_identity_of(h, user, server);
    let mut app = InsertApp::new(&name);
    if let Some(c) = created {
        app = app.created_at(c);
    }
    for (k, v) in tags {
        app = app.tag(&k, &v);
    }
    if let Some(s) = state {
        app = app.state(s);
    }
    h.fake.insert_app(app).unwrap();
    name
}

pub fn app_state(h: &Harness, name: &str) -> Value {
    json!({"acactl": {"version": 1, "id": format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.App/containerApps/{name}", h.fake.subscription(), h.fake.resource_group()), "name": name}})
}

fn deleted(h: &Harness) -> BTreeSet<String> {
    h.fake
        .requests_matching("DELETE", "/containerApps/")
        .iter()
        .filter(|r| r.status == 202 || r.status == 200 || r.status == 204)
        .map(|r| r.path.split('?').next().unwrap().rsplit('/').next().unwrap().to_string())
        .collect()
}

fn gc(h: &Harness, args: &[&str]) -> (Run, Value) {
    let r = run(h.acactl().arg("gc").args(["-o", "json"]).args(args));
    let v = r.json();
    (r, v)
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn gc_deletes_exactly_orphans_and_failed_apps_and_dry_run_deletes_none() {
    let (h, hub) = setup();
    // Kept: a running server (found by the state's resource id).
    let alice = insert(&h, "alice", "", Some(OLD), None);
    hub.add_server("alice", "", HubServer::running(app_state(&h, &alice)));
    // Kept: a renamed user whose state still points at the app.
    let renamed = insert(&h, "oldname", "", Some(OLD), None);
    hub.add_server("newname", "", HubServer::running(app_state(&h, &renamed)));
    // Kept: a spawn in progress, no state yet (found by the user/server tags).
    let bob = insert(&h, "bob", "gpu", Some(OLD), None);
    hub.add_server("bob", "gpu", HubServer::spawning());
    // Kept: young orphan within the grace period.
    let erin = insert(&h, "erin", "", None, None);
    // Kept: a failed app whose spawn is in progress (start deletes or replaces it).
    let hank = insert(&h, "hank", "", Some(OLD), Some("Failed"));
    hub.add_server("hank", "", HubServer::spawning());
    // Deleted: old orphans (default and named server), a stopped named server's app, failed apps.
    let carol = insert(&h, "carol", "", Some(OLD), None);
    let dave = insert(&h, "dave", "x", Some(OLD), None);
    let ivy = insert(&h, "ivy", "old", Some(OLD), None);
    hub.add_server("ivy", "old", HubServer::stopped());
    let frank = insert(&h, "frank", "", Some(OLD), Some("Failed"));
    let gina = insert(&h, "gina", "", Some(OLD), Some("Failed"));
    hub.add_server("gina", "", HubServer::running(app_state(&h, &gina)));
    // Never touched: another hub's app and an untagged app, however old or failed.
    h.fake
        .insert_app(
            InsertApp::new("other-carol-aaaaaaaaaa")
                .tag("managed-by", "acactl")
                .tag("acactl-hub", "other")
                .tag("acactl-user", "carol")
                .tag("acactl-server", "")
                .created_at(OLD),
        )
        .unwrap();
    h.fake.insert_app(InsertApp::new("test-untagged-app").created_at(OLD).state("Failed")).unwrap();

    let expected = set(&[&carol, &dave, &ivy, &frank, &gina]);

    let (r, v) = gc(&h, &["--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(h.fake.requests_matching("DELETE", "").is_empty(), "a dry run deletes nothing");
    // Every app of this hub with its action and reason: the young orphan within the grace period,
    // the renamed user's app found by its state, the spawn found by user/server; other hubs' and
    // untagged apps only counted.
    let _f = snapshot_filters(Some(&h), &[]);
    insta::assert_json_snapshot!(v, @r#"
    {
      "apps": [
        {
          "action": "kept",
          "name": "test-alice-sbc5axdocd",
          "reason": "an active hub server's state refers to it",
          "server": "",
          "user": "alice"
        },
        {
          "action": "kept",
          "name": "test-bob-gpu-tjjz2hp4fa",
          "reason": "the hub has this user/server active",
          "server": "gpu",
          "user": "bob"
        },
        {
          "action": "would_delete",
          "name": "test-carol-s7afgfaoxe",
          "reason": "no active or pending hub server refers to it (age [AGE] s)",
          "server": "",
          "user": "carol"
        },
        {
          "action": "would_delete",
          "name": "test-dave-x-4lvsb6jqrc",
          "reason": "no active or pending hub server refers to it (age [AGE] s)",
          "server": "x",
          "user": "dave"
        },
        {
          "action": "kept",
          "name": "test-erin-7kyiacbjza",
          "reason": "no hub server refers to it, but it is younger ([AGE] s) than the grace period (350 s)",
          "server": "",
          "user": "erin"
        },
        {
          "action": "would_delete",
          "name": "test-frank-bu7jewnowg",
          "reason": "failed terminally: provisioning Failed",
          "server": "",
          "user": "frank"
        },
        {
          "action": "would_delete",
          "name": "test-gina-fazerkgxwy",
          "reason": "failed terminally: provisioning Failed",
          "server": "",
          "user": "gina"
        },
        {
          "action": "kept",
          "name": "test-hank-qbweh3xkck",
          "reason": "failed terminally (provisioning Failed), but a spawn is in progress and start handles it",
          "server": "",
          "user": "hank"
        },
        {
          "action": "would_delete",
          "name": "test-ivy-old-ngfvd3tzem",
          "reason": "no active or pending hub server refers to it (age [AGE] s)",
          "server": "old",
          "user": "ivy"
        },
        {
          "action": "kept",
          "name": "test-oldname-exhjfssf3p",
          "reason": "an active hub server's state refers to it",
          "server": "",
          "user": "oldname"
        }
      ],
      "deleted": 0,
      "dry_run": true,
      "failed": 0,
      "grace_seconds": 350,
      "kept": 5,
      "other": 2,
      "requests": {
        "arm_deletes": 0,
        "arm_list_pages": 1,
        "arm_throttled": 0,
        "hub": 7
      },
      "scanned": 10,
      "would_delete": 5
    }
    "#);
    let would: BTreeSet<String> = v["apps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "would_delete")
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(would, expected, "{v:#}");

    // --grace overrides the default: the young orphan becomes a candidate.
    let (_, v0) = gc(&h, &["--dry-run", "--grace", "0s"]);
    assert_eq!(v0["would_delete"], 6, "{v0:#}");

    let (r, v) = gc(&h, &[]);
    assert_eq!(r.code, 0, "{}\n{v:#}", r.stderr);
    assert_eq!(deleted(&h), expected);
    assert_eq!(v["deleted"], 5);
    assert_eq!(v["kept"], 5);
    assert_eq!(v["failed"], 0);
    for keep in [&alice, &renamed, &bob, &erin, &hank] {
        assert!(h.fake.requests_matching("DELETE", keep).is_empty(), "{keep} must be kept");
    }
    assert!(h.fake.requests_matching("DELETE", "other-carol").is_empty());
    assert!(h.fake.requests_matching("DELETE", "untagged").is_empty());
    // Every candidate's server was re-checked individually before the delete.
    let paths: Vec<String> = hub.requests().iter().map(|r| r.path.clone()).collect();
    assert!(paths.iter().any(|p| p.ends_with("/users/carol/server")), "{paths:?}");
    assert!(paths.iter().any(|p| p.ends_with("/users/dave/servers/x")), "{paths:?}");
    assert!(hub.requests().iter().filter(|r| r.path.contains("/users?")).all(|r| r.paginated));
}

#[test]
fn an_incomplete_or_unreadable_hub_view_deletes_nothing() {
    let (h, hub) = setup();
    let orphan = insert(&h, "olduser", "", Some(OLD), None);
    // 250 active users: two pages of 200.
    for i in 0..250 {
        hub.add_server(&format!("user{i:03}"), "", HubServer::running(json!({})));
    }
    let check = |label: &str, code: &str| {
        let r = run(h.acactl().args(["gc", "-o", "json"]));
        assert_eq!(r.code, 3, "{label}: {}\n{}", r.stdout, r.stderr);
        assert_eq!(r.json()["error"]["code"], code, "{label}: {}", r.stdout);
        assert!(r.stderr.contains("deleted nothing"), "{label}: {}", r.stderr);
        assert!(h.fake.requests_matching("DELETE", "").is_empty(), "{label}: nothing deleted");
    };
    hub.set_fail_all(Some(500));
    check("hub error", "HubError");
    hub.set_fail_all(Some(401));
    check("401", "HubAuthFailed");
    hub.set_fail_all(None);
    hub.set_fail_page(Some((1, 500)));
    check("second page fails", "HubError");
    assert!(hub.requests().iter().any(|r| r.path.contains("offset=200")), "the first page was read");
    hub.set_fail_page(None);
    hub.set_fail_servers(Some(500));
    check("re-check fails", "HubError");
    hub.set_fail_servers(None);
    // A token whose list:users is filtered to a group sees only part of the hub.
    hub.add_token(HUB_TOKEN, &["list:users!group=class1", "read:servers", "admin:server_state"]);
    let r = run(h.acactl().args(["gc", "-o", "json"]));
    assert_eq!(r.code, 3);
    let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("list:users") && msg.contains("filtered"), "{msg}");
    assert!(!msg.contains("read:servers,"), "only the missing scope is named: {msg}");
    hub.add_token(HUB_TOKEN, &["list:users", "read:servers"]);
    let r = run(h.acactl().args(["gc", "-o", "json"]));
    assert_eq!(r.code, 3);
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("admin:server_state"));
    assert!(h.fake.requests_matching("DELETE", "").is_empty());
    // Unknown token (403) and an unreachable hub.
    hub.add_token("some-other-token", SCOPES);
    hub.add_token(HUB_TOKEN, &[]);
    check("missing scopes", "HubScopeMissing");
    h.write_config("hub:\n  api_url: http://127.0.0.1:9/hub/api\n  api_token: x-token-value\n");
    check("unreachable", "HubUnreachable");
    // No hub API configured at all: a configuration error.
    h.write_config("");
    let r = run(h.acactl().args(["gc", "-o", "json"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.contains("hub.api_url"));
    // JUPYTERHUB_API_TOKEN is never used for the hub API.
    h.write_config(&format!("hub:\n  api_url: {}\n", hub.api_url()));
    hub.add_token(HUB_TOKEN, SCOPES);
    let r = run(h.acactl().env("JUPYTERHUB_API_TOKEN", HUB_TOKEN).args(["gc", "-o", "json"]));
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stdout.contains("ACACTL_HUB_API_TOKEN"));
    let r = run(h.acactl().env("ACACTL_HUB_API_TOKEN", HUB_TOKEN).args(["gc", "-o", "json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(deleted(&h), set(&[&orphan]));
}

#[test]
fn paging_on_both_sides() {
    let (h, hub) = setup();
    h.fake.set_page_size(7);
    let mut keep = Vec::new();
    let mut orphans = BTreeSet::new();
    for i in 0..24 {
        let user = format!("u{i:02}");
        let name = insert(&h, &user, "", Some(OLD), None);
        if i % 3 == 0 {
            orphans.insert(name);
        } else {
            hub.add_server(&user, "", HubServer::running(app_state(&h, &name)));
            keep.push(name);
        }
    }
    // The live servers sit on the hub's last page (users sort by name): a gc reading only the first
    // page would see them as orphans and lean on the re-check alone.
    for i in 0..430 {
        hub.add_server(&format!("a-{i:03}"), "", HubServer::running(json!({})));
    }
    h.fake.reset_log();
    let (r, v) = gc(&h, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(deleted(&h), orphans);
    assert_eq!(v["deleted"], 8);
    assert_eq!(v["kept"], 16);
    let lists = h.fake.requests_matching("GET", "/containerApps").len();
    assert_eq!(lists, 4, "24 apps in pages of 7 = 4 list calls and no GET per app");
    assert_eq!(v["requests"]["arm_list_pages"], 4);
    let pages = hub.requests().iter().filter(|r| r.path.contains("/users?")).count();
    assert_eq!(pages, 3, "446 users in pages of 200");
}

#[test]
fn throttled_and_failing_deletes_are_retried_and_one_permanent_failure_does_not_stop_the_rest() {
    let (h, hub) = setup();
    let _ = &hub;
    let mut orphans = BTreeSet::new();
    for i in 0..12 {
        orphans.insert(insert(&h, &format!("o{i:02}"), "", Some(OLD), None));
    }
    let doomed = insert(&h, "doomed", "", Some(OLD), None);
    h.fake.inject(Fault::status("DELETE", &doomed, 100, 403, "AuthorizationFailed", None));
    h.fake.inject(Fault::status("DELETE", "", 4, 429, "SubscriptionRequestsThrottled", Some(1)));
    h.fake.inject(Fault::status("DELETE", "", 2, 500, "InternalServerError", None));
    h.fake.inject(Fault::status("DELETE", "", 1, 503, "ServiceUnavailable", None));
    let started = std::time::Instant::now();
    let (r, v) = gc(&h, &[]);
    assert_eq!(r.code, 3, "a failed delete makes the exit code non-zero: {}", r.stderr);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "Retry-After was honoured");
    assert_eq!(deleted(&h), orphans, "every other orphan was deleted");
    assert_eq!(v["deleted"], 12);
    assert_eq!(v["failed"], 1);
    let failed = v["apps"].as_array().unwrap().iter().find(|a| a["action"] == "failed").unwrap().clone();
    assert_eq!(failed["name"], doomed.as_str());
    assert!(failed["reason"].as_str().unwrap().contains("AuthorizationFailed"), "{failed}");
    assert!(r.stderr.contains(&doomed));
    assert!(v["requests"]["arm_throttled"].as_u64().unwrap() >= 4, "{v}");
    // No delete was sent again after ARM accepted it.
    for name in &orphans {
        let accepted = h.fake.requests_matching("DELETE", name).iter().filter(|r| r.status == 202).count();
        assert_eq!(accepted, 1, "{name}");
        let after: Vec<u16> = h
            .fake
            .requests_matching("DELETE", name)
            .iter()
            .skip_while(|r| r.status != 202)
            .skip(1)
            .map(|r| r.status)
            .collect();
        assert!(after.is_empty(), "{name} got DELETEs after it was accepted: {after:?}");
    }
    // The next run catches the rest (here: nothing left but the one ARM refuses).
    h.fake.clear_faults();
    h.fake.reset_log();
    let (r, v) = gc(&h, &[]);
    assert_eq!(r.code, 0, "{v}");
}

/// The hub's budget file (made by any ARM command) with its delete bucket set to `deletes`.
fn set_delete_bucket(h: &Harness, deletes: Value) {
    let dir = h.dir.path().join("cache/fleet");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name().unwrap().to_string_lossy().starts_with("budget-")
                && p.extension().is_some_and(|x| x == "json")
        })
        .expect("a budget file");
    let mut budget: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    budget["deletes"] = deletes;
    std::fs::write(&file, budget.to_string()).unwrap();
}

fn unix_ms(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[test]
fn gc_deletes_take_their_tokens_from_the_hubs_budget() {
    let (h, _hub) = setup();
    let first = insert(&h, "budgeted", "", Some(OLD), None);
    let r = run(h.acactl().args(["status", "-o", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // ARM's delete bucket was just found empty for 1.5 s (a stop's 429): gc waits it out too.
    // 61 tokens: above gc's floor (30% of 200), so only the pause holds it back.
    let now = unix_ms(std::time::SystemTime::now());
    set_delete_bucket(&h, json!({"tokens": 61.0, "at_ms": now, "paused_until_ms": now + 1500}));
    let (r, _) = gc(&h, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(deleted(&h), set(&[&first]));
    let sent = unix_ms(h.fake.requests_matching("DELETE", "/containerApps/")[0].time);
    assert!(sent >= now + 1500, "the DELETE went out {} ms before the hub's pause ended", now + 1500 - sent);
    // 55 tokens, no pause: gc leaves the bucket's last 60 to the hub's stops, so it waits for
    // the refill (6 tokens at 9/s: ~0.67 s) where a stop would send at once.
    let second = insert(&h, "floored", "", Some(OLD), None);
    h.fake.reset_log();
    let now = unix_ms(std::time::SystemTime::now());
    set_delete_bucket(&h, json!({"tokens": 55.0, "at_ms": now, "paused_until_ms": 0}));
    let (r, _) = gc(&h, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(deleted(&h), set(&[&second]));
    let sent = unix_ms(h.fake.requests_matching("DELETE", "/containerApps/")[0].time);
    assert!(sent >= now + 500, "gc dug below its floor: the DELETE went out after {} ms", sent - now);
}

#[test]
fn a_delete_the_budget_cannot_send_while_its_recheck_holds_is_not_sent() {
    let (h, _hub) = setup();
    let orphan = insert(&h, "stale", "", Some(OLD), None);
    let r = run(h.acactl().args(["status", "-o", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Nothing for 400 s: past the 300 s a re-check holds (the user may start the server again).
    let now = unix_ms(std::time::SystemTime::now());
    set_delete_bucket(&h, json!({"tokens": 0.0, "at_ms": now, "paused_until_ms": now + 400_000}));
    let t = std::time::Instant::now();
    let (r, v) = gc(&h, &[]);
    assert!(t.elapsed() < std::time::Duration::from_secs(30), "{:?}", t.elapsed());
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(h.fake.requests_matching("DELETE", "").is_empty(), "nothing was sent");
    let app = v["apps"].as_array().unwrap().iter().find(|a| a["name"] == orphan.as_str()).unwrap().clone();
    assert_eq!(app["action"], "failed", "{app}");
    assert!(app["reason"].as_str().unwrap().contains("the next run deletes it"), "{app}");
}

#[test]
fn two_gc_runs_do_not_fight() {
    let (h, hub) = setup();
    let orphan = insert(&h, "locked", "", Some(OLD), None);
    let lock_path = h.dir.path().join("cache").join("gc-test.lock");
    std::fs::create_dir_all(lock_path.parent().unwrap()).unwrap();
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).unwrap();
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }, 0);
    let r = run(h.acactl().args(["gc", "-o", "json"]));
    assert_eq!(r.code, 4, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.json()["error"]["code"], "GcAlreadyRunning");
    assert!(r.stderr.contains("another `acactl gc`") && r.stderr.contains("gc-test.lock"), "{}", r.stderr);
    assert!(hub.requests().is_empty() && h.fake.requests_matching("DELETE", "").is_empty());
    // A dry run needs no lock.
    assert_eq!(run(h.acactl().args(["gc", "--dry-run", "-o", "json"])).code, 0);
    drop(file);
    let (r, _) = gc(&h, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(deleted(&h), set(&[&orphan]));
}

#[test]
fn table_output_summarises() {
    let (h, _hub) = setup();
    insert(&h, "tab", "", Some(OLD), None);
    let r = run(h.acactl().args(["gc", "--dry-run", "-o", "table"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("APP"), "{}", r.stdout);
    assert!(r.stdout.contains("would_delete") && r.stdout.contains("1 would be deleted"), "{}", r.stdout);
}
