//! Profiles and user options (selection and every rejection path), `acactl profiles`, persistent
//! volumes with per-user sub-paths, the storage and workload-profile checks, init containers,
//! ingress modes, Key Vault secrets and the merge-patch escape hatch.

use serde_json::{Value, json};

use crate::common::*;

const UAMI: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pull";

fn server_block() -> String {
    "server:\n  image: example.azurecr.io/notebook:1\n  start_timeout: 20\n".to_string()
}

const PROFILES: &str = "\
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
              env:
                R_LIBS_USER: /home/jovyan/R
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

fn with_profiles() -> Harness {
    let h = Harness::new();
    h.write_config(&format!("{}{PROFILES}", server_block()));
    h
}

fn dry(h: &Harness, user: &str, options: &str, groups: Option<&str>) -> Run {
    let mut c = h.acactl();
    c.args(["start", "--dry-run", "--user", user]).env("ACACTL_USER_OPTIONS", options);
    if let Some(g) = groups {
        c.env("ACACTL_USER_GROUPS", g);
    }
    run(&mut c)
}

fn container(v: &Value) -> &Value {
    &v["request"]["body"]["properties"]["template"]["containers"][0]
}

fn env_of(c: &Value, name: &str) -> Option<Value> {
    c["env"].as_array().unwrap().iter().find(|e| e["name"] == name).cloned()
}

