//! Test harness: a fake ARM, a private HOME/cache, a config pointing at the fake, and builders
//! for acactl invocations with the environment a JupyterHub exec spawner would give it.

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use fake_arm::{FakeArm, Options};
use serde_json::Value;

pub const TOKEN: &str = "hub-issued-api-token-0123456789abcdef";
pub const HUB_SECRET: &str = "the-hubs-own-client-secret-value";

pub struct Harness {
    pub fake: FakeArm,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Harness {
    pub fn new() -> Harness {
        Self::with(Options { provision_polls: 2, failure_polls: 3, ..Options::default() }, "")
    }

    /// `extra` is appended to the generated config (top-level YAML).
    pub fn with(opts: Options, extra: &str) -> Harness {
        let fake = FakeArm::start(opts);
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.yaml");
        let h = Harness { fake, dir, config };
        h.write_config(extra);
        h
    }

    pub fn write_config(&self, extra: &str) {
        let f = &self.fake;
        let mut text = format!(
            "hub_id: test\nsubscription_id: {}\nresource_group: {}\nenvironment: {}\nlocation: {}\n\
             cloud: custom\ncloud_endpoints:\n  resource_manager: {base}\n  authority_host: {base}\n  token_scope: https://management.azure.com/.default\n\
             ca_bundle: {}\ncache_dir: {}\n",
            f.subscription(),
            f.resource_group(),
            f.environment_name(),
            f.location(),
            f.ca_pem_path().display(),
            self.dir.path().join("cache").display(),
            base = f.base_url(),
        );
        if !extra.contains("credential:") {
            text.push_str("credential:\n  type: managed-identity\n");
        }
        if !extra.contains("hub:") {
            text.push_str("hub:\n  public_url: https://Hub.Example.test/\n  connect_url: http://jupyterhub\n");
        }
        if !extra.contains("server:") {
            text.push_str("server:\n  image: example.azurecr.io/notebook:1\n  start_timeout: 20\n");
        }
        if !extra.contains("arm:") {
            text.push_str("arm:\n  poll_interval_ms: 30\n  retry_base_ms: 10\n  retry_max_total: 3\n  stop_timeout: 10\n  request_timeout: 5\n");
        }
        text.push_str(extra);
        std::fs::write(&self.config, text).unwrap();
    }

    /// acactl with a clean environment: the hub's identity (Container Apps managed identity pointing
    /// at the fake), HOME in the temp dir, and HTTP_PROXY at the fake ingress (how the readiness
    /// probe reaches `http://<app-name>` without DNS).
    pub fn acactl(&self) -> Command {
        let mut c = Command::cargo_bin("acactl").unwrap();
        c.env_clear().timeout(std::time::Duration::from_secs(60));
        for (k, v) in self.base_env() {
            c.env(k, v);
        }
        c
    }

    pub fn base_env(&self) -> Vec<(String, String)> {
        vec![
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".into(), self.dir.path().display().to_string()),
            ("ACACTL_CONFIG".into(), self.config.display().to_string()),
            ("IDENTITY_ENDPOINT".into(), self.fake.identity_endpoint()),
            ("IDENTITY_HEADER".into(), self.fake.identity_header()),
            ("HTTP_PROXY".into(), self.fake.ingress_proxy_url()),
            ("NO_PROXY".into(), "127.0.0.1,localhost".into()),
        ]
    }

    /// The spawner environment as a plain std Command (for signalling the child).
    pub fn spawner_std(&self, user: &str, server: &str) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("acactl"));
        c.env_clear();
        for (k, v) in self.base_env().into_iter().chain(spawner_env(user, server)) {
            c.env(k, v);
        }
        c
    }

    /// acactl as the exec spawner runs it for `user`/`server`: the hub's environment merged with
    /// get_env(), ACACTL_FORWARD naming the get_env() keys.
    pub fn spawner(&self, user: &str, server: &str) -> Command {
        let mut c = self.acactl();
        for (k, v) in spawner_env(user, server) {
            c.env(k, v);
        }
        // The hub's own secrets are in its environment; acactl must not forward them.
        c.env("AZURE_CLIENT_SECRET", HUB_SECRET);
        c.env("JPY_COOKIE_SECRET", "cookie-secret-of-the-hub-0000");
        c
    }

    pub fn app_name(&self, user: &str) -> String {
        self.fake
            .apps()
            .iter()
            .find(|a| a["tags"]["acactl-user"] == user)
            .and_then(|a| a["name"].as_str().map(String::from))
            .unwrap()
    }
}

