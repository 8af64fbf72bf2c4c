//! Configuration discovery, errors that point at the file, and the offline dry run.

use crate::common::*;
use assert_cmd::Command;

fn example() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.yaml")
}

#[test]
fn dry_run_with_the_example_config_needs_no_network_and_no_credentials() {
    let home = tempfile::tempdir().unwrap();
    let r = run(Command::cargo_bin("acactl").unwrap().env_clear().env("HOME", home.path()).args([
        "--config",
        example().to_str().unwrap(),
        "start",
        "--dry-run",
        "--user",
        "marcus",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["request"]["method"], "PUT");
    assert!(v["request"]["url"].as_str().unwrap().starts_with("https://management.azure.com/subscriptions/"));
    assert!(v["request"]["url"].as_str().unwrap().ends_with("?api-version=2026-07-01"));
    assert_eq!(v["request"]["body"]["location"], "westeurope");
    assert!(!home.path().join(".cache/acactl").exists(), "no token cache touched");
}

#[test]
fn dry_run_redacts_secret_values() {
    let h = Harness::new();
    h.write_config("server:\n  env:\n    S3_SECRET:\n      secret: do-not-print-me-please\n");
    let r = run(h.spawner("dry", "").args(["start", "--dry-run"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.all_output().contains("do-not-print-me-please"));
    assert!(!r.all_output().contains(TOKEN));
    let body = &r.json()["request"]["body"];
    assert!(
        body["properties"]["configuration"]["secrets"].as_array().unwrap().iter().all(|s| s["value"] == "<redacted>")
    );
    assert!(h.fake.requests().is_empty());
}

#[test]
fn config_errors_name_the_key_and_line_and_exit_2() {
    let h = Harness::new();
    for (extra, needle) in [
        ("server:\n  cpu: 0.3\n", "`server.cpu`"),
        ("server:\n  imag: x\n", "unknown field `imag`"),
        ("hub:\n  allow_origin: 'not an origin'\n", "`hub.allow_origin`"),
        ("api_version: yesterday\n", "`api_version`"),
    ] {
        h.write_config(extra);
        let text = std::fs::read_to_string(&h.config).unwrap();
        let key = extra.lines().last().unwrap().trim().split(':').next().unwrap().to_string();
        let line = text.lines().position(|l| l.trim_start().starts_with(&format!("{key}:"))).unwrap() + 1;
        let r = run(h.acactl().args(["start", "--dry-run", "--user", "u"]));
        assert_eq!(r.code, 2, "{extra}");
        let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(msg.contains(needle), "{msg}");
        assert!(msg.contains(&format!("config.yaml:{line}")), "line {line}: {msg}");
        assert_eq!(r.json()["error"]["code"], "ConfigInvalid");
    }
}

#[test]
fn discovery_order_flag_then_env_then_user_dir() {
    let home = tempfile::tempdir().unwrap();
    let user_cfg = home.path().join(".config/acactl/config.yaml");
    std::fs::create_dir_all(user_cfg.parent().unwrap()).unwrap();
    let base = std::fs::read_to_string(example()).unwrap();
    std::fs::write(&user_cfg, base.replace("hub_id: demo", "hub_id: fromuser")).unwrap();
    let env_cfg = home.path().join("env.yaml");
    std::fs::write(&env_cfg, base.replace("hub_id: demo", "hub_id: fromenv")).unwrap();
    let hub = |cmd: &mut Command| {
        run(cmd.args(["start", "--dry-run", "--user", "u"])).json()["request"]["body"]["tags"]["acactl-hub"].clone()
    };
    let base_cmd = || {
        let mut c = Command::cargo_bin("acactl").unwrap();
        c.env_clear().env("HOME", home.path());
        c
    };
    assert_eq!(hub(&mut base_cmd()), "fromuser");
    assert_eq!(hub(base_cmd().env("ACACTL_CONFIG", &env_cfg)), "fromenv");
    assert_eq!(hub(base_cmd().env("ACACTL_CONFIG", &env_cfg).args(["--config", example().to_str().unwrap()])), "demo");
    // Env beats the file; flags beat env.
    let v = run(base_cmd().env("AZURE_RESOURCE_GROUP", "rg-env").args(["start", "--dry-run", "--user", "u"])).json();
    assert!(v["request"]["url"].as_str().unwrap().contains("/resourceGroups/rg-env/"));
    let v = run(base_cmd().env("AZURE_RESOURCE_GROUP", "rg-env").args([
        "--resource-group",
        "rg-flag",
        "start",
        "--dry-run",
        "--user",
        "u",
    ]))
    .json();
    assert!(v["request"]["url"].as_str().unwrap().contains("/resourceGroups/rg-flag/"));
    let missing = run(base_cmd().args(["--config", "/nonexistent.yaml", "poll", "--user", "u"]));
    assert_eq!(missing.code, 2);
}
