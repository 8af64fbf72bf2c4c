//! poll never reports a live app as gone; it costs one ARM request with a warm token cache.

use fake_arm::{Fault, RequestKind};

use crate::common::*;

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

#[test]
fn warm_poll_is_one_arm_request_and_no_token_request() {
    let h = Harness::new();
    let (_, state) = started(&h, "warm");
    h.fake.reset_log();
    let (_, v) = poll(&h, &state);
    insta::assert_json_snapshot!(v, @r#"
    {
      "exit_status": null,
      "name": "test-warm-my3vhfbqpe",
      "status": "running"
    }
    "#);
    assert_eq!(h.fake.arm_requests().len(), 1, "{:?}", h.fake.arm_requests());
    assert_eq!(h.fake.token_requests().len(), 0);
}

#[test]
fn transient_errors_are_unknown_never_gone() {
    // The app's own GET (the fleet view would answer from the list instead).
    let h = Harness::with(
        fake_arm::Options { provision_polls: 2, failure_polls: 3, ..Default::default() },
        "fleet:\n  enabled: false\n",
    );
    let (name, state) = started(&h, "flaky");
    let _f = snapshot_filters(Some(&h), &[]);
    let mut seen = serde_json::Map::new();
    for (fault, label) in [
        (Fault::status("GET", &name, 100, 500, "InternalServerError", None), "500"),
        (Fault::status("GET", &name, 100, 503, "ServiceUnavailable", None), "503"),
        (Fault::status("GET", &name, 100, 429, "SubscriptionRequestsThrottled", Some(1)), "429"),
        (Fault::drop_conn("GET", &name, 100), "dropped connection"),
        (Fault::status("GET", &name, 100, 404, "ResourceGroupNotFound", None), "404 of the resource group"),
        (Fault::status("GET", &name, 100, 403, "AuthorizationFailed", None), "403"),
    ] {
        h.fake.clear_faults();
        h.fake.inject(fault);
        let (r, mut v) = poll(&h, &state);
        assert!(r.stderr.contains("cannot tell"), "{label}: {}", r.stderr);
        // Which attempt a throttled or dropped read ends on (and so its error) depends on timing.
        let code = v["error"]["code"].as_str().unwrap_or_default().to_string();
        if label == "429" {
            assert!(["SubscriptionRequestsThrottled", "RequestBudgetExhausted"].contains(&code.as_str()), "{v}");
            v["error"] = "[throttled]".into();
        }
        if label == "dropped connection" {
            assert!(["ConnectionError", "Timeout"].contains(&code.as_str()), "{v}");
            v["error"] = "[transport error]".into();
        }
        seen.insert(label.to_string(), v);
    }
    // Every fault: unknown, no exit status, ARM's own code.
    insta::assert_json_snapshot!(seen, @r#"
    {
      "403": {
        "error": {
          "code": "AuthorizationFailed",
          "message": "ARM answered 403 AuthorizationFailed: Injected fault 'AuthorizationFailed'."
        },
        "exit_status": null,
        "name": "test-flaky-5olsmpkea6",
        "status": "unknown"
      },
      "404 of the resource group": {
        "error": {
          "code": "ResourceGroupNotFound",
          "message": "ARM answered 404 ResourceGroupNotFound: Injected fault 'ResourceGroupNotFound'."
        },
        "exit_status": null,
        "name": "test-flaky-5olsmpkea6",
        "status": "unknown"
      },
      "429": {
        "error": "[throttled]",
        "exit_status": null,
        "name": "test-flaky-5olsmpkea6",
        "status": "unknown"
      },
      "500": {
        "error": {
          "code": "InternalServerError",
          "message": "ARM answered 500 InternalServerError: Encountered internal server error. Diagnostic information: timestamp '[TIME]', subscription id '', tracking id '', request correlation id ''."
        },
        "exit_status": null,
        "name": "test-flaky-5olsmpkea6",
        "status": "unknown"
      },
      "503": {
        "error": {
          "code": "ServiceUnavailable",
          "message": "ARM answered 503 ServiceUnavailable: The service is temporarily unavailable. Please try again later."
        },
        "exit_status": null,
        "name": "test-flaky-5olsmpkea6",
        "status": "unknown"
      },
      "dropped connection": {
        "error": "[transport error]",
        "exit_status": null,
        "name": "test-flaky-5olsmpkea6",
        "status": "unknown"
      }
    }
    "#);
    h.fake.clear_faults();
    // The token endpoint failing is not "gone" either (fresh cache dir forces a token request).
    std::fs::remove_dir_all(h.dir.path().join("cache")).unwrap();
    h.fake
        .inject(Fault::status("GET", "/msi/token", 100, 500, "ServiceUnavailable", None).for_kind(RequestKind::Token));
    let (_, v) = poll(&h, &state);
    insta::assert_json_snapshot!(v, @r#"
    {
      "error": {
        "code": "AuthenticationFailed",
        "message": "could not get an ARM token (managed-identity): ManagedIdentityCredential authentication failed. The request failed: {\"error\":\"ServiceUnavailable\",\"error_codes\":[50000],\"error_description\":\"Injected fault ServiceUnavailable\"}"
      },
      "exit_status": null,
      "name": "test-flaky-5olsmpkea6",
      "status": "unknown"
    }
    "#);
    assert!(h.fake.app(&name).is_some(), "nothing was deleted");
}

#[test]
fn retries_recover_from_a_few_faults() {
    // The app's own GET (the fleet view would answer from the list instead).
    let h = Harness::with(
        fake_arm::Options { provision_polls: 2, failure_polls: 3, ..Default::default() },
        "fleet:\n  enabled: false\n",
    );
    let (name, state) = started(&h, "retry");
    h.fake.inject(Fault::status("GET", &name, 2, 429, "SubscriptionRequestsThrottled", Some(1)));
    h.fake.inject(Fault::drop_conn("GET", &name, 1));
    let started_at = std::time::Instant::now();
    let (_, v) = poll(&h, &state);
    insta::assert_json_snapshot!(v, @r#"
    {
      "exit_status": null,
      "name": "test-retry-6obxmuux2r",
      "status": "running"
    }
    "#);
    assert!(started_at.elapsed() >= std::time::Duration::from_secs(2), "Retry-After was honoured");
}

#[test]
fn state_id_wins_over_a_renamed_user() {
    let h = Harness::new();
    let (_, state) = started(&h, "oldname");
    let r = run(h.acactl().env("ACACTL_STATE", &state).env("JUPYTERHUB_USER", "newname").arg("poll"));
    insta::assert_json_snapshot!(r.json(), @r#"
    {
      "exit_status": null,
      "name": "test-oldname-exhjfssf3p",
      "status": "running"
    }
    "#);
}

#[test]
fn terminally_failed_app_is_deleted_then_reported_gone() {
    let h = Harness::new();
    let name = insert_own_app(&h, "failed", "Failed");
    let state = serde_json::json!({"version": 1, "id": format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.App/containerApps/{name}", h.fake.subscription(), h.fake.resource_group()), "name": name}).to_string();
    let (_, v) = poll(&h, &state);
    insta::assert_json_snapshot!(v, @r#"
    {
      "deleted": true,
      "exit_status": 1,
      "name": "test-failed-qlhtlyzmlu",
      "reason": "provisioning Failed",
      "status": "failed"
    }
    "#);
    assert!(!h.fake.requests_matching("DELETE", &name).is_empty(), "deleted before reporting gone");
}

#[test]
fn a_failed_app_of_another_hub_is_not_deleted() {
    let h = Harness::new();
    let name = "test-intruder-aaaaaaaaaa";
    h.fake
        .insert_app(
            fake_arm::InsertApp::new(name).tag("managed-by", "acactl").tag("acactl-hub", "otherhub").state("Failed"),
        )
        .unwrap();
    let state = serde_json::json!({"version": 1, "id": format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.App/containerApps/{name}", h.fake.subscription(), h.fake.resource_group()), "name": name}).to_string();
    let (_, v) = poll(&h, &state);
    // Not this server's app (one ownership rule): this server has none; the app is left alone.
    insta::assert_json_snapshot!(v, @r#"
    {
      "exit_status": 0,
      "name": "test-intruder-aaaaaaaaaa",
      "owned": false,
      "status": "stopped"
    }
    "#);
    assert!(h.fake.requests_matching("DELETE", name).is_empty());
}

#[test]
fn bad_state_is_a_usage_error() {
    let h = Harness::new();
    let r = run(h.acactl().env("ACACTL_STATE", "{\"version\":9}").arg("poll"));
    assert_eq!(r.code, 2);
    insta::assert_json_snapshot!(r.json(), @r#"
    {
      "error": {
        "code": "InvalidState",
        "message": "ACACTL_STATE has format version 9 but this acactl reads version 1"
      }
    }
    "#);
    let r = run(h.acactl().env("ACACTL_STATE", "{}").arg("poll"));
    assert_eq!(r.code, 2, "no state and no user");
    insta::assert_json_snapshot!(r.json(), @r#"
    {
      "error": {
        "code": "MissingUser",
        "message": "no user: set JUPYTERHUB_USER (the exec spawner does) or pass --user"
      }
    }
    "#);
}
