//! Issue 11: byte-for-byte snapshots of every command's exit code, stdout and stderr against the
//! fake, taken before the refactor. A change of one byte of output fails here; filters replace only
//! what differs from run to run (times, durations, ports, temp paths, random suffixes).

use fake_arm::{Behaviour, Fault, FaultAction, HubServer, InsertApp, Options};
use insta::assert_snapshot;

use crate::common::*;
use crate::gc::{OLD, app_state, hub_config, insert, setup};

/// Exit code, stdout and stderr as printed. `--- end` keeps a missing or extra final newline
/// visible; `⏎` marks a line that ends in whitespace (snapshots would not show it otherwise).
fn show(r: &Run) -> String {
    let mark = |s: &str| -> String {
        s.split_inclusive('\n')
            .map(|l| {
                let body = l.strip_suffix('\n').unwrap_or(l);
                let nl = if l.ends_with('\n') { "\n" } else { "" };
                if body.ends_with(char::is_whitespace) { format!("{body}⏎{nl}") } else { format!("{body}{nl}") }
            })
            .collect()
    };
    format!("exit: {}\n--- stdout\n{}--- stderr\n{}--- end", r.code, mark(&r.stdout), mark(&r.stderr))
}

/// A creation time `secs` ago.
fn ago(secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::seconds(secs);
    t.replace_nanosecond(0).unwrap().format(&time::format_description::well_known::Rfc3339).unwrap()
}

/// Consecutive progress lines with the same message (whatever their percentage) as one.
fn squeeze_repeats(text: &str) -> String {
    let message = |l: &str| l.split_once("%] ").map(|(_, m)| m.to_string()).unwrap_or_else(|| l.to_string());
    let mut out: Vec<&str> = Vec::new();
    for line in text.lines() {
        if out.last().is_some_and(|prev| message(prev) == message(line)) {
            continue;
        }
        out.push(line);
    }
    out.iter().map(|l| format!("{l}\n")).collect()
}

fn state_for(h: &Harness, name: &str) -> String {
    app_state(h, name)["acactl"].to_string()
}

/// A start without the hub's earlier start times (their estimates depend on how long those took).
fn start(h: &Harness, user: &str, args: &[&str]) -> Run {
    let _ = std::fs::remove_file(h.dir.path().join("cache/estimates/start-times-test.json"));
    run(h.spawner(user, "").args(args))
}

