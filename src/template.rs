//! The server template: what one notebook server is made of (image, size, env, volumes, init
//! containers, patches), the overrides profiles and their choices apply to it, and the rules a
//! complete template must satisfy. Resolved from the file by `settings`; turned into an ARM body
//! by `spec`.

use std::time::Duration;

use serde::Deserialize;

use crate::limits;

/// The notebook container's name in every app (init containers must not take it).
pub const CONTAINER_NAME: &str = "notebook";

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
            t.memory = limits::consumption_memory(c);
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

    /// Rules on a complete template (server, or server + profile + choice): resources, volume references.
    /// Err((key below `server.`, why)).
    pub fn check(&self) -> Result<(), (String, String)> {
        limits::validate_resources(self.cpu, &self.memory, self.workload_profile.as_deref()).map_err(|why| {
            let key = if why.starts_with("memory") { "memory" } else { "cpu" };
            (key.to_string(), why)
        })?;
        let mut paths: Vec<&str> = Vec::new();
        for v in &self.volumes {
            if paths.iter().any(|p| *p == v.mount_path) {
                return Err(("volumes".into(), format!("two volumes are mounted at {}", v.mount_path)));
            }
            paths.push(&v.mount_path);
        }
        for c in &self.init_containers {
            for m in &c.volume_mounts {
                if !self.volumes.iter().any(|v| &v.name == m) {
                    return Err((
                        format!("init_containers.{}.volume_mounts", c.name),
                        format!("names volume `{m}`, which is not defined (server.volumes or the profile's volumes)"),
                    ));
                }
            }
        }
        Ok(())
    }
}
