//! No secret reaches any output: every command at the most verbose level, success and failure.

use crate::common::*;

#[test]
fn secrets_never_appear_in_any_output() {
    let h = Harness::new();
    h.write_config("server:\n  image: example.azurecr.io/notebook:1\n  start_timeout: 20\n  env:\n    EXTRA:\n      secret: config-secret-value-4242\n");
    let mut outputs = Vec::new();
    let start = run(h
        .spawner("redact", "")
        .env("MY_SERVICE_TOKEN", "forwarded-secret-value-77")
        .env(
            "ACACTL_FORWARD",
            format!(
                "{},MY_SERVICE_TOKEN",
                spawner_env("redact", "").into_iter().find(|(k, _)| k == "ACACTL_FORWARD").unwrap().1
            ),
        )
        .args(["-vv", "start", "--progress", "json"]));
    assert_eq!(start.code, 0, "{}", start.stderr);
    assert!(start.stderr.contains("debug:"), "ran at debug level");
    let state = state_of(&start.json());
    outputs.push(start.all_output());
    outputs.push(run(h.spawner("redact", "").args(["-vv", "start", "--dry-run"])).all_output());
    outputs.push(run(h.acactl().env("ACACTL_STATE", &state).args(["-vv", "poll"])).all_output());
    let name = h.app_name("redact");
    outputs.push(run(h.acactl().args(["-vv", "batch", "query", &name])).all_output());
    // The forwarded secret-looking variable went into an ACA secret, not a plain env var.
    let body = h.fake.app_put_body(&name).unwrap();
    let env = body["properties"]["template"]["containers"][0]["env"].as_array().unwrap().clone();
    assert_eq!(env.iter().find(|e| e["name"] == "MY_SERVICE_TOKEN").unwrap()["secretRef"], "env-my-service-token");
    outputs.push(run(h.acactl().env("ACACTL_STATE", &state).args(["-vv", "stop"])).all_output());
    // Failures too: a bad client secret, and a failed start.
    h.write_config("credential:\n  type: client-secret\n  tenant_id: t\n  client_id: c\n");
    outputs.push(
        run(h.spawner("redact2", "").env("AZURE_CLIENT_SECRET", "bad-secret").args(["-vv", "start"])).all_output(),
    );

    let token_files: Vec<String> = std::fs::read_dir(h.dir.path().join("cache/tokens"))
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .map(|v| v["token"].as_str().unwrap().to_string())
        .collect();
    assert!(!token_files.is_empty());
    let secrets = [
        TOKEN,
        HUB_SECRET,
        "config-secret-value-4242",
        "forwarded-secret-value-77",
        "fake-identity-header-secret",
        "cookie-secret-of-the-hub-0000",
    ];
    for out in &outputs {
        for s in secrets.iter().copied().chain(token_files.iter().map(String::as_str)) {
            assert!(!out.contains(s), "secret {s:?} leaked in:\n{out}");
        }
    }
}
