//! Fleet scale (issue 9) and the retry/wait edges of issue 10: the shared fleet view, the
//! hub-wide budget, throttling that slows but never fails, absurd Retry-After values, looping
//! nextLinks, poll's worst case, and stop noticing "gone" quickly.

use std::time::{Duration, Instant};

use fake_arm::{Fault, Options};
use serde_json::json;

use crate::common::*;

fn harness(extra: &str) -> Harness {
    Harness::with(Options { provision_polls: 2, failure_polls: 3, ..Options::default() }, extra)
}

fn started(h: &Harness, user: &str) -> (String, String) {
    let r = run(h.spawner(user, "").arg("start"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = r.json();
    (out["name"].as_str().unwrap().to_string(), state_of(&out))
}

fn poll(h: &Harness, state: &str) -> (Run, serde_json::Value) {
    let r = run(h.acactl().env("ACACTL_STATE", state).arg("poll"));
    assert_eq!(r.code, 0, "poll exits 0: {}", r.stderr);
    let v = r.json();
    (r, v)
}

/// GETs of the resource group's list (not of one app).
fn lists(h: &Harness) -> usize {
    h.fake
        .arm_requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.to_ascii_lowercase().contains("/containerapps?"))
        .count()
}

fn app_gets(h: &Harness, name: &str) -> Vec<u16> {
    let needle = format!("/containerapps/{}?", name.to_ascii_lowercase());
    h.fake
        .arm_requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.to_ascii_lowercase().contains(&needle))
        .map(|r| r.status)
        .collect()
}

/// Starts wait on the view and then retire it for their app (a view listed while it provisioned
/// must not answer "pending" after the start said ready): tests of the polls' own sharing begin
/// without it, as a hub does once `max_age` has passed.
fn drop_views_of_starts(h: &Harness) {
    std::fs::remove_file(view_file(h)).unwrap();
}

fn view_file(h: &Harness) -> std::path::PathBuf {
    let dir = h.dir.path().join("cache/fleet");
    std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name().unwrap().to_string_lossy().starts_with("view-") && p.extension().is_some_and(|x| x == "json")
        })
        .expect("a fleet view file")
}

#[test]
fn polls_share_one_list_per_max_age() {
    let h = harness("fleet:\n  max_age: 60\n");
    let (_, a) = started(&h, "ann");
    let (_, b) = started(&h, "bob");
    drop_views_of_starts(&h);
    h.fake.reset_log();
    for s in [&a, &b, &a, &b] {
        let (_, v) = poll(&h, s);
        assert_eq!(v["status"], "running", "{v}");
        assert_eq!(v["source"], "fleet", "{v}");
    }
    assert_eq!(lists(&h), 1, "one list serves every poll: {:?}", h.fake.arm_requests());
    assert_eq!(h.fake.arm_requests().len(), 1, "and nothing else: {:?}", h.fake.arm_requests());
}

#[test]
fn many_pollers_one_refresher() {
    let h = harness("fleet:\n  max_age: 60\n");
    let (_, a) = started(&h, "many");
    drop_views_of_starts(&h);
    // A slow list: every concurrent poll arrives while it is in flight.
    h.fake.inject(Fault::delay("GET", "/containerApps?", 1, 1500));
    h.fake.reset_log();
    let mut children: Vec<std::process::Child> = (0..12)
        .map(|_| {
            let mut c = h.spawner_std("other", "");
            c.env("ACACTL_STATE", &a).env_remove("JUPYTERHUB_SERVICE_PREFIX").arg("poll");
            c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null()).spawn().unwrap()
        })
        .collect();
    for c in children.iter_mut() {
        let out = c.wait().unwrap();
        assert!(out.success());
    }
    for c in children {
        let out = c.wait_with_output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["status"], "running", "{v}");
    }
    assert_eq!(lists(&h), 1, "one refresher for 12 pollers: {:?}", h.fake.arm_requests());
}

#[test]
fn stale_view_is_refreshed_and_a_deleted_app_is_gone_only_after_a_404() {
    let h = harness("fleet:\n  max_age: 1\n");
    let (name, state) = started(&h, "stale");
    drop_views_of_starts(&h);
    let (_, v) = poll(&h, &state);
    assert_eq!(v["source"], "fleet");
    assert!(h.fake.remove_app(&name));
    std::thread::sleep(Duration::from_millis(1200));
    h.fake.reset_log();
    let (_, v) = poll(&h, &state);
    assert_eq!(v["status"], "stopped", "{v}");
    assert_eq!(lists(&h), 1, "the stale view was refreshed");
    assert_eq!(app_gets(&h, &name), vec![404], "gone only after the app's own 404");
}