#[test]
fn start_modes() {
    let h = Harness::new();
    let _f = snapshot_filters(Some(&h), &[]);
    assert_snapshot!(show(&start(&h, "marcus", &["start", "--dry-run"])), @r#"
    exit: 0
    --- stdout
    {"checks":[],"choices":{},"dry_run":true,"name":"test-marcus-h7cjglvsmm","profile":null,"request":{"body":{"identity":{"type":"None"},"location":"westeurope","properties":{"configuration":{"activeRevisionsMode":"Single","ingress":{"allowInsecure":true,"external":false,"targetPort":8888,"traffic":[{"latestRevision":true,"weight":100}],"transport":"http"},"maxInactiveRevisions":0,"secrets":[{"name":"jupyterhub-api-token","value":"<redacted>"}]},"environmentId":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/managedEnvironments/aca-env","template":{"containers":[{"args":["--ServerApp.allow_origin=https://hub.example.test"],"command":["jupyterhub-singleuser"],"env":[{"name":"JUPYTERHUB_API_TOKEN","secretRef":"jupyterhub-api-token"},{"name":"JPY_API_TOKEN","secretRef":"jupyterhub-api-token"},{"name":"JUPYTERHUB_CLIENT_ID","value":"jupyterhub-user-marcus"},{"name":"JUPYTERHUB_HOST","value":""},{"name":"JUPYTERHUB_OAUTH_CALLBACK_URL","value":"/user/marcus/oauth_callback"},{"name":"JUPYTERHUB_OAUTH_SCOPES","value":"[]"},{"name":"JUPYTERHUB_USER","value":"marcus"},{"name":"JUPYTERHUB_SERVER_NAME","value":""},{"name":"JUPYTERHUB_API_URL","value":"http://jupyterhub/hub/api"},{"name":"JUPYTERHUB_ACTIVITY_URL","value":"http://jupyterhub/hub/api/users/marcus/activity"},{"name":"JUPYTERHUB_BASE_URL","value":"/"},{"name":"JUPYTERHUB_PUBLIC_URL","value":""},{"name":"JUPYTERHUB_PUBLIC_HUB_URL","value":""},{"name":"JUPYTERHUB_SERVICE_URL","value":"http://0.0.0.0:8888/user/marcus/"},{"name":"JUPYTERHUB_SERVICE_PREFIX","value":"/user/marcus/"}],"image":"example.azurecr.io/notebook:1","name":"notebook","probes":[{"failureThreshold":3,"httpGet":{"path":"/user/marcus/api","port":8888},"periodSeconds":5,"type":"Readiness"}],"resources":{"cpu":0.5,"memory":"1Gi"}}],"revisionSuffix":"[SUFFIX]","scale":{"maxReplicas":1,"minReplicas":1}}},"tags":{"acactl-created":"[TIME]","acactl-hub":"test","acactl-key":"h7cjglvsmm67zna4ky6yoval52hyygeflwxejt5u3t7zrai2zjc","acactl-server":"","acactl-user":"marcus","acactl-version":"0.1.0","managed-by":"acactl"}},"method":"PUT","url":"[ARM]/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/containerApps/test-marcus-h7cjglvsmm?api-version=2026-07-01"},"start_timeout":20,"url":"http://test-marcus-h7cjglvsmm"}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["start", "--dry-run", "--user", "ann", "--server", "gpu"]))), @r#"
    exit: 0
    --- stdout
    {"checks":[],"choices":{},"dry_run":true,"name":"test-ann-gpu-rqtbdv4kzw","profile":null,"request":{"body":{"identity":{"type":"None"},"location":"westeurope","properties":{"configuration":{"activeRevisionsMode":"Single","ingress":{"allowInsecure":true,"external":false,"targetPort":8888,"traffic":[{"latestRevision":true,"weight":100}],"transport":"http"},"maxInactiveRevisions":0,"secrets":[]},"environmentId":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/managedEnvironments/aca-env","template":{"containers":[{"args":["--ServerApp.allow_origin=https://hub.example.test"],"command":["jupyterhub-singleuser"],"env":[{"name":"JUPYTERHUB_SERVICE_URL","value":"http://0.0.0.0:8888/user/ann/gpu/"},{"name":"JUPYTERHUB_SERVICE_PREFIX","value":"/user/ann/gpu/"}],"image":"example.azurecr.io/notebook:1","name":"notebook","probes":[{"failureThreshold":3,"httpGet":{"path":"/user/ann/gpu/api","port":8888},"periodSeconds":5,"type":"Readiness"}],"resources":{"cpu":0.5,"memory":"1Gi"}}],"revisionSuffix":"[SUFFIX]","scale":{"maxReplicas":1,"minReplicas":1}}},"tags":{"acactl-created":"[TIME]","acactl-hub":"test","acactl-key":"rqtbdv4kzwqij2unl7yr2diie27epmvaoypru52tjrccxq2zp4a","acactl-server":"gpu","acactl-user":"ann","acactl-version":"0.1.0","managed-by":"acactl"}},"method":"PUT","url":"[ARM]/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/containerApps/test-ann-gpu-rqtbdv4kzw?api-version=2026-07-01"},"start_timeout":20,"url":"http://test-ann-gpu-rqtbdv4kzw"}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&start(&h, "marcus", &["start", "--progress", "json"])), @r#"
    exit: 0
    --- stdout
    {"name":"test-marcus-h7cjglvsmm","state":{"hub_id":"test","id":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/containerApps/test-marcus-h7cjglvsmm","key":"h7cjglvsmm67zna4ky6yoval52hyygeflwxejt5u3t7zrai2zjc","name":"test-marcus-h7cjglvsmm","url":"http://test-marcus-h7cjglvsmm","version":1},"url":"http://test-marcus-h7cjglvsmm"}
    --- stderr
    {"message":"Preparing test-marcus-h7cjglvsmm","progress":5}
    {"message":"Creating container app test-marcus-h7cjglvsmm","progress":10}
    {"message":"Provisioning test-marcus-h7cjglvsmm: provisioning InProgress, running Running, container Waiting (ContainerCreating)","progress":28}
    {"message":"Provisioning test-marcus-h7cjglvsmm: provisioning InProgress, running Running, container Waiting (ContainerCreating)","progress":36}
    {"message":"Provisioning test-marcus-h7cjglvsmm: provisioning Succeeded, running Running, container Running","progress":44}
    {"message":"Server ready at http://test-marcus-h7cjglvsmm","progress":100}
    --- end
    "#);
    assert_snapshot!(show(&start(&h, "ann", &["start", "--progress", "plain"])), @r#"
    exit: 0
    --- stdout
    {"name":"test-ann-yikkv6ljwz","state":{"hub_id":"test","id":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/containerApps/test-ann-yikkv6ljwz","key":"yikkv6ljwzyb3h73yt3rc5uaso6gilnishkun5bkoqirfq7i4r2","name":"test-ann-yikkv6ljwz","url":"http://test-ann-yikkv6ljwz","version":1},"url":"http://test-ann-yikkv6ljwz"}
    --- stderr
    acactl: [  5%] Preparing test-ann-yikkv6ljwz
    acactl: [ 10%] Creating container app test-ann-yikkv6ljwz
    acactl: [ 28%] Provisioning test-ann-yikkv6ljwz: provisioning InProgress, running Running, container Waiting (ContainerCreating)
    acactl: [ 85%] Waiting for Jupyter to answer at http://test-ann-yikkv6ljwz
    acactl: [100%] Server ready at http://test-ann-yikkv6ljwz
    --- end
    "#);
    assert_snapshot!(show(&start(&h, "bob", &["start"])), @r#"
    exit: 0
    --- stdout
    {"name":"test-bob-q3dpoj44k6","state":{"hub_id":"test","id":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/containerApps/test-bob-q3dpoj44k6","key":"q3dpoj44k6nyjamex6efgga7udx455ogroxwlvfsgp4bj77en2r","name":"test-bob-q3dpoj44k6","url":"http://test-bob-q3dpoj44k6","version":1},"url":"http://test-bob-q3dpoj44k6"}
    --- stderr
    acactl: [  5%] Preparing test-bob-q3dpoj44k6
    acactl: [ 10%] Creating container app test-bob-q3dpoj44k6
    acactl: [ 28%] Provisioning test-bob-q3dpoj44k6: provisioning InProgress, running Running, container Waiting (ContainerCreating)
    acactl: [ 85%] Waiting for Jupyter to answer at http://test-bob-q3dpoj44k6
    acactl: [100%] Server ready at http://test-bob-q3dpoj44k6
    --- end
    "#);
    assert_snapshot!(show(&start(&h, "cyd", &["start", "--progress", "none"])), @r#"
    exit: 0
    --- stdout
    {"name":"test-cyd-tyyzwrv57z","state":{"hub_id":"test","id":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/containerApps/test-cyd-tyyzwrv57z","key":"tyyzwrv57zdgrl3zb62sxhuxgdxq24z65o6izr3ouiykdtqmcvk","name":"test-cyd-tyyzwrv57z","url":"http://test-cyd-tyyzwrv57z","version":1},"url":"http://test-cyd-tyyzwrv57z"}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&start(&h, "dee", &["-q", "start"])), @r#"
    exit: 0
    --- stdout
    {"name":"test-dee-pixveqcb4z","state":{"hub_id":"test","id":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/containerApps/test-dee-pixveqcb4z","key":"pixveqcb4zu7xfzuntmgt4vqxc7pfhnlzfvvb6xcpzdygdn6qya","name":"test-dee-pixveqcb4z","url":"http://test-dee-pixveqcb4z","version":1},"url":"http://test-dee-pixveqcb4z"}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&start(&h, "eli", &["-v", "start", "--progress", "plain"])), @r#"
    exit: 0
    --- stdout
    {"name":"test-eli-tyyzp4mqii","state":{"hub_id":"test","id":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/containerApps/test-eli-tyyzp4mqii","key":"tyyzp4mqiiothw2cl4c4fj2nl7rvpsb5qa4nzxcoastkv2kxqpy","name":"test-eli-tyyzp4mqii","url":"http://test-eli-tyyzp4mqii","version":1},"url":"http://test-eli-tyyzp4mqii"}
    --- stderr
    acactl: [  5%] Preparing test-eli-tyyzp4mqii
    acactl: [ 10%] Creating container app test-eli-tyyzp4mqii
    acactl: [ 28%] Provisioning test-eli-tyyzp4mqii: provisioning InProgress, running Running, container Waiting (ContainerCreating)
    acactl: [ 85%] Waiting for Jupyter to answer at http://test-eli-tyyzp4mqii
    acactl: [100%] Server ready at http://test-eli-tyyzp4mqii
    --- end
    "#);
}

#[test]
fn start_over_an_existing_app() {
    // The app's own GETs pace these (the fleet view's refresh timing would vary the progress lines).
    let h = Harness::with(
        Options { provision_polls: 2, failure_polls: 3, ..Default::default() },
        "fleet:\n  enabled: false\n",
    );
    let _f = snapshot_filters(Some(&h), &[]);
    assert_eq!(start(&h, "marcus", &["start"]).code, 0);
    // Adopting its own running app.
    assert_snapshot!(show(&start(&h, "marcus", &["start", "--progress", "plain"])), @r#"
    exit: 0
    --- stdout
    {"name":"test-marcus-h7cjglvsmm","state":{"hub_id":"test","id":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/containerApps/test-marcus-h7cjglvsmm","key":"h7cjglvsmm67zna4ky6yoval52hyygeflwxejt5u3t7zrai2zjc","name":"test-marcus-h7cjglvsmm","url":"http://test-marcus-h7cjglvsmm","version":1},"url":"http://test-marcus-h7cjglvsmm"}
    --- stderr
    acactl: [  5%] Preparing test-marcus-h7cjglvsmm
    acactl: [ 10%] Updating the existing container app test-marcus-h7cjglvsmm
    acactl: [ 28%] Provisioning test-marcus-h7cjglvsmm: provisioning InProgress, running Running, container Waiting (ContainerCreating)
    acactl: [ 85%] Waiting for Jupyter to answer at http://test-marcus-h7cjglvsmm
    acactl: [100%] Server ready at http://test-marcus-h7cjglvsmm
    --- end
    "#);
    // Replacing its own failed app; waiting for its own app to finish deleting.
    insert_own_app(&h, "phoenix", "Failed");
    assert_snapshot!(show(&start(&h, "phoenix", &["start", "--progress", "plain"])), @r#"
    exit: 0
    --- stdout
    {"name":"test-phoenix-dejtjpryrc","state":{"hub_id":"test","id":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/containerApps/test-phoenix-dejtjpryrc","key":"dejtjpryrcxn3xrxgxf4lmt4ixklje3zgvvgwmewc6irywyor5u","name":"test-phoenix-dejtjpryrc","url":"http://test-phoenix-dejtjpryrc","version":1},"url":"http://test-phoenix-dejtjpryrc"}
    --- stderr
    acactl: [  5%] Preparing test-phoenix-dejtjpryrc
    acactl: [  8%] Replacing the failed test-phoenix-dejtjpryrc (provisioning Failed)
    acactl: [ 10%] Deleting test-phoenix-dejtjpryrc
    acactl: [ 10%] Creating container app test-phoenix-dejtjpryrc
    acactl: [ 28%] Provisioning test-phoenix-dejtjpryrc: provisioning InProgress, running Running, container Waiting (ContainerCreating)
    acactl: [ 85%] Waiting for Jupyter to answer at http://test-phoenix-dejtjpryrc
    acactl: [100%] Server ready at http://test-phoenix-dejtjpryrc
    --- end
    "#);
    insert_own_app(&h, "dora", "Deleting");
    assert_snapshot!(show(&start(&h, "dora", &["start", "--progress", "plain"])), @r#"
    exit: 0
    --- stdout
    {"name":"test-dora-zd53rgq52p","state":{"hub_id":"test","id":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/containerApps/test-dora-zd53rgq52p","key":"zd53rgq52pnfpd6h5dohuf4yrr5hdoa2c3v4wix5vlwfdqtactq","name":"test-dora-zd53rgq52p","url":"http://test-dora-zd53rgq52p","version":1},"url":"http://test-dora-zd53rgq52p"}
    --- stderr
    acactl: [  5%] Preparing test-dora-zd53rgq52p
    acactl: [  8%] Waiting for the previous test-dora-zd53rgq52p to finish deleting
    acactl: [ 10%] Creating container app test-dora-zd53rgq52p
    acactl: [ 28%] Provisioning test-dora-zd53rgq52p: provisioning InProgress, running Running, container Waiting (ContainerCreating)
    acactl: [ 85%] Waiting for Jupyter to answer at http://test-dora-zd53rgq52p
    acactl: [100%] Server ready at http://test-dora-zd53rgq52p
    --- end
    "#);
}

#[test]
fn start_with_estimates() {
    let h = Harness::new();
    let _f = snapshot_filters(Some(&h), &[]);
    assert_eq!(start(&h, "ann", &["start"]).code, 0);
    // A planted history of slow starts: the estimate is fixed, and this start is never slower.
    let sample = r#"{"total_ms":60000,"phases":{"preparing":1000,"write_budget":1000,"provisioning":30000,"activating":20000,"jupyter":8000}}"#;
    let history =
        format!(r#"{{"version":1,"profiles":{{"":{{"used":3,"samples":[{sample},{sample},{sample}]}}}},"seq":3}}"#);
    std::fs::write(h.dir.path().join("cache/estimates/start-times-test.json"), history).unwrap();
    let r = run(h.spawner("dee", "").args(["start", "--progress", "json"]));
    assert_snapshot!(show(&r), @r#"
    exit: 0
    --- stdout
    {"name":"test-dee-pixveqcb4z","state":{"hub_id":"test","id":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/containerApps/test-dee-pixveqcb4z","key":"pixveqcb4zu7xfzuntmgt4vqxc7pfhnlzfvvb6xcpzdygdn6qya","name":"test-dee-pixveqcb4z","url":"http://test-dee-pixveqcb4z","version":1},"url":"http://test-dee-pixveqcb4z"}
    --- stderr
    {"message":"Preparing test-dee-pixveqcb4z (usually ready in about 60 s)","progress":5}
    {"message":"Creating container app test-dee-pixveqcb4z (usually ready in about 60 s)","progress":10}
    {"message":"Provisioning test-dee-pixveqcb4z: provisioning InProgress, running Running, container Waiting (ContainerCreating) (usually ready in about 60 s)","progress":28}
    {"message":"Waiting for Jupyter to answer at http://test-dee-pixveqcb4z (usually ready in about 60 s)","progress":85}
    {"message":"Server ready at http://test-dee-pixveqcb4z","progress":100}
    --- end
    "#);
}

#[test]
fn poll() {
    let h = Harness::new();
    let _f = snapshot_filters(Some(&h), &[]);
    let start = run(h.spawner("marcus", "").arg("start")).json();
    let state = state_of(&start);
    assert_snapshot!(show(&run(h.acactl().env("ACACTL_STATE", &state).arg("poll"))), @r#"
    exit: 0
    --- stdout
    {"exit_status":null,"name":"test-marcus-h7cjglvsmm","status":"running"}
    --- stderr
    --- end
    "#);
    // Without a state: from the spawner's user, and from --user.
    assert_snapshot!(show(&run(h.spawner("marcus", "").arg("poll"))), @r#"
    exit: 0
    --- stdout
    {"exit_status":null,"name":"test-marcus-h7cjglvsmm","status":"running"}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["poll", "--user", "marcus"]))), @r#"
    exit: 0
    --- stdout
    {"exit_status":null,"name":"test-marcus-h7cjglvsmm","status":"running"}
    --- stderr
    --- end
    "#);
    // Nothing there.
    assert_snapshot!(show(&run(h.acactl().args(["poll", "--user", "nobody"]))), @r#"
    exit: 0
    --- stdout
    {"exit_status":0,"name":"test-nobody-4k2enkjupr","status":"stopped"}
    --- stderr
    --- end
    "#);
    // Still provisioning.
    let pending = insert_own_app(&h, "pending", "InProgress");
    assert_snapshot!(show(&run(h.acactl().env("ACACTL_STATE", state_for(&h, &pending)).arg("poll"))), @r#"
    exit: 0
    --- stdout
    {"exit_status":null,"name":"test-pending-27n4ciijuz","status":"pending"}
    --- stderr
    --- end
    "#);
    // Terminally failed: deleted, then reported.
    let failed = insert_own_app(&h, "failed", "Failed");
    assert_snapshot!(show(&run(h.acactl().env("ACACTL_STATE", state_for(&h, &failed)).arg("poll"))), @r#"
    exit: 0
    --- stdout
    {"deleted":true,"exit_status":1,"name":"test-failed-qlhtlyzmlu","reason":"provisioning Failed","status":"failed"}
    --- stderr
    acactl: test-failed-qlhtlyzmlu failed terminally (provisioning Failed); deleted it
    --- end
    "#);
    // Another hub's app under the state's name: not this server's.
    let name = "test-intruder-aaaaaaaaaa";
    h.fake
        .insert_app(InsertApp::new(name).tag("managed-by", "acactl").tag("acactl-hub", "otherhub").state("Failed"))
        .unwrap();
    assert_snapshot!(show(&run(h.acactl().env("ACACTL_STATE", state_for(&h, name)).arg("poll"))), @r#"
    exit: 0
    --- stdout
    {"exit_status":0,"name":"test-intruder-aaaaaaaaaa","owned":false,"status":"stopped"}
    --- stderr
    acactl: warning: test-intruder-aaaaaaaaaa exists but is not tagged as this server's; this server has no app
    --- end
    "#);
    // An old-format state (no key) handed to another user: owner unproven.
    let mut old = start["state"].clone();
    old.as_object_mut().unwrap().remove("key");
    assert_snapshot!(show(&run(h.spawner("bob", "").env("ACACTL_STATE", old.to_string()).arg("poll"))), @r#"
    exit: 0
    --- stdout
    {"error":{"code":"OwnerUnproven","message":"test-marcus-h7cjglvsmm is this hub's app for this state's name but tagged for another user; a state written before acactl recorded server keys cannot prove it is this server's (stop it as an admin: acactl stop --user <old name>)"},"exit_status":null,"name":"test-marcus-h7cjglvsmm","status":"unknown"}
    --- stderr
    acactl: warning: cannot tell whether test-marcus-h7cjglvsmm is running: test-marcus-h7cjglvsmm is this hub's app for this state's name but tagged for another user; a state written before acactl recorded server keys cannot prove it is this server's (stop it as an admin: acactl stop --user <old name>)
    --- end
    "#);
    // After stop: gone.
    assert_eq!(run(h.acactl().env("ACACTL_STATE", &state).arg("stop")).code, 0);
    assert_snapshot!(show(&run(h.acactl().env("ACACTL_STATE", &state).arg("poll"))), @r#"
    exit: 0
    --- stdout
    {"exit_status":0,"name":"test-marcus-h7cjglvsmm","status":"stopped"}
    --- stderr
    --- end
    "#);
}

#[test]
fn poll_unknown() {
    // The app's own GET (the fleet view would answer from the list instead).
    let h = Harness::with(
        Options { provision_polls: 2, failure_polls: 3, ..Default::default() },
        "fleet:\n  enabled: false\n",
    );
    let _f = snapshot_filters(Some(&h), &[]);
    let start = run(h.spawner("flaky", "").arg("start")).json();
    let (name, state) = (start["name"].as_str().unwrap().to_string(), state_of(&start));
    assert_snapshot!(show(&run(h.acactl().env("ACACTL_STATE", &state).arg("poll"))), @r#"
    exit: 0
    --- stdout
    {"exit_status":null,"name":"test-flaky-5olsmpkea6","status":"running"}
    --- stderr
    --- end
    "#);
    h.fake.inject(Fault::status("GET", &name, 100, 500, "InternalServerError", None));
    assert_snapshot!(show(&run(h.acactl().env("ACACTL_STATE", &state).arg("poll"))), @r#"
    exit: 0
    --- stdout
    {"error":{"code":"InternalServerError","message":"ARM answered 500 InternalServerError: Encountered internal server error. Diagnostic information: timestamp '[TIME]', subscription id '', tracking id '', request correlation id ''."},"exit_status":null,"name":"test-flaky-5olsmpkea6","status":"unknown"}
    --- stderr
    acactl: warning: cannot tell whether test-flaky-5olsmpkea6 is running: ARM answered 500 InternalServerError: Encountered internal server error. Diagnostic information: timestamp '[TIME]', subscription id '', tracking id '', request correlation id ''.
    --- end
    "#);
    h.fake.clear_faults();
    h.fake.inject(Fault::status("GET", &name, 100, 403, "AuthorizationFailed", None));
    assert_snapshot!(show(&run(h.acactl().env("ACACTL_STATE", &state).arg("poll"))), @r#"
    exit: 0
    --- stdout
    {"error":{"code":"AuthorizationFailed","message":"ARM answered 403 AuthorizationFailed: Injected fault 'AuthorizationFailed'."},"exit_status":null,"name":"test-flaky-5olsmpkea6","status":"unknown"}
    --- stderr
    acactl: warning: cannot tell whether test-flaky-5olsmpkea6 is running: ARM answered 403 AuthorizationFailed: Injected fault 'AuthorizationFailed'.
    --- end
    "#);
    h.fake.clear_faults();
    h.fake.inject(Fault::drop_conn("GET", &name, 100));
    // Where the transport noticed the drop varies; the rest of the line does not.
    let _t = also_filter(r"(error sending request for url \([^)]*\)): [^\n\x22]*", "$1: [transport detail]");
    assert_snapshot!(show(&run(h.acactl().env("ACACTL_STATE", &state).arg("poll"))), @r#"
    exit: 0
    --- stdout
    {"error":{"code":"ConnectionError","message":"error sending request for url ([ARM]/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/containerApps/test-flaky-5olsmpkea6?api-version=2026-07-01): [transport detail]"},"exit_status":null,"name":"test-flaky-5olsmpkea6","status":"unknown"}
    --- stderr
    acactl: warning: cannot tell whether test-flaky-5olsmpkea6 is running: error sending request for url ([ARM]/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/containerApps/test-flaky-5olsmpkea6?api-version=2026-07-01): [transport detail]
    --- end
    "#);
    drop(_t);
    h.fake.clear_faults();
    let f = FaultAction::Redirect { status: 307, location: "http://127.0.0.1:9/steal".into() };
    h.fake.inject(Fault::action("GET", &format!("/containerApps/{name}"), 1, f));
    assert_snapshot!(show(&run(h.acactl().env("ACACTL_STATE", &state).arg("poll"))), @r#"
    exit: 0
    --- stdout
    {"error":{"code":"ForeignUrl","message":"ARM answered 307 redirecting to http://127.0.0.1:[PORT]/steal; acactl does not follow redirects"},"exit_status":null,"name":"test-flaky-5olsmpkea6","status":"unknown"}
    --- stderr
    acactl: warning: cannot tell whether test-flaky-5olsmpkea6 is running: ARM answered 307 redirecting to http://127.0.0.1:[PORT]/steal; acactl does not follow redirects
    --- end
    "#);
    h.fake.clear_faults();
    h.fake.inject(Fault::action("GET", &format!("/containerApps/{name}"), 10, FaultAction::Huge { bytes: 40 << 20 }));
    assert_snapshot!(show(&run(h.acactl().env("ACACTL_STATE", &state).arg("poll"))), @r#"
    exit: 0
    --- stdout
    {"error":{"code":"ResponseTooLarge","message":"ARM answered 200 but the response body exceeds 16 MiB; acactl stopped reading it"},"exit_status":null,"name":"test-flaky-5olsmpkea6","status":"unknown"}
    --- stderr
    acactl: warning: cannot tell whether test-flaky-5olsmpkea6 is running: ARM answered 200 but the response body exceeds 16 MiB; acactl stopped reading it
    --- end
    "#);
    h.fake.clear_faults();
}

#[test]
fn stop() {
    let h = Harness::new();
    let _f = snapshot_filters(Some(&h), &[]);
    let start = run(h.spawner("marcus", "").arg("start")).json();
    let state = state_of(&start);
    assert_snapshot!(show(&run(h.acactl().env("ACACTL_STATE", &state).arg("stop"))), @r#"
    exit: 0
    --- stdout
    {"deleted":true,"name":"test-marcus-h7cjglvsmm"}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().env("ACACTL_STATE", &state).arg("stop"))), @r#"
    exit: 0
    --- stdout
    {"deleted":false,"name":"test-marcus-h7cjglvsmm"}
    --- stderr
    --- end
    "#);
    assert_eq!(run(h.spawner("bob", "").arg("start")).code, 0);
    assert_snapshot!(show(&run(h.acactl().args(["stop", "--user", "bob"]))), @r#"
    exit: 0
    --- stdout
    {"deleted":true,"name":"test-bob-q3dpoj44k6"}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.spawner("bob", "").arg("stop"))), @r#"
    exit: 0
    --- stdout
    {"deleted":false,"name":"test-bob-q3dpoj44k6"}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["-v", "stop", "--user", "nobody", "--server", "gpu"]))), @r#"
    exit: 0
    --- stdout
    {"deleted":false,"name":"test-nobody-gpu-52mcfuyuby"}
    --- stderr
    --- end
    "#);
}

#[test]
fn status() {
    let (h, hub) = setup();
    let _f = snapshot_filters(Some(&h), &[]);
    // Ages the table shows stay the same while the test runs: 3d, 5h, 90m.
    let alice = insert(&h, "alice", "", Some(&ago(73 * 3600)), None);
    insert(&h, "alice", "gpu", Some(&ago(5 * 3600 + 60)), None);
    insert(&h, "bob", "", Some(&ago(90 * 60 + 5)), Some("Failed"));
    hub.add_server("alice", "", HubServer::running(app_state(&h, &alice)));
    h.fake
        .insert_app(
            InsertApp::new("other-alice-aaaaaaaaaa")
                .tag("managed-by", "acactl")
                .tag("acactl-hub", "other")
                .tag("acactl-user", "alice")
                .tag("acactl-server", "")
                .created_at(&ago(50 * 3600)),
        )
        .unwrap();
    h.fake.insert_app(InsertApp::new("test-alice-lookalike").created_at(OLD)).unwrap();
    assert_snapshot!(show(&run(h.acactl().args(["status", "-o", "json"]))), @r#"
    exit: 0
    --- stdout
    {"apps":[{"age_seconds":[AGE],"cpu":0.5,"created_at":"[TIME]","hub":"test","hub_knows":true,"image":"mcr.microsoft.com/k8se/quickstart:latest","memory":"1Gi","name":"test-alice-sbc5axdocd","reason":null,"server":"","status":"running","url":"http://test-alice-sbc5axdocd","user":"alice"},{"age_seconds":[AGE],"cpu":0.5,"created_at":"[TIME]","hub":"test","hub_knows":false,"image":"mcr.microsoft.com/k8se/quickstart:latest","memory":"1Gi","name":"test-alice-gpu-tp5i6fq3ox","reason":null,"server":"gpu","status":"running","url":"http://test-alice-gpu-tp5i6fq3ox","user":"alice"},{"age_seconds":[AGE],"cpu":0.5,"created_at":"[TIME]","hub":"test","hub_knows":false,"image":"mcr.microsoft.com/k8se/quickstart:latest","memory":"1Gi","name":"test-bob-q3dpoj44k6","reason":"provisioning Failed","server":"","status":"failed","url":"http://test-bob-q3dpoj44k6","user":"bob"}],"count":3}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["status"]))), @r#"
    exit: 0
    --- stdout
    {"apps":[{"age_seconds":[AGE],"cpu":0.5,"created_at":"[TIME]","hub":"test","hub_knows":true,"image":"mcr.microsoft.com/k8se/quickstart:latest","memory":"1Gi","name":"test-alice-sbc5axdocd","reason":null,"server":"","status":"running","url":"http://test-alice-sbc5axdocd","user":"alice"},{"age_seconds":[AGE],"cpu":0.5,"created_at":"[TIME]","hub":"test","hub_knows":false,"image":"mcr.microsoft.com/k8se/quickstart:latest","memory":"1Gi","name":"test-alice-gpu-tp5i6fq3ox","reason":null,"server":"gpu","status":"running","url":"http://test-alice-gpu-tp5i6fq3ox","user":"alice"},{"age_seconds":[AGE],"cpu":0.5,"created_at":"[TIME]","hub":"test","hub_knows":false,"image":"mcr.microsoft.com/k8se/quickstart:latest","memory":"1Gi","name":"test-bob-q3dpoj44k6","reason":"provisioning Failed","server":"","status":"failed","url":"http://test-bob-q3dpoj44k6","user":"bob"}],"count":3}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["status", "-o", "table"]))), @"
    exit: 0
    --- stdout
    USER   SERVER     APP                        STATUS                        URL                               IMAGE                                     CPU/MEM  AGE  HUB KNOWS
    alice  (default)  test-alice-sbc5axdocd      running                       http://test-alice-sbc5axdocd      mcr.microsoft.com/k8se/quickstart:latest  0.5/1Gi  3d   yes
    alice  gpu        test-alice-gpu-tp5i6fq3ox  running                       http://test-alice-gpu-tp5i6fq3ox  mcr.microsoft.com/k8se/quickstart:latest  0.5/1Gi  5h   NO
    bob    (default)  test-bob-q3dpoj44k6        failed (provisioning Failed)  http://test-bob-q3dpoj44k6        mcr.microsoft.com/k8se/quickstart:latest  0.5/1Gi  90m  NO
    --- stderr
    --- end
    ");
    assert_snapshot!(show(&run(h.acactl().args(["status", "-o", "table", "--all-hubs"]))), @"
    exit: 0
    --- stdout
    HUB    USER   SERVER     APP                        STATUS                        URL                               IMAGE                                     CPU/MEM  AGE  HUB KNOWS
    other  alice  (default)  other-alice-aaaaaaaaaa     running                       http://other-alice-aaaaaaaaaa     mcr.microsoft.com/k8se/quickstart:latest  0.5/1Gi  2d   -
    test   alice  (default)  test-alice-sbc5axdocd      running                       http://test-alice-sbc5axdocd      mcr.microsoft.com/k8se/quickstart:latest  0.5/1Gi  3d   yes
    test   alice  gpu        test-alice-gpu-tp5i6fq3ox  running                       http://test-alice-gpu-tp5i6fq3ox  mcr.microsoft.com/k8se/quickstart:latest  0.5/1Gi  5h   NO
    test   bob    (default)  test-bob-q3dpoj44k6        failed (provisioning Failed)  http://test-bob-q3dpoj44k6        mcr.microsoft.com/k8se/quickstart:latest  0.5/1Gi  90m  NO
    --- stderr
    --- end
    ");
    assert_snapshot!(show(&run(h.acactl().args(["status", "-o", "json", "--all-hubs"]))), @r#"
    exit: 0
    --- stdout
    {"apps":[{"age_seconds":[AGE],"cpu":0.5,"created_at":"[TIME]","hub":"other","hub_knows":null,"image":"mcr.microsoft.com/k8se/quickstart:latest","memory":"1Gi","name":"other-alice-aaaaaaaaaa","reason":null,"server":"","status":"running","url":"http://other-alice-aaaaaaaaaa","user":"alice"},{"age_seconds":[AGE],"cpu":0.5,"created_at":"[TIME]","hub":"test","hub_knows":true,"image":"mcr.microsoft.com/k8se/quickstart:latest","memory":"1Gi","name":"test-alice-sbc5axdocd","reason":null,"server":"","status":"running","url":"http://test-alice-sbc5axdocd","user":"alice"},{"age_seconds":[AGE],"cpu":0.5,"created_at":"[TIME]","hub":"test","hub_knows":false,"image":"mcr.microsoft.com/k8se/quickstart:latest","memory":"1Gi","name":"test-alice-gpu-tp5i6fq3ox","reason":null,"server":"gpu","status":"running","url":"http://test-alice-gpu-tp5i6fq3ox","user":"alice"},{"age_seconds":[AGE],"cpu":0.5,"created_at":"[TIME]","hub":"test","hub_knows":false,"image":"mcr.microsoft.com/k8se/quickstart:latest","memory":"1Gi","name":"test-bob-q3dpoj44k6","reason":"provisioning Failed","server":"","status":"failed","url":"http://test-bob-q3dpoj44k6","user":"bob"}],"count":4}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["status", "--user", "alice", "-o", "json"]))), @r#"
    exit: 0
    --- stdout
    {"apps":[{"age_seconds":[AGE],"cpu":0.5,"created_at":"[TIME]","hub":"test","hub_knows":true,"image":"mcr.microsoft.com/k8se/quickstart:latest","memory":"1Gi","name":"test-alice-sbc5axdocd","reason":null,"server":"","status":"running","url":"http://test-alice-sbc5axdocd","user":"alice"},{"age_seconds":[AGE],"cpu":0.5,"created_at":"[TIME]","hub":"test","hub_knows":false,"image":"mcr.microsoft.com/k8se/quickstart:latest","memory":"1Gi","name":"test-alice-gpu-tp5i6fq3ox","reason":null,"server":"gpu","status":"running","url":"http://test-alice-gpu-tp5i6fq3ox","user":"alice"}],"count":2}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["status", "--user", "alice", "--server", "gpu", "-o", "table"]))), @"
    exit: 0
    --- stdout
    USER   SERVER  APP                        STATUS   URL                               IMAGE                                     CPU/MEM  AGE  HUB KNOWS
    alice  gpu     test-alice-gpu-tp5i6fq3ox  running  http://test-alice-gpu-tp5i6fq3ox  mcr.microsoft.com/k8se/quickstart:latest  0.5/1Gi  5h   NO
    --- stderr
    --- end
    ");
    assert_snapshot!(show(&run(h.acactl().args(["status", "--user", "nobody", "-o", "json"]))), @r#"
    exit: 1
    --- stdout
    {"apps":[],"count":0}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["status", "--user", "nobody", "-o", "table"]))), @"
    exit: 1
    --- stdout
    --- stderr
    acactl: no apps matched
    --- end
    ");
    // Without a hub API: no HUB KNOWS.
    h.write_config("");
    assert_snapshot!(show(&run(h.acactl().args(["status", "-o", "json", "--user", "alice"]))), @r#"
    exit: 0
    --- stdout
    {"apps":[{"age_seconds":[AGE],"cpu":0.5,"created_at":"[TIME]","hub":"test","hub_knows":null,"image":"mcr.microsoft.com/k8se/quickstart:latest","memory":"1Gi","name":"test-alice-sbc5axdocd","reason":null,"server":"","status":"running","url":"http://test-alice-sbc5axdocd","user":"alice"},{"age_seconds":[AGE],"cpu":0.5,"created_at":"[TIME]","hub":"test","hub_knows":null,"image":"mcr.microsoft.com/k8se/quickstart:latest","memory":"1Gi","name":"test-alice-gpu-tp5i6fq3ox","reason":null,"server":"gpu","status":"running","url":"http://test-alice-gpu-tp5i6fq3ox","user":"alice"}],"count":2}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["status", "-o", "table", "--user", "alice"]))), @"
    exit: 0
    --- stdout
    USER   SERVER     APP                        STATUS   URL                               IMAGE                                     CPU/MEM  AGE
    alice  (default)  test-alice-sbc5axdocd      running  http://test-alice-sbc5axdocd      mcr.microsoft.com/k8se/quickstart:latest  0.5/1Gi  3d
    alice  gpu        test-alice-gpu-tp5i6fq3ox  running  http://test-alice-gpu-tp5i6fq3ox  mcr.microsoft.com/k8se/quickstart:latest  0.5/1Gi  5h
    --- stderr
    --- end
    ");
}

#[test]
fn gc() {
    let (h, hub) = setup();
    let _f = snapshot_filters(Some(&h), &[]);
    let alice = insert(&h, "alice", "", Some(OLD), None);
    hub.add_server("alice", "", HubServer::running(app_state(&h, &alice)));
    let renamed = insert(&h, "oldname", "", Some(OLD), None);
    hub.add_server("newname", "", HubServer::running(app_state(&h, &renamed)));
    insert(&h, "bob", "gpu", Some(OLD), None);
    hub.add_server("bob", "gpu", HubServer::spawning());
    insert(&h, "erin", "", None, None);
    insert(&h, "hank", "", Some(OLD), Some("Failed"));
    hub.add_server("hank", "", HubServer::spawning());
    insert(&h, "carol", "", Some(OLD), None);
    insert(&h, "dave", "x", Some(OLD), None);
    insert(&h, "ivy", "old", Some(OLD), None);
    hub.add_server("ivy", "old", HubServer::stopped());
    insert(&h, "frank", "", Some(OLD), Some("Failed"));
    h.fake
        .insert_app(
            InsertApp::new("other-carol-aaaaaaaaaa")
                .tag("managed-by", "acactl")
                .tag("acactl-hub", "other")
                .created_at(OLD),
        )
        .unwrap();
    assert_snapshot!(show(&run(h.acactl().args(["gc", "--dry-run", "-o", "json"]))), @r#"
    exit: 0
    --- stdout
    {"apps":[{"action":"kept","name":"test-alice-sbc5axdocd","reason":"an active hub server's state refers to it","server":"","user":"alice"},{"action":"kept","name":"test-bob-gpu-tjjz2hp4fa","reason":"the hub has this user/server active","server":"gpu","user":"bob"},{"action":"would_delete","name":"test-carol-s7afgfaoxe","reason":"no active or pending hub server refers to it (age [AGE] s)","server":"","user":"carol"},{"action":"would_delete","name":"test-dave-x-4lvsb6jqrc","reason":"no active or pending hub server refers to it (age [AGE] s)","server":"x","user":"dave"},{"action":"kept","name":"test-erin-7kyiacbjza","reason":"no hub server refers to it, but it is younger ([AGE] s) than the grace period (350 s)","server":"","user":"erin"},{"action":"would_delete","name":"test-frank-bu7jewnowg","reason":"failed terminally: provisioning Failed","server":"","user":"frank"},{"action":"kept","name":"test-hank-qbweh3xkck","reason":"failed terminally (provisioning Failed), but a spawn is in progress and start handles it","server":"","user":"hank"},{"action":"would_delete","name":"test-ivy-old-ngfvd3tzem","reason":"no active or pending hub server refers to it (age [AGE] s)","server":"old","user":"ivy"},{"action":"kept","name":"test-oldname-exhjfssf3p","reason":"an active hub server's state refers to it","server":"","user":"oldname"}],"deleted":0,"dry_run":true,"failed":0,"grace_seconds":350,"kept":5,"other":1,"requests":{"arm_deletes":0,"arm_list_pages":1,"arm_throttled":0,"hub":6},"scanned":9,"would_delete":4}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["gc", "--dry-run", "-o", "table"]))), @"
    exit: 0
    --- stdout
    APP                      USER     SERVER     ACTION        REASON
    test-alice-sbc5axdocd    alice    (default)  kept          an active hub server's state refers to it
    test-bob-gpu-tjjz2hp4fa  bob      gpu        kept          the hub has this user/server active
    test-carol-s7afgfaoxe    carol    (default)  would_delete  no active or pending hub server refers to it (age [AGE] s)
    test-dave-x-4lvsb6jqrc   dave     x          would_delete  no active or pending hub server refers to it (age [AGE] s)
    test-erin-7kyiacbjza     erin     (default)  kept          no hub server refers to it, but it is younger ([AGE] s) than the grace period (350 s)
    test-frank-bu7jewnowg    frank    (default)  would_delete  failed terminally: provisioning Failed
    test-hank-qbweh3xkck     hank     (default)  kept          failed terminally (provisioning Failed), but a spawn is in progress and start handles it
    test-ivy-old-ngfvd3tzem  ivy      old        would_delete  no active or pending hub server refers to it (age [AGE] s)
    test-oldname-exhjfssf3p  oldname  (default)  kept          an active hub server's state refers to it

    9 scanned, 5 kept, 4 would be deleted, 0 failed (1 apps of other hubs or untagged left alone)
    --- stderr
    --- end
    ");
    assert_snapshot!(show(&run(h.acactl().args(["gc", "--dry-run", "--grace", "0s"]))), @r#"
    exit: 0
    --- stdout
    {"apps":[{"action":"kept","name":"test-alice-sbc5axdocd","reason":"an active hub server's state refers to it","server":"","user":"alice"},{"action":"kept","name":"test-bob-gpu-tjjz2hp4fa","reason":"the hub has this user/server active","server":"gpu","user":"bob"},{"action":"would_delete","name":"test-carol-s7afgfaoxe","reason":"no active or pending hub server refers to it (age [AGE] s)","server":"","user":"carol"},{"action":"would_delete","name":"test-dave-x-4lvsb6jqrc","reason":"no active or pending hub server refers to it (age [AGE] s)","server":"x","user":"dave"},{"action":"would_delete","name":"test-erin-7kyiacbjza","reason":"no active or pending hub server refers to it (age [AGE] s)","server":"","user":"erin"},{"action":"would_delete","name":"test-frank-bu7jewnowg","reason":"failed terminally: provisioning Failed","server":"","user":"frank"},{"action":"kept","name":"test-hank-qbweh3xkck","reason":"failed terminally (provisioning Failed), but a spawn is in progress and start handles it","server":"","user":"hank"},{"action":"would_delete","name":"test-ivy-old-ngfvd3tzem","reason":"no active or pending hub server refers to it (age [AGE] s)","server":"old","user":"ivy"},{"action":"kept","name":"test-oldname-exhjfssf3p","reason":"an active hub server's state refers to it","server":"","user":"oldname"}],"deleted":0,"dry_run":true,"failed":0,"grace_seconds":0,"kept":4,"other":1,"requests":{"arm_deletes":0,"arm_list_pages":1,"arm_throttled":0,"hub":7},"scanned":9,"would_delete":5}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["gc", "-o", "json"]))), @r#"
    exit: 0
    --- stdout
    {"apps":[{"action":"kept","name":"test-alice-sbc5axdocd","reason":"an active hub server's state refers to it","server":"","user":"alice"},{"action":"kept","name":"test-bob-gpu-tjjz2hp4fa","reason":"the hub has this user/server active","server":"gpu","user":"bob"},{"action":"deleted","name":"test-carol-s7afgfaoxe","reason":"no active or pending hub server refers to it (age [AGE] s)","server":"","user":"carol"},{"action":"deleted","name":"test-dave-x-4lvsb6jqrc","reason":"no active or pending hub server refers to it (age [AGE] s)","server":"x","user":"dave"},{"action":"kept","name":"test-erin-7kyiacbjza","reason":"no hub server refers to it, but it is younger ([AGE] s) than the grace period (350 s)","server":"","user":"erin"},{"action":"deleted","name":"test-frank-bu7jewnowg","reason":"failed terminally: provisioning Failed","server":"","user":"frank"},{"action":"kept","name":"test-hank-qbweh3xkck","reason":"failed terminally (provisioning Failed), but a spawn is in progress and start handles it","server":"","user":"hank"},{"action":"deleted","name":"test-ivy-old-ngfvd3tzem","reason":"no active or pending hub server refers to it (age [AGE] s)","server":"old","user":"ivy"},{"action":"kept","name":"test-oldname-exhjfssf3p","reason":"an active hub server's state refers to it","server":"","user":"oldname"}],"deleted":4,"dry_run":false,"failed":0,"grace_seconds":350,"kept":5,"other":1,"requests":{"arm_deletes":4,"arm_list_pages":1,"arm_throttled":0,"hub":6},"scanned":9}
    --- stderr
    --- end
    "#);
    // Nothing left to do, as a table.
    assert_snapshot!(show(&run(h.acactl().args(["gc", "-o", "table"]))), @"
    exit: 0
    --- stdout
    APP                      USER     SERVER     ACTION  REASON
    test-alice-sbc5axdocd    alice    (default)  kept    an active hub server's state refers to it
    test-bob-gpu-tjjz2hp4fa  bob      gpu        kept    the hub has this user/server active
    test-carol-s7afgfaoxe    carol    (default)  kept    already being deleted
    test-dave-x-4lvsb6jqrc   dave     x          kept    already being deleted
    test-erin-7kyiacbjza     erin     (default)  kept    no hub server refers to it, but it is younger ([AGE] s) than the grace period (350 s)
    test-frank-bu7jewnowg    frank    (default)  kept    already being deleted
    test-hank-qbweh3xkck     hank     (default)  kept    failed terminally (provisioning Failed), but a spawn is in progress and start handles it
    test-ivy-old-ngfvd3tzem  ivy      old        kept    already being deleted
    test-oldname-exhjfssf3p  oldname  (default)  kept    an active hub server's state refers to it

    9 scanned, 9 kept, 0 deleted, 0 failed (1 apps of other hubs or untagged left alone)
    --- stderr
    --- end
    ");
}

#[test]
fn gc_table_with_a_failed_delete() {
    let (h, _hub) = setup();
    let _f = snapshot_filters(Some(&h), &[]);
    let doomed = insert(&h, "doomed", "", Some(OLD), None);
    insert(&h, "orphan", "", Some(OLD), None);
    h.fake.inject(Fault::status("DELETE", &doomed, 100, 403, "AuthorizationFailed", None));
    assert_snapshot!(show(&run(h.acactl().args(["gc", "-o", "table"]))), @"
    exit: 3
    --- stdout
    APP                     USER    SERVER     ACTION   REASON
    test-doomed-pg43znwaxe  doomed  (default)  failed   no active or pending hub server refers to it (age [AGE] s); delete failed: ARM answered 403 AuthorizationFailed: Injected fault 'AuthorizationFailed'.
    test-orphan-2cbf6ayjqy  orphan  (default)  deleted  no active or pending hub server refers to it (age [AGE] s)

    2 scanned, 0 kept, 1 deleted, 1 failed (0 apps of other hubs or untagged left alone)
    --- stderr
    acactl: warning: test-doomed-pg43znwaxe: no active or pending hub server refers to it (age [AGE] s); delete failed: ARM answered 403 AuthorizationFailed: Injected fault 'AuthorizationFailed'.
    --- end
    ");
}

fn registry_config(h: &Harness) -> String {
    let id = format!(
        "/subscriptions/{}/resourceGroups/identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/acr-pull",
        h.fake.subscription()
    );
    let client = h.fake.add_identity(&id);
    h.write_config(&format!("registry:\n  server: example.azurecr.io\n  identity: {id}\n"));
    client
}

#[test]
fn doctor() {
    let h = Harness::new();
    let client = registry_config(&h);
    let _f = snapshot_filters(Some(&h), &[(&client, "[CLIENT-ID]")]);
    let good = "11111111-2222-3333-4444-555555555555";
    assert_snapshot!(show(&run(h.acactl().env("AZURE_CLIENT_ID", good).args(["doctor", "-o", "json"]))), @r#"
    exit: 0
    --- stdout
    {"checks":[{"check":"config","detail":"valid ([HOME]/config.yaml); hub_id test","status":"ok"},{"check":"token cache","detail":"[HOME]/cache/tokens is private","status":"ok"},{"check":"fleet view","detail":"none yet at [HOME]/cache/fleet/view-[HASH].json (the first poll creates it)","status":"ok"},{"check":"ARM budget","detail":"reads [N]/250 (+22/s), writes [N]/200 (+9/s), deletes [N]/200 (+9/s)","status":"ok"},{"check":"credential","detail":"managed-identity: token obtained for https://management.azure.com/.default","status":"ok"},{"check":"arm","detail":"[ARM] reachable","status":"ok"},{"check":"environment","detail":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/managedEnvironments/aca-env (West Europe)","status":"ok"},{"check":"permissions","detail":"the hub identity may create, read and delete apps, join the environment and assign the pull identity","status":"ok"},{"check":"registry identity","detail":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/acr-pull exists (client id [CLIENT-ID])","status":"ok"},{"check":"user apps","detail":"0 apps of hub test; none carries the hub identity","status":"ok"},{"check":"hub api","detail":"no hub.api_url/api_token: gc cannot run and status shows no hub_knows column","status":"skipped"}],"ok":true}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().env("AZURE_CLIENT_ID", good).args(["doctor", "-o", "table"]))), @"
    exit: 0
    --- stdout
    config             ok       valid ([HOME]/config.yaml); hub_id test
    token cache        ok       [HOME]/cache/tokens is private
    fleet view         ok       none yet at [HOME]/cache/fleet/view-[HASH].json (the first poll creates it)
    ARM budget         ok       reads [N]/250 (+22/s), writes [N]/200 (+9/s), deletes [N]/200 (+9/s)
    credential         ok       managed-identity: token obtained for https://management.azure.com/.default
    arm                ok       [ARM] reachable
    environment        ok       /subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/managedEnvironments/aca-env (West Europe)
    permissions        ok       the hub identity may create, read and delete apps, join the environment and assign the pull identity
    registry identity  ok       /subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/acr-pull exists (client id [CLIENT-ID])
    user apps          ok       0 apps of hub test; none carries the hub identity
    hub api            skipped  no hub.api_url/api_token: gc cannot run and status shows no hub_knows column
    --- stderr
    --- end
    ");
    assert_snapshot!(show(&run(h.acactl().env("AZURE_CLIENT_ID", good).arg("doctor"))), @r#"
    exit: 0
    --- stdout
    {"checks":[{"check":"config","detail":"valid ([HOME]/config.yaml); hub_id test","status":"ok"},{"check":"token cache","detail":"[HOME]/cache/tokens is private","status":"ok"},{"check":"fleet view","detail":"none yet at [HOME]/cache/fleet/view-[HASH].json (the first poll creates it)","status":"ok"},{"check":"ARM budget","detail":"reads [N]/250 (+22/s), writes [N]/200 (+9/s), deletes [N]/200 (+9/s)","status":"ok"},{"check":"credential","detail":"managed-identity: token obtained for https://management.azure.com/.default","status":"ok"},{"check":"arm","detail":"[ARM] reachable","status":"ok"},{"check":"environment","detail":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/managedEnvironments/aca-env (West Europe)","status":"ok"},{"check":"permissions","detail":"the hub identity may create, read and delete apps, join the environment and assign the pull identity","status":"ok"},{"check":"registry identity","detail":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/acr-pull exists (client id [CLIENT-ID])","status":"ok"},{"check":"user apps","detail":"0 apps of hub test; none carries the hub identity","status":"ok"},{"check":"hub api","detail":"no hub.api_url/api_token: gc cannot run and status shows no hub_knows column","status":"skipped"}],"ok":true}
    --- stderr
    --- end
    "#);
    h.fake.set_permissions(&["Microsoft.App/containerApps/read", "*/read"], &[]);
    assert_snapshot!(show(&run(h.acactl().env("AZURE_CLIENT_ID", &client).args(["doctor", "-o", "json"]))), @r#"
    exit: 3
    --- stdout
    {"checks":[{"check":"config","detail":"valid ([HOME]/config.yaml); hub_id test","status":"ok"},{"check":"token cache","detail":"[HOME]/cache/tokens is private","status":"ok"},{"check":"fleet view","detail":"none yet at [HOME]/cache/fleet/view-[HASH].json (the first poll creates it)","status":"ok"},{"check":"ARM budget","detail":"reads [N]/250 (+22/s), writes [N]/200 (+9/s), deletes [N]/200 (+9/s)","status":"ok"},{"check":"credential","detail":"managed-identity: token obtained for https://management.azure.com/.default","status":"ok"},{"check":"arm","detail":"[ARM] reachable","status":"ok"},{"check":"environment","detail":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/managedEnvironments/aca-env (West Europe)","status":"ok"},{"check":"permissions","detail":"missing: Microsoft.App/containerApps/write on /subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter; Microsoft.App/containerApps/delete on /subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter; Microsoft.App/managedEnvironments/join/action on /subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/managedEnvironments/aca-env; Microsoft.ManagedIdentity/userAssignedIdentities/assign/action on /subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/acr-pull","fix":"assign the \"acactl hub\" custom role (README: Identity and roles)","status":"failed"},{"check":"registry identity","detail":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/acr-pull is the hub's own identity (client id [CLIENT-ID]): every notebook could act as the hub","fix":"create a separate identity with AcrPull only (README: Identity and roles)","status":"failed"},{"check":"user apps","detail":"0 apps of hub test; none carries the hub identity","status":"ok"},{"check":"hub api","detail":"no hub.api_url/api_token: gc cannot run and status shows no hub_knows column","status":"skipped"}],"ok":false}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().env("AZURE_CLIENT_ID", &client).args(["doctor", "-o", "table"]))), @r#"
    exit: 3
    --- stdout
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
    --- stderr
    --- end
    "#);
}

#[test]
fn doctor_broken_setup() {
    let h = Harness::new();
    let _f = snapshot_filters(Some(&h), &[]);
    h.write_config("server:\n  cpu: 3\n");
    assert_snapshot!(show(&run(h.acactl().env_remove("IDENTITY_ENDPOINT").args(["doctor", "-o", "json"]))), @r#"
    exit: 3
    --- stdout
    {"checks":[{"check":"config","detail":"[HOME]/config.yaml:25: `server.cpu` cpu 3 with memory 6Gi is not a Consumption pair: allowed are 0.25/0.5Gi, 0.5/1Gi, 0.75/1.5Gi, ... up to 2/4Gi (memory = 2 x cpu, cpu in steps of 0.25)","fix":"fix the key named above; config.example.yaml documents every key","status":"failed"}],"ok":false}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().env_remove("IDENTITY_ENDPOINT").args(["doctor", "-o", "table"]))), @"
    exit: 3
    --- stdout
    config  FAILED   [HOME]/config.yaml:25: `server.cpu` cpu 3 with memory 6Gi is not a Consumption pair: allowed are 0.25/0.5Gi, 0.5/1Gi, 0.75/1.5Gi, ... up to 2/4Gi (memory = 2 x cpu, cpu in steps of 0.25)
                     fix: fix the key named above; config.example.yaml documents every key
    --- stderr
    --- end
    ");
    h.write_config("");
    assert_snapshot!(show(&run(h.acactl().args(["--environment", "nope", "doctor", "-o", "table"]))), @"
    exit: 3
    --- stdout
    config             ok       valid ([HOME]/config.yaml); hub_id test
    token cache        ok       [HOME]/cache/tokens is private
    fleet view         ok       none yet at [HOME]/cache/fleet/view-[HASH].json (the first poll creates it)
    ARM budget         ok       reads [N]/250 (+22/s), writes [N]/200 (+9/s), deletes [N]/200 (+9/s)
    credential         ok       managed-identity: token obtained for https://management.azure.com/.default
    arm                ok       [ARM] reachable
    environment        FAILED   ARM answered 404 ResourceNotFound: The Resource 'Microsoft.App/managedEnvironments/nope' under resource group 'rg-jupyter' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix
                                fix: check environment (name in resource_group, or a full resource id)
    permissions        ok       the hub identity may create, read and delete apps, join the environment and assign the pull identity
    registry identity  skipped  no registry configured (public images)
    user apps          ok       0 apps of hub test; hub identity client id unknown (set AZURE_CLIENT_ID to check attachments)
    hub api            skipped  no hub.api_url/api_token: gc cannot run and status shows no hub_knows column
    --- stderr
    --- end
    ");
}

const PROFILES: &str = "\
server:
  image: example.azurecr.io/notebook:1
  start_timeout: 20
profiles:
  - slug: small
    display_name: Small (1 CPU)
    description: For exercises
    default: true
    server:
      cpu: 1.0
    options:
      - name: image
        display_name: Image
        choices:
          - slug: python
            display_name: Python
            default: true
            server:
              image: example.azurecr.io/python:1
          - slug: r
            display_name: R
            server:
              image: example.azurecr.io/r:1
  - slug: large
    display_name: Large (2 CPU)
    server:
      cpu: 2.0
      memory: 4Gi
      start_timeout: 25
  - slug: gpu
    display_name: GPU (T4)
    groups: [gpu-users]
    users: [root-admin]
    server:
      image: example.azurecr.io/gpu:1
      workload_profile: gpu-t4
      cpu: 8
      memory: 56Gi
      start_timeout: 900
";

#[test]
fn profiles() {
    let h = Harness::new();
    let _f = snapshot_filters(Some(&h), &[]);
    assert_snapshot!(show(&run(h.acactl().arg("profiles"))), @r#"
    exit: 0
    --- stdout
    {"profiles":[],"start_timeout":20}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["profiles", "-o", "table"]))), @"
    exit: 0
    --- stdout
    SLUG  DEFAULT  IMAGE  CPU  MEMORY  WORKLOAD PROFILE  TIMEOUT  OPTIONS  LIMITED TO
    --- stderr
    --- end
    ");
    h.write_config(PROFILES);
    assert_snapshot!(show(&run(h.acactl().args(["profiles", "--all"]))), @r#"
    exit: 0
    --- stdout
    {"profiles":[{"cpu":1.0,"default":true,"description":"For exercises","display_name":"Small (1 CPU)","groups":[],"image":"example.azurecr.io/notebook:1","memory":"2Gi","options":[{"choices":[{"cpu":1.0,"display_name":"Python","image":"example.azurecr.io/python:1","memory":"2Gi","slug":"python"},{"cpu":1.0,"display_name":"R","image":"example.azurecr.io/r:1","memory":"2Gi","slug":"r"}],"default":"python","display_name":"Image","name":"image"}],"slug":"small","start_timeout":20,"users":[],"workload_profile":null},{"cpu":2.0,"default":false,"description":"","display_name":"Large (2 CPU)","groups":[],"image":"example.azurecr.io/notebook:1","memory":"4Gi","options":[],"slug":"large","start_timeout":25,"users":[],"workload_profile":null},{"cpu":8.0,"default":false,"description":"","display_name":"GPU (T4)","groups":["gpu-users"],"image":"example.azurecr.io/gpu:1","memory":"56Gi","options":[],"slug":"gpu","start_timeout":900,"users":["root-admin"],"workload_profile":"gpu-t4"}],"start_timeout":20}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["profiles", "--all", "-o", "table"]))), @"
    exit: 0
    --- stdout
    SLUG   DEFAULT  IMAGE                          CPU  MEMORY  WORKLOAD PROFILE  TIMEOUT  OPTIONS         LIMITED TO
    small  yes      example.azurecr.io/notebook:1  1.0  2Gi     -                 20s      image=python|r  everyone
    large           example.azurecr.io/notebook:1  2.0  4Gi     -                 25s      -               everyone
    gpu             example.azurecr.io/gpu:1       8.0  56Gi    gpu-t4            900s     -               group:gpu-users,user:root-admin
    --- stderr
    --- end
    ");
    assert_snapshot!(show(&run(h.acactl().args(["profiles", "--user", "marcus", "-o", "json"]))), @r#"
    exit: 0
    --- stdout
    {"profiles":[{"cpu":1.0,"default":true,"description":"For exercises","display_name":"Small (1 CPU)","groups":[],"image":"example.azurecr.io/notebook:1","memory":"2Gi","options":[{"choices":[{"cpu":1.0,"display_name":"Python","image":"example.azurecr.io/python:1","memory":"2Gi","slug":"python"},{"cpu":1.0,"display_name":"R","image":"example.azurecr.io/r:1","memory":"2Gi","slug":"r"}],"default":"python","display_name":"Image","name":"image"}],"slug":"small","start_timeout":20,"users":[],"workload_profile":null},{"cpu":2.0,"default":false,"description":"","display_name":"Large (2 CPU)","groups":[],"image":"example.azurecr.io/notebook:1","memory":"4Gi","options":[],"slug":"large","start_timeout":25,"users":[],"workload_profile":null}],"start_timeout":20}
    --- stderr
    --- end
    "#);
    let gpu = r#"["gpu-users"]"#;
    assert_snapshot!(show(&run(h.acactl().args(["profiles", "--user", "marcus", "-o", "table"]).env("ACACTL_USER_GROUPS", gpu))), @"
    exit: 0
    --- stdout
    SLUG   DEFAULT  IMAGE                          CPU  MEMORY  WORKLOAD PROFILE  TIMEOUT  OPTIONS         LIMITED TO
    small  yes      example.azurecr.io/notebook:1  1.0  2Gi     -                 20s      image=python|r  everyone
    large           example.azurecr.io/notebook:1  2.0  4Gi     -                 25s      -               everyone
    gpu             example.azurecr.io/gpu:1       8.0  56Gi    gpu-t4            900s     -               group:gpu-users,user:root-admin
    --- stderr
    --- end
    ");
    assert_snapshot!(show(&run(h.acactl().arg("profiles").env("JUPYTERHUB_USER", "root-admin"))), @r#"
    exit: 0
    --- stdout
    {"profiles":[{"cpu":1.0,"default":true,"description":"For exercises","display_name":"Small (1 CPU)","groups":[],"image":"example.azurecr.io/notebook:1","memory":"2Gi","options":[{"choices":[{"cpu":1.0,"display_name":"Python","image":"example.azurecr.io/python:1","memory":"2Gi","slug":"python"},{"cpu":1.0,"display_name":"R","image":"example.azurecr.io/r:1","memory":"2Gi","slug":"r"}],"default":"python","display_name":"Image","name":"image"}],"slug":"small","start_timeout":20,"users":[],"workload_profile":null},{"cpu":2.0,"default":false,"description":"","display_name":"Large (2 CPU)","groups":[],"image":"example.azurecr.io/notebook:1","memory":"4Gi","options":[],"slug":"large","start_timeout":25,"users":[],"workload_profile":null},{"cpu":8.0,"default":false,"description":"","display_name":"GPU (T4)","groups":["gpu-users"],"image":"example.azurecr.io/gpu:1","memory":"56Gi","options":[],"slug":"gpu","start_timeout":900,"users":["root-admin"],"workload_profile":"gpu-t4"}],"start_timeout":20}
    --- stderr
    --- end
    "#);
    let r = run(h
        .acactl()
        .args(["start", "--dry-run", "--user", "marcus"])
        .env("ACACTL_USER_OPTIONS", r#"{"profile": "large"}"#));
    assert_snapshot!(show(&r), @r#"
    exit: 0
    --- stdout
    {"checks":[],"choices":{},"dry_run":true,"name":"test-marcus-h7cjglvsmm","profile":"large","request":{"body":{"identity":{"type":"None"},"location":"westeurope","properties":{"configuration":{"activeRevisionsMode":"Single","ingress":{"allowInsecure":true,"external":false,"targetPort":8888,"traffic":[{"latestRevision":true,"weight":100}],"transport":"http"},"maxInactiveRevisions":0,"secrets":[]},"environmentId":"/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/managedEnvironments/aca-env","template":{"containers":[{"args":["--ServerApp.allow_origin=https://hub.example.test"],"command":["jupyterhub-singleuser"],"env":[{"name":"JUPYTERHUB_SERVICE_URL","value":"http://0.0.0.0:8888/user/marcus/"},{"name":"JUPYTERHUB_SERVICE_PREFIX","value":"/user/marcus/"}],"image":"example.azurecr.io/notebook:1","name":"notebook","probes":[{"failureThreshold":3,"httpGet":{"path":"/user/marcus/api","port":8888},"periodSeconds":5,"type":"Readiness"}],"resources":{"cpu":2.0,"memory":"4Gi"}}],"revisionSuffix":"[SUFFIX]","scale":{"maxReplicas":1,"minReplicas":1}}},"tags":{"acactl-created":"[TIME]","acactl-hub":"test","acactl-key":"h7cjglvsmm67zna4ky6yoval52hyygeflwxejt5u3t7zrai2zjc","acactl-profile":"large","acactl-server":"","acactl-user":"marcus","acactl-version":"0.1.0","managed-by":"acactl"}},"method":"PUT","url":"[ARM]/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/resourceGroups/rg-jupyter/providers/Microsoft.App/containerApps/test-marcus-h7cjglvsmm?api-version=2026-07-01"},"start_timeout":25,"url":"http://test-marcus-h7cjglvsmm"}
    --- stderr
    --- end
    "#);
}

#[test]
fn batch() {
    let h = Harness::new();
    let _f = snapshot_filters(Some(&h), &[]);
    let submit = run(h.spawner("marcus", "").args(["batch", "submit"]));
    assert_snapshot!(show(&submit), @"
    exit: 0
    --- stdout
    test-marcus-h7cjglvsmm
    --- stderr
    --- end
    ");
    let name = submit.stdout.trim().to_string();
    assert_snapshot!(show(&run(h.acactl().args(["batch", "query", &name]))), @r#"
    exit: 0
    --- stdout
    {"host":"test-marcus-h7cjglvsmm","port":80,"state":"pending"}
    --- stderr
    --- end
    "#);
    let pending = insert_own_app(&h, "pending", "InProgress");
    assert_snapshot!(show(&run(h.acactl().args(["batch", "query", &pending]))), @r#"
    exit: 0
    --- stdout
    {"host":"test-pending-27n4ciijuz","port":80,"state":"pending"}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["batch", "query", "test-nobody-aaaaaaaaaa"]))), @r#"
    exit: 0
    --- stdout
    {"host":"test-nobody-aaaaaaaaaa","port":80,"state":"gone"}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["batch", "query", "Not_A_Name"]))), @r#"
    exit: 0
    --- stdout
    {"error":"`Not_A_Name` is not an app name of hub test","state":"unknown"}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["batch", "cancel", &name]))), @r#"
    exit: 0
    --- stdout
    {"deleted":true,"name":"test-marcus-h7cjglvsmm"}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["batch", "cancel", &name]))), @r#"
    exit: 0
    --- stdout
    {"deleted":false,"name":"test-marcus-h7cjglvsmm"}
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["batch", "cancel", "other-hub-app"]))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"InvalidAppName","message":"`other-hub-app` is not an app name of hub test"}}
    --- stderr
    error: `other-hub-app` is not an app name of hub test
    --- end
    "#);
    // A job id that names bob's app, but the app there is ann's.
    let (bob, _) = dry_run_identity(&h, "bob");
    let (_, ann_tags) = dry_run_identity(&h, "ann");
    h.fake.insert_app(ann_tags.iter().fold(InsertApp::new(&bob), |a, (k, v)| a.tag(k, v))).unwrap();
    assert_snapshot!(show(&run(h.acactl().args(["batch", "query", &bob]))), @r#"
    exit: 0
    --- stdout
    {"host":"test-bob-q3dpoj44k6","port":80,"state":"gone"}
    --- stderr
    acactl: warning: test-bob-q3dpoj44k6 exists but is not tagged as this server's; this server has no app
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["batch", "cancel", &bob]))), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"NotOwned","message":"test-bob-q3dpoj44k6 exists but is not tagged as this hub's (test) server; refusing to delete it"}}
    --- stderr
    error: test-bob-q3dpoj44k6 exists but is not tagged as this hub's (test) server; refusing to delete it
    --- end
    "#);
}

fn acactl_bare() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("acactl").unwrap();
    c.env_clear();
    c
}

#[test]
fn help() {
    let _f = snapshot_filters(None, &[]);
    assert_snapshot!(show(&run(acactl_bare().arg("--help"))), @r#"
    exit: 0
    --- stdout
    Run each JupyterHub user's notebook server as an Azure Container App.

    A JupyterHub exec spawner runs `acactl start`, `acactl poll` and `acactl stop` once per lifecycle
    event; each prints one JSON document on stdout.

    Usage: acactl [OPTIONS] <COMMAND>

    Commands:
      start     Create (or adopt) the user's container app and wait until the notebook server answers
      poll      Report whether the server's container app is running (always exits 0 but for usage
                errors)
      stop      Delete the server's container app (idempotent)
      batch     batchspawner's command contract: submit, query and cancel by app name
      status    List this hub's container apps (by ownership tags): user, server, status, URL, image,
                size, age
      gc        Delete apps whose JupyterHub server no longer exists, and terminally failed apps
      doctor    Check configuration, credentials, Azure resources and permissions; each check says how
                to fix it
      profiles  List the configured profiles (JSON for the exec spawner's options form, or a table)
      help      Print this message or the help of the given subcommand(s)

    Options:
      -c, --config <PATH>
              Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml,
              /etc/acactl/config.yaml)

          --subscription <ID>
              Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)

          --resource-group <NAME>
              Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)

          --environment <NAME|ID>
              Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the
              config file)

      -v, --verbose...
              More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)

      -q, --quiet
              Only errors on stderr

      -h, --help
              Print help (see a summary with '-h')

      -V, --version
              Print version

    Exit codes: 0 ok, 1 nothing matched, 2 usage or configuration error, 3 Azure or runtime failure,
    4 another gc holds the lock.
    Each command prints exactly one JSON document on stdout; logs and progress go to stderr.
    See README.md, section "Spawner protocol", or man acactl.
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().arg("-h"))), @r#"
    exit: 0
    --- stdout
    Run each JupyterHub user's notebook server as an Azure Container App

    Usage: acactl [OPTIONS] <COMMAND>

    Commands:
      start     Create (or adopt) the user's container app and wait until the notebook server answers
      poll      Report whether the server's container app is running (always exits 0 but for usage
                errors)
      stop      Delete the server's container app (idempotent)
      batch     batchspawner's command contract: submit, query and cancel by app name
      status    List this hub's container apps (by ownership tags): user, server, status, URL, image,
                size, age
      gc        Delete apps whose JupyterHub server no longer exists, and terminally failed apps
      doctor    Check configuration, credentials, Azure resources and permissions; each check says how
                to fix it
      profiles  List the configured profiles (JSON for the exec spawner's options form, or a table)
      help      Print this message or the help of the given subcommand(s)

    Options:
      -c, --config <PATH>          Configuration file (default: $ACACTL_CONFIG,
                                   ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)
          --subscription <ID>      Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config
                                   file)
          --resource-group <NAME>  Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and
                                   the config file)
          --environment <NAME|ID>  Managed environment name or resource id (overrides
                                   AZURE_ACA_ENVIRONMENT_NAME and the config file)
      -v, --verbose...             More log output on stderr (-v: verbose, -vv: debug; secrets are never
                                   printed)
      -q, --quiet                  Only errors on stderr
      -h, --help                   Print help (see more with '--help')
      -V, --version                Print version

    Exit codes: 0 ok, 1 nothing matched, 2 usage or configuration error, 3 Azure or runtime failure,
    4 another gc holds the lock.
    Each command prints exactly one JSON document on stdout; logs and progress go to stderr.
    See README.md, section "Spawner protocol", or man acactl.
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().arg("--version"))), @"
    exit: 0
    --- stdout
    acactl 0.1.0
    --- stderr
    --- end
    ");
    assert_snapshot!(show(&run(acactl_bare().args(["start", "--help"]))), @r#"
    exit: 0
    --- stdout
    Create (or adopt) the user's container app and wait until the notebook server answers

    Usage: acactl start [OPTIONS]

    Options:
      -c, --config <PATH>
              Configuration file (default: $ACACTL_CONFIG, ~/.config/acactl/config.yaml,
              /etc/acactl/config.yaml)

          --user <NAME>
              JupyterHub user name (overrides JUPYTERHUB_USER)

          --server <NAME>
              Named server (overrides JUPYTERHUB_SERVER_NAME; empty = the default server)

          --subscription <ID>
              Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config file)

          --dry-run
              Print the exact ARM request (secrets redacted) and exit; no network, no credentials

          --resource-group <NAME>
              Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and the config file)

          --environment <NAME|ID>
              Managed environment name or resource id (overrides AZURE_ACA_ENVIRONMENT_NAME and the
              config file)

          --progress <PROGRESS>
              How to report start-up progress on stderr

              Possible values:
              - auto:  A progress bar on a terminal, plain log lines otherwise
              - json:  JupyterHub-style `{"progress": N, "message": ...}` JSON lines on stderr
              - plain: Plain log lines
              - none:  No progress output
              ⏎
              [default: auto]

      -v, --verbose...
              More log output on stderr (-v: verbose, -vv: debug; secrets are never printed)

      -q, --quiet
              Only errors on stderr

      -h, --help
              Print help (see a summary with '-h')

    Example:
      acactl --config config.example.yaml start --dry-run --user marcus

    Prints {"name", "url", "state"} once the server is ready.
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().args(["poll", "--help"]))), @r#"
    exit: 0
    --- stdout
    Report whether the server's container app is running (always exits 0 but for usage errors)

    Usage: acactl poll [OPTIONS]

    Options:
      -c, --config <PATH>          Configuration file (default: $ACACTL_CONFIG,
                                   ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)
          --user <NAME>            JupyterHub user name (overrides JUPYTERHUB_USER)
          --server <NAME>          Named server (overrides JUPYTERHUB_SERVER_NAME; empty = the default
                                   server)
          --subscription <ID>      Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config
                                   file)
          --resource-group <NAME>  Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and
                                   the config file)
          --environment <NAME|ID>  Managed environment name or resource id (overrides
                                   AZURE_ACA_ENVIRONMENT_NAME and the config file)
      -v, --verbose...             More log output on stderr (-v: verbose, -vv: debug; secrets are never
                                   printed)
      -q, --quiet                  Only errors on stderr
      -h, --help                   Print help

    Example:
      ACACTL_STATE='{"version":1,"id":"/subscriptions/..."}' acactl poll
      acactl poll --user marcus

    Prints {"status": running|pending|unknown|stopped|failed, "exit_status": null|int}.
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().args(["stop", "--help"]))), @r#"
    exit: 0
    --- stdout
    Delete the server's container app (idempotent)

    Usage: acactl stop [OPTIONS]

    Options:
      -c, --config <PATH>          Configuration file (default: $ACACTL_CONFIG,
                                   ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)
          --user <NAME>            JupyterHub user name (overrides JUPYTERHUB_USER)
          --server <NAME>          Named server (overrides JUPYTERHUB_SERVER_NAME; empty = the default
                                   server)
          --subscription <ID>      Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config
                                   file)
          --resource-group <NAME>  Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and
                                   the config file)
          --environment <NAME|ID>  Managed environment name or resource id (overrides
                                   AZURE_ACA_ENVIRONMENT_NAME and the config file)
      -v, --verbose...             More log output on stderr (-v: verbose, -vv: debug; secrets are never
                                   printed)
      -q, --quiet                  Only errors on stderr
      -h, --help                   Print help

    Example:
      acactl stop --user marcus --server gpu

    Prints {"name", "deleted": true|false}.
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().args(["batch", "--help"]))), @r#"
    exit: 0
    --- stdout
    batchspawner's command contract: submit, query and cancel by app name

    Usage: acactl batch [OPTIONS] <COMMAND>

    Commands:
      submit  Create the app for JUPYTERHUB_USER/JUPYTERHUB_SERVER_NAME; print only its name once ARM
              accepted it
      query   Print {"state": running|pending|unknown|gone, "host", "port"}; always exits 0
      cancel  Delete the app (idempotent)
      help    Print this message or the help of the given subcommand(s)

    Options:
      -c, --config <PATH>          Configuration file (default: $ACACTL_CONFIG,
                                   ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)
          --subscription <ID>      Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config
                                   file)
          --resource-group <NAME>  Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and
                                   the config file)
          --environment <NAME|ID>  Managed environment name or resource id (overrides
                                   AZURE_ACA_ENVIRONMENT_NAME and the config file)
      -v, --verbose...             More log output on stderr (-v: verbose, -vv: debug; secrets are never
                                   printed)
      -q, --quiet                  Only errors on stderr
      -h, --help                   Print help

    Example (batchspawner):
      c.ACABatchSpawner.batch_submit_cmd = "/usr/local/bin/acactl batch submit"
      c.ACABatchSpawner.batch_query_cmd = "/usr/local/bin/acactl batch query {job_id}"
      c.ACABatchSpawner.batch_cancel_cmd = "/usr/local/bin/acactl batch cancel {job_id}"
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().args(["batch", "submit", "--help"]))), @"
    exit: 0
    --- stdout
    Create the app for JUPYTERHUB_USER/JUPYTERHUB_SERVER_NAME; print only its name once ARM accepted it

    Usage: acactl batch submit [OPTIONS]

    Options:
      -c, --config <PATH>          Configuration file (default: $ACACTL_CONFIG,
                                   ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)
          --subscription <ID>      Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config
                                   file)
          --resource-group <NAME>  Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and
                                   the config file)
          --environment <NAME|ID>  Managed environment name or resource id (overrides
                                   AZURE_ACA_ENVIRONMENT_NAME and the config file)
      -v, --verbose...             More log output on stderr (-v: verbose, -vv: debug; secrets are never
                                   printed)
      -q, --quiet                  Only errors on stderr
      -h, --help                   Print help
    --- stderr
    --- end
    ");
    assert_snapshot!(show(&run(acactl_bare().args(["batch", "query", "--help"]))), @r#"
    exit: 0
    --- stdout
    Print {"state": running|pending|unknown|gone, "host", "port"}; always exits 0

    Usage: acactl batch query [OPTIONS] <NAME>

    Arguments:
      <NAME>  The app name `submit` printed

    Options:
      -c, --config <PATH>          Configuration file (default: $ACACTL_CONFIG,
                                   ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)
          --subscription <ID>      Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config
                                   file)
          --resource-group <NAME>  Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and
                                   the config file)
          --environment <NAME|ID>  Managed environment name or resource id (overrides
                                   AZURE_ACA_ENVIRONMENT_NAME and the config file)
      -v, --verbose...             More log output on stderr (-v: verbose, -vv: debug; secrets are never
                                   printed)
      -q, --quiet                  Only errors on stderr
      -h, --help                   Print help
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().args(["batch", "cancel", "--help"]))), @"
    exit: 0
    --- stdout
    Delete the app (idempotent)

    Usage: acactl batch cancel [OPTIONS] <NAME>

    Arguments:
      <NAME>  The app name `submit` printed

    Options:
      -c, --config <PATH>          Configuration file (default: $ACACTL_CONFIG,
                                   ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)
          --subscription <ID>      Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config
                                   file)
          --resource-group <NAME>  Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and
                                   the config file)
          --environment <NAME|ID>  Managed environment name or resource id (overrides
                                   AZURE_ACA_ENVIRONMENT_NAME and the config file)
      -v, --verbose...             More log output on stderr (-v: verbose, -vv: debug; secrets are never
                                   printed)
      -q, --quiet                  Only errors on stderr
      -h, --help                   Print help
    --- stderr
    --- end
    ");
    assert_snapshot!(show(&run(acactl_bare().args(["status", "--help"]))), @r#"
    exit: 0
    --- stdout
    List this hub's container apps (by ownership tags): user, server, status, URL, image, size, age

    Usage: acactl status [OPTIONS]

    Options:
      -c, --config <PATH>          Configuration file (default: $ACACTL_CONFIG,
                                   ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)
          --user <NAME>            Only this JupyterHub user's apps
          --server <NAME>          Only this named server ("" = the default server)
          --subscription <ID>      Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config
                                   file)
          --all-hubs               Apps of every hub in the resource group (acactl-managed), labelled by
                                   hub
          --resource-group <NAME>  Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and
                                   the config file)
          --environment <NAME|ID>  Managed environment name or resource id (overrides
                                   AZURE_ACA_ENVIRONMENT_NAME and the config file)
      -o, --output <FORMAT>        Output format (default: table on a terminal, json otherwise)
                                   [possible values: table, json]
      -v, --verbose...             More log output on stderr (-v: verbose, -vv: debug; secrets are never
                                   printed)
      -q, --quiet                  Only errors on stderr
      -h, --help                   Print help

    Examples:
      acactl status --user marcus
      acactl status --all-hubs -o table
      acactl status -o json | jq '.apps[].name'

    JSON: {"apps": [{"hub", "user", "server", "name", "status", "reason", "url", "image", "cpu",
    "memory", "created_at", "age_seconds", "hub_knows"}], "count"}.
    Exit code 1 when no app matched.
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().args(["gc", "--help"]))), @r#"
    exit: 0
    --- stdout
    Delete apps whose JupyterHub server no longer exists, and terminally failed apps

    Usage: acactl gc [OPTIONS]

    Options:
      -c, --config <PATH>          Configuration file (default: $ACACTL_CONFIG,
                                   ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)
          --dry-run                List what would be deleted and why; delete nothing
          --grace <DURATION>       Minimum age of an orphan before it is deleted: 90s, 30m, 2h, 1d or
                                   seconds (default: the largest start timeout + hub.http_timeout + 5
                                   minutes)
          --subscription <ID>      Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config
                                   file)
          --concurrency <N>        Deletes in flight at once [default: 16]
          --resource-group <NAME>  Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and
                                   the config file)
          --environment <NAME|ID>  Managed environment name or resource id (overrides
                                   AZURE_ACA_ENVIRONMENT_NAME and the config file)
      -o, --output <FORMAT>        Output format (default: table on a terminal, json otherwise)
                                   [possible values: table, json]
      -v, --verbose...             More log output on stderr (-v: verbose, -vv: debug; secrets are never
                                   printed)
      -q, --quiet                  Only errors on stderr
      -h, --help                   Print help

    Examples:
      acactl gc --dry-run
      acactl gc --grace 2h -o table
      */15 * * * *  acactl gc -q -o json >> /var/log/acactl-gc.jsonl   (cron)

    Needs hub.api_url and a hub API token (hub.api_token or ACACTL_HUB_API_TOKEN) with the unfiltered
    scopes list:users, read:servers and admin:server_state. Deletes nothing if the hub cannot be read
    completely.
    JSON: {"scanned", "kept", "deleted", "failed", "would_delete" (dry run), "apps": [{"name", "user",
    "server", "action", "reason"}]}.
    Exit codes: 0 all went well, 3 a delete failed or gc refused, 4 another gc holds the lock.
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().args(["doctor", "--help"]))), @r#"
    exit: 0
    --- stdout
    Check configuration, credentials, Azure resources and permissions; each check says how to fix it

    Usage: acactl doctor [OPTIONS]

    Options:
      -c, --config <PATH>          Configuration file (default: $ACACTL_CONFIG,
                                   ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)
      -o, --output <OUTPUT>        Output format (default: a table on a terminal, JSON otherwise)
                                   [possible values: table, json]
          --subscription <ID>      Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config
                                   file)
          --resource-group <NAME>  Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and
                                   the config file)
          --environment <NAME|ID>  Managed environment name or resource id (overrides
                                   AZURE_ACA_ENVIRONMENT_NAME and the config file)
      -v, --verbose...             More log output on stderr (-v: verbose, -vv: debug; secrets are never
                                   printed)
      -q, --quiet                  Only errors on stderr
      -h, --help                   Print help

    Example:
      acactl doctor
      acactl doctor -o json | jq '.checks[] | select(.status != "ok")'

    Exits 3 when any check failed.
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().args(["profiles", "--help"]))), @r#"
    exit: 0
    --- stdout
    List the configured profiles (JSON for the exec spawner's options form, or a table)

    Usage: acactl profiles [OPTIONS]

    Options:
      -c, --config <PATH>          Configuration file (default: $ACACTL_CONFIG,
                                   ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)
      -o, --output <OUTPUT>        Output format (default: a table on a terminal, JSON otherwise)
                                   [possible values: table, json]
          --subscription <ID>      Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config
                                   file)
          --user <NAME>            Only the profiles this hub user may use (overrides JUPYTERHUB_USER;
                                   groups from ACACTL_USER_GROUPS)
          --all                    List every profile, ignoring JUPYTERHUB_USER
          --resource-group <NAME>  Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and
                                   the config file)
          --environment <NAME|ID>  Managed environment name or resource id (overrides
                                   AZURE_ACA_ENVIRONMENT_NAME and the config file)
          --selected               Also print "selected": the profile, choices and start_timeout
                                   (seconds) that `start` would use for the user options in
                                   ACACTL_USER_OPTIONS; invalid options are the error `start` would give
      -v, --verbose...             More log output on stderr (-v: verbose, -vv: debug; secrets are never
                                   printed)
      -q, --quiet                  Only errors on stderr
      -h, --help                   Print help

    Examples:
      acactl profiles -o table
      ACACTL_USER_GROUPS='["gpu-users"]' acactl profiles --user marcus

    Prints {"profiles": [{slug, display_name, description, default, start_timeout, options: [{name,
    choices}], groups, users, ...}], "start_timeout"}.
    With --user (or JUPYTERHUB_USER), only the profiles that user may use (groups from
    ACACTL_USER_GROUPS).
    --- stderr
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().args(["generate", "--help"]))), @"
    exit: 0
    --- stdout
    Print shell completions or the man page (used to refresh completions/ and man/)

    Usage: acactl generate [OPTIONS] <WHAT>

    Arguments:
      <WHAT>  [possible values: man, complete-bash, complete-zsh, complete-fish, complete-elvish,
              complete-powershell]

    Options:
      -c, --config <PATH>          Configuration file (default: $ACACTL_CONFIG,
                                   ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)
          --subscription <ID>      Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config
                                   file)
          --resource-group <NAME>  Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and
                                   the config file)
          --environment <NAME|ID>  Managed environment name or resource id (overrides
                                   AZURE_ACA_ENVIRONMENT_NAME and the config file)
      -v, --verbose...             More log output on stderr (-v: verbose, -vv: debug; secrets are never
                                   printed)
      -q, --quiet                  Only errors on stderr
      -h, --help                   Print help
    --- stderr
    --- end
    ");
    assert_snapshot!(show(&run(acactl_bare().args(["help", "gc"]))), @r#"
    exit: 0
    --- stdout
    Delete apps whose JupyterHub server no longer exists, and terminally failed apps

    Usage: acactl gc [OPTIONS]

    Options:
      -c, --config <PATH>          Configuration file (default: $ACACTL_CONFIG,
                                   ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)
          --dry-run                List what would be deleted and why; delete nothing
          --grace <DURATION>       Minimum age of an orphan before it is deleted: 90s, 30m, 2h, 1d or
                                   seconds (default: the largest start timeout + hub.http_timeout + 5
                                   minutes)
          --subscription <ID>      Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config
                                   file)
          --concurrency <N>        Deletes in flight at once [default: 16]
          --resource-group <NAME>  Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and
                                   the config file)
          --environment <NAME|ID>  Managed environment name or resource id (overrides
                                   AZURE_ACA_ENVIRONMENT_NAME and the config file)
      -o, --output <FORMAT>        Output format (default: table on a terminal, json otherwise)
                                   [possible values: table, json]
      -v, --verbose...             More log output on stderr (-v: verbose, -vv: debug; secrets are never
                                   printed)
      -q, --quiet                  Only errors on stderr
      -h, --help                   Print help

    Examples:
      acactl gc --dry-run
      acactl gc --grace 2h -o table
      */15 * * * *  acactl gc -q -o json >> /var/log/acactl-gc.jsonl   (cron)

    Needs hub.api_url and a hub API token (hub.api_token or ACACTL_HUB_API_TOKEN) with the unfiltered
    scopes list:users, read:servers and admin:server_state. Deletes nothing if the hub cannot be read
    completely.
    JSON: {"scanned", "kept", "deleted", "failed", "would_delete" (dry run), "apps": [{"name", "user",
    "server", "action", "reason"}]}.
    Exit codes: 0 all went well, 3 a delete failed or gc refused, 4 another gc holds the lock.
    --- stderr
    --- end
    "#);
}

