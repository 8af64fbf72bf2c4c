//! config.example.yaml documents every key acactl accepts. The accepted keys are read from the
//! settings schema itself (src/settings.rs, `deny_unknown_fields`): acactl is given a file with an
//! unknown key at each level and names the fields it expected, so a new setting without an example
//! entry fails here.

use assert_cmd::Command;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const PROBE: &str = "zz_probe";

#[derive(Clone)]
enum Seg {
    Key(String),
    List,
}

/// The YAML (as JSON) with `zz_probe: 1` at `path`.
fn probe_doc(path: &[Seg]) -> Value {
    let mut v = json!({ PROBE: 1 });
    for seg in path.iter().rev() {
        v = match seg {
            Seg::Key(k) => json!({ k.clone(): v }),
            Seg::List => json!([v]),
        };
    }
    v
}

/// acactl's error message for a config file with an unknown key at `path`.
fn probe(path: &[Seg]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("probe.yaml");
    std::fs::write(&file, probe_doc(path).to_string()).unwrap();
    let out = Command::cargo_bin("acactl")
        .unwrap()
        .env_clear()
        .env("HOME", dir.path())
        .args(["--config", file.to_str().unwrap(), "profiles", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a probe must be a config error");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["error"]["message"].as_str().unwrap().to_string()
}

/// The fields a struct at `path` accepts, or None when `path` is not a struct.
fn fields(path: &[Seg]) -> Option<Vec<String>> {
    let msg = probe(path);
    let (_, list) = msg.split_once(&format!("unknown field `{PROBE}`, expected one of "))?;
    Some(list.split(", ").map(|f| f.trim_matches('`').to_string()).collect())
}

fn walk(path: &mut Vec<Seg>, name: &str, out: &mut BTreeSet<(String, String)>) {
    let Some(list) = fields(path) else { return };
    for f in list {
        out.insert((format!("{name}{f}"), f.clone()));
        path.push(Seg::Key(f.clone()));
        if fields(path).is_some() {
            walk(path, &format!("{name}{f}."), out);
        } else if probe(path).contains("expected a sequence") {
            path.push(Seg::List);
            walk(path, &format!("{name}{f}[]."), out);
            path.pop();
        }
        path.pop();
    }
}

#[test]
fn every_accepted_key_is_in_config_example() {
    let mut keys = BTreeSet::new();
    walk(&mut Vec::new(), "", &mut keys);
    // sanity: the walk reached nested structs and lists of structs
    for k in
        ["tls_roots", "cloud_endpoints.token_scope", "server.volumes[].sub_path", "profiles[].options[].choices[].slug"]
    {
        assert!(keys.iter().any(|(path, _)| path == k), "schema walk missed {k}: {keys:?}");
    }
    // env values are an untagged enum (a string, {secret}, {key_vault, identity}): no field list to probe
    for k in ["secret", "key_vault", "identity"] {
        keys.insert((format!("<env value>.{k}"), k.to_string()));
    }
    let example =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.yaml")).unwrap();
    // a key is documented when it appears as `key:` in the example, as a setting or commented out
    let documented = |key: &str| {
        example.lines().any(|line| {
            let l =
                line.trim_start().trim_start_matches('#').trim_start().trim_start_matches("- ").trim_start_matches('{');
            l.starts_with(&format!("{key}:"))
                || line.contains(&format!("{{{key}:"))
                || line.contains(&format!(", {key}:"))
        })
    };
    let missing: Vec<_> = keys.iter().filter(|(_, key)| !documented(key)).map(|(path, _)| path.clone()).collect();
    assert!(missing.is_empty(), "keys acactl accepts but config.example.yaml does not show: {missing:?}");
}

#[test]
fn probe_sees_a_key_that_is_not_documented() {
    // the check above can fail: a made-up key is neither accepted nor documented, and a real one is both
    assert!(fields(&[]).unwrap().contains(&"tls_roots".to_string()));
    assert!(!fields(&[]).unwrap().contains(&PROBE.to_string()));
    assert!(fields(&[Seg::Key("hub_id".into())]).is_none(), "a string is not a struct");
}