pub fn spawner_env(user: &str, server: &str) -> Vec<(String, String)> {
    let quoted: String = user
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let prefix = if server.is_empty() { format!("/user/{quoted}/") } else { format!("/user/{quoted}/{server}/") };
    let mut env = vec![
        ("JUPYTERHUB_API_TOKEN", TOKEN.to_string()),
        ("JPY_API_TOKEN", TOKEN.to_string()),
        ("JUPYTERHUB_CLIENT_ID", format!("jupyterhub-user-{quoted}")),
        ("JUPYTERHUB_HOST", String::new()),
        ("JUPYTERHUB_OAUTH_CALLBACK_URL", format!("{prefix}oauth_callback")),
        ("JUPYTERHUB_OAUTH_SCOPES", "[]".into()),
        ("JUPYTERHUB_USER", user.to_string()),
        ("JUPYTERHUB_SERVER_NAME", server.to_string()),
        ("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api".into()),
        ("JUPYTERHUB_ACTIVITY_URL", format!("http://127.0.0.1:8081/hub/api/users/{quoted}/activity")),
        ("JUPYTERHUB_BASE_URL", "/".into()),
        ("JUPYTERHUB_SERVICE_PREFIX", prefix.clone()),
        ("JUPYTERHUB_SERVICE_URL", format!("http://127.0.0.1:0{prefix}")),
        ("JUPYTERHUB_PUBLIC_URL", String::new()),
        ("JUPYTERHUB_PUBLIC_HUB_URL", String::new()),
    ];
    let mut names: Vec<String> = env.iter().map(|(k, _)| k.to_string()).collect();
    // A listed-but-forbidden variable: must still never reach the container.
    names.push("AZURE_CLIENT_SECRET".into());
    names.push("JPY_COOKIE_SECRET".into());
    env.push(("ACACTL_FORWARD", names.join(",")));
    env.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        let lines: Vec<&str> = self.stdout.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "stdout must be exactly one JSON line, got: {:?}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

pub fn run(cmd: &mut Command) -> Run {
    let Output { status, stdout, stderr } = cmd.output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into(),
        stderr: String::from_utf8_lossy(&stderr).into(),
    }
}

/// `state` JSON from a start's output, for ACACTL_STATE.
pub fn state_of(start: &Value) -> String {
    start["state"].to_string()
}

/// Name and tags acactl would give `user`'s default server (from a dry run).
pub fn dry_run_identity(h: &Harness, user: &str) -> (String, Vec<(String, String)>) {
    dry_run_identity_of(h, user, "")
}

/// Name and tags acactl would give (user, server) (from a dry run).
pub fn dry_run_identity_of(h: &Harness, user: &str, server: &str) -> (String, Vec<(String, String)>) {
    let out = run(h.acactl().args(["start", "--dry-run", "--user", user, "--server", server])).json();
    let tags = out["request"]["body"]["tags"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    (out["name"].as_str().unwrap().to_string(), tags)
}

/// Make `user`'s default-server app behave like `b` (the fake matches exact app names).
pub fn behave(h: &Harness, user: &str, b: fake_arm::Behaviour) {
    let (name, _) = dry_run_identity(h, user);
    h.fake.set_behaviour(&name, b);
}

/// Put an app into the fake as if acactl had created it for `user` (its name and tags), in `state`.
pub fn insert_own_app(h: &Harness, user: &str, state: &str) -> String {
    let (name, tags) = dry_run_identity(h, user);
    let app = tags.iter().fold(fake_arm::InsertApp::new(&name).state(state), |app, (k, v)| app.tag(k, v));
    h.fake.insert_app(app).unwrap();
    name
}

/// Snapshot filters, bound until the guard drops: the `exact` values first, then the harness's own
/// paths and addresses, then whatever differs from run to run (times, ports, temp paths, ...).
/// Patterns accept both compact and pretty JSON.
pub fn snapshot_filters(h: Option<&Harness>, exact: &[(&str, &str)]) -> insta::internals::SettingsBindDropGuard {
    let mut s = insta::Settings::clone_current();
    for (value, name) in exact {
        s.add_filter(&escape(value), *name);
    }
    if let Some(h) = h {
        s.add_filter(&escape(&h.dir.path().display().to_string()), "[HOME]");
        s.add_filter(&escape(&h.fake.base_url()), "[ARM]");
        s.add_filter(&escape(&h.fake.ingress_proxy_url()), "[INGRESS]");
    }
    s.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]");
    s.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    s.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIME]");
    s.add_filter(r#"("revisionSuffix": ?)"[a-z0-9]+""#, r#"$1"[SUFFIX]""#);
    s.add_filter(r#"("age_seconds": ?)\d+"#, "$1[AGE]");
    s.add_filter(r"\(age \d+ s\)", "(age [AGE] s)");
    s.add_filter(r"younger \(\d+ s\)", "younger ([AGE] s)");
    // The hub-wide budget refills with time; the view file is named after the ARM endpoint.
    s.add_filter(r"(reads|writes|deletes) \d+/", "$1 [N]/");
    s.add_filter(r"view-[0-9a-f]{16}\.json", "view-[HASH].json");
    // Ids the fake makes up per request, and process ids.
    s.add_filter(r"(Trace ID|Correlation ID|containerappOperation\w+)([:/] ?)[0-9a-f-]{36}", "$1$2[GUID]");
    s.add_filter(r"\bpid \d+", "pid [PID]");
    s.add_filter(r"\(\d+(\.\d+)? s needed\)", "([N] s needed)");
    s.bind_to_scope()
}

/// One more filter (a regex) on top of those bound, until the guard drops.
pub fn also_filter(pattern: &str, replacement: &str) -> insta::internals::SettingsBindDropGuard {
    let mut s = insta::Settings::clone_current();
    s.add_filter(pattern, replacement);
    s.bind_to_scope()
}

/// `s` as a regex matching itself.
fn escape(s: &str) -> String {
    s.chars().map(|c| if "\\.+*?()|[]{}^$#&-~/".contains(c) { format!("\\{c}") } else { c.to_string() }).collect()
}
