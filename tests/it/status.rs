//! status lists this hub's apps by tags (one list call per page), filters, both formats, exit code.

use fake_arm::{HubServer, InsertApp};

use crate::common::*;
use crate::gc::{OLD, app_state, insert, setup};

#[test]
fn status_lists_by_tags_filters_and_exits_1_when_nothing_matched() {
    let (h, hub) = setup();
    let alice = insert(&h, "alice", "", Some(OLD), None);
    let alice_gpu = insert(&h, "alice", "gpu", None, None);
    insert(&h, "bob", "", Some(OLD), Some("Failed"));
    hub.add_server("alice", "", HubServer::running(app_state(&h, &alice)));
    h.fake
        .insert_app(
            InsertApp::new("other-alice-aaaaaaaaaa")
                .tag("managed-by", "acactl")
                .tag("acactl-hub", "other")
                .tag("acactl-user", "alice")
                .tag("acactl-server", ""),
        )
        .unwrap();
    // Named like ours, but untagged: status trusts tags, not names.
    h.fake.insert_app(InsertApp::new("test-alice-lookalike")).unwrap();
    h.fake.set_page_size(2);
    h.fake.reset_log();

    let r = run(h.acactl().args(["status", "-o", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    // Sorted by user, server; another hub's and untagged apps left out; alice/gpu is not in the hub.
    let _f = snapshot_filters(Some(&h), &[(OLD, "[OLD]")]);
    insta::assert_json_snapshot!(v, @r#"
    {
      "apps": [
        {
          "age_seconds": [AGE],
          "cpu": 0.5,
          "created_at": "[OLD]",
          "hub": "test",
          "hub_knows": true,
          "image": "mcr.microsoft.com/k8se/quickstart:latest",
          "memory": "1Gi",
          "name": "test-alice-sbc5axdocd",
          "reason": null,
          "server": "",
          "status": "running",
          "url": "http://test-alice-sbc5axdocd",
          "user": "alice"
        },
        {
          "age_seconds": [AGE],
          "cpu": 0.5,
          "created_at": "[TIME]",
          "hub": "test",
          "hub_knows": false,
          "image": "mcr.microsoft.com/k8se/quickstart:latest",
          "memory": "1Gi",
          "name": "test-alice-gpu-tp5i6fq3ox",
          "reason": null,
          "server": "gpu",
          "status": "running",
          "url": "http://test-alice-gpu-tp5i6fq3ox",
          "user": "alice"
        },
        {
          "age_seconds": [AGE],
          "cpu": 0.5,
          "created_at": "[OLD]",
          "hub": "test",
          "hub_knows": false,
          "image": "mcr.microsoft.com/k8se/quickstart:latest",
          "memory": "1Gi",
          "name": "test-bob-q3dpoj44k6",
          "reason": "provisioning Failed",
          "server": "",
          "status": "failed",
          "url": "http://test-bob-q3dpoj44k6",
          "user": "bob"
        }
      ],
      "count": 3
    }
    "#);
    assert!(v["apps"][0]["age_seconds"].as_i64().unwrap() > 86400);
    // 6 apps in pages of 2: 3 list calls (twice: no hub listing changes that), never a GET per app.
    let arm = h.fake.arm_requests();
    assert!(arm.iter().all(|r| r.method == "GET" && r.path.contains("/containerApps?")), "{arm:?}");
    assert_eq!(arm.len(), 3);

    let r = run(h.acactl().args(["status", "--user", "alice", "-o", "json"]));
    assert_eq!(r.json()["count"], 2);
    let r = run(h.acactl().args(["status", "--user", "alice", "--server", "gpu", "-o", "json"]));
    assert_eq!(r.json()["apps"][0]["name"], alice_gpu.as_str());
    let r = run(h.acactl().args(["status", "--user", "alice", "--server", "", "-o", "json"]));
    assert_eq!(r.json()["count"], 1);
    let r = run(h.acactl().args(["status", "--user", "nobody", "-o", "json"]));
    assert_eq!(r.code, 1, "nothing matched");
    insta::assert_json_snapshot!(r.json(), @r#"
    {
      "apps": [],
      "count": 0
    }
    "#);

    let r = run(h.acactl().args(["status", "--all-hubs", "-o", "json"]));
    let v = r.json();
    assert_eq!(v["count"], 4, "every acactl app of the resource group, untagged ones excluded: {v:#}");
    assert!(v["apps"].as_array().unwrap().iter().any(|a| a["hub"] == "other" && a["hub_knows"].is_null()));

    // Piped output defaults to JSON; -o table forces a table.
    let r = run(h.acactl().args(["status"]));
    r.json();
    let r = run(h.acactl().args(["status", "-o", "table", "--all-hubs"]));
    assert_eq!(r.code, 0);
    let header = r.stdout.lines().next().unwrap();
    for col in ["HUB", "USER", "SERVER", "APP", "STATUS", "URL", "IMAGE", "CPU/MEM", "AGE", "HUB KNOWS"] {
        assert!(header.contains(col), "{header}");
    }
    assert!(r.stdout.contains("(default)") && r.stdout.contains("failed (provisioning Failed)"), "{}", r.stdout);
    let r = run(h.acactl().args(["status", "-o", "table", "--user", "nobody"]));
    assert_eq!(r.code, 1);
    assert!(r.stdout.is_empty() && r.stderr.contains("no apps matched"));

    // Without a hub API the column is absent and hub_knows is null.
    h.write_config("");
    let r = run(h.acactl().args(["status", "-o", "json", "--user", "alice"]));
    assert_eq!(r.code, 0);
    assert!(r.json()["apps"][0]["hub_knows"].is_null());
}
