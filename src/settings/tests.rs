//! Resolution, located errors and the parser's limits.

use std::collections::BTreeMap;

use super::file::{MAX_CONFIG_DEPTH, locate, nesting_depth, parse};
use super::*;
use crate::template::EnvValue;

fn flags() -> GlobalArgs {
    GlobalArgs { config: None, subscription: None, resource_group: None, environment: None, verbose: 0, quiet: false }
}

const BASE: &str =
    "hub_id: hub1\nsubscription_id: 00000000-0000-0000-0000-000000000001\nresource_group: rg\nenvironment: env1\n";

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn nesting_depth_is_cheap_and_does_not_refuse_real_configs() {
    let example = include_str!("../../config.example.yaml");
    assert!(nesting_depth(example) <= 12, "{}", nesting_depth(example));
    // Brackets in quotes and comments do not count; flow and block nesting do.
    assert_eq!(nesting_depth("a: \"[[[[[[\"  # [[[[\n"), 1);
    assert!(nesting_depth(&format!("a: {}", "[".repeat(100))) > MAX_CONFIG_DEPTH);
    assert!(nesting_depth(&format!("{}1", "- ".repeat(100))) > MAX_CONFIG_DEPTH);
    let t = std::time::Instant::now();
    let deep = format!("server:\n  patch: {}{}\n", "{a: ".repeat(200_000), "}".repeat(200_000));
    let e = parse(&deep, "x").unwrap_err();
    assert!(e.message.contains("nested"), "{}", e.message);
    assert!(t.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn durations_are_bounded_naming_the_key() {
    for (yaml, key) in [
        ("arm:\n  retry_base_ms: 18446744073709551615\n", "arm.retry_base_ms"),
        ("arm:\n  retry_max_total: 3601\n", "arm.retry_max_total"),
        ("hub:\n  http_timeout: 0\n", "hub.http_timeout"),
    ] {
        let e = load_text(&format!("{BASE}{yaml}")).unwrap_err();
        assert_eq!(e.exit(), crate::error::Exit::Usage);
        assert!(e.message.contains(key), "{}", e.message);
    }
    assert_eq!(load_text(BASE).unwrap().gc_deadline, Duration::from_secs(3600));
}

fn load_text(text: &str) -> Result<Settings> {
    resolve(Some("c.yaml".into()), text, &flags(), &env(&[]))
}

#[test]
fn minimal_file_gets_defaults() {
    let s = load_text(BASE).unwrap();
    assert_eq!(
        s.environment_id,
        "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.App/managedEnvironments/env1"
    );
    assert_eq!(s.api_version, "2026-07-01");
    assert_eq!(s.server.command, vec!["jupyterhub-singleuser"]);
    assert_eq!((s.server.cpu, s.server.memory.as_str(), s.server.target_port), (0.5, "1Gi", 8888));
    assert_eq!(s.cloud.resource_manager, "https://management.azure.com");
}

#[test]
fn unknown_key_names_path_and_line() {
    let e = load_text(&format!("{BASE}server:\n  image: x\n  cpus: 2\n")).unwrap_err();
    assert!(e.message.contains("c.yaml:7"), "{}", e.message);
    assert!(e.message.contains("cpus"), "{}", e.message);
    assert!(e.message.contains("expected one of"), "{}", e.message);
}

#[test]
fn wrong_type_names_path_and_line() {
    let e = load_text(&format!("{BASE}server:\n  cpu: lots\n")).unwrap_err();
    assert!(e.message.starts_with("c.yaml:6: `server.cpu`"), "{}", e.message);
}

#[test]
fn invalid_value_names_key_line_and_what_is_allowed() {
    let e = load_text(&format!("{BASE}server:\n  cpu: 0.3\n  memory: 0.6Gi\n")).unwrap_err();
    assert!(e.message.starts_with("c.yaml:6: `server.cpu`"), "{}", e.message);
    assert!(e.message.contains("0.25/0.5Gi"), "{}", e.message);
    assert_eq!(e.exit(), crate::error::Exit::Usage);
}

#[test]
fn missing_hub_id_is_an_error() {
    let e = load_text("subscription_id: 00000000-0000-0000-0000-000000000001\n").unwrap_err();
    assert!(e.message.contains("`hub_id` is required"), "{}", e.message);
}

#[test]
fn legacy_env_vars_work_without_a_file_and_flags_win() {
    let e = env(&[
        ("ACACTL_HUB_ID", "hub2"),
        ("AZURE_SUBSCRIPTION_ID", "00000000-0000-0000-0000-000000000002"),
        ("AZURE_RESOURCE_GROUP", "rg-env"),
        ("AZURE_ACA_ENVIRONMENT_NAME", "env-env"),
        ("AZURE_ACR_SERVER", "MyReg.azurecr.io"),
        (
            "AZURE_ACR_IDENTITY",
            "/subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pull",
        ),
        ("JUPYTERHUB_HUB_CONNECT_URL", "http://jupyterhub/"),
    ]);
    let mut f = flags();
    f.resource_group = Some("rg-flag".into());
    let s = resolve(None, "", &f, &e).unwrap();
    assert_eq!(s.resource_group, "rg-flag");
    assert!(s.environment_id.ends_with("/managedEnvironments/env-env"));
    assert_eq!(s.registry.unwrap().server, "myreg.azurecr.io");
    assert_eq!(s.hub.connect_url.as_deref(), Some("http://jupyterhub"));
    // env beats the file
    let s = resolve(None, BASE, &flags(), &env(&[("AZURE_RESOURCE_GROUP", "rg-env")])).unwrap();
    assert_eq!(s.resource_group, "rg-env");
}

#[test]
fn environment_resource_id_is_accepted() {
    let text = BASE.replace("environment: env1", "environment: /subscriptions/00000000-0000-0000-0000-000000000009/resourceGroups/other/providers/Microsoft.App/managedEnvironments/shared");
    let s = load_text(&text).unwrap();
    assert!(s.environment_id.contains("/resourceGroups/other/"));
}

#[test]
fn custom_cloud_requires_https_endpoints() {
    let e = load_text(&format!(
        "{BASE}cloud: custom\ncloud_endpoints:\n  resource_manager: http://x\n  authority_host: https://y\n"
    ))
    .unwrap_err();
    assert!(e.message.contains("cloud_endpoints.resource_manager"), "{}", e.message);
    let s = load_text(&format!("{BASE}cloud: AzureUSGovernment\n")).unwrap();
    assert_eq!(s.cloud.token_scope, "https://management.core.usgovcloudapi.net/.default");
    assert_eq!(s.cloud.authority_host, "https://login.microsoftonline.us");
}

#[test]
fn env_entries_are_validated() {
    let e = load_text(&format!("{BASE}server:\n  env:\n    BAD-NAME: x\n")).unwrap_err();
    assert!(e.message.contains("c.yaml:7"), "{}", e.message);
    let e = load_text(&format!("{BASE}server:\n  env:\n    AZURE_CLIENT_SECRET: x\n")).unwrap_err();
    assert!(e.message.contains("never sets"), "{}", e.message);
    let s = load_text(&format!("{BASE}server:\n  env:\n    A: plain\n    B:\n      secret: hidden\n")).unwrap();
    assert_eq!(
        s.server.env,
        vec![("A".into(), EnvValue::Plain("plain".into())), ("B".into(), EnvValue::Secret("hidden".into()))]
    );
}

use proptest::prelude::*;

fn yaml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ./:_-]{0,20}".prop_map(|s| format!("\"{s}\"")),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        Just("null".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("[a, 1]".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, rng_seed: proptest::test_runner::RngSeed::Fixed(5), ..ProptestConfig::default() })]
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        let _ = resolve(None, &text, &flags(), &env(&[]));
    }

    #[test]
    fn known_keys_with_arbitrary_values_give_ok_or_a_located_error(
        key in prop::sample::select(vec!["hub_id", "subscription_id", "location", "api_version", "cloud", "ca_bundle",
            "server.cpu", "server.memory", "server.image", "server.target_port", "server.start_timeout", "server.command",
            "hub.public_url", "hub.allow_origin", "registry.server", "arm.max_attempts", "credential.type"]),
        value in yaml_value(),
    ) {
        let text = match key.split_once('.') {
            Some((section, k)) => format!("{BASE}{section}:\n  {k}: {value}\n"),
            None => format!("{}{key}: {value}\n", BASE.lines().filter(|l| !l.starts_with(&format!("{key}:"))).map(|l| format!("{l}\n")).collect::<String>()),
        };
        if let Err(e) = resolve(Some("c.yaml".into()), &text, &flags(), &env(&[])) {
            prop_assert!(e.message.starts_with("c.yaml"), "{}", e.message);
            prop_assert_eq!(e.exit(), crate::error::Exit::Usage);
        }
    }
}

#[test]
fn lro_wait_honours_retry_after_but_never_busy_loops() {
    let s = load_text(&format!("{BASE}arm:\n  poll_interval_ms: 250\n")).unwrap();
    assert_eq!(s.arm.lro_wait(Some(Duration::ZERO)), Duration::from_millis(250));
    assert_eq!(s.arm.lro_wait(None), Duration::from_millis(250));
    assert_eq!(s.arm.lro_wait(Some(Duration::from_secs(5))), Duration::from_secs(5));
}

#[test]
fn locate_finds_nested_keys() {
    let text = "a: 1\nserver:\n  # c\n  env:\n    X: 1\n  cpu: 2\nhub:\n  cpu: 3\n";
    assert_eq!(locate(text, "server.cpu"), Some(6));
    assert_eq!(locate(text, "hub.cpu"), Some(8));
    assert_eq!(locate(text, "server.env.X"), Some(5));
    assert_eq!(locate(text, "server.missing"), Some(2));
    assert_eq!(locate(text, "nothing"), None);
}