/// The manifest's mtime, to see a refresh land.
fn view_mtime(h: &Harness) -> std::time::SystemTime {
    std::fs::metadata(view_file(h)).unwrap().modified().unwrap()
}

#[test]
fn while_one_poll_refreshes_a_due_view_the_others_answer_from_it() {
    // max_age 10 s: from 8 s on the view is due; until 10 s it still answers.
    let h = harness("fleet:\n  max_age: 10\n");
    let (_, state) = started(&h, "ahead");
    drop_views_of_starts(&h);
    poll(&h, &state);
    let first = view_mtime(&h);
    std::thread::sleep(Duration::from_millis(8300));
    // A slow list: the poll that refreshes takes 2 s.
    h.fake.inject(Fault::delay("GET", "/containerApps?", 1, 2000));
    h.fake.reset_log();
    let mut c = h.spawner_std("other", "");
    c.env("ACACTL_STATE", &state).env_remove("JUPYTERHUB_SERVICE_PREFIX").arg("poll");
    let mut refresher = c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    // Wait until it holds the refresh lock (it lists for 2 s from then), seen in /proc/locks
    // (taking the lock to test it could make the refresher believe someone else refreshes).
    let ino = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(view_file(&h).with_extension("lock")).unwrap().ino()
    };
    let held = || {
        std::fs::read_to_string("/proc/locks")
            .unwrap()
            .lines()
            .any(|l| l.contains("FLOCK") && l.split_whitespace().any(|f| f.ends_with(&format!(":{ino}"))))
    };
    // The refresher's own brief lock probes are not the refresh: held for 100 ms straight is.
    let until = Instant::now() + Duration::from_secs(10);
    let mut since: Option<Instant> = None;
    while since.is_none_or(|t| t.elapsed() < Duration::from_millis(100)) {
        assert!(Instant::now() < until, "the first poll in the view's last fifth refreshes it");
        since = if held() { since.or(Some(Instant::now())) } else { None };
        std::thread::sleep(Duration::from_millis(5));
    }
    // Four polls at once (one after another they might outlast the view's last 2 s on a busy
    // machine): each answers from the view, none waits for the list.
    let t = Instant::now();
    let polls: Vec<std::process::Child> = (0..4)
        .map(|_| {
            let mut c = h.spawner_std("other", "");
            c.env("ACACTL_STATE", &state).env_remove("JUPYTERHUB_SERVICE_PREFIX").arg("poll");
            c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null()).spawn().unwrap()
        })
        .collect();
    for c in polls {
        let out = c.wait_with_output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["status"], "running", "{v}");
        assert_eq!(v["source"], "fleet", "answered from the view still within max_age: {v}");
    }
    let took = t.elapsed();
    assert!(took < Duration::from_millis(1500), "no other poll waited for the 2 s list: {took:?}");
    assert!(refresher.wait().unwrap().success());
    assert_ne!(view_mtime(&h), first, "the refresher replaced the view");
    assert_eq!(lists(&h), 1, "one refresher: {:?}", h.fake.arm_requests());
    assert_eq!(h.fake.arm_requests().len(), 1, "and no other poll asked ARM: {:?}", h.fake.arm_requests());
}

#[test]
fn an_app_created_after_the_last_refresh_is_read_directly() {
    let h = harness("fleet:\n  max_age: 60\n");
    let (_, a) = started(&h, "early");
    poll(&h, &a);
    let (name, b) = started(&h, "late");
    h.fake.reset_log();
    let (_, v) = poll(&h, &b);
    assert_eq!(v["status"], "running", "{v}");
    assert_eq!(lists(&h), 0);
    assert_eq!(app_gets(&h, &name), vec![200], "missing from the view: one direct GET");
}