#[test]
fn usage_errors() {
    let _f = snapshot_filters(None, &[]);
    assert_snapshot!(show(&run(&mut acactl_bare())), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"Usage","message":"Run each JupyterHub user's notebook server as an Azure Container App"}}
    --- stderr
    Run each JupyterHub user's notebook server as an Azure Container App

    Usage: acactl [OPTIONS] <COMMAND>

    Commands:
      start     Create (or adopt) the user's container app and wait until the notebook server answers
      poll      Report whether the server's container app is running (always exits 0 but for usage
                errors)
      stop      Delete the server's container app (idempotent)
      batch     batchspawner's command contract: submit, query and cancel by app name
      status    List this hub's container apps (by ownership tags): user, server, status, URL, image,
                size, age
      gc        Delete apps whose JupyterHub server no longer exists, and terminally failed apps
      doctor    Check configuration, credentials, Azure resources and permissions; each check says how
                to fix it
      profiles  List the configured profiles (JSON for the exec spawner's options form, or a table)
      help      Print this message or the help of the given subcommand(s)

    Options:
      -c, --config <PATH>          Configuration file (default: $ACACTL_CONFIG,
                                   ~/.config/acactl/config.yaml, /etc/acactl/config.yaml)
          --subscription <ID>      Azure subscription id (overrides AZURE_SUBSCRIPTION_ID and the config
                                   file)
          --resource-group <NAME>  Resource group of the user apps (overrides AZURE_RESOURCE_GROUP and
                                   the config file)
          --environment <NAME|ID>  Managed environment name or resource id (overrides
                                   AZURE_ACA_ENVIRONMENT_NAME and the config file)
      -v, --verbose...             More log output on stderr (-v: verbose, -vv: debug; secrets are never
                                   printed)
      -q, --quiet                  Only errors on stderr
      -h, --help                   Print help (see more with '--help')
      -V, --version                Print version

    Exit codes: 0 ok, 1 nothing matched, 2 usage or configuration error, 3 Azure or runtime failure,
    4 another gc holds the lock.
    Each command prints exactly one JSON document on stdout; logs and progress go to stderr.
    See README.md, section "Spawner protocol", or man acactl.
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().arg("frobnicate"))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"Usage","message":"unrecognized subcommand 'frobnicate'"}}
    --- stderr
    error: unrecognized subcommand 'frobnicate'

    Usage: acactl [OPTIONS] <COMMAND>

    For more information, try '--help'.
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().arg("--bogus"))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"Usage","message":"unexpected argument '--bogus' found"}}
    --- stderr
    error: unexpected argument '--bogus' found

    Usage: acactl [OPTIONS] <COMMAND>

    For more information, try '--help'.
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().args(["poll", "--user"]))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"Usage","message":"a value is required for '--user <NAME>' but none was supplied"}}
    --- stderr
    error: a value is required for '--user <NAME>' but none was supplied

    For more information, try '--help'.
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().args(["batch", "query"]))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"Usage","message":"the following required arguments were not provided:"}}
    --- stderr
    error: the following required arguments were not provided:
      <NAME>

    Usage: acactl batch query <NAME>

    For more information, try '--help'.
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().args(["gc", "--grace", "2 hours"]))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"Usage","message":"invalid value '2 hours' for '--grace <DURATION>': `2 hours` is not a duration (e.g. 90s, 30m, 2h, 1d)"}}
    --- stderr
    error: invalid value '2 hours' for '--grace <DURATION>': `2 hours` is not a duration (e.g. 90s, 30m, 2h, 1d)

    For more information, try '--help'.
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().args(["gc", "--concurrency", "0"]))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"Usage","message":"invalid value '0' for '--concurrency <N>': 0 is not in 1..=64"}}
    --- stderr
    error: invalid value '0' for '--concurrency <N>': 0 is not in 1..=64

    For more information, try '--help'.
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().args(["-q", "-v", "poll"]))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"Usage","message":"the argument '--quiet' cannot be used with '--verbose...'"}}
    --- stderr
    error: the argument '--quiet' cannot be used with '--verbose...'

    Usage: acactl --quiet <COMMAND>

    For more information, try '--help'.
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().args(["status", "-o", "yaml"]))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"Usage","message":"invalid value 'yaml' for '--output <FORMAT>'"}}
    --- stderr
    error: invalid value 'yaml' for '--output <FORMAT>'
      [possible values: table, json]

    For more information, try '--help'.
    --- end
    "#);
    assert_snapshot!(show(&run(acactl_bare().args(["profiles", "--all", "--user", "x"]))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"Usage","message":"the argument '--all' cannot be used with '--user <NAME>'"}}
    --- stderr
    error: the argument '--all' cannot be used with '--user <NAME>'

    Usage: acactl profiles --all

    For more information, try '--help'.
    --- end
    "#);
}

