//! `acactl doctor` against the fake: every check passes on a good setup and names the fix otherwise.

use crate::common::*;

fn registry_config(h: &Harness) -> (String, String) {
    let id = format!(
        "/subscriptions/{}/resourceGroups/identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/acr-pull",
        h.fake.subscription()
    );
    let client = h.fake.add_identity(&id);
    h.write_config(&format!("registry:\n  server: example.azurecr.io\n  identity: {id}\n"));
    (id, client)
}

fn checks(r: &Run) -> serde_json::Map<String, serde_json::Value> {
    r.json()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap().to_string(), c.clone()))
        .collect()
}

#[test]
fn a_good_setup_passes_every_check() {
    let h = Harness::new();
    registry_config(&h);
    let r =
        run(h.acactl().env("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555").args(["doctor", "-o", "json"]));
    assert_eq!(r.code, 0, "{}", r.stdout);
    let c = checks(&r);
    for name in ["config", "token cache", "credential", "arm", "environment", "permissions", "registry identity"] {
        assert_eq!(c[name]["status"], "ok", "{name}: {}", c[name]);
    }
    assert_eq!(r.json()["ok"], true);
}

#[test]
fn missing_permissions_and_a_shared_identity_fail_with_the_fix() {
    let h = Harness::new();
    let (_, client) = registry_config(&h);
    h.fake.set_permissions(&["Microsoft.App/containerApps/read", "*/read"], &[]);
    let r = run(h.acactl().env("AZURE_CLIENT_ID", &client).args(["doctor", "-o", "json"]));
    assert_eq!(r.code, 3);
    let c = checks(&r);
    assert_eq!(c["permissions"]["status"], "failed");
    let detail = c["permissions"]["detail"].as_str().unwrap();
    assert!(detail.contains("Microsoft.App/containerApps/write") && detail.contains("join/action"), "{detail}");
    assert!(c["permissions"]["fix"].as_str().unwrap().contains("acactl hub"));
    assert_eq!(c["registry identity"]["status"], "failed", "the pull identity is the hub's own");

    let t = run(h.acactl().env("AZURE_CLIENT_ID", &client).args(["doctor", "-o", "table"]));
    assert!(t.stdout.contains("FAILED") && t.stdout.contains("fix:"), "{}", t.stdout);
}

#[test]
fn a_wrong_environment_or_config_is_reported() {
    let h = Harness::new();
    let r = run(h.acactl().args(["--environment", "nope", "doctor", "-o", "json"]));
    assert_eq!(r.code, 3);
    let c = checks(&r);
    assert_eq!(c["environment"]["status"], "failed");
    assert!(c["environment"]["detail"].as_str().unwrap().contains("ResourceNotFound"));

    h.write_config("server:\n  cpu: 3\n");
    let r = run(h.acactl().args(["doctor", "-o", "json"]));
    assert_eq!(r.code, 3);
    assert_eq!(checks(&r)["config"]["status"], "failed");
    assert!(checks(&r)["config"]["detail"].as_str().unwrap().contains("server.cpu"));
}

#[test]
fn a_loose_token_cache_is_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::new();
    run(h.acactl().args(["doctor", "-o", "json"]));
    std::fs::set_permissions(h.dir.path().join("cache/tokens"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let r = run(h.acactl().args(["doctor", "-o", "json"]));
    assert_eq!(checks(&r)["token cache"]["status"], "warning", "{}", r.stdout);
}

#[test]
fn no_credential_fails_the_credential_check() {
    let h = Harness::new();
    let r = run(h.acactl().env_remove("IDENTITY_ENDPOINT").args(["doctor", "-o", "json"]));
    assert_eq!(r.code, 3);
    let c = checks(&r);
    assert_eq!(c["credential"]["status"], "failed", "{}", c["credential"]);
    assert!(c["credential"]["fix"].as_str().unwrap().contains("IDENTITY_ENDPOINT"));
}

#[test]
fn hub_api_scopes_are_checked() {
    let hub = fake_arm::FakeHub::start();
    hub.add_token("doctor-hub-token-0123456789", &["list:users", "read:servers", "admin:server_state"]);
    hub.add_token("narrow-hub-token-0123456789", &["list:users", "read:servers!group=class1"]);
    let h = Harness::new();
    h.write_config(&format!("hub:\n  api_url: {}\n  api_token: doctor-hub-token-0123456789\n", hub.api_url()));
    let r = run(h.acactl().args(["doctor", "-o", "json"]));
    assert_eq!(checks(&r)["hub api"]["status"], "ok", "{}", r.stdout);
    h.write_config(&format!("hub:\n  api_url: {}\n  api_token: narrow-hub-token-0123456789\n", hub.api_url()));
    let r = run(h.acactl().args(["doctor", "-o", "json"]));
    assert_eq!(r.code, 3);
    let detail = checks(&r)["hub api"]["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("read:servers") && detail.contains("admin:server_state"), "{detail}");
    assert!(!r.all_output().contains("narrow-hub-token-0123456789"));
}

#[test]
fn the_hub_identity_attached_to_a_user_app_is_a_warning() {
    let h = Harness::new();
    let (_, client) = registry_config(&h);
    // A server started while the pull identity was (wrongly) the hub's own identity.
    assert_eq!(run(h.spawner("leaky", "").arg("start")).code, 0);
    let r = run(h.acactl().env("AZURE_CLIENT_ID", &client).args(["doctor", "-o", "json"]));
    let c = checks(&r);
    assert_eq!(c["user apps"]["status"], "warning", "{}", c["user apps"]);
    assert!(c["user apps"]["detail"].as_str().unwrap().contains("test-leaky-"));
    let r =
        run(h.acactl().env("AZURE_CLIENT_ID", "99999999-2222-3333-4444-555555555555").args(["doctor", "-o", "json"]));
    assert_eq!(checks(&r)["user apps"]["status"], "ok");
}
