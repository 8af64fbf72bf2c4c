use super::*;
use crate::cli::TargetArgs;
use std::collections::BTreeMap;

#[test]
fn secret_names_are_injective() {
    assert_eq!(secret_name_for("env-", "DB_PASSWORD"), "env-db-password");
    let names: Vec<String> = ["DB_PASSWORD", "DB__PASSWORD", "db_password", "_DB_PASSWORD", "DB_PASSWORD_"]
        .iter()
        .map(|k| secret_name_for("env-", k))
        .collect();
    let unique: std::collections::BTreeSet<_> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "{names:?}");
    // Truncation to 63 characters keeps names apart too.
    let long_a = format!("{}_A", "X".repeat(70));
    let long_b = format!("{}_B", "X".repeat(70));
    let (a, b) = (secret_name_for("env-", &long_a), secret_name_for("env-", &long_b));
    assert_ne!(a, b);
    for n in names.iter().chain([&a, &b]) {
        assert!(naming::is_valid_secret_name(n), "{n}");
    }
}

#[test]
fn two_variables_never_share_a_secret() {
    // Init containers `a` (B_X) and `a-b` (X) would both map to `init-a-b-x`: refused.
    let s = settings(
        "server:\n  init_containers:\n    - name: a\n      image: example.azurecr.io/i:1\n      env:\n        B_X:\n          secret: one-secret-value\n    - name: a-b\n      image: example.azurecr.io/i:1\n      env:\n        X:\n          secret: two-secret-value\n",
    );
    let e = build(&s, &request(HUB_ENV), "2026-01-01T00:00:00Z", "abc").unwrap_err();
    assert_eq!(e.code, "SecretNameConflict", "{}", e.message);
    assert!(
        e.message.contains("`B_X` of init container a") && e.message.contains("`X` of init container a-b"),
        "{}",
        e.message
    );
}

fn settings(extra: &str) -> Settings {
    crate::settings::for_tests(extra)
}

fn request(pairs: &[(&str, &str)]) -> ServerRequest {
    let env: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    crate::request::server_request(&TargetArgs { user: None, server: None }, &env).unwrap()
}

const HUB_ENV: &[(&str, &str)] = &[
    ("JUPYTERHUB_USER", "marcus"),
    ("JUPYTERHUB_API_TOKEN", "tok-1234567890"),
    ("JPY_API_TOKEN", "tok-1234567890"),
    ("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api"),
    ("JUPYTERHUB_ACTIVITY_URL", "http://127.0.0.1:8081/hub/api/users/marcus/activity"),
    ("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:0/user/marcus/"),
    ("JUPYTERHUB_SERVICE_PREFIX", "/user/marcus/"),
    ("JUPYTERHUB_PUBLIC_HUB_URL", "https://Hub.Example.org/hub/"),
    ("AZURE_CLIENT_SECRET", "hub-secret-value"),
    ("IDENTITY_HEADER", "hub-identity-header"),
    ("MY_API_TOKEN", "extra-secret-value"),
    ("JUPYTERHUB_CLIENT_ID", "jupyterhub-user-marcus"),
    ("NOT_LISTED", "x"),
    (
        "ACACTL_FORWARD",
        "JUPYTERHUB_API_TOKEN,JPY_API_TOKEN,JUPYTERHUB_API_URL,JUPYTERHUB_ACTIVITY_URL,JUPYTERHUB_SERVICE_URL,JUPYTERHUB_SERVICE_PREFIX,JUPYTERHUB_CLIENT_ID,AZURE_CLIENT_SECRET,IDENTITY_HEADER,MY_API_TOKEN",
    ),
];

