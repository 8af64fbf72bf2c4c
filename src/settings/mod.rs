//! Configuration file + environment + flags -> validated `Settings`, resolved once
//! (flags > env > file). Errors name the key path and the line, and say what is allowed.
//!
//! `file` is the YAML schema and the line mapping, `resolve` the precedence and the hub-wide keys,
//! `server` the server template and profiles, `validate` the value rules they share.

mod file;
mod resolve;
mod server;
#[cfg(test)]
mod tests;
mod validate;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::GlobalArgs;
use crate::env::Env;
use crate::error::{Error, ErrorCode, Result};
use crate::template::{Profile, ServerTemplate};

pub use resolve::resolve;

pub const DEFAULT_API_VERSION: &str = "2026-07-01";
pub const DEFAULT_IMAGE: &str = "quay.io/jupyter/base-notebook:latest";

/// Which root certificates verify TLS (uv's choice: bundled by default, the OS store on request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsRoots {
    /// Mozilla's roots compiled into acactl: no file system scan per process.
    Bundled,
    /// The operating system's store (/etc/ssl/certs), e.g. with a corporate CA installed there.
    System,
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
        .map_err(|e| Error::config(format!("cannot read configuration file {}", p.display())).because(e))?;
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
        Some(why) => Err(Error::new(
            ErrorCode::ConfigInsecure,
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

/// Find, read, parse and validate the configuration; `global` carries the command-line flags.
pub fn load(global: &GlobalArgs, env: &dyn Env) -> Result<Settings> {
    let path = find_config(global.config.as_deref(), env)?;
    if let Some(p) = &path {
        check_config_file(p)?;
    }
    let text = match &path {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| Error::config(format!("cannot read configuration file {}", p.display())).because(e))?,
        None => String::new(),
    };
    resolve(path, &text, global, env)
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
    resolve(None, &text, &flags, &std::collections::BTreeMap::<String, String>::new()).unwrap()
}
