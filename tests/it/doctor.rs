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
    let (_, client) = registry_config(&h);
    let _f = snapshot_filters(Some(&h), &[(&client, "[CLIENT-ID]")]);
    let r =
        run(h.acactl().env("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555").args(["doctor", "-o", "json"]));
    assert_eq!(r.code, 0, "{}", r.stdout);
    insta::assert_json_snapshot!(r.json(), @r#"
    {
      "checks": [
        {
          "check": "config",
          "detail": "valid ([HOME]/config.yaml); hub_id test",
          "status": "ok"
        },
        {
          "check": "token cache",
          "detail": "[HOME]/cache/tokens is private",
          "status": "ok"
        },
        {
          "check": "fleet view",
          "detail": "none yet at [HOME]/cache/fleet/view-[HASH].json (the first poll creates it)",
          "status": "ok"
        },
        {
          "check": "ARM budget",
          "detail": "reads [N]/250 (+22/s), writes [N]/200 (+9/s), deletes [N]/200 (+9/s)",
          "status": "ok"
        },
        {
          "check": "credential",
          "detail": "managed-identity: token obtained for https://management.azure.com/.default",
          "status": "ok"
        },
        {
          "check": "arm",
          "detail": "[ARM] reachable",
          "status": "ok"
        },
        {
          "check": "environment",
          "detail": "/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/managedEnvironments/aca-env (West Europe)",
          "status": "ok"
        },
        {
          "check": "permissions",
          "detail": "the hub identity may create, read and delete apps, join the environment and assign the pull identity",
          "status": "ok"
        },
        {
          "check": "registry identity",
          "detail": "/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/acr-pull exists (client id [CLIENT-ID])",
          "status": "ok"
        },
        {
          "check": "user apps",
          "detail": "0 apps of hub test; none carries the hub identity",
          "status": "ok"
        },
        {
          "check": "hub api",
          "detail": "no hub.api_url/api_token: gc cannot run and status shows no hub_knows column",
          "status": "skipped"
        }
      ],
      "ok": true
    }
    "#);
}