#[test]
fn config_errors() {
    let h = Harness::new();
    let _f = snapshot_filters(Some(&h), &[]);
    let dry = |extra: &str| {
        h.write_config(extra);
        show(&run(h.acactl().args(["start", "--dry-run", "--user", "u"])))
    };
    assert_snapshot!(dry("server:\n  cpu: 0.3\n"), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"ConfigInvalid","message":"[HOME]/config.yaml:25: `server.cpu` cpu 0.3 with memory 0.6Gi is not a Consumption pair: allowed are 0.25/0.5Gi, 0.5/1Gi, 0.75/1.5Gi, ... up to 2/4Gi (memory = 2 x cpu, cpu in steps of 0.25)"}}
    --- stderr
    error: [HOME]/config.yaml:25: `server.cpu` cpu 0.3 with memory 0.6Gi is not a Consumption pair: allowed are 0.25/0.5Gi, 0.5/1Gi, 0.75/1.5Gi, ... up to 2/4Gi (memory = 2 x cpu, cpu in steps of 0.25)
    --- end
    "#);
    assert_snapshot!(dry("server:\n  imag: x\n"), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"ConfigInvalid","message":"[HOME]/config.yaml:25: `server.imag`: server: unknown field `imag`, expected one of `image`, `cpu`, `memory`, `command`, `args`, `target_port`, `ingress`, `workload_profile`, `env`, `start_timeout`, `allowed_ip_ranges`, `volumes`, `init_containers`, `patch`"}}
    --- stderr
    error: [HOME]/config.yaml:25: `server.imag`: server: unknown field `imag`, expected one of `image`, `cpu`, `memory`, `command`, `args`, `target_port`, `ingress`, `workload_profile`, `env`, `start_timeout`, `allowed_ip_ranges`, `volumes`, `init_containers`, `patch`
    --- end
    "#);
    assert_snapshot!(dry("hub:\n  allow_origin: 'not an origin'\n"), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"ConfigInvalid","message":"[HOME]/config.yaml:25: `hub.allow_origin` `not an origin` is not `auto`, `off` or an origin like https://hub.example.org"}}
    --- stderr
    error: [HOME]/config.yaml:25: `hub.allow_origin` `not an origin` is not `auto`, `off` or an origin like https://hub.example.org
    --- end
    "#);
    assert_snapshot!(dry("api_version: yesterday\n"), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"ConfigInvalid","message":"[HOME]/config.yaml:27: `api_version` `yesterday` is not an api-version (YYYY-MM-DD or YYYY-MM-DD-preview)"}}
    --- stderr
    error: [HOME]/config.yaml:27: `api_version` `yesterday` is not an api-version (YYYY-MM-DD or YYYY-MM-DD-preview)
    --- end
    "#);
    assert_snapshot!(dry("arm:\n  poll_interval_ms: 0\n"), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"ConfigInvalid","message":"[HOME]/config.yaml:22: `arm.poll_interval_ms` is 0 but must be 10-600000 milliseconds"}}
    --- stderr
    error: [HOME]/config.yaml:22: `arm.poll_interval_ms` is 0 but must be 10-600000 milliseconds
    --- end
    "#);
    assert_snapshot!(dry("profiles:\n  - slug: a\n  - slug: a\n"), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"ConfigInvalid","message":"[HOME]/config.yaml:28: `profiles.a` is defined twice"}}
    --- stderr
    error: [HOME]/config.yaml:28: `profiles.a` is defined twice
    --- end
    "#);
    assert_snapshot!(dry("server:\n  patch:\n    tags:\n      x: y\n"), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"ConfigInvalid","message":"[HOME]/config.yaml:25: `server.patch` touches `/tags`, which acactl owns (identity, secrets, tags, containers, volumes, ingress exposure, replicas); configure it through acactl's own keys"}}
    --- stderr
    error: [HOME]/config.yaml:25: `server.patch` touches `/tags`, which acactl owns (identity, secrets, tags, containers, volumes, ingress exposure, replicas); configure it through acactl's own keys
    --- end
    "#);
    h.write_config("server: [1\n");
    assert_snapshot!(show(&run(h.acactl().args(["poll", "--user", "u"]))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"ConfigInvalid","message":"[HOME]/config.yaml:24: `server`: server: invalid type: sequence, expected struct ServerFile"}}
    --- stderr
    error: [HOME]/config.yaml:24: `server`: server: invalid type: sequence, expected struct ServerFile
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["--config", "/nonexistent.yaml", "poll", "--user", "u"]))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"ConfigInvalid","message":"configuration file /nonexistent.yaml (from --config) does not exist"}}
    --- stderr
    error: configuration file /nonexistent.yaml (from --config) does not exist
    --- end
    "#);
    // gc without a hub API; JUPYTERHUB_API_TOKEN is never the hub API token.
    h.write_config("");
    assert_snapshot!(show(&run(h.acactl().args(["gc", "-o", "json"]))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"ConfigInvalid","message":"`hub.api_url` is required for gc: the Hub REST API, e.g. http://jupyterhub:8081/hub/api (or ACACTL_HUB_API_URL)"}}
    --- stderr
    error: `hub.api_url` is required for gc: the Hub REST API, e.g. http://jupyterhub:8081/hub/api (or ACACTL_HUB_API_URL)
    --- end
    "#);
    h.write_config("hub:\n  api_url: http://127.0.0.1:9/hub/api\n");
    assert_snapshot!(show(&run(h.acactl().env("JUPYTERHUB_API_TOKEN", TOKEN).args(["gc", "-o", "json"]))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"ConfigInvalid","message":"`hub.api_token` is required for gc: a service token with list:users, read:servers and admin:server_state (or ACACTL_HUB_API_TOKEN; JUPYTERHUB_API_TOKEN is never used)"}}
    --- stderr
    error: `hub.api_token` is required for gc: a service token with list:users, read:servers and admin:server_state (or ACACTL_HUB_API_TOKEN; JUPYTERHUB_API_TOKEN is never used)
    --- end
    "#);
    h.write_config("");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&h.config, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert_snapshot!(show(&run(h.spawner("perm", "").arg("poll"))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"ConfigInsecure","message":"configuration file [HOME]/config.yaml is writable by anyone (mode 666): it decides where acactl sends its tokens, so only its owner may write it (chmod go-w [HOME]/config.yaml)"}}
    --- stderr
    error: configuration file [HOME]/config.yaml is writable by anyone (mode 666): it decides where acactl sends its tokens, so only its owner may write it (chmod go-w [HOME]/config.yaml)
    --- end
    "#);
}

