//! Credentials against the fake STS / managed-identity endpoint, and the on-disk token cache.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::{Duration, Instant};

use crate::common::*;

fn cache_files(h: &Harness) -> Vec<std::path::PathBuf> {
    let dir = h.dir.path().join("cache/tokens");
    std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect()
        })
        .unwrap_or_default()
}

#[test]
fn tokens_are_cached_privately_and_reused_across_processes() {
    let h = Harness::new();
    let r = run(h.spawner("cache", "").arg("start"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(h.fake.token_requests().len(), 1, "one token for the whole start");
    let state = state_of(&r.json());
    for _ in 0..3 {
        assert_eq!(run(h.acactl().env("ACACTL_STATE", &state).arg("poll")).json()["status"], "running");
    }
    assert_eq!(h.fake.token_requests().len(), 1, "polls reused the cached token");
    let files = cache_files(&h);
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::metadata(&files[0]).unwrap().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(h.dir.path().join("cache/tokens")).unwrap().mode() & 0o777, 0o700);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        !r.all_output().contains(serde_json::from_str::<serde_json::Value>(&text).unwrap()["token"].as_str().unwrap())
    );
}

#[test]
fn a_cache_file_with_loose_permissions_is_ignored_with_a_warning() {
    let h = Harness::new();
    let r = run(h.spawner("loose", "").arg("start"));
    let state = state_of(&r.json());
    let file = cache_files(&h).pop().unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let p = run(h.acactl().env("ACACTL_STATE", &state).arg("poll"));
    assert_eq!(p.json()["status"], "running");
    assert!(p.stderr.contains("ignoring token cache file"), "{}", p.stderr);
    assert_eq!(h.fake.token_requests().len(), 2, "not trusted: fetched again");
    // Rewritten privately.
    assert_eq!(std::fs::metadata(&file).unwrap().mode() & 0o777, 0o600);
}

#[test]
fn an_expiring_token_is_refreshed() {
    let h = Harness::new();
    h.fake.set_token_expires_in(200); // inside the 5-minute refresh margin
    let r = run(h.spawner("expiring", "").arg("start"));
    let state = state_of(&r.json());
    run(h.acactl().env("ACACTL_STATE", &state).arg("poll"));
    assert_eq!(h.fake.token_requests().len(), 2);
}

#[test]
fn concurrent_cold_polls_all_succeed() {
    let h = Harness::new();
    let r = run(h.spawner("herd", "").arg("start"));
    let state = state_of(&r.json());
    std::fs::remove_dir_all(h.dir.path().join("cache")).unwrap();
    let results: Vec<Run> = std::thread::scope(|s| {
        let handles: Vec<_> =
            (0..16).map(|_| s.spawn(|| run(h.acactl().env("ACACTL_STATE", &state).arg("poll")))).collect();
        handles.into_iter().map(|t| t.join().unwrap()).collect()
    });
    for r in &results {
        assert_eq!(r.json()["status"], "running", "{}", r.stderr);
        assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    }
    assert_eq!(cache_files(&h).len(), 1);
}

#[test]
fn client_secret_credential_uses_the_configured_authority() {
    let h = Harness::new();
    h.write_config("credential:\n  type: client-secret\n  tenant_id: contoso.onmicrosoft.com\n  client_id: 11111111-1111-1111-1111-111111111111\n");
    let r = run(h.spawner("sp", "").env("AZURE_CLIENT_SECRET", "good-secret-value").arg("start"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let tokens = h.fake.token_requests();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].detail["endpoint"], "entra");
    assert_eq!(tokens[0].detail["tenant"], "contoso.onmicrosoft.com");
    assert!(!r.all_output().contains("good-secret-value"));
    // The hub's client secret never reaches the app.
    let name = r.json()["name"].as_str().unwrap().to_string();
    assert!(!h.fake.app_put_body(&name).unwrap().to_string().contains("good-secret-value"));

    std::fs::remove_dir_all(h.dir.path().join("cache")).unwrap();
    let bad = run(h.spawner("sp2", "").env("AZURE_CLIENT_SECRET", "bad-secret").arg("start"));
    assert_eq!(bad.code, 3);
    assert_eq!(bad.json()["error"]["code"], "AuthenticationFailed");
    assert!(!bad.all_output().contains("bad-secret\""), "{}", bad.all_output());
}

#[test]
fn auto_without_any_credential_fails_fast() {
    let h = Harness::new();
    h.write_config("credential:\n  type: auto\n");
    let t = Instant::now();
    let r = run(h
        .acactl()
        .env_remove("IDENTITY_ENDPOINT")
        .env_remove("IDENTITY_HEADER")
        .args(["stop", "--user", "nobody"]));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.json()["error"]["code"], "CredentialUnavailable");
    assert!(r.stderr.contains("IDENTITY_ENDPOINT not set"), "{}", r.stderr);
    assert!(t.elapsed() < Duration::from_secs(15), "took {:?}", t.elapsed());
    // poll turns the same failure into "unknown", quickly.
    let t = Instant::now();
    let p = run(h
        .acactl()
        .env_remove("IDENTITY_ENDPOINT")
        .env_remove("IDENTITY_HEADER")
        .args(["poll", "--user", "nobody"]));
    assert_eq!(p.code, 0);
    assert_eq!(p.json()["status"], "unknown");
    assert!(t.elapsed() < Duration::from_secs(15));
}

#[test]
fn auto_picks_the_container_apps_managed_identity() {
    let h = Harness::new();
    h.write_config("credential:\n  type: auto\n");
    let r = run(h.spawner("auto", "").arg("start"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(h.fake.token_requests()[0].detail["endpoint"], "msi");
}
