//! Settings + ServerRequest -> ServerSpec (pure), and ServerSpec -> the ARM body.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::arm::model as wire;
use crate::error::{Error, ErrorCode, Result};
use crate::naming;
use crate::ownership::{TAG_PROFILE, app_id, tags};
use crate::request::ServerRequest;
use crate::settings::{AllowOrigin, Settings};
use crate::template::{CONTAINER_NAME, EnvValue, IngressKind, StorageKind, SubPath};

pub const TOKEN_SECRET: &str = "jupyterhub-api-token";

/// Placeholders in dry-run URLs of the https ingress modes (the real URL is the app's FQDN).
pub const FQDN_PLACEHOLDER: &str = "<fqdn assigned by ACA>";

#[derive(Debug, Clone, PartialEq)]
pub enum EnvSource {
    Plain(String),
    Secret(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum SecretSource {
    Value(String),
    /// A Key Vault reference resolved by ACA with `identity` (a user-assigned identity resource id).
    KeyVault {
        url: String,
        identity: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct VolumeSpec {
    pub name: String,
    pub storage: String,
    pub kind: StorageKind,
    pub mount_path: String,
    /// The per-user or per-server directory on the share (None: the whole share).
    pub sub_path: Option<String>,
    pub read_only: bool,
    pub mount_options: Option<String>,
}

#[derive(Debug, Clone)]
pub struct InitSpec {
    pub name: String,
    pub image: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: Vec<(String, EnvSource)>,
    pub mounts: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ServerSpec {
    pub name: String,
    pub id: String,
    pub environment_id: String,
    pub tags: BTreeMap<String, String>,
    pub image: String,
    pub cpu: f64,
    pub memory: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub target_port: u16,
    pub env: Vec<(String, EnvSource)>,
    /// (secret name, source): values never leave this struct except in the PUT body.
    pub secrets: Vec<(String, SecretSource)>,
    /// User-assigned identities attached to the app (registry pulls, Key Vault references), each with
    /// lifecycle None so notebook code cannot get tokens for them.
    pub identities: Vec<String>,
    pub workload_profile: Option<String>,
    pub registry: Option<crate::settings::Registry>,
    pub revision_suffix: String,
    /// `<prefix>api`: answered by jupyter_server once it serves.
    pub readiness_path: String,
    /// `http://<app>` for internal ingress; for the https modes a placeholder until ARM assigns the FQDN.
    pub url: String,
    /// The profile chosen (None without profiles) and its option choices.
    pub profile: Option<String>,
    pub choices: Vec<(String, String)>,
    pub start_timeout: Duration,
    pub ingress: IngressKind,
    pub allowed_ip_ranges: Vec<String>,
    pub volumes: Vec<VolumeSpec>,
    pub init_containers: Vec<InitSpec>,
    pub patches: Vec<Value>,
}

pub fn build(settings: &Settings, req: &ServerRequest, created: &str, revision_suffix: &str) -> Result<ServerSpec> {
    let user = &req.target.user;
    let server = &req.target.server;
    let name = naming::app_name(&settings.hub_id, user, server);
    let selected = crate::profiles::select(settings, user, &req.groups, &req.user_options)?;
    let t = &selected.template;

    let mut env: Vec<(String, EnvSource)> = Vec::new();
    let mut secrets: Vec<(String, SecretSource)> = Vec::new();
    let mut identities: Vec<String> = settings.registry.iter().map(|r| r.identity.clone()).collect();
    let set = |env: &mut Vec<(String, EnvSource)>, key: &str, v: EnvSource| {
        env.retain(|(k, _)| k != key);
        env.push((key.to_string(), v));
    };
    // Which variable (with its container prefix) each secret holds: two must never share one.
    let owners: std::cell::RefCell<BTreeMap<String, String>> = Default::default();
    let put_secret = |secrets: &mut Vec<(String, SecretSource)>, name: String, v: SecretSource| {
        secrets.retain(|(n, _)| n != &name);
        secrets.push((name, v));
    };
    let claim = |name: &str, owner: String| -> Result<()> {
        let mut o = owners.borrow_mut();
        match o.get(name) {
            Some(prev) if *prev != owner => Err(Error::new(
                ErrorCode::SecretNameConflict,
                format!("variables {prev} and {owner} would share the container app secret `{name}`; rename one"),
            )),
            _ => {
                o.insert(name.to_string(), owner);
                Ok(())
            }
        }
    };

    if let Some(token) = &req.api_token {
        secrets.push((TOKEN_SECRET.to_string(), SecretSource::Value(token.clone())));
    }
    for (key, value) in &req.forward {
        match key.as_str() {
            "JUPYTERHUB_API_TOKEN" | "JPY_API_TOKEN" => {
                if req.api_token.is_some() {
                    set(&mut env, key, EnvSource::Secret(TOKEN_SECRET.into()));
                }
            }
            "JUPYTERHUB_API_URL" | "JUPYTERHUB_ACTIVITY_URL" => {
                let v = match &settings.hub.connect_url {
                    Some(connect) => rebase(value, connect),
                    None => value.clone(),
                };
                set(&mut env, key, EnvSource::Plain(v));
            }
            "JUPYTERHUB_SERVICE_URL" => {}
            // An empty value needs no secret (and ACA refuses empty secret values).
            _ if naming::looks_secret(key) && !value.is_empty() => {
                let secret = secret_name_for("env-", key);
                claim(&secret, format!("`{key}`"))?;
                put_secret(&mut secrets, secret.clone(), SecretSource::Value(value.clone()));
                set(&mut env, key, EnvSource::Secret(secret));
            }
            _ => set(&mut env, key, EnvSource::Plain(value.clone())),
        }
    }
    // The server must listen on all interfaces at the ingress target port: the default
    // 127.0.0.1 would be the container's loopback, unreachable by the ingress.
    set(
        &mut env,
        "JUPYTERHUB_SERVICE_URL",
        EnvSource::Plain(format!("http://0.0.0.0:{}{}", t.target_port, req.service_prefix)),
    );
    // The server's base URL: it must match the prefix the readiness check and the hub's proxy use.
    set(&mut env, "JUPYTERHUB_SERVICE_PREFIX", EnvSource::Plain(req.service_prefix.clone()));
    let mut configured =
        |env: &mut Vec<(String, EnvSource)>, prefix: &str, key: &str, value: &EnvValue| -> Result<()> {
            let owner = match prefix.strip_prefix("init-") {
                Some(c) => format!("`{key}` of init container {}", c.trim_end_matches('-')),
                None => format!("`{key}`"),
            };
            match value {
                EnvValue::Plain(v) => set(env, key, EnvSource::Plain(v.clone())),
                EnvValue::Secret(v) => {
                    let secret = secret_name_for(prefix, key);
                    claim(&secret, owner)?;
                    put_secret(&mut secrets, secret.clone(), SecretSource::Value(v.clone()));
                    set(env, key, EnvSource::Secret(secret));
                }
                EnvValue::KeyVault { url, identity } => {
                    let secret = secret_name_for(prefix, key);
                    claim(&secret, owner)?;
                    put_secret(
                        &mut secrets,
                        secret.clone(),
                        SecretSource::KeyVault { url: url.clone(), identity: identity.clone() },
                    );
                    if !identities.iter().any(|i| i.eq_ignore_ascii_case(identity)) {
                        identities.push(identity.clone());
                    }
                    set(env, key, EnvSource::Secret(secret));
                }
            }
            Ok(())
        };
    for (key, value) in &t.env {
        configured(&mut env, "env-", key, value)?;
    }
    let mut init_containers = Vec::new();
    for c in &t.init_containers {
        let mut cenv = Vec::new();
        for (key, value) in &c.env {
            configured(&mut cenv, &format!("init-{}-", c.name), key, value)?;
        }
        init_containers.push(InitSpec {
            name: c.name.clone(),
            image: c.image.clone(),
            command: c.command.clone(),
            args: c.args.clone(),
            env: cenv,
            mounts: c.volume_mounts.clone(),
        });
    }
    for (s, _) in &secrets {
        if !naming::is_valid_secret_name(s) {
            return Err(Error::config(format!(
                "secret name `{s}` is not valid for ACA (lowercase letters, digits, `-`)"
            )));
        }
    }

    let volumes = t
        .volumes
        .iter()
        .map(|v| VolumeSpec {
            name: v.name.clone(),
            storage: v.storage.clone(),
            kind: v.kind,
            mount_path: v.mount_path.clone(),
            sub_path: match v.sub_path {
                SubPath::None => None,
                SubPath::User => Some(naming::volume_sub_path(&settings.hub_id, user, None)),
                SubPath::Server => Some(naming::volume_sub_path(&settings.hub_id, user, Some(server))),
            },
            read_only: v.read_only,
            mount_options: v.mount_options.clone(),
        })
        .collect();

    let mut args = t.args.clone();
    let origin = match &settings.hub.allow_origin {
        AllowOrigin::Off => None,
        AllowOrigin::Origin(o) => Some(o.clone()),
        AllowOrigin::Auto => {
            settings.hub.public_url.as_deref().or(req.public_hub_url.as_deref()).and_then(naming::origin_of)
        }
    };
    if let Some(origin) = origin {
        args.retain(|a| !a.starts_with("--ServerApp.allow_origin="));
        args.push(format!("--ServerApp.allow_origin={origin}"));
    }
    args.extend(req.args.iter().cloned()); // the hub's Spawner.args, after acactl's own

    let url = match t.ingress {
        IngressKind::Internal => format!("http://{name}"),
        IngressKind::InternalFqdn | IngressKind::External => format!("https://{FQDN_PLACEHOLDER}"),
    };
    let mut tags = tags(settings, user, server, created);
    if let Some(p) = &selected.profile {
        tags.insert(TAG_PROFILE.to_string(), p.clone());
    }
    naming::validate_tags(&tags).map_err(Error::config)?;

    Ok(ServerSpec {
        id: app_id(settings, &name),
        url,
        name,
        environment_id: settings.environment_id.clone(),
        tags,
        image: t.image.clone(),
        cpu: t.cpu,
        memory: t.memory.clone(),
        command: t.command.clone(),
        args,
        target_port: t.target_port,
        env,
        secrets,
        identities,
        workload_profile: t.workload_profile.clone(),
        registry: settings.registry.clone(),
        revision_suffix: revision_suffix.to_string(),
        readiness_path: format!("{}api", req.service_prefix),
        profile: selected.profile.clone(),
        choices: selected.choices.clone(),
        start_timeout: t.start_timeout,
        ingress: t.ingress,
        allowed_ip_ranges: t.allowed_ip_ranges.clone(),
        volumes,
        init_containers,
        patches: t.patches.clone(),
    })
}

/// `env-my-token` for `MY_TOKEN` (prefix `env-`).
/// The ACA secret holding variable `env_name`. Injective: `UPPER_SNAKE` names (single underscores)
/// map to their readable lowercase form, which can be mapped back; every other name (lowercase
/// letters, `__`, leading/trailing `_`, too long for 63 characters) gets a hash of the exact name
/// appended, so `DB_PASSWORD` and `DB__PASSWORD` never share a secret. `build` still refuses a
/// collision that slips through (e.g. a crafted name equal to another's hashed form).
fn secret_name_for(prefix: &str, env_name: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut s = String::from(prefix);
    for c in env_name.chars() {
        s.push(if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' });
    }
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    let readable = s.trim_end_matches('-').to_string();
    let canonical = !env_name.is_empty()
        && env_name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !env_name.starts_with('_')
        && !env_name.ends_with('_')
        && !env_name.contains("__")
        && readable.len() <= 63;
    if canonical {
        return readable;
    }
    let digest = Sha256::digest(format!("{prefix}{env_name}").as_bytes());
    let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    let head: String = readable.chars().take(63 - 11).collect();
    format!("{}-{hash}", head.trim_end_matches('-'))
}

/// Replace scheme and authority of `url` with `base`'s, keeping the path.
fn rebase(url: &str, base: &str) -> String {
    let path = url.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..])).unwrap_or("/");
    format!("{}{}", base.trim_end_matches('/'), path)
}

fn env_wire(env: &[(String, EnvSource)]) -> Vec<wire::EnvironmentVar> {
    env.iter()
        .map(|(k, v)| match v {
            EnvSource::Plain(v) => {
                wire::EnvironmentVar { name: Some(k.clone()), value: Some(v.clone()), secret_ref: None }
            }
            EnvSource::Secret(s) => {
                wire::EnvironmentVar { name: Some(k.clone()), value: None, secret_ref: Some(s.clone()) }
            }
        })
        .collect()
}

impl ServerSpec {
    fn mounts(&self, names: Option<&[String]>) -> Option<Vec<wire::VolumeMount>> {
        let list: Vec<wire::VolumeMount> = self
            .volumes
            .iter()
            .filter(|v| names.is_none_or(|n| n.contains(&v.name)))
            .map(|v| wire::VolumeMount {
                volume_name: Some(v.name.clone()),
                mount_path: Some(v.mount_path.clone()),
                sub_path: v.sub_path.clone(),
            })
            .collect();
        (!list.is_empty()).then_some(list)
    }

    pub fn to_arm(&self, location: &str, redact: bool) -> wire::ContainerApp {
        let secrets = self
            .secrets
            .iter()
            .map(|(n, v)| match v {
                SecretSource::Value(v) => wire::Secret {
                    name: Some(n.clone()),
                    value: Some(if redact { "<redacted>".into() } else { v.clone() }),
                    ..Default::default()
                },
                SecretSource::KeyVault { url, identity } => wire::Secret {
                    name: Some(n.clone()),
                    key_vault_url: Some(url.clone()),
                    identity: Some(identity.clone()),
                    ..Default::default()
                },
            })
            .collect();
        let ingress = match self.ingress {
            // The hub reaches the app as http://<app-name> inside the environment.
            IngressKind::Internal => {
                wire::Ingress { external: Some(false), allow_insecure: Some(true), ..Default::default() }
            }
            // https://<app>.internal.<domain> through the environment's private DNS: no plain http.
            IngressKind::InternalFqdn => {
                wire::Ingress { external: Some(false), allow_insecure: Some(false), ..Default::default() }
            }
            IngressKind::External => wire::Ingress {
                external: Some(true),
                allow_insecure: Some(false),
                ip_security_restrictions: Some(
                    self.allowed_ip_ranges
                        .iter()
                        .enumerate()
                        .map(|(i, r)| wire::IpSecurityRestriction {
                            name: Some(format!("allow-{i}")),
                            description: Some("acactl server.allowed_ip_ranges".into()),
                            ip_address_range: Some(if r.contains('/') { r.clone() } else { format!("{r}/32") }),
                            action: Some("Allow".into()),
                        })
                        .collect(),
                ),
                ..Default::default()
            },
        };
        let ingress = wire::Ingress {
            target_port: Some(self.target_port as i64),
            // "auto"/"http2" break websocket upgrades on ACA's envoy.
            transport: Some("http".into()),
            traffic: Some(vec![wire::TrafficWeight {
                latest_revision: Some(true),
                weight: Some(100),
                ..Default::default()
            }]),
            ..ingress
        };
        let volumes: Vec<wire::Volume> = self
            .volumes
            .iter()
            .map(|v| wire::Volume {
                name: Some(v.name.clone()),
                storage_type: Some(v.kind.arm_name().into()),
                storage_name: Some(v.storage.clone()),
                mount_options: v.mount_options.clone(),
            })
            .collect();
        let init_containers: Vec<wire::Container> = self
            .init_containers
            .iter()
            .map(|c| wire::Container {
                name: Some(c.name.clone()),
                image: Some(c.image.clone()),
                command: (!c.command.is_empty()).then(|| c.command.clone()),
                args: (!c.args.is_empty()).then(|| c.args.clone()),
                env: (!c.env.is_empty()).then(|| env_wire(&c.env)),
                volume_mounts: self.mounts(Some(&c.mounts)),
                ..Default::default()
            })
            .collect();
        wire::ContainerApp {
            location: Some(location.to_string()),
            tags: Some(self.tags.clone()),
            identity: Some(if self.identities.is_empty() {
                wire::ManagedServiceIdentity { kind: Some("None".into()), ..Default::default() }
            } else {
                wire::ManagedServiceIdentity {
                    kind: Some("UserAssigned".into()),
                    user_assigned_identities: Some(
                        self.identities.iter().map(|id| (id.clone(), serde_json::json!({}))).collect(),
                    ),
                }
            }),
            properties: Some(wire::AppProperties {
                environment_id: Some(self.environment_id.clone()),
                workload_profile_name: self.workload_profile.clone(),
                configuration: Some(wire::Configuration {
                    active_revisions_mode: Some("Single".into()),
                    secrets: Some(secrets),
                    registries: self.registry.as_ref().map(|r| {
                        vec![wire::RegistryCredentials {
                            server: Some(r.server.clone()),
                            identity: Some(r.identity.clone()),
                            ..Default::default()
                        }]
                    }),
                    ingress: Some(ingress),
                    // Notebook code must not get tokens for the pull or Key Vault identities.
                    identity_settings: (!self.identities.is_empty()).then(|| {
                        self.identities
                            .iter()
                            .map(|id| wire::IdentitySettings {
                                identity: Some(id.clone()),
                                lifecycle: Some("None".into()),
                            })
                            .collect()
                    }),
                    max_inactive_revisions: Some(0),
                }),
                template: Some(wire::Template {
                    revision_suffix: Some(self.revision_suffix.clone()),
                    init_containers: (!init_containers.is_empty()).then_some(init_containers),
                    containers: Some(vec![wire::Container {
                        name: Some(CONTAINER_NAME.into()),
                        image: Some(self.image.clone()),
                        command: Some(self.command.clone()),
                        args: Some(self.args.clone()),
                        env: Some(env_wire(&self.env)),
                        resources: Some(wire::ContainerResources {
                            cpu: Some(self.cpu),
                            memory: Some(self.memory.clone()),
                        }),
                        probes: Some(vec![wire::Probe {
                            kind: Some("Readiness".into()),
                            http_get: Some(wire::HttpGet {
                                path: Some(self.readiness_path.clone()),
                                port: Some(self.target_port as i64),
                            }),
                            period_seconds: Some(5),
                            failure_threshold: Some(3),
                            ..Default::default()
                        }]),
                        volume_mounts: self.mounts(None),
                    }]),
                    scale: Some(wire::Scale { min_replicas: Some(1), max_replicas: Some(1) }),
                    volumes: (!volumes.is_empty()).then_some(volumes),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The PUT body: `to_arm` with the configured merge patches applied and checked.
    pub fn body(&self, location: &str, redact: bool) -> Result<Value> {
        let mut body = serde_json::to_value(self.to_arm(location, redact))
            .map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?;
        crate::patch::apply_all(&mut body, &self.patches).map_err(|why| {
            Error::new(ErrorCode::InvalidPatch, format!("server.patch (or a profile's patch): {why}"))
        })?;
        Ok(body)
    }
}

#[cfg(test)]
mod tests;