#[test]
fn torn_foreign_future_or_loose_views_are_not_trusted() {
    use std::os::unix::fs::PermissionsExt;
    let h = harness("fleet:\n  max_age: 60\n");
    let (name, state) = started(&h, "trust");
    poll(&h, &state);
    let file = view_file(&h);
    let good = std::fs::read_to_string(&file).unwrap();
    // The manifest names a generation of shards (`view-<hash>.shards/<k>.json`) that holds the apps.
    let shard_dir = file.with_extension("shards");
    let good_shards: Vec<(std::path::PathBuf, Vec<u8>)> = std::fs::read_dir(&shard_dir)
        .unwrap()
        .flatten()
        .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
        .collect();
    assert!(!good_shards.is_empty());
    // The app is deleted; a view that still lists it must be ignored whenever it is not ours.
    assert!(h.fake.remove_app(&name));
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let mut v: serde_json::Value = serde_json::from_str(&good).unwrap();
    v["refreshed_ms"] = json!(now_ms);
    let fresh = v.to_string();
    let mut foreign = v.clone();
    foreign["key"] = json!("https://elsewhere|sub|rg|hub");
    let mut future = v.clone();
    future["refreshed_ms"] = json!(now_ms + 3_600_000);
    for (label, text, mode) in [
        ("torn", fresh[..fresh.len() / 2].to_string(), 0o600),
        ("foreign", foreign.to_string(), 0o600),
        ("dated in the future", future.to_string(), 0o600),
        ("group/world-writable", fresh.clone(), 0o666),
    ] {
        std::fs::write(&file, &text).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let (_, out) = poll(&h, &state);
        assert_eq!(out["status"], "stopped", "{label}: {out}");
    }
    // The same view, private and listed after the 404s above, is trusted (that is what makes the
    // view cheap). The polls above refreshed it meanwhile: put its shards back too.
    for (p, bytes) in &good_shards {
        std::fs::write(p, bytes).unwrap();
    }
    std::thread::sleep(Duration::from_millis(20));
    v["refreshed_ms"] =
        json!(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64);
    std::fs::write(&file, v.to_string()).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (_, out) = poll(&h, &state);
    assert_eq!(out["source"], "fleet", "{out}");
}

#[test]
fn refresher_killed_mid_refresh_leaves_no_stale_lock() {
    let h = harness("fleet:\n  max_age: 60\n");
    let (_, state) = started(&h, "killed");
    drop_views_of_starts(&h);
    h.fake.inject(Fault::delay("GET", "/containerApps?", 1, 5000));
    let mut c = h.spawner_std("other", "");
    c.env("ACACTL_STATE", &state).env_remove("JUPYTERHUB_SERVICE_PREFIX").arg("poll");
    let mut child = c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(700));
    child.kill().unwrap();
    child.wait().unwrap();
    let t = Instant::now();
    let (_, v) = poll(&h, &state);
    assert_eq!(v["status"], "running", "{v}");
    assert_eq!(v["source"], "fleet", "the next process takes over the refresh: {v}");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
}

#[test]
fn list_pages_that_shift_never_make_an_app_gone() {
    let h = harness("fleet:\n  max_age: 60\n");
    h.fake.set_page_size(1);
    let names: Vec<(String, String)> = ["p1", "p2", "p3"].iter().map(|u| started(&h, u)).collect();
    // The second page comes back empty and ends the list: apps 2 and 3 are missing from the view.
    h.fake.inject(Fault::respond("GET", "skiptoken", 1, 200, &[], json!({"value": [], "nextLink": null})));
    for (name, state) in &names {
        let (_, v) = poll(&h, state);
        assert_eq!(v["status"], "running", "{name}: {v}");
    }
    assert_eq!(h.fake.apps().len(), 3);
}

#[test]
fn fleet_disabled_is_one_get_per_poll() {
    let h = harness("fleet:\n  enabled: false\n");
    let (name, state) = started(&h, "classic");
    h.fake.reset_log();
    poll(&h, &state);
    poll(&h, &state);
    assert_eq!(lists(&h), 0);
    assert_eq!(app_gets(&h, &name), vec![200, 200]);
}

#[test]
fn jupyter_answering_through_the_ingress_costs_no_arm_request() {
    let h = harness("");
    let (_, state) = started(&h, "probe");
    h.fake.reset_log();
    let r = run(h.spawner("probe", "").env("ACACTL_STATE", &state).arg("poll"));
    let v = r.json();
    assert_eq!(v["status"], "running", "{v}");
    assert_eq!(v["source"], "ingress", "{v}");
    assert_eq!(h.fake.arm_requests().len(), 0, "{:?}", h.fake.arm_requests());
}

