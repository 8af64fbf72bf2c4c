//! Every way a start can fail ends with the app deleted and a non-zero exit naming the reason.

use std::time::{Duration, Instant};

use fake_arm::{Behaviour, Fault};

use crate::common::*;

fn assert_failed_and_cleaned(h: &Harness, r: &Run, code: &str, reason: &str) {
    assert_eq!(r.code, 3, "stdout: {} stderr: {}", r.stdout, r.stderr);
    let err = r.json()["error"].clone();
    assert_eq!(err["code"], code, "{err}");
    assert!(err["message"].as_str().unwrap().contains(reason), "{err}");
    assert!(r.stderr.contains("error: "), "{}", r.stderr);
    let left: Vec<_> =
        h.fake.apps().into_iter().filter(|a| a["properties"]["provisioningState"] != "Deleting").collect();
    assert!(left.is_empty(), "app left behind: {left:?}");
    assert!(!r.all_output().contains(TOKEN));
}

#[test]
fn image_pull_failure_fails_fast_with_the_platform_reason() {
    let h = Harness::with(fake_arm::Options { provision_polls: 2, failure_polls: 200, ..Default::default() }, "");
    behave(&h, "pull", Behaviour::ImagePullFailure);
    let t = Instant::now();
    let r = run(h.spawner("pull", "").arg("start"));
    assert_failed_and_cleaned(&h, &r, "ImagePullFailed", "ImagePullBackOff");
    assert!(t.elapsed() < Duration::from_secs(10), "failed fast, not at the timeout");
}

#[test]
fn crash_loop_fails_fast() {
    let h = Harness::with(fake_arm::Options { provision_polls: 2, failure_polls: 200, ..Default::default() }, "");
    behave(&h, "crash", Behaviour::CrashLoop);
    let r = run(h.spawner("crash", "").arg("start"));
    assert_failed_and_cleaned(&h, &r, "ContainerCrashing", "CrashLoopBackOff");
}

#[test]
fn provisioning_failure_carries_arms_code() {
    let h = Harness::new();
    behave(&h, "provfail", Behaviour::ProvisionFailed);
    let r = run(h.spawner("provfail", "").arg("start"));
    assert_failed_and_cleaned(&h, &r, "ContainerAppOperationError", "Operation expired");
}

#[test]
fn arm_validation_errors_are_surfaced_as_is() {
    let h = Harness::new();
    h.fake.inject(Fault::status("PUT", "containerApps/", 1, 400, "ContainerAppInvalidPropertyValue", None));
    let r = run(h.spawner("invalid", "").arg("start"));
    assert_failed_and_cleaned(&h, &r, "ContainerAppInvalidPropertyValue", "400");
}

#[test]
fn timeout_deletes_the_app() {
    let h = Harness::new();
    h.write_config("server:\n  image: example.azurecr.io/notebook:1\n  start_timeout: 10\n");
    behave(&h, "never", Behaviour::NotServing);
    let t = Instant::now();
    let r = run(h.spawner("never", "").arg("start"));
    assert_failed_and_cleaned(&h, &r, "StartTimeout", "10 s");
    assert!(t.elapsed() < Duration::from_secs(20));
}

#[test]
fn sigterm_deletes_the_app() {
    let h = Harness::new();
    behave(&h, "term", Behaviour::NotServing);
    let mut cmd = h.spawner_std("term", "");
    cmd.arg("start").stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    // Wait until the app exists, then signal as the exec spawner does on cancellation.
    let t = Instant::now();
    while h.fake.apps().is_empty() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!h.fake.apps().is_empty());
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    };
    assert_failed_and_cleaned(&h, &r, "Terminated", "SIGTERM");
}

#[test]
fn throttling_and_conflicts_during_start_are_retried() {
    let h = Harness::new();
    h.fake.inject(Fault::status("PUT", "containerApps/", 1, 429, "SubscriptionRequestsThrottled", Some(1)));
    h.fake.inject(Fault::status("PUT", "containerApps/", 1, 409, "ContainerAppOperationInProgress", None));
    h.fake.inject(Fault::status("GET", "containerappOperationStatuses", 1, 500, "InternalServerError", None));
    let r = run(h.spawner("busy", "").arg("start"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(h.fake.requests_matching("PUT", "containerApps/").len(), 3);
}

#[test]
fn start_needs_the_spawner_environment() {
    let h = Harness::new();
    let r = run(h.spawner("x", "").env_remove("ACACTL_FORWARD").arg("start"));
    assert_eq!(r.code, 2);
    assert_eq!(r.json()["error"]["code"], "MissingForward");
    let r = run(h.spawner("x", "").env_remove("JUPYTERHUB_API_TOKEN").env_remove("JPY_API_TOKEN").arg("start"));
    assert_eq!(r.code, 2);
    assert_eq!(r.json()["error"]["code"], "MissingApiToken");
    assert!(h.fake.apps().is_empty());
    assert!(h.fake.arm_requests().is_empty(), "validated before any ARM call");
}

#[test]
fn cleanup_waits_for_a_put_abandoned_in_flight() {
    // The PUT reaches ARM but is answered only after the start timed out: ARM still creates the
    // app, so the cleanup must not take the first 404 as "nothing to delete".
    let h = Harness::new();
    h.write_config(
        "server:\n  image: example.azurecr.io/notebook:1\n  start_timeout: 10\n\
         arm:\n  poll_interval_ms: 30\n  retry_base_ms: 10\n  retry_max_total: 3\n  request_timeout: 30\n",
    );
    h.fake.inject(Fault::delay("PUT", "containerApps/", 1, 12_000));
    let t = Instant::now();
    let r = run(h.spawner("late", "").arg("start"));
    assert!(t.elapsed() < Duration::from_secs(30), "cleanup is bounded");
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.json()["error"]["code"], "StartTimeout", "{}", r.stdout);
    let left: Vec<_> =
        h.fake.apps().into_iter().filter(|a| a["properties"]["provisioningState"] != "Deleting").collect();
    assert!(left.is_empty(), "the late PUT's app was left running: {left:?}");
    // The fake drops a request whose client went away (real ARM may not), so what is checked is
    // the behaviour: DELETE at once (no GET deciding "absent"), and again until the PUT could
    // have landed.
    let deletes = h.fake.requests_matching("DELETE", "containerApps/").len();
    assert!(deletes >= 5, "the cleanup took the first 404 as final ({deletes} DELETEs)");
}

#[test]
fn refused_update_of_an_adopted_app_leaves_it_running() {
    let h = Harness::new();
    let name = insert_own_app(&h, "adopted", "Running");
    h.fake.inject(Fault::status("PUT", "containerApps/", 1, 400, "ContainerAppInvalidPropertyValue", None));
    let r = run(h.spawner("adopted", "").arg("start"));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.json()["error"]["code"], "ContainerAppInvalidPropertyValue");
    assert!(h.fake.requests_matching("DELETE", "containerApps/").is_empty(), "{}", r.stderr);
    let app = h.fake.app(&name).expect("the user's app survives a refused update");
    assert_ne!(app["properties"]["provisioningState"], "Deleting");
}