#[test]
fn profile_selection_defaults_choices_and_form_values() {
    let h = with_profiles();
    // No options: the default profile with its default choices.
    let r = dry(&h, "marcus", "{}", None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["profile"], "small");
    assert_eq!(v["choices"], json!({"image": "python"}));
    assert_eq!(v["request"]["body"]["tags"]["acactl-profile"], "small");
    assert_eq!(v["start_timeout"], 20);
    // The default choice's image with the profile's size.
    insta::assert_json_snapshot!(container(&v), @r#"
    {
      "args": [
        "--ServerApp.allow_origin=https://hub.example.test"
      ],
      "command": [
        "jupyterhub-singleuser"
      ],
      "env": [
        {
          "name": "JUPYTERHUB_SERVICE_URL",
          "value": "http://0.0.0.0:8888/user/marcus/"
        },
        {
          "name": "JUPYTERHUB_SERVICE_PREFIX",
          "value": "/user/marcus/"
        }
      ],
      "image": "example.azurecr.io/python:1",
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
        "cpu": 1.0,
        "memory": "2Gi"
      }
    }
    "#);

    // A choice changes the image and adds its env.
    let v = dry(&h, "marcus", r#"{"profile": "small", "image": "r"}"#, None).json();
    assert_eq!(container(&v)["image"], "example.azurecr.io/r:1");
    assert_eq!(env_of(container(&v), "R_LIBS_USER").unwrap()["value"], "/home/jovyan/R");

    // HTML form values arrive as one-element lists.
    let v = dry(&h, "marcus", r#"{"profile": ["large"]}"#, None).json();
    assert_eq!(v["profile"], "large");
    assert_eq!(container(&v)["resources"], json!({"cpu": 2.0, "memory": "4Gi"}));
    assert_eq!(v["start_timeout"], 25);

    // Group- and user-restricted profiles.
    let v = dry(&h, "marcus", r#"{"profile": "gpu"}"#, Some(r#"["students", "gpu-users"]"#)).json();
    assert_eq!(v["profile"], "gpu");
    assert_eq!(v["request"]["body"]["properties"]["workloadProfileName"], "gpu-t4");
    assert_eq!(v["start_timeout"], 900);
    let v = dry(&h, "root-admin", r#"{"profile": "gpu"}"#, None).json();
    assert_eq!(v["profile"], "gpu");
}

#[test]
fn every_rejection_path_exits_2_naming_the_option() {
    let h = with_profiles();
    let cases: &[(&str, Option<&str>, &str, &str)] = &[
        (r#"{"profile": "huge"}"#, None, "UnknownProfile", "huge"),
        (r#"{"profile": "gpu"}"#, None, "ProfileNotAllowed", "gpu"),
        (r#"{"profile": "gpu"}"#, Some(r#"["students"]"#), "ProfileNotAllowed", "gpu"),
        (r#"{"profile": "small", "image": "ubuntu:latest"}"#, None, "InvalidUserOption", "`image`"),
        (r#"{"image": "example.azurecr.io/evil:1"}"#, None, "InvalidUserOption", "`image`"),
        (r#"{"profile": "large", "image": "r"}"#, None, "UnknownUserOption", "`image`"),
        (r#"{"cpu": "16"}"#, None, "UnknownUserOption", "`cpu`"),
        (r#"{"memory": "64Gi"}"#, None, "UnknownUserOption", "`memory`"),
        (r#"{"env": {"LD_PRELOAD": "x"}}"#, None, "UnknownUserOption", "`env`"),
        (r#"{"args": ["--ServerApp.token="]}"#, None, "UnknownUserOption", "`args`"),
        (r#"{"profile": 3}"#, None, "InvalidUserOption", "`profile`"),
        (r#"{"profile": ["small", "large"]}"#, None, "InvalidUserOption", "`profile`"),
        (r#"{"profile": "small", "image": {"slug": "r"}}"#, None, "InvalidUserOption", "`image`"),
        (r#"["small"]"#, None, "InvalidUserOptions", "JSON object"),
        (r#"{"profile": "small"#, None, "InvalidUserOptions", "not JSON"),
        (r#"{}"#, Some(r#"{"gpu-users": true}"#), "InvalidUserGroups", "JSON list"),
    ];
    for (options, groups, code, names) in cases {
        let r = dry(&h, "marcus", options, *groups);
        assert_eq!(r.code, 2, "{options}: {}", r.stdout);
        let err = &r.json()["error"];
        assert_eq!(err["code"], *code, "{options}: {err}");
        assert!(err["message"].as_str().unwrap().contains(names), "{options}: {err}");
    }
    // The same through a real start: refused before any ARM request.
    let r = run(h.spawner("marcus", "").env("ACACTL_USER_OPTIONS", r#"{"image": "x"}"#).arg("start"));
    assert_eq!(r.code, 2);
    assert!(h.fake.arm_requests().is_empty());

    // Without profiles, any option is refused.
    let h = Harness::new();
    let r = dry(&h, "marcus", r#"{"profile": "small"}"#, None);
    assert_eq!(r.code, 2);
    assert_eq!(r.json()["error"]["code"], "UnknownUserOption");
    assert_eq!(dry(&h, "marcus", "{}", None).code, 0);
}

#[test]
fn no_profile_available_is_an_error() {
    let h = Harness::new();
    h.write_config(&format!(
        "{}profiles:\n  - slug: staff\n    groups: [staff]\n    server:\n      cpu: 1.0\n",
        server_block()
    ));
    let r = dry(&h, "marcus", "{}", None);
    assert_eq!(r.code, 2);
    assert_eq!(r.json()["error"]["code"], "NoProfileAvailable");
    assert_eq!(dry(&h, "marcus", "{}", Some(r#"["staff"]"#)).code, 0);
}

#[test]
fn invalid_profile_configuration_names_the_key_and_line() {
    let h = Harness::new();
    for (yaml, want) in [
        ("profiles:\n  - slug: a\n    server:\n      cpu: 0.3\n", "profiles.a.server.cpu"),
        ("profiles:\n  - slug: Bad Slug\n", "slug `Bad Slug`"),
        ("profiles:\n  - slug: a\n  - slug: a\n", "defined twice"),
        (
            "profiles:\n  - slug: a\n    options:\n      - name: profile\n        choices: [{slug: x}]\n",
            "other than `profile`",
        ),
        ("profiles:\n  - slug: a\n    options:\n      - name: img\n        choices: []\n", "at least one choice"),
        ("profiles:\n  - slug: a\n    server:\n      args: [--x]\n", "unknown field `args`"),
        ("profiles:\n  - slug: a\n    server:\n      env:\n        AZURE_CLIENT_SECRET: x\n", "never sets"),
        ("profiles:\n  - slug: a\n    default: true\n  - slug: b\n    default: true\n", "more than one"),
    ] {
        h.write_config(&format!("{}{yaml}", server_block()));
        let r = run(h.acactl().arg("profiles"));
        assert_eq!(r.code, 2, "{yaml}");
        let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(msg.contains(want), "{yaml}: {msg}");
        assert!(msg.contains("config.yaml:"), "{msg}");
    }
}

#[test]
fn profiles_command_lists_json_and_table_filtered_by_user() {
    let h = with_profiles();
    let r = run(h.acactl().args(["profiles", "--all"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // In the order configured, with each profile's effective image, size and timeout.
    insta::assert_json_snapshot!(r.json(), @r#"
    {
      "profiles": [
        {
          "cpu": 1.0,
          "default": true,
          "description": "For exercises",
          "display_name": "Small (1 CPU)",
          "groups": [],
          "image": "example.azurecr.io/notebook:1",
          "memory": "2Gi",
          "options": [
            {
              "choices": [
                {
                  "cpu": 1.0,
                  "display_name": "Python",
                  "image": "example.azurecr.io/python:1",
                  "memory": "2Gi",
                  "slug": "python"
                },
                {
                  "cpu": 1.0,
                  "display_name": "R",
                  "image": "example.azurecr.io/r:1",
                  "memory": "2Gi",
                  "slug": "r"
                }
              ],
              "default": "python",
              "display_name": "Image",
              "name": "image"
            }
          ],
          "slug": "small",
          "start_timeout": 20,
          "users": [],
          "workload_profile": null
        },
        {
          "cpu": 2.0,
          "default": false,
          "description": "",
          "display_name": "Large (2 CPU)",
          "groups": [],
          "image": "example.azurecr.io/notebook:1",
          "memory": "4Gi",
          "options": [],
          "slug": "large",
          "start_timeout": 25,
          "users": [],
          "workload_profile": null
        },
        {
          "cpu": 8.0,
          "default": false,
          "description": "",
          "display_name": "GPU (T4)",
          "groups": [
            "gpu-users"
          ],
          "image": "example.azurecr.io/gpu:1",
          "memory": "56Gi",
          "options": [],
          "slug": "gpu",
          "start_timeout": 900,
          "users": [
            "root-admin"
          ],
          "workload_profile": "gpu-t4"
        }
      ],
      "start_timeout": 20
    }
    "#);

    // For a user: only what they may use.
    let r = run(h.acactl().args(["profiles", "--user", "marcus"]));
    assert_eq!(r.json()["profiles"].as_array().unwrap().len(), 2);
    let r = run(h.acactl().args(["profiles", "--user", "marcus"]).env("ACACTL_USER_GROUPS", r#"["gpu-users"]"#));
    assert_eq!(r.json()["profiles"].as_array().unwrap().len(), 3);
    let r = run(h.acactl().arg("profiles").env("JUPYTERHUB_USER", "root-admin"));
    assert_eq!(r.json()["profiles"].as_array().unwrap().len(), 3);

    let r = run(h.acactl().args(["profiles", "-o", "table", "--all"]));
    assert_eq!(r.code, 0);
    insta::assert_snapshot!(r.stdout, @"
    SLUG   DEFAULT  IMAGE                          CPU  MEMORY  WORKLOAD PROFILE  TIMEOUT  OPTIONS         LIMITED TO
    small  yes      example.azurecr.io/notebook:1  1.0  2Gi     -                 20s      image=python|r  everyone
    large           example.azurecr.io/notebook:1  2.0  4Gi     -                 25s      -               everyone
    gpu             example.azurecr.io/gpu:1       8.0  56Gi    gpu-t4            900s     -               group:gpu-users,user:root-admin
    ");
    assert!(h.fake.arm_requests().is_empty(), "no network");
}

/// `profiles --selected` is start's own selection: the spawner sets its start timeout from it.
#[test]
fn profiles_selected_answers_what_start_would_choose() {
    let h = with_profiles();
    let selected = |options: &str, groups: Option<&str>| {
        let mut c = h.acactl();
        c.args(["profiles", "--selected", "--user", "marcus"]).env("ACACTL_USER_OPTIONS", options);
        if let Some(g) = groups {
            c.env("ACACTL_USER_GROUPS", g);
        }
        run(&mut c)
    };
    for (options, groups, want) in [
        ("{}", None, json!({"profile": "small", "choices": {"image": "python"}, "start_timeout": 20})),
        (r#"{"profile": ["large"]}"#, None, json!({"profile": "large", "choices": {}, "start_timeout": 25})),
        (r#"{"image": ["r"]}"#, None, json!({"profile": "small", "choices": {"image": "r"}, "start_timeout": 20})),
        (
            r#"{"profile": "gpu"}"#,
            Some(r#"["gpu-users"]"#),
            json!({"profile": "gpu", "choices": {}, "start_timeout": 900}),
        ),
    ] {
        let r = selected(options, groups);
        assert_eq!(r.code, 0, "{options}: {}", r.stderr);
        assert_eq!(r.json()["selected"], want, "{options}");
        let d = dry(&h, "marcus", options, groups);
        assert_eq!(d.json()["start_timeout"], want["start_timeout"], "{options}: as start --dry-run");
    }
    // Options start would refuse are start's error.
    let r = selected(r#"{"profile": "gpu"}"#, None);
    assert_eq!((r.code, r.json()["error"]["code"].as_str()), (2, Some("ProfileNotAllowed")));
    // Without it, the listing is unchanged.
    assert!(run(h.acactl().args(["profiles", "--user", "marcus"])).json().get("selected").is_none());
    assert!(h.fake.arm_requests().is_empty(), "no network");
}

const VOLUMES: &str = "  volumes:
    - name: home
      storage: homes
      mount_path: /home/jovyan
      sub_path: user
    - name: course
      storage: course-material
      mount_path: /home/jovyan/course
      read_only: true
    - name: scratch
      storage: scratch-nfs
      type: nfs-azure-file
      mount_path: /scratch
      sub_path: server
";

fn validate_body(h: &Harness, name: &str, body: &Value, storages: &[&str], profiles: &[(String, String)]) {
    let env_id = h.fake.environment_id();
    let mut wps = vec![("Consumption".to_string(), "Consumption".to_string())];
    wps.extend(profiles.iter().cloned());
    let ctx = fake_arm::validate::EnvCtx {
        environment_id: &env_id,
        workload_profiles: &wps,
        storages: storages.iter().map(|s| s.to_string()).collect(),
    };
    if let Err(e) = fake_arm::validate::validate_put(name, body, &ctx) {
        panic!("the fake's schema and ACA rules reject the body: {e:?}\n{body:#}");
    }
}

#[test]
fn volumes_render_one_safe_sub_path_per_user() {
    let h = Harness::new();
    h.write_config(&format!("{}{VOLUMES}", server_block()));
    let mut seen = std::collections::BTreeSet::new();
    for user in [
        "marcus",
        "Marcus",
        "Marcus.Müller@example.org",
        "..",
        "...",
        "%2e%2e",
        " spaced  user ",
        "ÄÖÜ",
        &"x".repeat(200),
    ] {
        let r = dry(&h, user, "{}", None);
        assert_eq!(r.code, 0, "{user}: {}", r.stderr);
        let v = r.json();
        let body = &v["request"]["body"];
        let mounts = container(&v)["volumeMounts"].as_array().unwrap().clone();
        assert_eq!(mounts.len(), 3);
        let home = mounts.iter().find(|m| m["volumeName"] == "home").unwrap();
        assert_eq!(home["mountPath"], "/home/jovyan");
        let sub = home["subPath"].as_str().unwrap();
        assert!(
            !sub.is_empty() && sub != "." && sub != ".." && !sub.contains('/') && !sub.contains(".."),
            "{user}: {sub}"
        );
        assert!(sub.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{sub}");
        assert!(seen.insert(sub.to_string()), "{user} shares {sub}");
        let course = mounts.iter().find(|m| m["volumeName"] == "course").unwrap();
        assert!(course.get("subPath").is_none(), "shared volume mounts the whole share");
        let scratch = mounts.iter().find(|m| m["volumeName"] == "scratch").unwrap();
        assert_ne!(scratch["subPath"], home["subPath"]);

        let vols = body["properties"]["template"]["volumes"].as_array().unwrap();
        let vol = |n: &str| vols.iter().find(|x| x["name"] == n).unwrap().clone();
        assert_eq!(vol("home")["storageType"], "AzureFile");
        assert_eq!(vol("home")["storageName"], "homes");
        assert_eq!(vol("home")["mountOptions"], "uid=1000,gid=100,dir_mode=0755,file_mode=0644");
        assert_eq!(vol("course")["mountOptions"], "uid=1000,gid=100,dir_mode=0755,file_mode=0644,ro");
        assert_eq!(vol("scratch")["storageType"], "NfsAzureFile");
        assert!(vol("scratch").get("mountOptions").is_none(), "NFS: no uid/gid");
        let name = v["name"].as_str().unwrap();
        validate_body(&h, name, body, &["homes", "course-material", "scratch-nfs"], &[]);
    }
    // The per-user directory is the same for every named server of a user; the per-server one differs.
    let a = dry(&h, "marcus", "{}", None).json();
    let mut c = h.acactl();
    let b = run(c.args(["start", "--dry-run", "--user", "marcus", "--server", "gpu"])).json();
    let sub = |v: &Value, n: &str| {
        container(v)["volumeMounts"].as_array().unwrap().iter().find(|m| m["volumeName"] == n).unwrap()["subPath"]
            .clone()
    };
    assert_eq!(sub(&a, "home"), sub(&b, "home"));
    assert_ne!(sub(&a, "scratch"), sub(&b, "scratch"));
    assert!(sub(&a, "home").as_str().unwrap().starts_with("marcus-"));
}

#[test]
fn invalid_volume_configuration_is_refused() {
    let h = Harness::new();
    for (yaml, want) in [
        ("  volumes:\n    - name: home.dir\n      storage: homes\n      mount_path: /home/jovyan\n", "no dots"),
        ("  volumes:\n    - name: home\n      storage: homes\n      mount_path: relative\n", "absolute"),
        ("  volumes:\n    - name: home\n      storage: homes\n      mount_path: /home/../etc\n", "without `..`"),
        (
            "  volumes:\n    - name: h\n      storage: homes\n      type: nfs-azure-file\n      mount_path: /h\n      mount_options: uid=1000\n",
            "NFS",
        ),
        (
            "  volumes:\n    - name: a\n      storage: homes\n      mount_path: /h\n    - name: b\n      storage: homes\n      mount_path: /h\n",
            "two volumes",
        ),
        ("  init_containers:\n    - name: pull\n      image: alpine\n      volume_mounts: [nothere]\n", "nothere"),
    ] {
        h.write_config(&format!("{}{yaml}", server_block()));
        let r = run(h.acactl().args(["start", "--dry-run", "--user", "u"]));
        assert_eq!(r.code, 2, "{yaml}");
        let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(msg.contains(want), "{yaml}: {msg}");
    }
}

fn azure_file(mode: &str) -> Value {
    json!({"azureFile": {"accountName": "st", "accountKey": "k", "shareName": "homes", "accessMode": mode}})
}

#[test]
fn start_checks_environment_storages_before_creating_anything() {
    let h = Harness::new();
    h.write_config(&format!("{}{VOLUMES}", server_block()));
    let r = run(h.spawner("marcus", "").arg("start"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    let err = &r.json()["error"];
    assert_eq!(err["code"], "StorageNotFound");
    assert!(err["message"].as_str().unwrap().contains("`homes`"), "{err}");
    assert!(h.fake.requests_matching("PUT", "containerApps").is_empty());

    h.fake.insert_storage("homes", azure_file("ReadWrite"));
    h.fake.insert_storage("course-material", azure_file("ReadOnly"));
    h.fake.insert_storage("scratch-nfs", azure_file("ReadWrite"));
    let r = run(h.spawner("marcus", "").arg("start"));
    assert_eq!(r.code, 2);
    assert_eq!(r.json()["error"]["code"], "StorageTypeMismatch");

    h.fake.insert_storage(
        "scratch-nfs",
        json!({"nfsAzureFile": {"server": "st.file.core.windows.net", "shareName": "/st/scratch", "accessMode": "ReadWrite"}}),
    );
    h.fake.insert_storage("homes", azure_file("ReadOnly"));
    let r = run(h.spawner("marcus", "").arg("start"));
    assert_eq!(r.code, 2);
    assert_eq!(r.json()["error"]["code"], "StorageReadOnly");
    assert!(h.fake.requests_matching("PUT", "containerApps").is_empty());

    h.fake.insert_storage("homes", azure_file("ReadWrite"));
    h.fake.reset_log();
    let r = run(h.spawner("marcus", "").arg("start"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(h.fake.requests_matching("GET", "/storages/").len(), 3, "one GET per storage");
    let name = r.json()["name"].as_str().unwrap().to_string();
    let body = h.fake.app_put_body(&name).unwrap();
    assert_eq!(body["properties"]["template"]["volumes"].as_array().unwrap().len(), 3);

    // stop never touches storage.
    h.fake.reset_log();
    let s = run(h.acactl().env("ACACTL_STATE", state_of(&r.json())).arg("stop"));
    assert_eq!(s.code, 0);
    assert!(h.fake.requests().iter().all(|q| !q.path.contains("/storages")));
}

#[test]
fn plain_start_makes_no_extra_arm_requests() {
    let h = with_profiles();
    let r = run(h.spawner("marcus", "").arg("start"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(h.fake.requests_matching("GET", "managedEnvironments").is_empty(), "no environment or storage reads");
}

#[test]
fn workload_profile_must_exist_and_fit() {
    let h = with_profiles();
    let gpu = |h: &Harness| {
        run(h
            .spawner("marcus", "")
            .env("ACACTL_USER_OPTIONS", r#"{"profile": "gpu"}"#)
            .env("ACACTL_USER_GROUPS", r#"["gpu-users"]"#)
            .arg("start"))
    };
    let r = gpu(&h);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let err = &r.json()["error"];
    assert_eq!(err["code"], "WorkloadProfileNotFound");
    assert!(err["message"].as_str().unwrap().contains("gpu-t4"), "{err}");
    assert!(h.fake.requests_matching("PUT", "containerApps").is_empty());

    // A profile named gpu-t4 whose type is too small for 8 vCPU / 56Gi.
    h.fake.add_workload_profile("gpu-t4", "D4");
    let r = gpu(&h);
    assert_eq!(r.code, 2);
    assert_eq!(r.json()["error"]["code"], "ResourcesExceedWorkloadProfile");
    assert!(h.fake.requests_matching("PUT", "containerApps").is_empty());

    let h = with_profiles();
    h.fake.add_workload_profile("gpu-t4", "Consumption-GPU-NC8as-T4");
    let r = gpu(&h);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let name = r.json()["name"].as_str().unwrap().to_string();
    let body = h.fake.app_put_body(&name).unwrap();
    assert_eq!(body["properties"]["workloadProfileName"], "gpu-t4");
    assert_eq!(body["properties"]["template"]["containers"][0]["resources"], json!({"cpu": 8.0, "memory": "56Gi"}));
    assert_eq!(h.fake.requests_matching("GET", "managedEnvironments").len(), 1, "one environment read");
}

#[test]
fn ingress_modes_render_bodies_the_fake_accepts() {
    let h = Harness::new();
    h.write_config(
        "server:\n  image: example.azurecr.io/notebook:1\n  ingress: external\n  allowed_ip_ranges: [203.0.113.0/24, 198.51.100.7]\n",
    );
    let v = dry(&h, "marcus", "{}", None).json();
    let ing = &v["request"]["body"]["properties"]["configuration"]["ingress"];
    assert_eq!(ing["external"], true);
    assert_eq!(ing["allowInsecure"], false);
    assert_eq!(ing["transport"], "http");
    assert_eq!(
        ing["ipSecurityRestrictions"],
        json!([
            {"name": "allow-0", "description": "acactl server.allowed_ip_ranges", "ipAddressRange": "203.0.113.0/24", "action": "Allow"},
            {"name": "allow-1", "description": "acactl server.allowed_ip_ranges", "ipAddressRange": "198.51.100.7/32", "action": "Allow"},
        ])
    );
    assert!(v["url"].as_str().unwrap().starts_with("https://"));
    validate_body(&h, v["name"].as_str().unwrap(), &v["request"]["body"], &[], &[]);

    h.write_config("server:\n  image: example.azurecr.io/notebook:1\n  ingress: internal-fqdn\n");
    let v = dry(&h, "marcus", "{}", None).json();
    let ing = &v["request"]["body"]["properties"]["configuration"]["ingress"];
    assert_eq!((ing["external"].clone(), ing["allowInsecure"].clone()), (json!(false), json!(false)));
    validate_body(&h, v["name"].as_str().unwrap(), &v["request"]["body"], &[], &[]);

    for (yaml, want) in [
        ("server:\n  ingress: external\n", "allowed_ip_ranges` is required"),
        ("server:\n  ingress: external\n  allowed_ip_ranges: [10.0.0.0/33]\n", "CIDR"),
        ("server:\n  allowed_ip_ranges: [10.0.0.0/8]\n", "only used with"),
    ] {
        h.write_config(yaml);
        let r = dry(&h, "marcus", "{}", None);
        assert_eq!(r.code, 2, "{yaml}");
        assert!(r.json()["error"]["message"].as_str().unwrap().contains(want), "{}", r.stdout);
    }
}

#[test]
fn init_containers_key_vault_secrets_and_patch() {
    let h = Harness::new();
    let config = [
        "registry:".to_string(),
        "  server: example.azurecr.io".into(),
        format!("  identity: {UAMI}"),
        "server:".into(),
        "  image: example.azurecr.io/notebook:1".into(),
        "  env:".into(),
        "    DB_PASSWORD:".into(),
        "      key_vault: https://kv1.vault.azure.net/secrets/db-password".into(),
        "  patch:".into(),
        "    properties:".into(),
        "      template:".into(),
        "        terminationGracePeriodSeconds: 60".into(),
        VOLUMES.trim_end().into(),
        "  init_containers:".into(),
        "    - name: gitpuller".into(),
        "      image: example.azurecr.io/gitpuller:1".into(),
        "      command: [gitpuller]".into(),
        "      args: [https://github.com/org/course, main, /home/jovyan/course-work]".into(),
        "      env:".into(),
        "        GIT_TOKEN:".into(),
        "          secret: ghp-very-secret-0123".into(),
        "      volume_mounts: [home]".into(),
    ];
    h.write_config(&(config.join("\n") + "\n"));
    let r = dry(&h, "marcus", "{}", None);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let v = r.json();
    let body = &v["request"]["body"];
    let init = &body["properties"]["template"]["initContainers"][0];
    assert_eq!(init["name"], "gitpuller");
    assert_eq!(init["volumeMounts"][0]["volumeName"], "home");
    assert_eq!(init["volumeMounts"][0]["subPath"], container(&v)["volumeMounts"][0]["subPath"]);
    assert_eq!(init["env"][0], json!({"name": "GIT_TOKEN", "secretRef": "init-gitpuller-git-token"}));
    let secrets = body["properties"]["configuration"]["secrets"].as_array().unwrap();
    let kv = secrets.iter().find(|s| s["name"] == "env-db-password").unwrap();
    assert_eq!(kv["keyVaultUrl"], "https://kv1.vault.azure.net/secrets/db-password");
    assert_eq!(kv["identity"], UAMI);
    assert!(kv.get("value").is_none());
    assert_eq!(env_of(container(&v), "DB_PASSWORD").unwrap()["secretRef"], "env-db-password");
    assert_eq!(body["properties"]["configuration"]["identitySettings"][0]["lifecycle"], "None");
    assert_eq!(body["properties"]["template"]["terminationGracePeriodSeconds"], 60);
    assert!(!r.all_output().contains("ghp-very-secret-0123"));
    validate_body(&h, v["name"].as_str().unwrap(), body, &["homes", "course-material", "scratch-nfs"], &[]);

    // A second Key Vault identity is attached too, and kept away from notebook code.
    let other = UAMI.replace("/pull", "/kv-reader");
    h.write_config(&format!(
        "server:\n  env:\n    DB_PASSWORD:\n      key_vault: https://kv1.vault.azure.net/secrets/db-password/0123abcd\n      identity: {other}\n"
    ));
    let v = dry(&h, "marcus", "{}", None).json();
    let body = &v["request"]["body"];
    assert_eq!(body["identity"]["type"], "UserAssigned");
    assert!(body["identity"]["userAssignedIdentities"].get(&other).is_some());
    assert_eq!(
        body["properties"]["configuration"]["identitySettings"],
        json!([{"identity": other, "lifecycle": "None"}])
    );
    validate_body(&h, v["name"].as_str().unwrap(), body, &[], &[]);

    for (yaml, code, want) in [
        (
            "server:\n  env:\n    X:\n      key_vault: https://kv1.vault.azure.net/secrets/x\n",
            "ConfigInvalid",
            "needs `identity`",
        ),
        (
            "server:\n  env:\n    X:\n      key_vault: http://kv1.vault.azure.net/keys/x\n      identity: /x\n",
            "ConfigInvalid",
            "Key Vault secret URL",
        ),
        ("server:\n  patch:\n    identity:\n      type: SystemAssigned\n", "ConfigInvalid", "/identity"),
        (
            "server:\n  patch:\n    properties:\n      configuration:\n        secrets: []\n",
            "ConfigInvalid",
            "acactl owns",
        ),
        ("server:\n  patch:\n    tags:\n      x: y\n", "ConfigInvalid", "/tags"),
        (
            "server:\n  patch:\n    properties:\n      template:\n        terminationGracePeriodSecond: 60\n",
            "InvalidPatch",
            "terminationGracePeriodSecond",
        ),
        (
            "server:\n  patch:\n    properties:\n      template:\n        scale:\n          cooldownPeriod: soon\n",
            "InvalidPatch",
            "cooldownPeriod",
        ),
        ("server:\n  patch: [1]\n", "ConfigInvalid", "merge patch"),
    ] {
        h.write_config(yaml);
        let r = dry(&h, "marcus", "{}", None);
        assert_eq!(r.code, 2, "{yaml}: {}", r.stdout);
        let err = &r.json()["error"];
        assert_eq!(err["code"], code, "{yaml}: {err}");
        assert!(err["message"].as_str().unwrap().contains(want), "{yaml}: {err}");
    }
}

#[test]
fn doctor_checks_every_storage_and_workload_profile_the_profiles_use() {
    let h = with_profiles();
    let mut cfg = std::fs::read_to_string(&h.config).unwrap();
    cfg = cfg.replace("  start_timeout: 20\n", &format!("  start_timeout: 20\n{VOLUMES}"));
    std::fs::write(&h.config, cfg).unwrap();
    h.fake.insert_storage("homes", azure_file("ReadWrite"));
    h.fake.insert_storage("course-material", azure_file("ReadOnly"));
    let r = run(h.acactl().args(["doctor", "-o", "json"]));
    assert_eq!(r.code, 3, "{}", r.stdout);
    let checks = r.json()["checks"].as_array().unwrap().clone();
    let of = |name: &str| -> Vec<Value> { checks.iter().filter(|c| c["check"] == name).cloned().collect() };
    let storages = of("storage");
    assert_eq!(storages.len(), 3, "{storages:?}");
    assert_eq!(storages.iter().filter(|c| c["status"] == "ok").count(), 2);
    let bad = storages.iter().find(|c| c["status"] == "failed").unwrap();
    assert!(bad["detail"].as_str().unwrap().contains("scratch-nfs"), "{bad}");
    let wp = of("workload profile");
    assert_eq!(wp.len(), 1, "{wp:?}");
    assert_eq!(wp[0]["status"], "failed");
    assert!(wp[0]["detail"].as_str().unwrap().contains("gpu-t4"), "{}", wp[0]);

    h.fake.insert_storage(
        "scratch-nfs",
        json!({"nfsAzureFile": {"server": "st.file.core.windows.net", "shareName": "/st/scratch", "accessMode": "ReadWrite"}}),
    );
    h.fake.add_workload_profile("gpu-t4", "Consumption-GPU-NC8as-T4");
    let r = run(h.acactl().args(["doctor", "-o", "json"]));
    let checks = r.json()["checks"].as_array().unwrap().clone();
    for c in checks.iter().filter(|c| c["check"] == "storage" || c["check"] == "workload profile") {
        assert_eq!(c["status"], "ok", "{c}");
    }
}

#[test]
fn a_failing_init_container_fails_the_start_fast_and_cleans_up() {
    let h = Harness::with(fake_arm::Options { provision_polls: 2, failure_polls: 200, ..Default::default() }, "");
    h.write_config(
        "server:\n  image: example.azurecr.io/notebook:1\n  start_timeout: 30\n  init_containers:\n    - name: gitpuller\n      image: example.azurecr.io/gitpuller:broken\n",
    );
    h.fake.set_behaviour("gitpuller:broken", fake_arm::Behaviour::ImagePullFailure);
    let t = std::time::Instant::now();
    let r = run(h.spawner("marcus", "").arg("start"));
    assert_eq!(r.code, 3, "{}", r.stderr);
    let err = &r.json()["error"];
    assert_eq!(err["code"], "ImagePullFailed", "{err}");
    assert!(err["message"].as_str().unwrap().contains("gitpuller: ImagePullBackOff"), "{err}");
    assert!(t.elapsed() < std::time::Duration::from_secs(15), "failed fast, not at the timeout");
    let left: Vec<_> =
        h.fake.apps().into_iter().filter(|a| a["properties"]["provisioningState"] != "Deleting").collect();
    assert!(left.is_empty(), "{left:?}");

    // A healthy init container completes and the server starts.
    let h = Harness::new();
    h.write_config(
        "server:\n  image: example.azurecr.io/notebook:1\n  start_timeout: 20\n  init_containers:\n    - name: gitpuller\n      image: example.azurecr.io/gitpuller:1\n",
    );
    let r = run(h.spawner("marcus", "").arg("start"));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn https_ingress_modes_wait_for_jupyter_at_the_fqdn_arm_assigned() {
    // The fake's ingress speaks plain http only, so the https readiness check cannot succeed here;
    // what matters is where acactl looks: https://<app>.internal.<env default domain>/<prefix>api.
    let h = Harness::new();
    h.write_config("server:\n  image: example.azurecr.io/notebook:1\n  ingress: internal-fqdn\n  start_timeout: 10\n");
    let r = run(h.spawner("marcus", "").arg("start"));
    assert_eq!(r.code, 3, "{}", r.stderr);
    let err = &r.json()["error"];
    assert_eq!(err["code"], "StartTimeout", "{err}");
    let name = dry(&h, "marcus", "{}", None).json()["name"].as_str().unwrap().to_string();
    let want = format!("https://{name}.internal.{}/user/marcus/api", h.fake.default_domain());
    assert!(err["message"].as_str().unwrap().contains(&want), "{err}\nwanted {want}");
    let left: Vec<_> =
        h.fake.apps().into_iter().filter(|a| a["properties"]["provisioningState"] != "Deleting").collect();
    assert!(left.is_empty(), "{left:?}");
}
