//! Fault injection: start/poll/gc/stop cycles with a random fault (429, 500, 503, dropped connection,
//! 409 on writes) on a share of ARM requests. Invariants: poll never reports a live app gone, gc
//! never deletes a live server's app, and no app is left behind by a failed start, a finished stop
//! or the final gc.

use crate::common::*;

const CYCLES: usize = 12;
const FAULT_SHARE: f64 = 0.15;

#[test]
fn random_faults_never_orphan_an_app_or_fake_a_gone_server() {
    let hub = fake_arm::FakeHub::start();
    hub.add_token(crate::gc::HUB_TOKEN, crate::gc::SCOPES);
    let h = Harness::new();
    h.write_config(&format!(
        "arm:\n  poll_interval_ms: 30\n  retry_base_ms: 10\n  retry_max_total: 10\n  max_attempts: 8\n  stop_timeout: 20\n  request_timeout: 5\n{}",
        crate::gc::hub_config(&hub)
    ));
    let mut gc_runs = 0;
    h.fake.inject_random(FAULT_SHARE, 20261123);
    let (mut started, mut failed_starts) = (0, 0);
    for cycle in 0..CYCLES {
        let user = format!("chaos{cycle}");
        let r = run(h.spawner(&user, "").arg("start"));
        let live = |h: &Harness| {
            h.fake
                .apps()
                .into_iter()
                .filter(|a| a["tags"]["acactl-user"] == user.as_str())
                .filter(|a| a["properties"]["provisioningState"] != "Deleting")
                .count()
        };
        if r.code != 0 {
            failed_starts += 1;
            assert_eq!(live(&h), 0, "cycle {cycle}: a failed start left its app: {}", r.stderr);
            continue;
        }
        started += 1;
        let state = state_of(&r.json());
        for _ in 0..3 {
            let p = run(h.acactl().env("ACACTL_STATE", &state).arg("poll"));
            assert_eq!(p.code, 0);
            let v = p.json();
            assert!(v["exit_status"].is_null(), "cycle {cycle}: poll reported a live app gone: {v}");
        }
        // gc under faults: it may fail, but it never deletes the live server's app.
        let name = r.json()["name"].as_str().unwrap().to_string();
        hub.add_server(&user, "", fake_arm::HubServer::running(crate::gc::app_state(&h, &name)));
        run(h.acactl().args(["gc", "--grace", "0s", "-o", "json"]));
        gc_runs += 1;
        assert_eq!(live(&h), 1, "cycle {cycle}: gc deleted a live server's app");
        hub.remove_server(&user, "");
        let mut stopped = false;
        for _ in 0..5 {
            if run(h.acactl().env("ACACTL_STATE", &state).arg("stop")).code == 0 {
                stopped = true;
                break;
            }
        }
        assert!(stopped, "cycle {cycle}: stop kept failing");
        assert_eq!(live(&h), 0, "cycle {cycle}: stop left the app");
    }
    // A final gc (retried through faults) leaves nothing of this hub behind.
    let mut clean = false;
    for _ in 0..5 {
        gc_runs += 1;
        if run(h.acactl().args(["gc", "--grace", "0s", "-o", "json"])).code == 0 {
            clean = true;
            break;
        }
    }
    assert!(clean, "gc kept failing");
    let left: Vec<_> =
        h.fake.apps().into_iter().filter(|a| a["properties"]["provisioningState"] != "Deleting").collect();
    assert!(left.is_empty(), "orphans left: {left:?}");
    let faults = h
        .fake
        .requests()
        .iter()
        .filter(|r| r.status == 0 || r.status == 429 || r.status >= 500 || r.status == 409)
        .count();
    eprintln!(
        "fault injection: {CYCLES} cycles ({started} started, {failed_starts} failed starts, {gc_runs} gc runs), {faults} injected faults"
    );
    assert!(faults >= CYCLES, "the run must actually inject faults ({faults})");
    assert!(started >= CYCLES / 2, "most starts should survive retries ({started}/{CYCLES})");
}