#[test]
fn forwarding_secrets_and_rewrites() {
    let s = settings("hub:\n  connect_url: http://jupyterhub\n");
    let spec = build(&s, &request(HUB_ENV), "2026-11-23T00:00:00Z", "s1").unwrap();
    let env: BTreeMap<_, _> = spec.env.iter().cloned().collect();
    assert_eq!(env["JUPYTERHUB_API_TOKEN"], EnvSource::Secret(TOKEN_SECRET.into()));
    assert_eq!(env["JPY_API_TOKEN"], EnvSource::Secret(TOKEN_SECRET.into()));
    assert_eq!(env["JUPYTERHUB_API_URL"], EnvSource::Plain("http://jupyterhub/hub/api".into()));
    assert_eq!(
        env["JUPYTERHUB_ACTIVITY_URL"],
        EnvSource::Plain("http://jupyterhub/hub/api/users/marcus/activity".into())
    );
    assert_eq!(env["JUPYTERHUB_SERVICE_URL"], EnvSource::Plain("http://0.0.0.0:8888/user/marcus/".into()));
    assert_eq!(env["MY_API_TOKEN"], EnvSource::Secret("env-my-api-token".into()));
    assert_eq!(env["JUPYTERHUB_CLIENT_ID"], EnvSource::Plain("jupyterhub-user-marcus".into()));
    for denied in ["AZURE_CLIENT_SECRET", "IDENTITY_HEADER", "NOT_LISTED", "ACACTL_FORWARD"] {
        assert!(!env.contains_key(denied), "{denied} forwarded");
    }
    assert!(spec.args.contains(&"--ServerApp.allow_origin=https://hub.example.org".to_string()));
    let body = serde_json::to_string(&spec.to_arm("westeurope", false)).unwrap();
    assert!(!body.contains("hub-secret-value") && !body.contains("hub-identity-header"));
    let redacted = serde_json::to_string(&spec.to_arm("westeurope", true)).unwrap();
    assert!(!redacted.contains("tok-1234567890") && !redacted.contains("extra-secret-value"));
    // The token only ever appears as a secret value, never as a plain env value.
    let app = spec.to_arm("westeurope", false);
    let c = app.first_container().unwrap();
    assert!(c.env.as_ref().unwrap().iter().all(|e| e.value.as_deref() != Some("tok-1234567890")));
}

#[test]
fn hub_spawner_args_come_after_acactls_own() {
    let s = settings("");
    let mut env = HUB_ENV.to_vec();
    env.push(("ACACTL_ARGS", r#"["--SingleUserNotebookApp.default_url=/lab/tree/x","--debug"]"#));
    let spec = build(&s, &request(&env), "2026-11-23T00:00:00Z", "s1").unwrap();
    let n = spec.args.len();
    assert_eq!(spec.args[n - 2..], ["--SingleUserNotebookApp.default_url=/lab/tree/x", "--debug"]);
    assert!(spec.args[..n - 2].iter().any(|a| a.starts_with("--ServerApp.allow_origin=")));
}

#[test]
fn allow_origin_modes() {
    let s = settings("hub:\n  allow_origin: 'off'\n");
    let spec = build(&s, &request(HUB_ENV), "t", "s1").unwrap();
    assert!(!spec.args.iter().any(|a| a.contains("allow_origin")));
    let s = settings("hub:\n  public_url: https://hub.example.org:8443/\n");
    let spec = build(&s, &request(HUB_ENV), "t", "s1").unwrap();
    assert_eq!(spec.args.last().unwrap(), "--ServerApp.allow_origin=https://hub.example.org:8443");
    let s = settings("hub:\n  allow_origin: https://other.example.org\n");
    let spec = build(&s, &request(HUB_ENV), "t", "s1").unwrap();
    assert_eq!(spec.args.last().unwrap(), "--ServerApp.allow_origin=https://other.example.org");
}

#[test]
fn body_shape() {
    let s = settings(
        "registry:\n  server: reg.azurecr.io\n  identity: /subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pull\n",
    );
    let spec = build(&s, &request(HUB_ENV), "2026-11-23T00:00:00Z", "s1").unwrap();
    let v = serde_json::to_value(spec.to_arm("westeurope", true)).unwrap();
    assert_eq!(v["properties"]["configuration"]["ingress"]["transport"], "http");
    assert_eq!(v["properties"]["configuration"]["ingress"]["allowInsecure"], true);
    assert_eq!(v["properties"]["configuration"]["ingress"]["external"], false);
    assert_eq!(v["properties"]["configuration"]["identitySettings"][0]["lifecycle"], "None");
    assert_eq!(v["properties"]["template"]["scale"]["minReplicas"], 1);
    assert_eq!(v["identity"]["type"], "UserAssigned");
    assert_eq!(v["tags"]["acactl-hub"], "hub1");
    assert_eq!(v["tags"]["acactl-user"], "marcus");
    assert_eq!(v["properties"]["template"]["containers"][0]["command"][0], "jupyterhub-singleuser");
}