#[test]
fn throttled_start_keeps_its_app_and_waits() {
    let h = harness("");
    // Eight 429s in a row on reads of the apps (the app, the list the start waits on): more than
    // max_attempts (6) and retry_max_total (3 s).
    h.fake.inject(Fault::status("GET", "/containerApps", 8, 429, "SubscriptionRequestsThrottled", Some(0)));
    let r = run(h.spawner("patient", "").args(["start", "--progress", "json"]).env("ACACTL_LOG", "info"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("waiting for Azure's request budget"), "{}", r.stderr);
    assert_eq!(h.fake.apps().len(), 1);
}

#[test]
fn absurd_retry_after_never_panics_or_orphans() {
    const HUGE: &str = "18446744073709551615";
    let h = harness("");
    let (name, state) = started(&h, "absurd");
    let (_, state2) = started(&h, "absurd3");
    // stop: the delete's Location says "come back in 584 billion years"; stop notices the app is
    // gone through the fleet view and one GET of the app (deletion by wall clock, like ARM).
    h.fake.set_delete_secs(0.5);
    h.fake.inject(Fault::respond(
        "GET",
        "containerappOperationResults",
        1000,
        202,
        &[("retry-after", HUGE)],
        json!(null),
    ));
    let t = Instant::now();
    let r = run(h.acactl().env("ACACTL_STATE", &state).arg("stop"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    assert!(h.fake.app(&name).is_none());
    h.fake.clear_faults();
    // start: the operation answers 429 with an absurd Retry-After: the start fails cleanly (exit 3)
    // and deletes its app.
    h.fake.inject(Fault::respond(
        "GET",
        "containerappOperationStatuses",
        1000,
        429,
        &[("retry-after", HUGE)],
        json!({"error": {"code": "SubscriptionRequestsThrottled", "message": "x"}}),
    ));
    let r = run(h.spawner("absurd2", "").arg("start"));
    assert_eq!(r.code, 3, "{}", r.stderr);
    h.fake.clear_faults();
    std::thread::sleep(Duration::from_millis(300));
    let left: Vec<_> = h
        .fake
        .apps()
        .into_iter()
        .filter(|a| a["tags"]["acactl-user"] == "absurd2" && a["properties"]["provisioningState"] != "Deleting")
        .collect();
    assert!(left.is_empty(), "start left its app behind: {left:?}");
    // gc and status: a clean failure on the list, never a panic.
    h.fake.inject(Fault::respond(
        "GET",
        "/containerApps?",
        1000,
        429,
        &[("retry-after", HUGE)],
        json!({"error": {"code": "SubscriptionRequestsThrottled", "message": "x"}}),
    ));
    for cmd in [vec!["status"], vec!["gc", "--dry-run"]] {
        let r = run(h.acactl().args(&cmd));
        assert_ne!(r.code, 101, "{cmd:?} panicked: {}", r.stderr);
        assert_ne!(r.code, 0, "{cmd:?}: {}", r.stdout);
    }
    h.fake.clear_faults();
    // poll: unknown, not a panic.
    // (Also on the list, and without the view stop refreshed, so the fleet view cannot answer instead.)
    std::fs::remove_file(view_file(&h)).unwrap();
    h.fake.inject(Fault::respond(
        "GET",
        "/containerApps",
        1000,
        429,
        &[("retry-after", HUGE)],
        json!({"error": {"code": "SubscriptionRequestsThrottled", "message": "x"}}),
    ));
    let (_, v) = poll(&h, &state2);
    assert_eq!(v["status"], "unknown", "{v}");
    h.fake.clear_faults();
}

#[test]
fn a_next_link_that_repeats_fails_the_list_instead_of_looping() {
    let h = harness("");
    started(&h, "loop");
    let me = format!(
        "{}/subscriptions/{}/resourceGroups/{}/providers/Microsoft.App/containerApps?api-version=2025-07-01&%24skiptoken=again",
        h.fake.base_url(),
        h.fake.subscription(),
        h.fake.resource_group()
    );
    h.fake.inject(Fault::respond("GET", "/containerApps?", 1000, 200, &[], json!({"value": [], "nextLink": me})));
    let t = Instant::now();
    let r = run(h.acactl().args(["status", "-o", "json"]));
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(r.all_output().contains("PagingLoop"), "{}", r.all_output());
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(lists(&h) <= 3, "{}", lists(&h));
}

#[test]
fn poll_during_a_full_outage_ends_within_its_documented_bound() {
    // Settings that would allow minutes of retrying: poll's own deadline still holds.
    let h = harness(
        "arm:\n  poll_interval_ms: 30\n  retry_base_ms: 10\n  request_timeout: 60\n  max_attempts: 20\n  retry_max_total: 600\n",
    );
    let (_, state) = started(&h, "outage");
    h.fake.inject(Fault::delay("GET", "/subscriptions/", 10_000, 120_000));
    let t = Instant::now();
    let (_, v) = poll(&h, &state);
    let took = t.elapsed();
    assert_eq!(v["status"], "unknown", "{v}");
    assert!(took < Duration::from_secs(21), "poll took {took:?}; documented worst case 20 s");
}

#[test]
fn stop_returns_within_a_second_of_the_app_being_gone() {
    for extra in ["", "fleet:\n  enabled: false\n"] {
        let h = harness(extra);
        let (name, state) = started(&h, "quick");
        // ARM asks to come back in 15 s; the app is gone 1.5 s after the DELETE (wall clock, like
        // ARM: the fake's tick model would end it after a few GETs of the app).
        h.fake.set_retry_after(15);
        h.fake.set_delete_secs(1.5);
        h.fake.reset_log();
        let t = Instant::now();
        let r = run(h.acactl().env("ACACTL_STATE", &state).arg("stop"));
        let took = t.elapsed();
        assert_eq!(r.code, 0, "{extra}: {}", r.stderr);
        assert!(h.fake.app(&name).is_none());
        assert!(took < Duration::from_millis(2500), "{extra}: stop returned {took:?} after a 1.5 s deletion");
        let gets = app_gets(&h, &name);
        if extra.is_empty() {
            // Before the DELETE, one confirm (404), and at most one confirm of a list that raced.
            assert!(gets.len() <= 3 && gets.last() == Some(&404), "{gets:?}");
            assert!(lists(&h) >= 1, "the fleet view answered");
        } else {
            assert!(gets.len() >= 3 && gets.last() == Some(&404), "classic GET loop: {gets:?}");
            assert_eq!(lists(&h), 0);
        }
    }
}

#[test]
fn concurrent_stops_share_the_fleet_list() {
    let h = harness("");
    let states: Vec<(String, String)> = (0..6).map(|i| started(&h, &format!("cull{i}"))).collect();
    h.fake.set_retry_after(15);
    h.fake.set_delete_secs(2.0);
    h.fake.reset_log();
    let t = Instant::now();
    let children: Vec<_> = states
        .iter()
        .map(|(_, s)| {
            let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("acactl"));
            c.env_clear()
                .envs(h.base_env())
                .env("ACACTL_STATE", s)
                .arg("stop")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let took = t.elapsed();
    assert!(took < Duration::from_millis(3500), "stops returned {took:?} after a 2 s deletion");
    for (name, _) in &states {
        assert!(h.fake.app(name).is_none());
        let gets = app_gets(&h, name);
        // The ownership GET, the first guess (1 s), the usual window once another stop has recorded
        // its duration (from ~1.9 s), the 404: at most 4, where a GET every 0.5 s would be 6.
        assert!(gets.len() <= 4 && gets.last() == Some(&404), "{name}: {gets:?}");
    }
    // One list per refresh period (0.5 s here) for all six, not a GET every 0.5 s per stop.
    let l = lists(&h);
    assert!((1..=10).contains(&l), "{l} lists for 6 stops in {took:?}");
}

#[test]
fn stop_asks_the_app_itself_when_the_view_cannot_be_had() {
    let h = harness("");
    let (name, state) = started(&h, "noview");
    h.fake.set_delete_secs(1.0);
    h.fake.set_retry_after(15);
    // Every list fails: the stop still notices the app is gone through its own GETs.
    h.fake.inject(Fault::respond(
        "GET",
        "/containerApps?",
        1000,
        500,
        &[],
        json!({"error": {"code": "InternalServerError", "message": "x"}}),
    ));
    h.fake.reset_log();
    let t = Instant::now();
    let r = run(h.acactl().env("ACACTL_STATE", &state).arg("stop"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(h.fake.app(&name).is_none());
    assert!(t.elapsed() < Duration::from_secs(6), "{:?}", t.elapsed());
    assert_eq!(app_gets(&h, &name).last(), Some(&404));
    h.fake.clear_faults();
}

#[test]
fn doctor_reports_the_fleet_view_and_the_budget() {
    let h = harness("");
    let (_, state) = started(&h, "doc");
    poll(&h, &state);
    let r = run(h.acactl().args(["doctor", "-o", "json"]));
    let out = r.all_output();
    assert!(out.contains("fleet view"), "{out}");
    assert!(out.contains("refreshed"), "{out}");
    assert!(out.contains("ARM budget") && out.contains("reads"), "{out}");
}

fn op_reads(h: &Harness) -> usize {
    h.fake
        .arm_requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.to_ascii_lowercase().contains("containerappoperationstatuses"))
        .count()
}

#[test]
fn a_waiting_start_reads_provisioning_from_the_view_not_its_operation() {
    // Slow fail-fast pace (10 s) and op pace (5 s): within 2.5 s of provisioning only the view
    // and the ingress can have answered.
    let arm = "arm:\n  poll_interval_ms: 1000\n  retry_base_ms: 10\n  retry_max_total: 3\n  stop_timeout: 10\n  request_timeout: 5\n";
    for (label, fleet) in [("fleet", "fleet:\n  max_age: 1\n"), ("no fleet", "fleet:\n  enabled: false\n")] {
        let h = harness(&format!("{fleet}{arm}"));
        // Wall-clock provisioning, like ARM (the tick model only advances when the operation is read).
        h.fake.set_provision_secs(2.5);
        h.fake.reset_log();
        let t = Instant::now();
        let r = run(h.spawner("viewer", "").arg("start"));
        assert_eq!(r.code, 0, "{label}: {}", r.stderr);
        let took = t.elapsed();
        if label == "fleet" {
            assert!(took < Duration::from_secs(5), "{label}: {took:?}");
            assert_eq!(op_reads(&h), 0, "{label}: {:?}", h.fake.arm_requests());
            assert!(lists(&h) >= 1, "{label}: the view was listed");
        } else {
            assert!(op_reads(&h) >= 2, "{label}: the classic loop reads the operation");
            assert_eq!(lists(&h), 0, "{label}");
        }
    }
}

#[test]
fn a_failure_the_view_shows_is_reported_with_arms_own_code() {
    let cfg = "fleet:\n  max_age: 1\narm:\n  poll_interval_ms: 1000\n  retry_base_ms: 10\n  retry_max_total: 3\n  stop_timeout: 10\n  request_timeout: 5\n";
    let h = harness(cfg);
    h.fake.set_provision_secs(1.5);
    behave(&h, "doomed", fake_arm::Behaviour::ProvisionFailed);
    h.fake.reset_log();
    let t = Instant::now();
    let r = run(h.spawner("doomed", "").arg("start"));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.all_output().contains("ContainerAppOperationError"), "{}", r.all_output());
    assert!(t.elapsed() < Duration::from_secs(6), "{:?}", t.elapsed());
    // Read once the view showed it Failed (plus, at most, the 5 s frugal pace before the view listed it).
    assert!((1..=2).contains(&op_reads(&h)), "{:?}", h.fake.arm_requests());
}

#[test]
fn a_shard_of_another_generation_is_not_used() {
    // A refresh killed between writing shards and the manifest leaves shards the manifest does not
    // name: the apps in them count as not listed (one direct GET each), never as gone.
    let h = harness("fleet:\n  max_age: 60\n");
    let (name, state) = started(&h, "shard");
    drop_views_of_starts(&h);
    let (_, v) = poll(&h, &state);
    assert_eq!(v["source"], "fleet", "{v}");
    let shards = view_file(&h).with_extension("shards");
    for e in std::fs::read_dir(&shards).unwrap().flatten() {
        let mut s: serde_json::Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
        s["generation"] = json!(12345);
        std::fs::write(e.path(), s.to_string()).unwrap();
    }
    h.fake.reset_log();
    let (_, v) = poll(&h, &state);
    assert_eq!(v["status"], "running", "{v}");
    assert_ne!(v["source"], "fleet", "{v}");
    assert_eq!(lists(&h), 0, "the manifest is current: no refresh");
    assert_eq!(app_gets(&h, &name), vec![200], "not listed: one direct GET");
}
