//! Soak (issue 10): start/poll/stop cycles with gc runs interleaved, 10% of ARM requests faulted
//! (429 with and without Retry-After, 500, 503, 409 on writes, dropped connections, delays past the
//! request timeout). Reports cycles, faults by kind, orphans, live apps reported gone and token
//! values found in any output or file; the last three must be 0.
//!
//! The suite runs 30 cycles; `tests/bench/soak.sh` runs the same test with ACACTL_SOAK_CYCLES=500.

use std::path::Path;

use crate::common::*;

const FAULT_SHARE: f64 = 0.10;

fn files_containing(dir: &Path, needles: &[String], skip: &Path) -> Vec<String> {
    let mut hits = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else { return hits };
    for e in rd.flatten() {
        let p = e.path();
        if p.starts_with(skip) {
            continue;
        }
        if p.is_dir() {
            hits.extend(files_containing(&p, needles, skip));
        } else if let Ok(bytes) = std::fs::read(&p) {
            let text = String::from_utf8_lossy(&bytes);
            for n in needles {
                if text.contains(n.as_str()) {
                    hits.push(format!("{} holds {n}", p.display()));
                }
            }
        }
    }
    hits
}

#[test]
fn soak_with_faults_leaves_no_orphan_and_no_false_gone() {
    let cycles: usize = std::env::var("ACACTL_SOAK_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    let hub = fake_arm::FakeHub::start();
    hub.add_token(crate::gc::HUB_TOKEN, crate::gc::SCOPES);
    let h = Harness::new();
    h.write_config(&format!(
        "arm:\n  poll_interval_ms: 30\n  retry_base_ms: 10\n  retry_max_total: 20\n  max_attempts: 8\n  stop_timeout: 30\n  request_timeout: 1\n{}",
        crate::gc::hub_config(&hub)
    ));
    h.fake.inject_random_extended(FAULT_SHARE, 20261206, 1200);
    let live = |h: &Harness, user: &str| {
        h.fake
            .apps()
            .into_iter()
            .filter(|a| a["tags"]["acactl-user"] == user)
            .filter(|a| a["properties"]["provisioningState"] != "Deleting")
            .count()
    };
    let (mut started, mut failed_starts, mut gc_runs, mut false_gone, mut stop_retries) = (0, 0, 0, 0, 0);
    let mut outputs = Vec::new();
    let t0 = std::time::Instant::now();
    for cycle in 0..cycles {
        let user = format!("soak{}", cycle % 40);
        let r = run(h.spawner(&user, "").arg("start"));
        outputs.push(r.all_output());
        assert_ne!(r.code, 101, "cycle {cycle}: start panicked: {}", r.stderr);
        if r.code != 0 {
            failed_starts += 1;
            // A failed start deletes what it created (the app may still be Deleting).
            assert_eq!(live(&h, &user), 0, "cycle {cycle}: a failed start left its app: {}", r.stderr);
            continue;
        }
        started += 1;
        let doc = r.json();
        let state = state_of(&doc);
        let name = doc["name"].as_str().unwrap().to_string();
        hub.add_server(&user, "", fake_arm::HubServer::running(crate::gc::app_state(&h, &name)));
        for _ in 0..3 {
            let p = run(h.spawner(&user, "").env("ACACTL_STATE", &state).arg("poll"));
            outputs.push(p.all_output());
            assert_eq!(p.code, 0, "cycle {cycle}: {}", p.stderr);
            if !p.json()["exit_status"].is_null() && live(&h, &user) == 1 {
                false_gone += 1;
            }
        }
        if cycle % 3 == 0 {
            let g = run(h.acactl().args(["gc", "--grace", "0s", "-o", "json"]));
            outputs.push(g.all_output());
            assert_ne!(g.code, 101, "gc panicked: {}", g.stderr);
            gc_runs += 1;
            assert_eq!(live(&h, &user), 1, "cycle {cycle}: gc deleted a live server's app");
        }
        hub.remove_server(&user, "");
        let mut stopped = false;
        for attempt in 0..5 {
            let s = run(h.spawner(&user, "").env("ACACTL_STATE", &state).arg("stop"));
            outputs.push(s.all_output());
            if s.code == 0 {
                stopped = true;
                break;
            }
            stop_retries += usize::from(attempt == 0);
        }
        assert!(stopped, "cycle {cycle}: stop kept failing");
    }
    // gc under faults, retried, cleans whatever stops left Deleting or failed starts could not delete.
    h.fake.clear_faults();
    let final_gc = run(h.acactl().args(["gc", "--grace", "0s", "-o", "json"]));
    outputs.push(final_gc.all_output());
    gc_runs += 1;
    let orphans: Vec<String> = h
        .fake
        .apps()
        .into_iter()
        .filter(|a| a["properties"]["provisioningState"] != "Deleting")
        .map(|a| a["name"].to_string())
        .collect();
    let counts = h.fake.random_fault_counts();
    let faults: u64 = counts.values().sum();
    let mut secrets: Vec<String> =
        vec![TOKEN.into(), HUB_SECRET.into(), crate::gc::HUB_TOKEN.into(), h.fake.identity_header()];
    // ARM tokens acactl was issued: they may live in the token cache (that is its job), nowhere else.
    let tokens_dir = h.dir.path().join("cache/tokens");
    for e in std::fs::read_dir(&tokens_dir).into_iter().flatten().flatten() {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&std::fs::read(e.path()).unwrap_or_default())
            && let Some(t) = v["token"].as_str()
        {
            secrets.push(t.to_string());
        }
    }
    let mut leaks: Vec<String> = outputs
        .iter()
        .flat_map(|o| secrets.iter().filter(|s| o.contains(s.as_str())).map(|s| format!("output holds {s}")))
        .collect();
    // The config holds the hub service token by design (it is where the operator puts it).
    let config_text = std::fs::read_to_string(&h.config).unwrap();
    let file_needles: Vec<String> = secrets.iter().filter(|s| !config_text.contains(s.as_str())).cloned().collect();
    leaks.extend(files_containing(h.dir.path(), &file_needles, &tokens_dir));
    eprintln!(
        "soak: {cycles} cycles in {:.0} s ({started} started, {failed_starts} failed starts, {stop_retries} stops retried, \
         {gc_runs} gc runs); {faults} faults injected {counts:?}; orphans left {}; live apps reported gone {false_gone}; \
         token values found {}",
        t0.elapsed().as_secs_f64(),
        orphans.len(),
        leaks.len()
    );
    assert!(orphans.is_empty(), "orphans left: {orphans:?}");
    assert_eq!(false_gone, 0, "polls reported a live app gone");
    assert!(leaks.is_empty(), "{leaks:?}");
    assert!(faults as usize >= cycles, "the run must actually inject faults ({faults})");
    assert!(started >= cycles / 2, "most starts should survive retries ({started}/{cycles})");
}
