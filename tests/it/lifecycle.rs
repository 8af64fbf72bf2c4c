//! start -> poll -> stop against the fake, and what the app looks like in ARM.

use crate::common::*;

#[test]
fn start_poll_stop_happy_path() {
    let h = Harness::new();
    let r = run(h.spawner("marcus", "").args(["start", "--progress", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let _f = snapshot_filters(Some(&h), &[(TOKEN, "[TOKEN]")]);
    let out = r.json();
    let name = out["name"].as_str().unwrap().to_string();
    insta::assert_json_snapshot!(out, @r#"
    {
      "name": "test-marcus-h7cjglvsmm",
      "state": {
        "hub_id": "test",
        "id": "/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/containerApps/test-marcus-h7cjglvsmm",
        "key": "h7cjglvsmm67zna4ky6yoval52hyygeflwxejt5u3t7zrai2zjc",
        "name": "test-marcus-h7cjglvsmm",
        "url": "http://test-marcus-h7cjglvsmm",
        "version": 1
      },
      "url": "http://test-marcus-h7cjglvsmm"
    }
    "#);

    // Progress: JupyterHub-style JSON lines on stderr, increasing, ending at 100.
    let events: Vec<serde_json::Value> = r.stderr.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(events.len() >= 4, "{}", r.stderr);
    let pcts: Vec<u64> = events.iter().map(|e| e["progress"].as_u64().unwrap()).collect();
    assert!(pcts.windows(2).all(|w| w[0] <= w[1]), "{pcts:?}");
    assert_eq!(*pcts.last().unwrap(), 100);

    // The app in ARM: tags, ingress, the token only as a secret.
    let app = h.fake.app(&name).unwrap();
    insta::assert_json_snapshot!(app["tags"], @r#"
    {
      "acactl-created": "[TIME]",
      "acactl-hub": "test",
      "acactl-key": "h7cjglvsmm67zna4ky6yoval52hyygeflwxejt5u3t7zrai2zjc",
      "acactl-server": "",
      "acactl-user": "marcus",
      "acactl-version": "0.1.0",
      "managed-by": "acactl"
    }
    "#);
    let body = h.fake.app_put_body(&name).unwrap();
    assert_eq!(app["properties"]["configuration"]["ingress"]["external"], false);
    assert_eq!(app["properties"]["configuration"]["ingress"]["allowInsecure"], true);
    assert_eq!(app["properties"]["template"]["scale"]["minReplicas"], 1);
    let secrets = h.fake.app_secrets(&name);
    assert!(secrets.iter().any(|(_, v)| v == TOKEN), "token stored as an ACA secret");
    // The whole PUT: the token (and JPY_API_TOKEN) only by secretRef, the hub's own URLs and origin,
    // neither AZURE_CLIENT_SECRET nor JPY_COOKIE_SECRET forwarded.
    insta::assert_json_snapshot!(body, @r#"
    {
      "identity": {
        "type": "None"
      },
      "location": "westeurope",
      "properties": {
        "configuration": {
          "activeRevisionsMode": "Single",
          "ingress": {
            "allowInsecure": true,
            "external": false,
            "targetPort": 8888,
            "traffic": [
              {
                "latestRevision": true,
                "weight": 100
              }
            ],
            "transport": "http"
          },
          "maxInactiveRevisions": 0,
          "secrets": [
            {
              "name": "jupyterhub-api-token",
              "value": "[TOKEN]"
            }
          ]
        },
        "environmentId": "/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/managedEnvironments/aca-env",
        "template": {
          "containers": [
            {
              "args": [
                "--ServerApp.allow_origin=https://hub.example.test"
              ],
              "command": [
                "jupyterhub-singleuser"
              ],
              "env": [
                {
                  "name": "JUPYTERHUB_API_TOKEN",
                  "secretRef": "jupyterhub-api-token"
                },
                {
                  "name": "JPY_API_TOKEN",
                  "secretRef": "jupyterhub-api-token"
                },
                {
                  "name": "JUPYTERHUB_CLIENT_ID",
                  "value": "jupyterhub-user-marcus"
                },
                {
                  "name": "JUPYTERHUB_HOST",
                  "value": ""
                },
                {
                  "name": "JUPYTERHUB_OAUTH_CALLBACK_URL",
                  "value": "/user/marcus/oauth_callback"
                },
                {
                  "name": "JUPYTERHUB_OAUTH_SCOPES",
                  "value": "[]"
                },
                {
                  "name": "JUPYTERHUB_USER",
                  "value": "marcus"
                },
                {
                  "name": "JUPYTERHUB_SERVER_NAME",
                  "value": ""
                },
                {
                  "name": "JUPYTERHUB_API_URL",
                  "value": "http://jupyterhub/hub/api"
                },
                {
                  "name": "JUPYTERHUB_ACTIVITY_URL",
                  "value": "http://jupyterhub/hub/api/users/marcus/activity"
                },
                {
                  "name": "JUPYTERHUB_BASE_URL",
                  "value": "/"
                },
                {
                  "name": "JUPYTERHUB_PUBLIC_URL",
                  "value": ""
                },
                {
                  "name": "JUPYTERHUB_PUBLIC_HUB_URL",
                  "value": ""
                },
                {
                  "name": "JUPYTERHUB_SERVICE_URL",
                  "value": "http://0.0.0.0:8888/user/marcus/"
                },
                {
                  "name": "JUPYTERHUB_SERVICE_PREFIX",
                  "value": "/user/marcus/"
                }
              ],
              "image": "example.azurecr.io/notebook:1",
              "name": "notebook",
              "probes": [
                {
                  "failureThreshold": 3,
                  "httpGet": {
                    "path": "/user/marcus/api",
                    "port": 8888
                  },
                  "periodSeconds": 5,
                  "type": "Readiness"
                }
              ],
              "resources": {
                "cpu": 0.5,
                "memory": "1Gi"
              }
            }
          ],
          "revisionSuffix": "[SUFFIX]",
          "scale": {
            "maxReplicas": 1,
            "minReplicas": 1
          }
        }
      },
      "tags": {
        "acactl-created": "[TIME]",
        "acactl-hub": "test",
        "acactl-key": "h7cjglvsmm67zna4ky6yoval52hyygeflwxejt5u3t7zrai2zjc",
        "acactl-server": "",
        "acactl-user": "marcus",
        "acactl-version": "0.1.0",
        "managed-by": "acactl"
      }
    }
    "#);
    let body_text = body.to_string();
    assert!(!body_text.contains(HUB_SECRET));
    // No plain env var carries the token; no output line does.
    let env = body["properties"]["template"]["containers"][0]["env"].as_array().unwrap().clone();
    assert!(env.iter().all(|e| e["value"] != TOKEN));
    assert!(!r.all_output().contains(TOKEN));

    // poll: running.
    let state = state_of(&out);
    let p = run(h.acactl().env("ACACTL_STATE", &state).arg("poll"));
    assert_eq!(p.code, 0, "{}", p.stderr);
    insta::assert_json_snapshot!(p.json(), @r#"
    {
      "exit_status": null,
      "name": "test-marcus-h7cjglvsmm",
      "status": "running"
    }
    "#);

    // stop: deleted, then gone; again: nothing to delete.
    let s = run(h.acactl().env("ACACTL_STATE", &state).arg("stop"));
    assert_eq!(s.code, 0, "{}", s.stderr);
    insta::assert_json_snapshot!(s.json(), @r#"
    {
      "deleted": true,
      "name": "test-marcus-h7cjglvsmm"
    }
    "#);
    assert!(h.fake.app(&name).is_none());
    let s2 = run(h.acactl().env("ACACTL_STATE", &state).arg("stop"));
    assert_eq!(s2.code, 0, "{}", s2.stderr);
    insta::assert_json_snapshot!(s2.json(), @r#"
    {
      "deleted": false,
      "name": "test-marcus-h7cjglvsmm"
    }
    "#);

    // poll after stop: gone, with an exit status.
    let p = run(h.acactl().env("ACACTL_STATE", &state).arg("poll"));
    insta::assert_json_snapshot!(p.json(), @r#"
    {
      "exit_status": 0,
      "name": "test-marcus-h7cjglvsmm",
      "status": "stopped"
    }
    "#);
}

#[test]
fn second_start_adopts_with_a_new_token_and_revision() {
    let h = Harness::new();
    let first = run(h.spawner("ada", "").arg("start"));
    assert_eq!(first.code, 0, "{}", first.stderr);
    let name = first.json()["name"].as_str().unwrap().to_string();
    let revisions_before = h.fake.revisions(&name).len();

    let new_token = "a-fresh-token-for-the-second-spawn-000";
    let second =
        run(h.spawner("ada", "").env("JUPYTERHUB_API_TOKEN", new_token).env("JPY_API_TOKEN", new_token).arg("start"));
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(second.json()["name"], name);
    assert_eq!(h.fake.apps().len(), 1, "adopted, not duplicated");
    assert!(h.fake.app_secrets(&name).iter().any(|(_, v)| v == new_token), "secret updated");
    assert!(h.fake.revisions(&name).len() > revisions_before, "a new revision was forced");
    assert!(!second.all_output().contains(new_token));
}

#[test]
fn named_servers_and_odd_user_names_get_distinct_valid_apps() {
    let h = Harness::new();
    for (user, server) in
        [("Marcus.Müller@example.org", ""), ("Marcus.Müller@example.org", "gpu"), ("marcus-muller-example-org", "")]
    {
        let r = run(h.spawner(user, server).arg("start"));
        assert_eq!(r.code, 0, "{user}/{server}: {}", r.stderr);
    }
    let names: std::collections::BTreeSet<String> =
        h.fake.apps().iter().map(|a| a["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let gpu = h.fake.apps().into_iter().find(|a| a["tags"]["acactl-server"] == "gpu").unwrap();
    assert_eq!(gpu["tags"]["acactl-user"], "Marcus.Müller@example.org");
    let body = h.fake.app_put_body(gpu["name"].as_str().unwrap()).unwrap();
    let env = body["properties"]["template"]["containers"][0]["env"].as_array().unwrap().clone();
    let url = env.iter().find(|e| e["name"] == "JUPYTERHUB_SERVICE_URL").unwrap();
    assert_eq!(url["value"], "http://0.0.0.0:8888/user/Marcus.M%C3%BCller@example.org/gpu/");
}

#[test]
fn stop_without_state_rebuilds_the_name_and_refuses_foreign_apps() {
    let h = Harness::new();
    assert_eq!(run(h.spawner("bob", "").arg("start")).code, 0);
    let name = h.app_name("bob");
    // An admin stops by user name.
    let s = run(h.acactl().args(["stop", "--user", "bob"]));
    assert_eq!(s.code, 0, "{}", s.stderr);
    assert_eq!(s.json()["deleted"], true);
    assert!(h.fake.app(&name).is_none());

    // An app with acactl's name for "carol" but another hub's tags is never deleted.
    let carol =
        run(h.acactl().args(["start", "--dry-run", "--user", "carol"])).json()["name"].as_str().unwrap().to_string();
    h.fake.insert_app(fake_arm::InsertApp::new(&carol).tag("managed-by", "acactl").tag("acactl-hub", "other")).unwrap();
    let s = run(h.acactl().args(["stop", "--user", "carol"]));
    assert_eq!(s.code, 3, "{}", s.stdout);
    insta::assert_json_snapshot!(s.json(), @r#"
    {
      "error": {
        "code": "NotOwned",
        "message": "test-carol-s7afgfaoxe exists but is not tagged as this hub's (test) server; refusing to delete it"
      }
    }
    "#);
    assert!(h.fake.app(&carol).is_some());
}

#[test]
fn stop_waits_out_a_slow_delete() {
    // ARM deletes on its own clock, however often it is asked: wall-clock deletion, with the
    // fleet view (stop's frugal path) and without it (one GET per check).
    for fleet in [true, false] {
        let h = Harness::with(
            fake_arm::Options { provision_polls: 2, failure_polls: 3, ..fake_arm::Options::default() },
            &format!("fleet:\n  enabled: {fleet}\n"),
        );
        let r = run(h.spawner("slowdel", "").arg("start"));
        assert_eq!(r.code, 0, "{}", r.stderr);
        let name = r.json()["name"].as_str().unwrap().to_string();
        h.fake.set_delete_secs(2.5);
        let t = std::time::Instant::now();
        let s = run(h.acactl().env("ACACTL_STATE", state_of(&r.json())).arg("stop"));
        let took = t.elapsed();
        assert_eq!(s.code, 0, "{}", s.stderr);
        assert_eq!(s.json()["deleted"], true);
        assert!(h.fake.app(&name).is_none(), "stop returned only once the app was gone");
        assert!(took >= std::time::Duration::from_millis(2500), "{took:?}");
        // Without a deletion history stop's guesses double from 1 s (1, 2, 4 s...), and the view
        // (listed at least every 0.5 s) catches it sooner; either way within seconds, not at the
        // 10 s deadline.
        assert!(took < std::time::Duration::from_secs(6), "fleet {fleet}: {took:?}");
    }
}

#[test]
fn start_waits_for_a_previous_app_that_is_still_deleting() {
    let h = Harness::new();
    let name = insert_own_app(&h, "dora", "Deleting");
    let again = run(h.spawner("dora", "").arg("start"));
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(h.fake.apps().len(), 1);
    assert!(again.stderr.contains("finish deleting"), "{}", again.stderr);
    // The new app was created after the old one was gone: it carries our new revision suffix.
    let body = h.fake.app_put_body(&name).unwrap();
    assert!(body["properties"]["template"]["revisionSuffix"].is_string());
}

#[test]
fn start_refuses_an_app_with_its_name_that_is_not_its_own() {
    let h = Harness::new();
    let (name, _) = dry_run_identity(&h, "eve");
    h.fake.insert_app(fake_arm::InsertApp::new(&name).tag("owner", "someone-else")).unwrap();
    let r = run(h.spawner("eve", "").arg("start"));
    assert_eq!(r.code, 3);
    insta::assert_json_snapshot!(r.json(), @r#"
    {
      "error": {
        "code": "NameConflict",
        "message": "an app named test-eve-lqrapoo3ji exists but its tags do not say it is this server's (hub test); refusing to touch it"
      }
    }
    "#);
    let app = h.fake.app(&name).unwrap();
    assert_eq!(app["tags"]["owner"], "someone-else", "untouched");
}

#[test]
fn start_replaces_a_failed_app_of_its_own() {
    let h = Harness::new();
    let name = insert_own_app(&h, "phoenix", "Failed");
    let r = run(h.spawner("phoenix", "").arg("start"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("Replacing the failed"), "{}", r.stderr);
    assert_eq!(h.fake.requests_matching("DELETE", &name).len(), 1, "the failed app was deleted first");
    let app = h.fake.app(&name).unwrap();
    assert_eq!(app["properties"]["provisioningState"], "Succeeded");
}
