//! Resolution: flags > environment > file for the hub-wide keys, each checked where it is read.

use std::path::PathBuf;
use std::time::Duration;

use super::file::{CloudName, ConfigFile, Ctx, parse};
use super::server::{resolve_profiles, resolve_server};
use super::validate::{environment_id, is_api_version, is_guid, is_uami_id};
use super::*;
use crate::naming;

/// The file's text (from `path`, for error locations), the flags and the environment -> `Settings`.
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
    if let Some(l) = &location
        && !l.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(ctx.err("location", &format!("`{l}` is not an Azure region name (e.g. westeurope)")));
    }

    let cloud = resolve_cloud(&file, &ctx)?;
    let api_version = file.api_version.clone().unwrap_or_else(|| DEFAULT_API_VERSION.to_string());
    if !is_api_version(&api_version) {
        return Err(ctx
            .err("api_version", &format!("`{api_version}` is not an api-version (YYYY-MM-DD or YYYY-MM-DD-preview)")));
    }
    if let Some(ca) = &file.ca_bundle
        && !ca.is_file()
    {
        return Err(
            ctx.err("ca_bundle", &format!("{} does not exist (a PEM file with extra CA certificates)", ca.display()))
        );
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
        if let Some(v) = value
            && naming::origin_of(v).is_none()
        {
            return Err(ctx.err(key, &format!("`{v}` is not an http(s) URL")));
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
pub(super) enum Unit {
    Secs,
    Millis,
}

/// A duration setting within `range` (inclusive, in `unit`): every duration is bounded at load so
/// that no arithmetic on it can overflow at run time.
pub(super) fn bounded(
    ctx: &Ctx,
    key: &str,
    value: Option<u64>,
    default: u64,
    range: (u64, u64),
    unit: Unit,
) -> Result<Duration> {
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
