//! Configuration file + environment + flags -> validated `Settings`, resolved once
//! (flags > env > file). Errors name the key path and the line, and say what is allowed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::GlobalArgs;
use crate::env::Env;
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
    profiles: Vec<ProfileFile>,
    #[serde(default)]
    arm: ArmFile,
    #[serde(default)]
    gc: GcFile,
    #[serde(default)]
    fleet: FleetFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GcFile {
    /// Seconds one gc run may take in total (listing, deletes, waits): it then stops and releases
    /// its lock whatever ARM says (a `Retry-After` of years included).
    deadline: Option<u64>,
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
    #[serde(default)]
    allowed_ip_ranges: Vec<String>,
    #[serde(default)]
    volumes: Vec<VolumeFile>,
    #[serde(default)]
    init_containers: Vec<InitContainerFile>,
    patch: Option<serde_json::Value>,
}

/// What a profile or a profile option's choice changes in the server template.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideFile {
    image: Option<String>,
    cpu: Option<f64>,
    memory: Option<String>,
    workload_profile: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, EnvValueFile>,
    start_timeout: Option<u64>,
    #[serde(default)]
    volumes: Vec<VolumeFile>,
    #[serde(default)]
    init_containers: Vec<InitContainerFile>,
    patch: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    slug: String,
    display_name: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    default: bool,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    server: OverrideFile,
    #[serde(default)]
    options: Vec<OptionFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionFile {
    name: String,
    display_name: Option<String>,
    choices: Vec<ChoiceFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChoiceFile {
    slug: String,
    display_name: Option<String>,
    #[serde(default)]
    default: bool,
    #[serde(default)]
    server: OverrideFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VolumeFile {
    name: String,
    storage: String,
    #[serde(rename = "type")]
    kind: Option<StorageKind>,
    mount_path: String,
    sub_path: Option<SubPath>,
    #[serde(default)]
    read_only: bool,
    mount_options: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InitContainerFile {
    name: String,
    image: String,
    #[serde(default)]
    command: Vec<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, EnvValueFile>,
    #[serde(default)]
    volume_mounts: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum EnvValueFile {
    Plain(String),
    Secret(SecretValueFile),
    KeyVault(KeyVaultValueFile),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretValueFile {
    secret: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyVaultValueFile {
    key_vault: String,
    identity: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IngressKind {
    /// Reachable only inside the managed environment, as `http://<app-name>`.
    Internal,
    /// Internal ingress reached over https at `https://<app>.internal.<env default domain>` (hubs on a
    /// peered network with the environment's private DNS zone).
    InternalFqdn,
    /// External ingress over https at the app's public FQDN, limited to `allowed_ip_ranges`.
    External,
}

/// Environment storage kinds a volume can mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StorageKind {
    /// Azure Files over SMB (`storageType: AzureFile`); mounted root-owned unless uid/gid options are given.
    AzureFile,
    /// Azure Files over NFS (`storageType: NfsAzureFile`); ownership comes from the share, no uid/gid options.
    NfsAzureFile,
}

impl StorageKind {
    pub fn arm_name(self) -> &'static str {
        match self {
            StorageKind::AzureFile => "AzureFile",
            StorageKind::NfsAzureFile => "NfsAzureFile",
        }
    }
}

/// Which part of the share a volume mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubPath {
    /// The whole share (shared material; usually read-only).
    None,
    /// One directory per user (`naming::volume_sub_path`), shared by the user's named servers.
    User,
    /// One directory per (user, server).
    Server,
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetFile {
    enabled: Option<bool>,
    max_age: Option<u64>,
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
    /// Empty: no profiles, the server template is used as is and user options must be empty.
    pub profiles: Vec<Profile>,
    pub arm: ArmSettings,
    /// `gc.deadline`: one gc run's overall time limit.
    pub gc_deadline: Duration,
    pub fleet: FleetSettings,
}

/// The shared fleet view (`src/arm/fleet.rs`) and its refresh period.
#[derive(Debug, Clone)]
pub struct FleetSettings {
    pub enabled: bool,
    pub max_age: Duration,
}

#[derive(Debug, Clone)]
pub struct Cloud {
    pub name: String,
    /// Without a trailing slash.
    pub resource_manager: String,
    pub authority_host: String,
    pub token_scope: String,
}

/// The hub's Azure identity: the file's `credential` plus the Azure variables, read here once so
/// that token code never looks at the environment.
#[derive(Clone)]
pub struct CredentialSettings {
    pub kind: CredentialKind,
    /// `credential.client_id`, else AZURE_CLIENT_ID.
    pub client_id: Option<String>,
    /// `credential.tenant_id`, else AZURE_TENANT_ID.
    pub tenant_id: Option<String>,
    /// AZURE_FEDERATED_TOKEN_FILE (workload identity).
    pub federated_token_file: Option<String>,
    /// IDENTITY_ENDPOINT (Container Apps managed identity).
    pub identity_endpoint: Option<String>,
    /// AZURE_CLIENT_SECRET: only ever from the environment, never the file.
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for CredentialSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialSettings")
            .field("kind", &self.kind)
            .field("client_id", &self.client_id)
            .field("tenant_id", &self.tenant_id)
            .field("federated_token_file", &self.federated_token_file)
            .field("identity_endpoint", &self.identity_endpoint)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
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
    /// External ingress only: CIDR ranges allowed in (everything else is denied).
    pub allowed_ip_ranges: Vec<String>,
    pub volumes: Vec<Volume>,
    pub init_containers: Vec<InitContainer>,
    /// JSON merge patches (RFC 7386) applied to the generated body, in order (server's, profile's, choice's).
    pub patches: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Plain(String),
    Secret(String),
    /// An ACA secret referencing Key Vault; `identity` is a user-assigned identity resource id.
    KeyVault {
        url: String,
        identity: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    pub name: String,
    /// The environment storage (managedEnvironments/{env}/storages/{storage}).
    pub storage: String,
    pub kind: StorageKind,
    pub mount_path: String,
    pub sub_path: SubPath,
    pub read_only: bool,
    /// The final `mountOptions` sent (None: none).
    pub mount_options: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InitContainer {
    pub name: String,
    pub image: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: Vec<(String, EnvValue)>,
    /// Names of the template's volumes, mounted at the same path and sub-path as in the notebook container.
    pub volume_mounts: Vec<String>,
}

/// A resolved override (profile or choice): only what it sets.
#[derive(Debug, Clone, Default)]
pub struct Override {
    pub image: Option<String>,
    pub cpu: Option<f64>,
    pub memory: Option<String>,
    pub workload_profile: Option<String>,
    pub env: Vec<(String, EnvValue)>,
    pub start_timeout: Option<Duration>,
    pub volumes: Vec<Volume>,
    pub init_containers: Vec<InitContainer>,
    pub patch: Option<serde_json::Value>,
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub slug: String,
    pub display_name: String,
    pub description: String,
    pub default: bool,
    /// Hub groups allowed (any of them); empty with `users` empty = everyone.
    pub groups: Vec<String>,
    pub users: Vec<String>,
    pub server: Override,
    pub options: Vec<ProfileOption>,
}

#[derive(Debug, Clone)]
pub struct ProfileOption {
    pub name: String,
    pub display_name: String,
    pub choices: Vec<Choice>,
    /// Index into `choices`.
    pub default: usize,
}

#[derive(Debug, Clone)]
pub struct Choice {
    pub slug: String,
    pub display_name: String,
    pub server: Override,
}

impl Settings {
    /// The longest start timeout the server template, a profile or a choice can produce: gc's
    /// default grace must cover the slowest (e.g. GPU) start.
    pub fn max_start_timeout(&self) -> Duration {
        let mut max = self.server.start_timeout;
        for p in &self.profiles {
            max = max.max(p.server.start_timeout.unwrap_or(max));
            for c in p.options.iter().flat_map(|o| &o.choices) {
                max = max.max(c.server.start_timeout.unwrap_or(max));
            }
        }
        max
    }
}

impl ServerTemplate {
    /// The template with `o` applied: scalars replace, env/volumes/init containers merge by name,
    /// patches are appended. A cpu without memory gets the Consumption pair's memory (2 x cpu).
    pub fn apply(&self, o: &Override) -> ServerTemplate {
        let mut t = self.clone();
        if let Some(i) = &o.image {
            t.image = i.clone();
        }
        if let Some(c) = o.cpu {
            t.cpu = c;
            t.memory = format!("{}Gi", trim_float(c * 2.0));
        }
        if let Some(m) = &o.memory {
            t.memory = m.clone();
        }
        if let Some(w) = &o.workload_profile {
            t.workload_profile = Some(w.clone());
        }
        if let Some(s) = o.start_timeout {
            t.start_timeout = s;
        }
        for (k, v) in &o.env {
            t.env.retain(|(n, _)| n != k);
            t.env.push((k.clone(), v.clone()));
        }
        for v in &o.volumes {
            match t.volumes.iter_mut().find(|x| x.name == v.name) {
                Some(x) => *x = v.clone(),
                None => t.volumes.push(v.clone()),
            }
        }
        for c in &o.init_containers {
            match t.init_containers.iter_mut().find(|x| x.name == c.name) {
                Some(x) => *x = c.clone(),
                None => t.init_containers.push(c.clone()),
            }
        }
        if let Some(p) = &o.patch {
            t.patches.push(p.clone());
        }
        t
    }
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

/// The configuration decides where tokens go (`cloud_endpoints`, `ca_bundle`, `hub.api_url`), so,
/// like ssh with its config, acactl refuses one that someone else could have written: writable by
/// group or others, or owned by anyone but the user running acactl or root.
pub fn check_config_file(p: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(p)
        .map_err(|e| Error::config(format!("cannot read configuration file {}: {e}", p.display())))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let why = if meta.mode() & 0o022 != 0 {
        Some(format!(
            "is writable by {} (mode {:o})",
            if meta.mode() & 0o002 != 0 { "anyone" } else { "its group" },
            meta.mode() & 0o777
        ))
    } else if meta.uid() != me && meta.uid() != 0 {
        Some(format!("is owned by uid {}, neither this user ({me}) nor root", meta.uid()))
    } else {
        None
    };
    match why {
        Some(why) => Err(Error::usage(
            "ConfigInsecure",
            format!(
                "configuration file {} {why}: it decides where acactl sends its tokens, so only its owner may write it \
                 (chmod go-w {0})",
                p.display()
            ),
        )),
        None => Ok(()),
    }
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
    if let Some(p) = &path {
        check_config_file(p)?;
    }
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
        client_id: cred.client_id.or_else(|| env.var("AZURE_CLIENT_ID")),
        tenant_id: cred.tenant_id.or_else(|| env.var("AZURE_TENANT_ID")),
        federated_token_file: env.var("AZURE_FEDERATED_TOKEN_FILE"),
        identity_endpoint: env.var("IDENTITY_ENDPOINT"),
        client_secret: env.var("AZURE_CLIENT_SECRET"),
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
        http_timeout: bounded(&ctx, "hub.http_timeout", file.hub.http_timeout, 30, (1, 3600), Unit::Secs)?,
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

    let server = resolve_server(file.server, &ctx, registry.as_ref())?;
    let profiles = resolve_profiles(file.profiles, &server, &ctx, registry.as_ref())?;

    let a = file.arm;
    let arm = ArmSettings {
        request_timeout: bounded(&ctx, "arm.request_timeout", a.request_timeout, 30, (1, 600), Unit::Secs)?,
        max_attempts: a.max_attempts.unwrap_or(6).clamp(1, 20),
        retry_base: bounded(&ctx, "arm.retry_base_ms", a.retry_base_ms, 500, (1, 60_000), Unit::Millis)?,
        retry_max_total: bounded(&ctx, "arm.retry_max_total", a.retry_max_total, 60, (0, 3600), Unit::Secs)?,
        poll_interval: bounded(&ctx, "arm.poll_interval_ms", a.poll_interval_ms, 2000, (10, 600_000), Unit::Millis)?,
        stop_timeout: bounded(&ctx, "arm.stop_timeout", a.stop_timeout, 120, (1, 3600), Unit::Secs)?,
    };
    let gc_deadline = bounded(&ctx, "gc.deadline", file.gc.deadline, 3600, (10, 86_400), Unit::Secs)?;
    let max_age = bounded(&ctx, "fleet.max_age", file.fleet.max_age, 10, (1, 3600), Unit::Secs)?;
    let fleet = FleetSettings { enabled: file.fleet.enabled.unwrap_or(true), max_age };

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
        profiles,
        arm,
        gc_deadline,
        fleet,
    })
}

#[derive(Clone, Copy)]
enum Unit {
    Secs,
    Millis,
}

/// A duration setting within `range` (inclusive, in `unit`): every duration is bounded at load so
/// that no arithmetic on it can overflow at run time.
fn bounded(ctx: &Ctx, key: &str, value: Option<u64>, default: u64, range: (u64, u64), unit: Unit) -> Result<Duration> {
    let v = value.unwrap_or(default);
    let (name, make): (&str, fn(u64) -> Duration) = match unit {
        Unit::Secs => ("seconds", Duration::from_secs),
        Unit::Millis => ("milliseconds", Duration::from_millis),
    };
    if !(range.0..=range.1).contains(&v) {
        return Err(ctx.err(key, &format!("is {v} but must be {}-{} {name}", range.0, range.1)));
    }
    Ok(make(v))
}

fn resolve_server(s: ServerFile, ctx: &Ctx, registry: Option<&Registry>) -> Result<ServerTemplate> {
    let image = s.image.unwrap_or_else(|| DEFAULT_IMAGE.to_string());
    check_image(&image).map_err(|why| ctx.err("server.image", &why))?;
    let cpu = s.cpu.unwrap_or(0.5);
    let memory = s.memory.unwrap_or_else(|| format!("{}Gi", trim_float(cpu * 2.0)));
    naming::validate_resources(cpu, &memory, s.workload_profile.as_deref()).map_err(|why| {
        let key = if why.starts_with("memory") { "server.memory" } else { "server.cpu" };
        ctx.err(key, &why)
    })?;
    if let Some(w) = &s.workload_profile {
        check_workload_profile_name(w).map_err(|why| ctx.err("server.workload_profile", &why))?;
    }
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
    let env = resolve_env(s.env, "server.env", ctx, registry)?;
    let start_timeout =
        check_start_timeout(s.start_timeout.unwrap_or(300)).map_err(|why| ctx.err("server.start_timeout", &why))?;
    let ingress = s.ingress.unwrap_or(IngressKind::Internal);
    for (i, r) in s.allowed_ip_ranges.iter().enumerate() {
        if !is_cidr(r) {
            return Err(ctx.err(
                &format!("server.allowed_ip_ranges.{i}"),
                &format!("`{r}` is not an IPv4 address or CIDR range like 203.0.113.0/24"),
            ));
        }
    }
    match ingress {
        IngressKind::External if s.allowed_ip_ranges.is_empty() => {
            return Err(ctx.err("server.allowed_ip_ranges", "is required with `ingress: external`: the CIDR ranges allowed to reach notebook servers (the hub's outbound addresses); use 0.0.0.0/0 to make them reachable from anywhere on purpose"));
        }
        IngressKind::Internal | IngressKind::InternalFqdn if !s.allowed_ip_ranges.is_empty() => {
            return Err(ctx.err("server.allowed_ip_ranges", "is only used with `ingress: external`"));
        }
        _ => {}
    }
    let volumes = resolve_volumes(s.volumes, "server.volumes", ctx)?;
    let init_containers = resolve_init_containers(s.init_containers, "server.init_containers", ctx, registry)?;
    let patch = match s.patch {
        Some(p) => Some(crate::patch::check_patch(&p).map_err(|why| ctx.err("server.patch", &why))?),
        None => None,
    };
    let t = ServerTemplate {
        image,
        cpu,
        memory,
        command,
        args,
        target_port,
        ingress,
        workload_profile: s.workload_profile,
        env,
        start_timeout,
        allowed_ip_ranges: s.allowed_ip_ranges,
        volumes,
        init_containers,
        patches: patch.into_iter().collect(),
    };
    check_template(&t).map_err(|(key, why)| ctx.err(&format!("server.{key}"), &why))?;
    Ok(t)
}

fn check_image(image: &str) -> std::result::Result<(), String> {
    if image.trim().is_empty() || image.chars().any(char::is_whitespace) {
        return Err("must be an image reference like myregistry.azurecr.io/notebook:2026.11".into());
    }
    Ok(())
}

fn check_workload_profile_name(w: &str) -> std::result::Result<(), String> {
    let ok = !w.is_empty() && w.len() <= 64 && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok { Ok(()) } else { Err(format!("`{w}` is not a workload profile name (letters, digits, `-`, `_`)")) }
}

fn check_start_timeout(secs: u64) -> std::result::Result<Duration, String> {
    if !(10..=3600).contains(&secs) {
        return Err(
            "must be 10-3600 seconds, and below the hub's Spawner.start_timeout minus the exec spawner's term_grace"
                .into(),
        );
    }
    Ok(Duration::from_secs(secs))
}

fn is_cidr(s: &str) -> bool {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    addr.parse::<std::net::Ipv4Addr>().is_ok() && bits.is_none_or(|b| b.parse::<u8>().is_ok_and(|n| n <= 32))
}

fn resolve_env(
    map: BTreeMap<String, EnvValueFile>,
    key: &str,
    ctx: &Ctx,
    registry: Option<&Registry>,
) -> Result<Vec<(String, EnvValue)>> {
    let mut env = Vec::new();
    for (name, value) in map {
        let k = format!("{key}.{name}");
        naming::validate_env_name(&name).map_err(|why| ctx.err(&k, &why))?;
        if naming::is_denied_env(&name) {
            return Err(ctx.err(&k, "names a variable acactl never sets in a user container (the hub's own credentials and secrets, PATH, HOME)"));
        }
        let v = match value {
            EnvValueFile::Plain(v) => EnvValue::Plain(v),
            EnvValueFile::Secret(s) => {
                crate::output::register_secret(&s.secret);
                EnvValue::Secret(s.secret)
            }
            EnvValueFile::KeyVault(kv) => {
                if !is_key_vault_secret_url(&kv.key_vault) {
                    return Err(ctx.err(&k, &format!("key_vault `{}` is not a Key Vault secret URL (https://<vault>.vault.azure.net/secrets/<name>[/<version>])", kv.key_vault)));
                }
                let identity = match kv.identity.or_else(|| registry.map(|r| r.identity.clone())) {
                    Some(id) if is_uami_id(&id) => id,
                    Some(id) => return Err(ctx.err(&k, &format!("identity `{id}` is not a user-assigned identity resource id"))),
                    None => return Err(ctx.err(&k, "needs `identity`: a user-assigned identity with `Key Vault Secrets User` on the vault (defaults to registry.identity)")),
                };
                EnvValue::KeyVault { url: kv.key_vault, identity }
            }
        };
        env.push((name, v));
    }
    Ok(env)
}

fn is_key_vault_secret_url(u: &str) -> bool {
    let Some(rest) = u.strip_prefix("https://") else { return false };
    let Some((host, path)) = rest.split_once('/') else { return false };
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    host.contains(".vault.")
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && (segs.len() == 2 || segs.len() == 3)
        && segs[0] == "secrets"
        && segs[1..].iter().all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

fn resolve_volumes(list: Vec<VolumeFile>, key: &str, ctx: &Ctx) -> Result<Vec<Volume>> {
    let mut out: Vec<Volume> = Vec::new();
    for v in list {
        let k = format!("{key}.{}", v.name);
        let err = |why: String| ctx.err_near(key, &format!("name: {}", v.name), &k, &why);
        if !(1..=63).contains(&v.name.len())
            || !v.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            || v.name.starts_with('-')
            || v.name.ends_with('-')
        {
            return Err(err(format!(
                "volume name `{}` must be 1-63 lowercase letters, digits or `-` (no dots)",
                v.name
            )));
        }
        if out.iter().any(|o| o.name == v.name) {
            return Err(err(format!("volume `{}` is defined twice", v.name)));
        }
        if !(2..=32).contains(&v.storage.len())
            || !v.storage.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(err(format!(
                "storage `{}` is not an environment storage name (2-32 lowercase letters, digits, `-`)",
                v.storage
            )));
        }
        if !v.mount_path.starts_with('/')
            || v.mount_path == "/"
            || v.mount_path.split('/').any(|s| s == ".." || s == ".")
            || v.mount_path.chars().any(|c| c.is_control() || c == ':' || c.is_whitespace())
        {
            return Err(err(format!(
                "mount_path `{}` must be an absolute directory below / without `..`",
                v.mount_path
            )));
        }
        let kind = v.kind.unwrap_or(StorageKind::AzureFile);
        if let Some(o) = &v.mount_options {
            if o.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(err("mount_options must be comma-separated options without spaces".into()));
            }
            if kind == StorageKind::NfsAzureFile
                && o.split(',').any(|x| {
                    x.starts_with("uid=")
                        || x.starts_with("gid=")
                        || x.starts_with("dir_mode=")
                        || x.starts_with("file_mode=")
                })
            {
                return Err(err("NFS shares take no uid/gid/dir_mode/file_mode options: ownership comes from the files on the share".into()));
            }
        }
        // SMB mounts are root-owned 0777 by default: make the standard images' jovyan (1000:100) the owner.
        let mut opts: Vec<String> = match (&v.mount_options, kind) {
            (Some(o), _) => o.split(',').filter(|x| !x.is_empty()).map(String::from).collect(),
            (None, StorageKind::AzureFile) => {
                ["uid=1000", "gid=100", "dir_mode=0755", "file_mode=0644"].map(String::from).to_vec()
            }
            (None, StorageKind::NfsAzureFile) => Vec::new(),
        };
        if v.read_only && !opts.iter().any(|o| o == "ro") {
            opts.retain(|o| o != "rw");
            opts.push("ro".into());
        }
        out.push(Volume {
            name: v.name,
            storage: v.storage,
            kind,
            mount_path: v.mount_path.trim_end_matches('/').to_string(),
            sub_path: v.sub_path.unwrap_or(SubPath::None),
            read_only: v.read_only,
            mount_options: (!opts.is_empty()).then(|| opts.join(",")),
        });
    }
    Ok(out)
}

fn resolve_init_containers(
    list: Vec<InitContainerFile>,
    key: &str,
    ctx: &Ctx,
    registry: Option<&Registry>,
) -> Result<Vec<InitContainer>> {
    let mut out: Vec<InitContainer> = Vec::new();
    for c in list {
        let k = format!("{key}.{}", c.name);
        let err = |why: String| ctx.err_near(key, &format!("name: {}", c.name), &k, &why);
        let ok_name = (1..=63).contains(&c.name.len())
            && c.name.chars().all(|x| x.is_ascii_lowercase() || x.is_ascii_digit() || x == '-')
            && !c.name.starts_with('-')
            && !c.name.ends_with('-');
        if !ok_name || c.name == crate::spec::CONTAINER_NAME {
            return Err(err(format!(
                "init container name `{}` must be 1-63 lowercase letters, digits or `-`, and not `{}`",
                c.name,
                crate::spec::CONTAINER_NAME
            )));
        }
        if out.iter().any(|o| o.name == c.name) {
            return Err(err(format!("init container `{}` is defined twice", c.name)));
        }
        check_image(&c.image).map_err(|why| err(format!("image {why}")))?;
        let env = resolve_env(c.env, &format!("{k}.env"), ctx, registry)?;
        out.push(InitContainer {
            name: c.name,
            image: c.image,
            command: c.command,
            args: c.args,
            env,
            volume_mounts: c.volume_mounts,
        });
    }
    Ok(out)
}

/// Rules on a complete template (server, or server + profile + choice): resources, volume references.
/// Err((key below `server.`, why)).
pub(crate) fn check_template(t: &ServerTemplate) -> std::result::Result<(), (String, String)> {
    naming::validate_resources(t.cpu, &t.memory, t.workload_profile.as_deref()).map_err(|why| {
        let key = if why.starts_with("memory") { "memory" } else { "cpu" };
        (key.to_string(), why)
    })?;
    let mut paths: Vec<&str> = Vec::new();
    for v in &t.volumes {
        if paths.iter().any(|p| *p == v.mount_path) {
            return Err(("volumes".into(), format!("two volumes are mounted at {}", v.mount_path)));
        }
        paths.push(&v.mount_path);
    }
    for c in &t.init_containers {
        for m in &c.volume_mounts {
            if !t.volumes.iter().any(|v| &v.name == m) {
                return Err((
                    format!("init_containers.{}.volume_mounts", c.name),
                    format!("names volume `{m}`, which is not defined (server.volumes or the profile's volumes)"),
                ));
            }
        }
    }
    Ok(())
}

fn resolve_override(o: OverrideFile, key: &str, ctx: &Ctx, registry: Option<&Registry>) -> Result<Override> {
    if let Some(i) = &o.image {
        check_image(i).map_err(|why| ctx.err(&format!("{key}.image"), &why))?;
    }
    if let Some(w) = &o.workload_profile {
        check_workload_profile_name(w).map_err(|why| ctx.err(&format!("{key}.workload_profile"), &why))?;
    }
    if let Some(c) = o.cpu {
        if !(c > 0.0) {
            return Err(ctx.err(&format!("{key}.cpu"), "must be positive"));
        }
    }
    if let Some(m) = &o.memory {
        if naming::parse_gi(m).is_none() {
            return Err(ctx.err(&format!("{key}.memory"), &format!("`{m}` must be a number of Gi, like 1Gi or 2.5Gi")));
        }
    }
    let start_timeout = match o.start_timeout {
        Some(s) => Some(check_start_timeout(s).map_err(|why| ctx.err(&format!("{key}.start_timeout"), &why))?),
        None => None,
    };
    let patch = match o.patch {
        Some(p) => Some(crate::patch::check_patch(&p).map_err(|why| ctx.err(&format!("{key}.patch"), &why))?),
        None => None,
    };
    Ok(Override {
        image: o.image,
        cpu: o.cpu,
        memory: o.memory,
        workload_profile: o.workload_profile,
        env: resolve_env(o.env, &format!("{key}.env"), ctx, registry)?,
        start_timeout,
        volumes: resolve_volumes(o.volumes, &format!("{key}.volumes"), ctx)?,
        init_containers: resolve_init_containers(o.init_containers, &format!("{key}.init_containers"), ctx, registry)?,
        patch,
    })
}

fn is_slug(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn resolve_profiles(
    list: Vec<ProfileFile>,
    base: &ServerTemplate,
    ctx: &Ctx,
    registry: Option<&Registry>,
) -> Result<Vec<Profile>> {
    let mut out: Vec<Profile> = Vec::new();
    for p in list {
        let key = format!("profiles.{}", p.slug);
        let near = format!("slug: {}", p.slug);
        let err = |k: &str, why: &str| ctx.err_near("profiles", &near, k, why);
        if !is_slug(&p.slug) {
            return Err(err(&key, &format!("slug `{}` must be 1-63 lowercase letters, digits, `-` or `_`", p.slug)));
        }
        if out.iter().any(|o| o.slug == p.slug) {
            return Err(err(&key, "is defined twice"));
        }
        if p.groups.iter().chain(&p.users).any(|g| g.trim().is_empty()) {
            return Err(err(&format!("{key}.groups"), "group and user names must not be empty"));
        }
        let server = resolve_override(p.server, &format!("{key}.server"), ctx, registry)?;
        let template = base.apply(&server);
        check_template(&template).map_err(|(k, why)| err(&format!("{key}.server.{k}"), &why))?;
        let mut options: Vec<ProfileOption> = Vec::new();
        for o in p.options {
            let okey = format!("{key}.options.{}", o.name);
            if !is_slug(&o.name) || o.name == "profile" {
                return Err(err(
                    &okey,
                    &format!(
                        "option name `{}` must be a slug (lowercase letters, digits, `-`, `_`) other than `profile`",
                        o.name
                    ),
                ));
            }
            if options.iter().any(|x| x.name == o.name) {
                return Err(err(&okey, "is defined twice"));
            }
            if o.choices.is_empty() {
                return Err(err(&format!("{okey}.choices"), "must list at least one choice"));
            }
            let defaults = o.choices.iter().filter(|c| c.default).count();
            if defaults > 1 {
                return Err(err(&format!("{okey}.choices"), "has more than one `default: true`"));
            }
            let default = o.choices.iter().position(|c| c.default).unwrap_or(0);
            let mut choices: Vec<Choice> = Vec::new();
            for c in o.choices {
                let ckey = format!("{okey}.choices.{}", c.slug);
                if !is_slug(&c.slug) {
                    return Err(err(
                        &ckey,
                        &format!("choice slug `{}` must be a slug (lowercase letters, digits, `-`, `_`)", c.slug),
                    ));
                }
                if choices.iter().any(|x| x.slug == c.slug) {
                    return Err(err(&ckey, "is defined twice"));
                }
                let server = resolve_override(c.server, &format!("{ckey}.server"), ctx, registry)?;
                check_template(&template.apply(&server))
                    .map_err(|(k, why)| err(&format!("{ckey}.server.{k}"), &why))?;
                choices.push(Choice {
                    display_name: c.display_name.unwrap_or_else(|| c.slug.clone()),
                    slug: c.slug,
                    server,
                });
            }
            options.push(ProfileOption {
                display_name: o.display_name.unwrap_or_else(|| o.name.clone()),
                name: o.name,
                choices,
                default,
            });
        }
        out.push(Profile {
            display_name: p.display_name.unwrap_or_else(|| p.slug.clone()),
            slug: p.slug,
            description: p.description,
            default: p.default,
            groups: p.groups,
            users: p.users,
            server,
            options,
        });
    }
    if out.iter().filter(|p| p.default && p.groups.is_empty() && p.users.is_empty()).count() > 1 {
        return Err(ctx.err("profiles", "more than one unrestricted profile has `default: true`"));
    }
    Ok(out)
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
    /// Like `err`, but points at the first line containing `needle` below `section` (list items
    /// are named by a field, e.g. `slug: gpu`, which `locate` cannot address).
    fn err_near(&self, section: &str, needle: &str, key: &str, why: &str) -> Error {
        let from = locate(self.text, section).unwrap_or(1);
        let line = self
            .text
            .lines()
            .enumerate()
            .skip(from - 1)
            .find(|(_, l)| l.trim_start().trim_start_matches("- ").trim() == needle)
            .map(|(i, _)| i + 1)
            .or(locate(self.text, section));
        let at = match line {
            Some(line) => format!("{}:{line}", self.origin),
            None => self.origin.to_string(),
        };
        Error::config(format!("{at}: `{key}` {why}"))
    }

    fn err(&self, key: &str, why: &str) -> Error {
        let at = match locate(self.text, key) {
            Some(line) => format!("{}:{line}", self.origin),
            None => self.origin.to_string(),
        };
        Error::config(format!("{at}: `{key}` {why}"))
    }
}

/// Far beyond any real configuration; a bigger file is refused before parsing.
const MAX_CONFIG_BYTES: usize = 4 << 20;
/// Nesting levels a configuration may use (a `patch:` needs a dozen).
const MAX_CONFIG_DEPTH: usize = 64;

/// An upper estimate of the YAML nesting depth, in one linear pass: block indentation levels,
/// `- ` entries opening on one line, and flow brackets outside quotes. The parser would
/// otherwise spend minutes on a document nested hundreds of thousands of levels deep.
fn nesting_depth(text: &str) -> usize {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut max = 0usize;
    for line in text.lines() {
        let body = line.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        if flow == 0 {
            while indents.last().is_some_and(|&i| i >= indent) {
                indents.pop();
            }
            indents.push(indent);
        }
        let mut dashes = 0;
        let mut rest = body;
        while let Some(r) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("? ")) {
            dashes += 1;
            rest = r.trim_start_matches(' ');
        }
        let mut quote: Option<char> = None;
        for c in rest.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') => break,
                (None, '[' | '{') => {
                    flow += 1;
                    max = max.max(indents.len() + dashes + flow);
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
        }
        max = max.max(indents.len() + dashes + flow);
    }
    max
}

fn parse(text: &str, origin: &str) -> Result<ConfigFile> {
    if text.trim().is_empty() {
        return Ok(ConfigFile::default());
    }
    if text.len() > MAX_CONFIG_BYTES {
        return Err(Error::config(format!(
            "{origin}: the configuration is {} bytes; at most {} MiB is read",
            text.len(),
            MAX_CONFIG_BYTES >> 20
        )));
    }
    let depth = nesting_depth(text);
    if depth > MAX_CONFIG_DEPTH {
        return Err(Error::config(format!(
            "{origin}: the configuration is nested about {depth} levels deep; at most {MAX_CONFIG_DEPTH} are allowed"
        )));
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

/// Settings from a minimal config plus `extra` YAML, for unit tests elsewhere.
#[cfg(test)]
pub fn for_tests(extra: &str) -> Settings {
    let text = format!(
        "hub_id: hub1\nsubscription_id: 00000000-0000-0000-0000-000000000001\nresource_group: rg\nenvironment: env1\nlocation: westeurope\n{extra}"
    );
    let flags = GlobalArgs {
        config: None,
        subscription: None,
        resource_group: None,
        environment: None,
        verbose: 0,
        quiet: false,
    };
    resolve(None, &text, &flags, &BTreeMap::<String, String>::new()).unwrap()
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

    #[test]
    fn nesting_depth_is_cheap_and_does_not_refuse_real_configs() {
        let example = include_str!("../config.example.yaml");
        assert!(nesting_depth(example) <= 12, "{}", nesting_depth(example));
        // Brackets in quotes and comments do not count; flow and block nesting do.
        assert_eq!(nesting_depth("a: \"[[[[[[\"  # [[[[\n"), 1);
        assert!(nesting_depth(&format!("a: {}", "[".repeat(100))) > MAX_CONFIG_DEPTH);
        assert!(nesting_depth(&format!("{}1", "- ".repeat(100))) > MAX_CONFIG_DEPTH);
        let t = std::time::Instant::now();
        let deep = format!("server:\n  patch: {}{}\n", "{a: ".repeat(200_000), "}".repeat(200_000));
        let e = parse(&deep, "x").unwrap_err();
        assert!(e.message.contains("nested"), "{}", e.message);
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn durations_are_bounded_naming_the_key() {
        for (yaml, key) in [
            ("arm:\n  retry_base_ms: 18446744073709551615\n", "arm.retry_base_ms"),
            ("arm:\n  retry_max_total: 3601\n", "arm.retry_max_total"),
            ("hub:\n  http_timeout: 0\n", "hub.http_timeout"),
        ] {
            let e = load_text(&format!("{BASE}{yaml}")).unwrap_err();
            assert_eq!(e.exit, crate::error::Exit::Usage);
            assert!(e.message.contains(key), "{}", e.message);
        }
        assert_eq!(load_text(BASE).unwrap().gc_deadline, Duration::from_secs(3600));
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
