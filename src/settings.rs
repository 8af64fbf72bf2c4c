//! Configuration file + environment + flags -> validated `Settings`, resolved once
//! (flags > env > file). Errors name the key path and the line, and say what is allowed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::naming;

pub const DEFAULT_API_VERSION: &str = "2026-07-01";
pub const DEFAULT_IMAGE: &str = "quay.io/jupyter/base-notebook:latest";

// ---------------------------------------------------------------------------------------------
// The file, as written by the operator. Every key is optional here; `resolve` decides what is
// required, so env-only setups (the Python ACA spawner's variables) work without a file.

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    hub_id: Option<String>,
    subscription_id: Option<String>,
    resource_group: Option<String>,
    environment: Option<String>,
    location: Option<String>,
    cloud: Option<CloudName>,
    cloud_endpoints: Option<CloudEndpointsFile>,
    ca_bundle: Option<PathBuf>,
    tls_roots: Option<TlsRoots>,
    api_version: Option<String>,
    credential: Option<CredentialFile>,
    cache_dir: Option<PathBuf>,
    #[serde(default)]
    hub: HubFile,
    registry: Option<RegistryFile>,
    #[serde(default)]
    server: ServerFile,
    #[serde(default)]
    arm: ArmFile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum CloudName {
    AzureCloud,
    AzureChinaCloud,
    AzureUSGovernment,
    #[serde(rename = "custom")]
    Custom,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloudEndpointsFile {
    resource_manager: Option<String>,
    authority_host: Option<String>,
    token_scope: Option<String>,
}

/// Which root certificates verify TLS (uv's choice: bundled by default, the OS store on request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsRoots {
    /// Mozilla's roots compiled into acactl: no file system scan per process.
    Bundled,
    /// The operating system's store (/etc/ssl/certs), e.g. with a corporate CA installed there.
    System,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialFile {
    #[serde(rename = "type")]
    kind: Option<CredentialKind>,
    client_id: Option<String>,
    tenant_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKind {
    Auto,
    WorkloadIdentity,
    ManagedIdentity,
    ClientSecret,
    AzureCli,
    Imds,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HubFile {
    public_url: Option<String>,
    connect_url: Option<String>,
    allow_origin: Option<String>,
    // For `status` and `gc` (the Hub REST API).
    api_url: Option<String>,
    api_token: Option<String>,
    http_timeout: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    server: Option<String>,
    identity: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerFile {
    image: Option<String>,
    cpu: Option<f64>,
    memory: Option<String>,
    command: Option<Vec<String>>,
    args: Option<Vec<String>>,
    target_port: Option<u16>,
    ingress: Option<IngressKind>,
    workload_profile: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, EnvValueFile>,
    start_timeout: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum EnvValueFile {
    Plain(String),
    Secret(SecretValueFile),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretValueFile {
    secret: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IngressKind {
    /// Reachable only inside the managed environment, as `http://<app-name>`.
    Internal,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArmFile {
    request_timeout: Option<u64>,
    max_attempts: Option<u32>,
    retry_base_ms: Option<u64>,
    retry_max_total: Option<u64>,
    poll_interval_ms: Option<u64>,
    stop_timeout: Option<u64>,
}

// ---------------------------------------------------------------------------------------------
// The validated result.

#[derive(Debug, Clone)]
pub struct Settings {
    pub hub_id: String,
    pub subscription: String,
    pub resource_group: String,
    pub environment_id: String,
    pub location: Option<String>,
    pub cloud: Cloud,
    pub ca_bundle: Option<PathBuf>,
    pub tls_roots: TlsRoots,
    pub api_version: String,
    pub credential: CredentialSettings,
    pub cache_dir: Option<PathBuf>,
    pub hub: HubSettings,
    pub registry: Option<Registry>,
    pub server: ServerTemplate,
    pub arm: ArmSettings,
}

#[derive(Debug, Clone)]
pub struct Cloud {
    pub name: String,
    /// Without a trailing slash.
    pub resource_manager: String,
    pub authority_host: String,
    pub token_scope: String,
}

#[derive(Debug, Clone)]
pub struct CredentialSettings {
    pub kind: CredentialKind,
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct HubSettings {
    pub public_url: Option<String>,
    pub connect_url: Option<String>,
    pub allow_origin: AllowOrigin,
    /// The Hub REST API base, e.g. `http://jupyterhub:8081/hub/api` (gc, status).
    pub api_url: Option<String>,
    /// A service token with list:users, read:servers, admin:server_state. Only from the file or
    /// ACACTL_HUB_API_TOKEN: JUPYTERHUB_API_TOKEN is one user's server token in a spawner context.
    pub api_token: Option<String>,
    /// The hub's Spawner.http_timeout (part of gc's default grace period).
    pub http_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowOrigin {
    /// The hub's public origin, when known.
    Auto,
    Off,
    Origin(String),
}

#[derive(Debug, Clone)]
pub struct Registry {
    pub server: String,
    /// Resource id of the user-assigned identity used for pulls.
    pub identity: String,
}

#[derive(Debug, Clone)]
pub struct ServerTemplate {
    pub image: String,
    pub cpu: f64,
    pub memory: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub target_port: u16,
    pub ingress: IngressKind,
    pub workload_profile: Option<String>,
    pub env: Vec<(String, EnvValue)>,
    pub start_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Plain(String),
    Secret(String),
}

#[derive(Debug, Clone)]
pub struct ArmSettings {
    pub request_timeout: Duration,
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub retry_max_total: Duration,
    pub poll_interval: Duration,
    pub stop_timeout: Duration,
}

impl ArmSettings {
    /// How long to wait before polling a long-running operation again: ARM's Retry-After, but
    /// never less than `poll_interval` (a `Retry-After: 0` must not turn into a busy loop).
    pub fn lro_wait(&self, retry_after: Option<Duration>) -> Duration {
        retry_after.unwrap_or_default().max(self.poll_interval)
    }
}

/// What the environment contributes; passed in so resolution is a pure function.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
    /// In batch mode (batchspawner runs submit with only `get_env()` plus `env_keep`), the
    /// forward list is every variable present; the deny-list still applies.
    fn batch_forward(&self) -> Option<String> {
        None
    }
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

/// The process environment for `acactl batch submit`.
pub struct BatchEnv;

impl Env for BatchEnv {
    fn var(&self, name: &str) -> Option<String> {
        ProcessEnv.var(name)
    }
    fn batch_forward(&self) -> Option<String> {
        let skip = |n: &str| n.starts_with("LC_") || ["LANG", "TERM", "SHLVL", "_"].contains(&n);
        Some(std::env::vars().map(|(k, _)| k).filter(|k| !skip(k)).collect::<Vec<_>>().join(","))
    }
}

impl Env for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned().filter(|v| !v.is_empty())
    }
}

/// Find the configuration file: `--config`, `$ACACTL_CONFIG`, the user config dir, /etc/acactl.
pub fn find_config(flag: Option<&Path>, env: &dyn Env) -> Result<Option<PathBuf>> {
    if let Some(p) = flag {
        return exists_or_error(p, "--config");
    }
    if let Some(p) = env.var("ACACTL_CONFIG") {
        return exists_or_error(Path::new(&p), "ACACTL_CONFIG");
    }
    let user = directories::ProjectDirs::from("", "", "acactl").map(|d| d.config_dir().join("config.yaml"));
    for candidate in user.into_iter().chain([PathBuf::from("/etc/acactl/config.yaml")]) {
        if candidate.is_file() {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

fn exists_or_error(p: &Path, from: &str) -> Result<Option<PathBuf>> {
    if p.is_file() {
        Ok(Some(p.to_path_buf()))
    } else {
        Err(Error::config(format!("configuration file {} (from {from}) does not exist", p.display())))
    }
}

/// Read, parse and validate. `overrides` are the command-line flags.
pub fn load(global: &GlobalArgs, env: &dyn Env) -> Result<Settings> {
    let path = find_config(global.config.as_deref(), env)?;
    let text = match &path {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| Error::config(format!("cannot read configuration file {}: {e}", p.display())))?,
        None => String::new(),
    };
    resolve(path, &text, global, env)
}

pub fn resolve(path: Option<PathBuf>, text: &str, flags: &GlobalArgs, env: &dyn Env) -> Result<Settings> {
    let origin = path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "<no config file>".into());
    let file: ConfigFile = parse(text, &origin)?;
    let ctx = Ctx { origin: &origin, text };

    let pick = |flag: &Option<String>, env_names: &[&str], file: &Option<String>| -> Option<String> {
        flag.clone()
            .or_else(|| env_names.iter().find_map(|n| env.var(n)))
            .or_else(|| file.clone())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };

    let hub_id = pick(&None, &["ACACTL_HUB_ID"], &file.hub_id).ok_or_else(|| {
        ctx.err("hub_id", "is required: a short id unique among hubs sharing the resource group (e.g. `hub_id: prod1`); it goes into app names and ownership tags and is never derived")
    })?;
    naming::validate_hub_id(&hub_id).map_err(|why| ctx.err("hub_id", &why))?;

    let subscription =
        pick(&flags.subscription, &["AZURE_SUBSCRIPTION_ID"], &file.subscription_id).ok_or_else(|| {
            ctx.err("subscription_id", "is required (or set AZURE_SUBSCRIPTION_ID, or pass --subscription)")
        })?;
    if !is_guid(&subscription) {
        return Err(ctx.err(
            "subscription_id",
            &format!("`{subscription}` is not a subscription id (a GUID like 00000000-0000-0000-0000-000000000000)"),
        ));
    }
    let resource_group =
        pick(&flags.resource_group, &["AZURE_RESOURCE_GROUP"], &file.resource_group).ok_or_else(|| {
            ctx.err("resource_group", "is required (or set AZURE_RESOURCE_GROUP, or pass --resource-group)")
        })?;
    if resource_group.len() > 90
        || !resource_group.chars().all(|c| c.is_alphanumeric() || "-_.()".contains(c))
        || resource_group.ends_with('.')
    {
        return Err(ctx.err("resource_group", &format!("`{resource_group}` is not a valid resource group name (1-90 letters, digits, `-_.()`, not ending in `.`)")));
    }
    let environment =
        pick(&flags.environment, &["AZURE_ACA_ENVIRONMENT_NAME"], &file.environment).ok_or_else(|| {
            ctx.err(
                "environment",
                "is required: the managed environment's name or full resource id (or set AZURE_ACA_ENVIRONMENT_NAME)",
            )
        })?;
    let environment_id =
        environment_id(&environment, &subscription, &resource_group).map_err(|why| ctx.err("environment", &why))?;

    let location = pick(&None, &["AZURE_REGION"], &file.location).map(|l| l.to_lowercase().replace(' ', ""));
    if let Some(l) = &location {
        if !l.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ctx.err("location", &format!("`{l}` is not an Azure region name (e.g. westeurope)")));
        }
    }

    let cloud = resolve_cloud(&file, &ctx)?;
    let api_version = file.api_version.clone().unwrap_or_else(|| DEFAULT_API_VERSION.to_string());
    if !is_api_version(&api_version) {
        return Err(ctx
            .err("api_version", &format!("`{api_version}` is not an api-version (YYYY-MM-DD or YYYY-MM-DD-preview)")));
    }
    if let Some(ca) = &file.ca_bundle {
        if !ca.is_file() {
            return Err(ctx.err(
                "ca_bundle",
                &format!("{} does not exist (a PEM file with extra CA certificates)", ca.display()),
            ));
        }
    }

    let cred = file.credential.unwrap_or_default();
    let credential = CredentialSettings {
        kind: cred.kind.unwrap_or(CredentialKind::Auto),
        client_id: cred.client_id,
        tenant_id: cred.tenant_id,
    };

    let hub = HubSettings {
        public_url: file.hub.public_url.clone().filter(|s| !s.is_empty()),
        connect_url: pick(&None, &["JUPYTERHUB_HUB_CONNECT_URL"], &file.hub.connect_url)
            .map(|s| s.trim_end_matches('/').to_string()),
        allow_origin: match file.hub.allow_origin.as_deref().map(str::trim) {
            None | Some("auto") => AllowOrigin::Auto,
            Some("off") => AllowOrigin::Off,
            Some(o) => AllowOrigin::Origin(naming::origin_of(o).ok_or_else(|| {
                ctx.err(
                    "hub.allow_origin",
                    &format!("`{o}` is not `auto`, `off` or an origin like https://hub.example.org"),
                )
            })?),
        },
        api_url: pick(&None, &["ACACTL_HUB_API_URL"], &file.hub.api_url).map(|s| s.trim_end_matches('/').to_string()),
        api_token: pick(&None, &["ACACTL_HUB_API_TOKEN"], &file.hub.api_token),
        http_timeout: Duration::from_secs(file.hub.http_timeout.unwrap_or(30)),
    };
    if let Some(t) = &hub.api_token {
        crate::output::register_secret(t);
    }
    for (key, value) in
        [("hub.public_url", &hub.public_url), ("hub.connect_url", &hub.connect_url), ("hub.api_url", &hub.api_url)]
    {
        if let Some(v) = value {
            if naming::origin_of(v).is_none() {
                return Err(ctx.err(key, &format!("`{v}` is not an http(s) URL")));
            }
        }
    }

    let registry_server = pick(&None, &["AZURE_ACR_SERVER"], &file.registry.as_ref().and_then(|r| r.server.clone()));
    let registry_identity =
        pick(&None, &["AZURE_ACR_IDENTITY"], &file.registry.as_ref().and_then(|r| r.identity.clone()));
    let registry = match (registry_server, registry_identity) {
        (None, None) => None,
        (Some(server), Some(identity)) => {
            if !is_uami_id(&identity) {
                return Err(ctx.err("registry.identity", &format!("`{identity}` is not a user-assigned identity resource id (/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>)")));
            }
            Some(Registry { server: server.to_lowercase(), identity })
        }
        (Some(_), None) => return Err(ctx.err("registry.identity", "is required with registry.server: the user-assigned identity (AcrPull only) used for image pulls (or AZURE_ACR_IDENTITY)")),
        (None, Some(_)) => return Err(ctx.err("registry.server", "is required with registry.identity (e.g. myregistry.azurecr.io, or AZURE_ACR_SERVER)")),
    };

    let server = resolve_server(file.server, &ctx)?;

    let a = file.arm;
    let arm = ArmSettings {
        request_timeout: Duration::from_secs(a.request_timeout.unwrap_or(30).max(1)),
        max_attempts: a.max_attempts.unwrap_or(6).clamp(1, 20),
        retry_base: Duration::from_millis(a.retry_base_ms.unwrap_or(500)),
        retry_max_total: Duration::from_secs(a.retry_max_total.unwrap_or(60)),
        poll_interval: Duration::from_millis(a.poll_interval_ms.unwrap_or(2000)),
        stop_timeout: Duration::from_secs(a.stop_timeout.unwrap_or(120)),
    };

    Ok(Settings {
        hub_id,
        subscription,
        resource_group,
        environment_id,
        location,
        cloud,
        ca_bundle: file.ca_bundle,
        tls_roots: file.tls_roots.unwrap_or(TlsRoots::Bundled),
        api_version,
        credential,
        cache_dir: file
            .cache_dir
            .or_else(|| directories::ProjectDirs::from("", "", "acactl").map(|d| d.cache_dir().to_path_buf())),
        hub,
        registry,
        server,
        arm,
    })
}

fn resolve_server(s: ServerFile, ctx: &Ctx) -> Result<ServerTemplate> {
    let image = s.image.unwrap_or_else(|| DEFAULT_IMAGE.to_string());
    if image.trim().is_empty() || image.chars().any(char::is_whitespace) {
        return Err(ctx.err("server.image", "must be an image reference like myregistry.azurecr.io/notebook:2026.11"));
    }
    let cpu = s.cpu.unwrap_or(0.5);
    let memory = s.memory.unwrap_or_else(|| format!("{}Gi", trim_float(cpu * 2.0)));
    naming::validate_resources(cpu, &memory, s.workload_profile.as_deref()).map_err(|why| {
        let key = if why.starts_with("memory") { "server.memory" } else { "server.cpu" };
        ctx.err(key, &why)
    })?;
    let command = s.command.unwrap_or_else(|| vec!["jupyterhub-singleuser".to_string()]);
    let args = s.args.unwrap_or_default();
    if command.is_empty() {
        return Err(ctx.err("server.command", "must not be empty: acactl appends arguments (allow_origin), and arguments without a command replace the image's CMD and break it; use [\"jupyterhub-singleuser\"] or your image's start script"));
    }
    let target_port = s.target_port.unwrap_or(8888);
    if target_port == 0 {
        return Err(
            ctx.err("server.target_port", "must be 1-65535 (the port jupyterhub-singleuser listens on, e.g. 8888)")
        );
    }
    let mut env = Vec::new();
    for (name, value) in s.env {
        naming::validate_env_name(&name).map_err(|why| ctx.err(&format!("server.env.{name}"), &why))?;
        if naming::is_denied_env(&name) {
            return Err(ctx.err(&format!("server.env.{name}"), "names a variable acactl never sets in a user container (the hub's own credentials and secrets, PATH, HOME)"));
        }
        env.push((
            name,
            match value {
                EnvValueFile::Plain(v) => EnvValue::Plain(v),
                EnvValueFile::Secret(s) => EnvValue::Secret(s.secret),
            },
        ));
    }
    let start_timeout = Duration::from_secs(s.start_timeout.unwrap_or(300));
    if start_timeout < Duration::from_secs(10) || start_timeout > Duration::from_secs(3600) {
        return Err(ctx.err(
            "server.start_timeout",
            "must be 10-3600 seconds, and below the hub's Spawner.start_timeout minus the exec spawner's term_grace",
        ));
    }
    Ok(ServerTemplate {
        image,
        cpu,
        memory,
        command,
        args,
        target_port,
        ingress: s.ingress.unwrap_or(IngressKind::Internal),
        workload_profile: s.workload_profile,
        env,
        start_timeout,
    })
}

fn resolve_cloud(file: &ConfigFile, ctx: &Ctx) -> Result<Cloud> {
    let name = file.cloud.unwrap_or(CloudName::AzureCloud);
    let known = |name: &str, arm: &str, authority: &str, scope: &str| Cloud {
        name: name.into(),
        resource_manager: arm.into(),
        authority_host: authority.into(),
        token_scope: scope.into(),
    };
    let cloud = match name {
        CloudName::AzureCloud => known(
            "AzureCloud",
            "https://management.azure.com",
            "https://login.microsoftonline.com",
            "https://management.azure.com/.default",
        ),
        CloudName::AzureChinaCloud => known(
            "AzureChinaCloud",
            "https://management.chinacloudapi.cn",
            "https://login.chinacloudapi.cn",
            "https://management.chinacloudapi.cn/.default",
        ),
        CloudName::AzureUSGovernment => known(
            "AzureUSGovernment",
            "https://management.usgovcloudapi.net",
            "https://login.microsoftonline.us",
            "https://management.core.usgovcloudapi.net/.default",
        ),
        CloudName::Custom => {
            let e = file.cloud_endpoints.as_ref().ok_or_else(|| {
                ctx.err("cloud", "is `custom`, so cloud_endpoints (resource_manager, authority_host) is required")
            })?;
            let arm = e.resource_manager.clone().ok_or_else(|| {
                ctx.err(
                    "cloud_endpoints.resource_manager",
                    "is required with cloud: custom (e.g. https://management.azure.com)",
                )
            })?;
            let authority = e.authority_host.clone().ok_or_else(|| {
                ctx.err(
                    "cloud_endpoints.authority_host",
                    "is required with cloud: custom (e.g. https://login.microsoftonline.com)",
                )
            })?;
            for (key, v) in [("cloud_endpoints.resource_manager", &arm), ("cloud_endpoints.authority_host", &authority)]
            {
                if !v.starts_with("https://") {
                    return Err(ctx.err(key, &format!("`{v}` must be an https:// URL")));
                }
            }
            let arm = arm.trim_end_matches('/').to_string();
            Cloud {
                name: "custom".into(),
                token_scope: e.token_scope.clone().unwrap_or_else(|| format!("{arm}/.default")),
                resource_manager: arm,
                authority_host: authority.trim_end_matches('/').to_string(),
            }
        }
    };
    if name != CloudName::Custom && file.cloud_endpoints.is_some() {
        return Err(ctx.err("cloud_endpoints", "is only allowed with `cloud: custom`"));
    }
    Ok(cloud)
}

fn environment_id(env: &str, sub: &str, rg: &str) -> std::result::Result<String, String> {
    if env.starts_with('/') {
        let parts: Vec<&str> = env.trim_end_matches('/').split('/').collect();
        let ok = parts.len() == 9
            && parts[1].eq_ignore_ascii_case("subscriptions")
            && parts[3].eq_ignore_ascii_case("resourceGroups")
            && parts[5].eq_ignore_ascii_case("providers")
            && parts[6].eq_ignore_ascii_case("Microsoft.App")
            && parts[7].eq_ignore_ascii_case("managedEnvironments");
        if !ok {
            return Err(format!(
                "`{env}` is not a managed environment resource id (/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.App/managedEnvironments/<name>)"
            ));
        }
        Ok(env.trim_end_matches('/').to_string())
    } else if env.len() >= 2 && env.len() <= 60 && env.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok(format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.App/managedEnvironments/{env}"))
    } else {
        Err(format!("`{env}` is not a managed environment name (letters, digits, `-`) or resource id"))
    }
}

fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_api_version(s: &str) -> bool {
    let date = s.strip_suffix("-preview").unwrap_or(s);
    date.len() == 10
        && date.chars().enumerate().all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() })
}

fn is_uami_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('/').collect();
    parts.len() == 9
        && parts[1].eq_ignore_ascii_case("subscriptions")
        && parts[6].eq_ignore_ascii_case("Microsoft.ManagedIdentity")
        && parts[7].eq_ignore_ascii_case("userAssignedIdentities")
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

// ---------------------------------------------------------------------------------------------
// Errors that point at the file.

struct Ctx<'a> {
    origin: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, key: &str, why: &str) -> Error {
        let at = match locate(self.text, key) {
            Some(line) => format!("{}:{line}", self.origin),
            None => self.origin.to_string(),
        };
        Error::config(format!("{at}: `{key}` {why}"))
    }
}

fn parse(text: &str, origin: &str) -> Result<ConfigFile> {
    if text.trim().is_empty() {
        return Ok(ConfigFile::default());
    }
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let line = inner.location().map(|l| l.line()).or_else(|| locate(text, &path));
        let at = match line {
            Some(l) => format!("{origin}:{l}"),
            None => origin.to_string(),
        };
        let message = inner.to_string();
        // serde_yaml_ng appends " at line N column M"; we already say where.
        let message = match message.find(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        let key = if path == "." { String::new() } else { format!("`{path}`: ") };
        Error::config(format!("{at}: {key}{message}"))
    })
}

/// The 1-based line of a dotted key path in block-style YAML (good enough to point an operator
/// at the right line; flow-style maps fall back to the nearest parent found).
pub fn locate(text: &str, path: &str) -> Option<usize> {
    let want: Vec<&str> = path.split('.').filter(|s| !s.is_empty()).collect();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut best: Option<(usize, usize)> = None; // (depth matched, line)
    for (i, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("---") {
            continue;
        }
        let mut indent = raw.len() - trimmed.len();
        let mut body = trimmed;
        while let Some(rest) = body.strip_prefix("- ") {
            indent += 2;
            body = rest.trim_start();
        }
        let Some((key, _)) = body.split_once(':') else {
            continue;
        };
        let key = key.trim().trim_matches('"').trim_matches('\'');
        while stack.last().is_some_and(|(ind, _)| *ind >= indent) {
            stack.pop();
        }
        stack.push((indent, key.to_string()));
        let depth = stack.iter().zip(&want).take_while(|((_, k), w)| k == *w).count();
        if depth == stack.len() && best.is_none_or(|(d, _)| depth > d) {
            best = Some((depth, i + 1));
            if depth == want.len() {
                break;
            }
        }
    }
    best.map(|(_, line)| line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags() -> GlobalArgs {
        GlobalArgs {
            config: None,
            subscription: None,
            resource_group: None,
            environment: None,
            verbose: 0,
            quiet: false,
        }
    }

    const BASE: &str =
        "hub_id: hub1\nsubscription_id: 00000000-0000-0000-0000-000000000001\nresource_group: rg\nenvironment: env1\n";

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
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
        assert_eq!(e.exit, crate::error::Exit::Usage);
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
                prop_assert_eq!(e.exit, crate::error::Exit::Usage);
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
}
