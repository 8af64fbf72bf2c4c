//! Wait estimates in start's progress events, from this hub's earlier starts (src/estimates.rs has
//! the fake-clock tests of the arithmetic; this is the wiring through a real start).

use crate::common::*;

fn messages(r: &Run) -> Vec<String> {
    r.stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn progress_says_how_long_starts_usually_take_after_three_starts() {
    let h = Harness::new();
    for user in ["ann", "bob", "cyd"] {
        let r = run(h.spawner(user, "").args(["start", "--progress", "json"]));
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(!r.stderr.contains("usually ready"), "no estimate before three starts: {}", r.stderr);
    }
    let r = run(h.spawner("dee", "").args(["start", "--progress", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let msgs = messages(&r);
    assert!(
        msgs.iter().any(|m| m.starts_with("Creating container app ") && m.contains("(usually ready in about ")),
        "{msgs:?}"
    );
    assert!(msgs.last().unwrap().starts_with("Server ready at "), "{msgs:?}");
    assert!(!msgs.last().unwrap().contains("usually"), "{msgs:?}");

    // The history: in the cache dir, per hub, durations and profile keys only (no user names).
    let file = h.dir.path().join("cache").join("estimates").join("start-times-test.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["profiles"][""]["samples"].as_array().unwrap().len(), 4);
    for user in ["ann", "bob", "cyd", "dee"] {
        assert!(!text.contains(user), "{text}");
    }
}

#[test]
fn a_failed_start_is_not_recorded() {
    let h = Harness::new();
    behave(&h, "erin", fake_arm::Behaviour::ProvisionFailed);
    let r = run(h.spawner("erin", "").args(["start", "--progress", "json"]));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(!h.dir.path().join("cache").join("estimates").join("start-times-test.json").exists());
}