#[test]
fn missing_permissions_and_a_shared_identity_fail_with_the_fix() {
    let h = Harness::new();
    let (_, client) = registry_config(&h);
    h.fake.set_permissions(&["Microsoft.App/containerApps/read", "*/read"], &[]);
    let _f = snapshot_filters(Some(&h), &[(&client, "[CLIENT-ID]")]);
    let r = run(h.acactl().env("AZURE_CLIENT_ID", &client).args(["doctor", "-o", "json"]));
    assert_eq!(r.code, 3);
    // The missing actions with their scopes and the role that grants them; the pull identity is
    // the hub's own.
    insta::assert_json_snapshot!(r.json(), @r#"
    {
      "checks": [
        {
          "check": "config",
          "detail": "valid ([HOME]/config.yaml); hub_id test",
          "status": "ok"
        },
        {
          "check": "token cache",
          "detail": "[HOME]/cache/tokens is private",
          "status": "ok"
        },
        {
          "check": "fleet view",
          "detail": "none yet at [HOME]/cache/fleet/view-[HASH].json (the first poll creates it)",
          "status": "ok"
        },
        {
          "check": "ARM budget",
          "detail": "reads [N]/250 (+22/s), writes [N]/200 (+9/s), deletes [N]/200 (+9/s)",
          "status": "ok"
        },
        {
          "check": "credential",
          "detail": "managed-identity: token obtained for https://management.azure.com/.default",
          "status": "ok"
        },
        {
          "check": "arm",
          "detail": "[ARM] reachable",
          "status": "ok"
        },
        {
          "check": "environment",
          "detail": "/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/managedEnvironments/aca-env (West Europe)",
          "status": "ok"
        },
        {
          "check": "permissions",
          "detail": "missing: Microsoft.App/containerApps/write on /subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter; Microsoft.App/containerApps/delete on /subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter; Microsoft.App/managedEnvironments/join/action on /subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/managedEnvironments/aca-env; Microsoft.ManagedIdentity/userAssignedIdentities/assign/action on /subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/acr-pull",
          "fix": "assign the \"acactl hub\" custom role (README: Identity and roles)",
          "status": "failed"
        },
        {
          "check": "registry identity",
          "detail": "/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/acr-pull is the hub's own identity (client id [CLIENT-ID]): every notebook could act as the hub",
          "fix": "create a separate identity with AcrPull only (README: Identity and roles)",
          "status": "failed"
        },
        {
          "check": "user apps",
          "detail": "0 apps of hub test; none carries the hub identity",
          "status": "ok"
        },
        {
          "check": "hub api",
          "detail": "no hub.api_url/api_token: gc cannot run and status shows no hub_knows column",
          "status": "skipped"
        }
      ],
      "ok": false
    }
    "#);

    let t = run(h.acactl().env("AZURE_CLIENT_ID", &client).args(["doctor", "-o", "table"]));
    insta::assert_snapshot!(t.stdout, @r#"
    config             ok       valid ([HOME]/config.yaml); hub_id test
    token cache        ok       [HOME]/cache/tokens is private
    fleet view         ok       none yet at [HOME]/cache/fleet/view-[HASH].json (the first poll creates it)
    ARM budget         ok       reads [N]/250 (+22/s), writes [N]/200 (+9/s), deletes [N]/200 (+9/s)
    credential         ok       managed-identity: token obtained for https://management.azure.com/.default
    arm                ok       [ARM] reachable
    environment        ok       /subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/managedEnvironments/aca-env (West Europe)
    permissions        FAILED   missing: Microsoft.App/containerApps/write on /subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter; Microsoft.App/containerApps/delete on /subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter; Microsoft.App/managedEnvironments/join/action on /subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/managedEnvironments/aca-env; Microsoft.ManagedIdentity/userAssignedIdentities/assign/action on /subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/acr-pull
                                fix: assign the "acactl hub" custom role (README: Identity and roles)
    registry identity  FAILED   /subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/acr-pull is the hub's own identity (client id [CLIENT-ID]): every notebook could act as the hub
                                fix: create a separate identity with AcrPull only (README: Identity and roles)
    user apps          ok       0 apps of hub test; none carries the hub identity
    hub api            skipped  no hub.api_url/api_token: gc cannot run and status shows no hub_knows column
    "#);
}

#[test]
fn a_wrong_environment_or_config_is_reported() {
    let h = Harness::new();
    let _f = snapshot_filters(Some(&h), &[]);
    let r = run(h.acactl().args(["--environment", "nope", "doctor", "-o", "json"]));
    assert_eq!(r.code, 3);
    insta::assert_json_snapshot!(checks(&r)["environment"], @r#"
    {
      "check": "environment",
      "detail": "ARM answered 404 ResourceNotFound: The Resource 'Microsoft.App/managedEnvironments/nope' under resource group 'rg-jupyter' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
      "fix": "check environment (name in resource_group, or a full resource id)",
      "status": "failed"
    }
    "#);

    h.write_config("server:\n  cpu: 3\n");
    let r = run(h.acactl().args(["doctor", "-o", "json"]));
    assert_eq!(r.code, 3);
    // A configuration error is the only check: the rest needs a configuration.
    insta::assert_json_snapshot!(r.json(), @r#"
    {
      "checks": [
        {
          "check": "config",
          "detail": "[HOME]/config.yaml:25: `server.cpu` cpu 3 with memory 6Gi is not a Consumption pair: allowed are 0.25/0.5Gi, 0.5/1Gi, 0.75/1.5Gi, ... up to 2/4Gi (memory = 2 x cpu, cpu in steps of 0.25)",
          "fix": "fix the key named above; config.example.yaml documents every key",
          "status": "failed"
        }
      ],
      "ok": false
    }
    "#);
}

#[test]
fn a_loose_token_cache_is_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::new();
    run(h.acactl().args(["doctor", "-o", "json"]));
    std::fs::set_permissions(h.dir.path().join("cache/tokens"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let r = run(h.acactl().args(["doctor", "-o", "json"]));
    let _f = snapshot_filters(Some(&h), &[]);
    insta::assert_json_snapshot!(checks(&r)["token cache"], @r#"
    {
      "check": "token cache",
      "detail": "[HOME]/cache/tokens has mode 755; it must not be accessible by group or others",
      "fix": "chmod 700 the directory (acactl ignores a cache it cannot trust)",
      "status": "warning"
    }
    "#);
}

#[test]
fn no_credential_fails_the_credential_check() {
    let h = Harness::new();
    let r = run(h.acactl().env_remove("IDENTITY_ENDPOINT").args(["doctor", "-o", "json"]));
    assert_eq!(r.code, 3);
    let _f = snapshot_filters(Some(&h), &[]);
    insta::assert_json_snapshot!(checks(&r)["credential"], @r#"
    {
      "check": "credential",
      "detail": "imds: could not get an ARM token (imds): ManagedIdentityCredential authentication failed. The request failed: resolve_deny: denied destination",
      "fix": "give the hub an identity: IDENTITY_ENDPOINT (Container Apps managed identity), AZURE_FEDERATED_TOKEN_FILE, or AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET; see credential in config.example.yaml",
      "status": "failed"
    }
    "#);
}

#[test]
fn hub_api_scopes_are_checked() {
    let hub = fake_arm::FakeHub::start();
    hub.add_token("doctor-hub-token-0123456789", &["list:users", "read:servers", "admin:server_state"]);
    hub.add_token("narrow-hub-token-0123456789", &["list:users", "read:servers!group=class1"]);
    let h = Harness::new();
    h.write_config(&format!("hub:\n  api_url: {}\n  api_token: doctor-hub-token-0123456789\n", hub.api_url()));
    let _f = snapshot_filters(Some(&h), &[]);
    let r = run(h.acactl().args(["doctor", "-o", "json"]));
    insta::assert_json_snapshot!(checks(&r)["hub api"], @r#"
    {
      "check": "hub api",
      "detail": "answers; the token has unfiltered list:users, read:servers, admin:server_state",
      "status": "ok"
    }
    "#);
    h.write_config(&format!("hub:\n  api_url: {}\n  api_token: narrow-hub-token-0123456789\n", hub.api_url()));
    let r = run(h.acactl().args(["doctor", "-o", "json"]));
    assert_eq!(r.code, 3);
    // Both missing scopes named.
    insta::assert_json_snapshot!(checks(&r)["hub api"], @r#"
    {
      "check": "hub api",
      "detail": "the hub API token (of `acactl-gc`) lacks the unfiltered scopes read:servers, admin:server_state: gc needs list:users, read:servers and admin:server_state on all users, or it would see only part of the hub and delete live servers (it has only filtered ones: read:servers!group=class1)",
      "fix": "give the acactl service token the role in README (Admin commands: status and gc)",
      "status": "failed"
    }
    "#);
    assert!(!r.all_output().contains("narrow-hub-token-0123456789"));
}

#[test]
fn the_hub_identity_attached_to_a_user_app_is_a_warning() {
    let h = Harness::new();
    let (_, client) = registry_config(&h);
    // A server started while the pull identity was (wrongly) the hub's own identity.
    assert_eq!(run(h.spawner("leaky", "").arg("start")).code, 0);
    let r = run(h.acactl().env("AZURE_CLIENT_ID", &client).args(["doctor", "-o", "json"]));
    let _f = snapshot_filters(Some(&h), &[(&client, "[CLIENT-ID]")]);
    insta::assert_json_snapshot!(checks(&r)["user apps"], @r#"
    {
      "check": "user apps",
      "detail": "the hub identity ([CLIENT-ID]) is attached to: test-leaky-44dlmxe7uy",
      "fix": "use a separate AcrPull-only identity in registry.identity, then restart those servers",
      "status": "warning"
    }
    "#);
    let r =
        run(h.acactl().env("AZURE_CLIENT_ID", "99999999-2222-3333-4444-555555555555").args(["doctor", "-o", "json"]));
    insta::assert_json_snapshot!(checks(&r)["user apps"], @r#"
    {
      "check": "user apps",
      "detail": "1 apps of hub test; none carries the hub identity",
      "status": "ok"
    }
    "#);
}