#[test]
fn request_errors() {
    let h = Harness::new();
    let _f = snapshot_filters(Some(&h), &[]);
    assert_snapshot!(show(&run(h.acactl().env("ACACTL_STATE", "{\"version\":9}").arg("poll"))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"InvalidState","message":"ACACTL_STATE has format version 9 but this acactl reads version 1"}}
    --- stderr
    error: ACACTL_STATE has format version 9 but this acactl reads version 1
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().env("ACACTL_STATE", "not json").arg("stop"))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"InvalidState","message":"ACACTL_STATE is not JSON: expected ident at line 1 column 2"}}
    --- stderr
    error: ACACTL_STATE is not JSON: expected ident at line 1 column 2
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().env("ACACTL_STATE", "{}").arg("poll"))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"MissingUser","message":"no user: set JUPYTERHUB_USER (the exec spawner does) or pass --user"}}
    --- stderr
    error: no user: set JUPYTERHUB_USER (the exec spawner does) or pass --user
    --- end
    "#);
    assert_snapshot!(show(&run(h.spawner("x", "").env_remove("ACACTL_FORWARD").arg("start"))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"MissingForward","message":"ACACTL_FORWARD is not set: start forwards exactly the variables it names (the exec spawner sets it to the keys of Spawner.get_env())"}}
    --- stderr
    error: ACACTL_FORWARD is not set: start forwards exactly the variables it names (the exec spawner sets it to the keys of Spawner.get_env())
    --- end
    "#);
    let no_token = run(h.spawner("x", "").env_remove("JUPYTERHUB_API_TOKEN").env_remove("JPY_API_TOKEN").arg("start"));
    assert_snapshot!(show(&no_token), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"MissingApiToken","message":"JUPYTERHUB_API_TOKEN is not set: the single-user server cannot authenticate with the hub without it"}}
    --- stderr
    error: JUPYTERHUB_API_TOKEN is not set: the single-user server cannot authenticate with the hub without it
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().args(["start", "--dry-run", "--user", "a/b"]))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"InvalidUserName","message":"user name must be 1-255 bytes without `/` or control characters"}}
    --- stderr
    error: user name must be 1-255 bytes without `/` or control characters
    --- end
    "#);
    let opts = |o: &str| run(h.acactl().args(["start", "--dry-run", "--user", "u"]).env("ACACTL_USER_OPTIONS", o));
    assert_snapshot!(show(&opts(r#"{"cpu": "16"}"#)), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"UnknownUserOption","message":"user option `cpu` is not accepted: this hub defines no profiles"}}
    --- stderr
    error: user option `cpu` is not accepted: this hub defines no profiles
    --- end
    "#);
    assert_snapshot!(show(&opts(r#"["small"]"#)), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"InvalidUserOptions","message":"ACACTL_USER_OPTIONS must be a JSON object"}}
    --- stderr
    error: ACACTL_USER_OPTIONS must be a JSON object
    --- end
    "#);
    h.write_config(PROFILES);
    assert_snapshot!(show(&opts(r#"{"profile": "huge"}"#)), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"UnknownProfile","message":"user option `profile`: there is no profile `huge` (available: small, large)"}}
    --- stderr
    error: user option `profile`: there is no profile `huge` (available: small, large)
    --- end
    "#);
    assert_snapshot!(show(&opts(r#"{"profile": "gpu"}"#)), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"ProfileNotAllowed","message":"user option `profile`: profile `gpu` is limited to other users or groups"}}
    --- stderr
    error: user option `profile`: profile `gpu` is limited to other users or groups
    --- end
    "#);
    assert_snapshot!(show(&opts(r#"{"profile": "small", "image": "ubuntu:latest"}"#)), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"InvalidUserOption","message":"user option `image`: `ubuntu:latest` is not one of its choices (python, r)"}}
    --- stderr
    error: user option `image`: `ubuntu:latest` is not one of its choices (python, r)
    --- end
    "#);
    let groups = run(h.acactl().args(["start", "--dry-run", "--user", "u"]).env("ACACTL_USER_GROUPS", "{}"));
    assert_snapshot!(show(&groups), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"InvalidUserGroups","message":"ACACTL_USER_GROUPS must be a JSON list of group names: invalid type: map, expected a sequence at line 1 column 0"}}
    --- stderr
    error: ACACTL_USER_GROUPS must be a JSON list of group names: invalid type: map, expected a sequence at line 1 column 0
    --- end
    "#);
}

#[test]
fn arm_errors() {
    let h = Harness::with(Options { provision_polls: 2, failure_polls: 200, ..Default::default() }, "");
    let _f = snapshot_filters(Some(&h), &[]);
    // NotOwned: acactl's name for carol, another hub's tags.
    let (carol, _) = dry_run_identity(&h, "carol");
    h.fake.insert_app(InsertApp::new(&carol).tag("managed-by", "acactl").tag("acactl-hub", "other")).unwrap();
    assert_snapshot!(show(&run(h.acactl().args(["stop", "--user", "carol"]))), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"NotOwned","message":"test-carol-s7afgfaoxe exists but is not tagged as this hub's (test) server; refusing to delete it"}}
    --- stderr
    error: test-carol-s7afgfaoxe exists but is not tagged as this hub's (test) server; refusing to delete it
    --- end
    "#);
    // NameConflict: an app with its name that is not its own.
    let (eve, _) = dry_run_identity(&h, "eve");
    h.fake.insert_app(InsertApp::new(&eve).tag("owner", "someone-else")).unwrap();
    assert_snapshot!(show(&run(h.spawner("eve", "").arg("start"))), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"NameConflict","message":"an app named test-eve-lqrapoo3ji exists but its tags do not say it is this server's (hub test); refusing to touch it"}}
    --- stderr
    acactl: [  5%] Preparing test-eve-lqrapoo3ji
    error: an app named test-eve-lqrapoo3ji exists but its tags do not say it is this server's (hub test); refusing to touch it
    --- end
    "#);
    // ARM's own validation code, as is.
    h.fake.inject(Fault::status("PUT", "containerApps/", 1, 400, "ContainerAppInvalidPropertyValue", None));
    assert_snapshot!(show(&run(h.spawner("invalid", "").arg("start"))), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"ContainerAppInvalidPropertyValue","message":"ARM answered 400 ContainerAppInvalidPropertyValue: Injected fault 'ContainerAppInvalidPropertyValue'."}}
    --- stderr
    acactl: [  5%] Preparing test-invalid-2w5bgl36ou
    acactl: [ 10%] Creating container app test-invalid-2w5bgl36ou
    error: ARM answered 400 ContainerAppInvalidPropertyValue: Injected fault 'ContainerAppInvalidPropertyValue'.
    --- end
    "#);
    // Fail-fast platform reasons.
    behave(&h, "pull", Behaviour::ImagePullFailure);
    assert_snapshot!(show(&run(h.spawner("pull", "").arg("start"))), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"ImagePullFailed","message":"test-pull-zgniy3oifa cannot start: notebook: ImagePullBackOff: Back-off pulling image \"example.azurecr.io/notebook:1\""}}
    --- stderr
    acactl: [  5%] Preparing test-pull-zgniy3oifa
    acactl: [ 10%] Creating container app test-pull-zgniy3oifa
    acactl: [100%] Start failed; deleting test-pull-zgniy3oifa
    acactl: deletion of test-pull-zgniy3oifa requested after the failed start
    error: test-pull-zgniy3oifa cannot start: notebook: ImagePullBackOff: Back-off pulling image "example.azurecr.io/notebook:1"
    --- end
    "#);
    behave(&h, "crash", Behaviour::CrashLoop);
    assert_snapshot!(show(&run(h.spawner("crash", "").arg("start"))), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"ContainerCrashing","message":"test-crash-enwh7j62da cannot start: notebook: CrashLoopBackOff: back-off restarting failed container"}}
    --- stderr
    acactl: [  5%] Preparing test-crash-enwh7j62da
    acactl: [ 10%] Creating container app test-crash-enwh7j62da
    acactl: [100%] Start failed; deleting test-crash-enwh7j62da
    acactl: deletion of test-crash-enwh7j62da requested after the failed start
    error: test-crash-enwh7j62da cannot start: notebook: CrashLoopBackOff: back-off restarting failed container
    --- end
    "#);
    behave(&h, "provfail", Behaviour::ProvisionFailed);
    assert_snapshot!(show(&run(h.spawner("provfail", "").arg("start"))), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"ContainerAppOperationError","message":"provisioning test-provfail-dtwt3tfurm failed: ContainerAppOperationError: Failed to provision revision for container app 'test-provfail-dtwt3tfurm'. Error details: Operation expired."}}
    --- stderr
    acactl: [  5%] Preparing test-provfail-dtwt3tfurm
    acactl: [ 10%] Creating container app test-provfail-dtwt3tfurm
    acactl: [ 28%] Provisioning test-provfail-dtwt3tfurm: provisioning InProgress, running Running, container Waiting (ContainerCreating)
    acactl: [100%] Start failed; deleting test-provfail-dtwt3tfurm
    acactl: deletion of test-provfail-dtwt3tfurm requested after the failed start
    error: provisioning test-provfail-dtwt3tfurm failed: ContainerAppOperationError: Failed to provision revision for container app 'test-provfail-dtwt3tfurm'. Error details: Operation expired.
    --- end
    "#);
    // ForeignUrl: a Location header on another host.
    let start = run(h.spawner("foreign", "").arg("start"));
    assert_eq!(start.code, 0, "{}", start.stderr);
    h.fake.set_delete_async_header(false);
    let to = "http://127.0.0.1:9".to_string();
    h.fake.inject(Fault::action("DELETE", "/containerApps/", 1, FaultAction::Rewrite { from: h.fake.base_url(), to }));
    let stop = run(h.acactl().env("ACACTL_STATE", state_of(&start.json())).arg("stop"));
    assert_snapshot!(show(&stop), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"ForeignUrl","message":"refusing to send the ARM token to http://127.0.0.1:[PORT]/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/providers/Microsoft.App/locations/westeurope/containerappOperationResults/[GUID]: it is not on the configured https origin [ARM]"}}
    --- stderr
    error: refusing to send the ARM token to http://127.0.0.1:[PORT]/subscriptions/8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d/providers/Microsoft.App/locations/westeurope/containerappOperationResults/[GUID]: it is not on the configured https origin [ARM]
    --- end
    "#);
    h.fake.set_delete_async_header(true);
    // Storage the configuration names but the environment lacks.
    h.write_config("server:\n  image: example.azurecr.io/notebook:1\n  volumes:\n    - name: home\n      storage: homes\n      mount_path: /home/jovyan\n");
    assert_snapshot!(show(&run(h.spawner("vol", "").arg("start"))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"StorageNotFound","message":"volume `home` mounts environment storage `homes`, which managed environment aca-env does not have (az containerapp env storage set ...)"}}
    --- stderr
    acactl: [  5%] Preparing test-vol-j3wpxfe5pr
    error: volume `home` mounts environment storage `homes`, which managed environment aca-env does not have (az containerapp env storage set ...)
    --- end
    "#);
}

#[test]
fn throttled() {
    let h = Harness::new();
    let _f = snapshot_filters(Some(&h), &[]);
    // A Retry-After beyond what is left of the command's time: it gives up on the first answer.
    h.fake.inject(Fault::status("GET", "/containerApps", 100_000, 429, "SubscriptionRequestsThrottled", Some(60)));
    assert_snapshot!(show(&run(h.acactl().args(["status", "-o", "json"]))), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"SubscriptionRequestsThrottled","message":"ARM answered 429 SubscriptionRequestsThrottled: Number of 'read' requests for subscription '8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d' actor 'fake-principal' exceeded. Please try again after '1' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information."}}
    --- stderr
    error: ARM answered 429 SubscriptionRequestsThrottled: Number of 'read' requests for subscription '8c56bdd6-8f1e-4a3b-9d2c-5f7e1a2b3c4d' actor 'fake-principal' exceeded. Please try again after '1' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.
    --- end
    "#);
    h.fake.clear_faults();
    h.fake.inject(Fault::status("DELETE", "/containerApps/", 100_000, 500, "InternalServerError", None));
    insert_own_app(&h, "stuck", "Succeeded");
    assert_snapshot!(show(&run(h.acactl().args(["stop", "--user", "stuck"]))), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"InternalServerError","message":"ARM answered 500 InternalServerError: Encountered internal server error. Diagnostic information: timestamp '[TIME]', subscription id '', tracking id '', request correlation id ''."}}
    --- stderr
    error: ARM answered 500 InternalServerError: Encountered internal server error. Diagnostic information: timestamp '[TIME]', subscription id '', tracking id '', request correlation id ''.
    --- end
    "#);
}

#[test]
fn start_timeout() {
    let h = Harness::new();
    let _f = snapshot_filters(Some(&h), &[]);
    h.write_config("server:\n  image: example.azurecr.io/notebook:1\n  start_timeout: 10\n");
    behave(&h, "never", Behaviour::NotServing);
    let mut r = run(h.spawner("never", "").args(["start", "--progress", "plain"]));
    // How often the waiting line repeats within the 10 s depends on the machine's speed: a run of
    // lines that differ only in their percentage is shown once.
    r.stderr = squeeze_repeats(&r.stderr);
    assert_snapshot!(show(&r), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"StartTimeout","message":"test-never-7nzdqqfwto was not ready within its start timeout (10 s): http://test-never-7nzdqqfwto/user/never/api never answered like Jupyter (last: HTTP 503)"}}
    --- stderr
    acactl: [  5%] Preparing test-never-7nzdqqfwto
    acactl: [ 10%] Creating container app test-never-7nzdqqfwto
    acactl: [ 28%] Provisioning test-never-7nzdqqfwto: provisioning InProgress, running Running, container Waiting (ContainerCreating)
    acactl: [ 44%] Provisioning test-never-7nzdqqfwto: provisioning Succeeded, running Running, container Running
    acactl: [ 85%] Waiting for Jupyter to answer at http://test-never-7nzdqqfwto
    acactl: [100%] Start failed; deleting test-never-7nzdqqfwto
    acactl: deletion of test-never-7nzdqqfwto requested after the failed start
    error: test-never-7nzdqqfwto was not ready within its start timeout (10 s): http://test-never-7nzdqqfwto/user/never/api never answered like Jupyter (last: HTTP 503)
    --- end
    "#);
}

#[test]
fn credential_errors() {
    let h = Harness::new();
    let _f = snapshot_filters(Some(&h), &[]);
    h.write_config("credential:\n  type: client-secret\n  tenant_id: contoso.onmicrosoft.com\n  client_id: 11111111-1111-1111-1111-111111111111\n");
    assert_snapshot!(show(&run(h.spawner("sp", "").env("AZURE_CLIENT_SECRET", "bad-secret").arg("start"))), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"AuthenticationFailed","message":"could not get an ARM token (client-secret): ClientSecretCredential authentication failed. AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '11111111-1111-1111-1111-111111111111'. Trace ID: [GUID] Correlation ID: [GUID] Timestamp: [TIME]"}}
    --- stderr
    acactl: [  5%] Preparing test-sp-m2lslolut7
    error: could not get an ARM token (client-secret): ClientSecretCredential authentication failed. AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '11111111-1111-1111-1111-111111111111'. Trace ID: [GUID] Correlation ID: [GUID] Timestamp: [TIME]
      Caused by: To troubleshoot, visit https://aka.ms/azsdk/rust/identity/troubleshoot#client-secret
    --- end
    "#);
    assert_snapshot!(show(&run(h.acactl().env_remove("AZURE_CLIENT_SECRET").args(["stop", "--user", "sp"]))), @r#"
    exit: 2
    --- stdout
    {"error":{"code":"ConfigInvalid","message":"credential client-secret needs AZURE_CLIENT_SECRET in the environment (never in the config file)"}}
    --- stderr
    error: credential client-secret needs AZURE_CLIENT_SECRET in the environment (never in the config file)
    --- end
    "#);
}

#[test]
fn hub_errors() {
    let (h, hub) = setup();
    let _f = snapshot_filters(Some(&h), &[]);
    insert(&h, "olduser", "", Some(OLD), None);
    hub.set_fail_all(Some(500));
    assert_snapshot!(show(&run(h.acactl().args(["gc", "-o", "json"]))), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"HubError","message":"the hub API answered 500 Internal Server Error for http://127.0.0.1:[PORT]/hub/api/user: {\"message\":\"Injected failure\",\"status\":500}; gc deleted nothing"}}
    --- stderr
    error: the hub API answered 500 Internal Server Error for http://127.0.0.1:[PORT]/hub/api/user: {"message":"Injected failure","status":500}; gc deleted nothing
    --- end
    "#);
    hub.set_fail_all(Some(401));
    assert_snapshot!(show(&run(h.acactl().args(["gc", "-o", "json"]))), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"HubAuthFailed","message":"the hub API answered 401 Unauthorized for http://127.0.0.1:[PORT]/hub/api/user: {\"message\":\"Injected failure\",\"status\":401}; gc deleted nothing"}}
    --- stderr
    error: the hub API answered 401 Unauthorized for http://127.0.0.1:[PORT]/hub/api/user: {"message":"Injected failure","status":401}; gc deleted nothing
    --- end
    "#);
    hub.set_fail_all(None);
    hub.add_token(crate::gc::HUB_TOKEN, &["list:users!group=class1", "read:servers"]);
    assert_snapshot!(show(&run(h.acactl().args(["gc", "-o", "json"]))), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"HubScopeMissing","message":"the hub API token (of `acactl-gc`) lacks the unfiltered scopes list:users, admin:server_state: gc needs list:users, read:servers and admin:server_state on all users, or it would see only part of the hub and delete live servers (it has only filtered ones: list:users!group=class1); gc deleted nothing"}}
    --- stderr
    error: the hub API token (of `acactl-gc`) lacks the unfiltered scopes list:users, admin:server_state: gc needs list:users, read:servers and admin:server_state on all users, or it would see only part of the hub and delete live servers (it has only filtered ones: list:users!group=class1); gc deleted nothing
    --- end
    "#);
    hub.add_token(crate::gc::HUB_TOKEN, crate::gc::SCOPES);
    h.write_config("hub:\n  api_url: http://127.0.0.1:9/hub/api\n  api_token: x-token-value\n");
    assert_snapshot!(show(&run(h.acactl().args(["gc", "-o", "json"]))), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"HubUnreachable","message":"cannot reach the hub API at http://127.0.0.1:[PORT]/hub/api/user: error sending request for url (http://127.0.0.1:[PORT]/hub/api/user): client error (Connect): tcp connect error: Connection refused (os error 111); gc deleted nothing"}}
    --- stderr
    error: cannot reach the hub API at http://127.0.0.1:[PORT]/hub/api/user: error sending request for url (http://127.0.0.1:[PORT]/hub/api/user): client error (Connect): tcp connect error: Connection refused (os error 111); gc deleted nothing
    --- end
    "#);
    h.write_config(&format!("{}gc:\n  deadline: 10\n", hub_config(&hub)));
    // Another gc holds the lock.
    let lock_path = h.dir.path().join("cache").join("gc-test.lock");
    std::fs::create_dir_all(lock_path.parent().unwrap()).unwrap();
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).unwrap();
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }, 0);
    assert_snapshot!(show(&run(h.acactl().args(["gc", "-o", "json"]))), @r#"
    exit: 4
    --- stdout
    {"error":{"code":"GcAlreadyRunning","message":"another `acactl gc` of hub test is running (pid [PID], lock [HOME]/cache/gc-test.lock is held); this run did nothing"}}
    --- stderr
    error: another `acactl gc` of hub test is running (pid [PID], lock [HOME]/cache/gc-test.lock is held); this run did nothing
    --- end
    "#);
    drop(file);
    std::fs::remove_file(&lock_path).unwrap();
    std::os::unix::fs::symlink(h.dir.path().join("victim"), &lock_path).unwrap();
    assert_snapshot!(show(&run(h.acactl().args(["gc", "-o", "json"]))), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"GcLockFailed","message":"cannot open the gc lock [HOME]/cache/gc-test.lock: it is a symbolic link"}}
    --- stderr
    error: cannot open the gc lock [HOME]/cache/gc-test.lock: it is a symbolic link
    --- end
    "#);
    std::fs::remove_file(&lock_path).unwrap();
    // The gc deadline ends an absurd Retry-After.
    h.fake.inject(Fault::status(
        "DELETE",
        "/containerApps/",
        1,
        429,
        "SubscriptionRequestsThrottled",
        Some(1_000_000_000),
    ));
    assert_snapshot!(show(&run(h.acactl().args(["gc", "-o", "json"]))), @r#"
    exit: 3
    --- stdout
    {"error":{"code":"GcDeadline","message":"gc stopped at its deadline (gc.deadline, 10 s); deletes already sent go on, the next run continues"}}
    --- stderr
    error: gc stopped at its deadline (gc.deadline, 10 s); deletes already sent go on, the next run continues
    --- end
    "#);
}
