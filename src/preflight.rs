//! Checks `start` makes before it creates anything, and only when the chosen profile needs them:
//! every environment storage a volume mounts exists with the right type and access mode, and the
//! workload profile exists in the environment with room for the requested CPU and memory. A plain
//! start (no volumes, no workload profile, location configured) makes no extra ARM request.
//! `acactl doctor` runs the same checks for every template the configuration can produce.

use std::collections::BTreeSet;

use crate::arm::Arm;
use crate::arm::model::ManagedEnvironment;
use crate::error::{Error, ErrorCode, Result};
use crate::limits;
use crate::output;
use crate::settings::Settings;
use crate::spec::ServerSpec;
use crate::template::{ServerTemplate, StorageKind};

/// Runs the checks; returns the location to create the app in.
pub async fn check(arm: &Arm, settings: &Settings, spec: &ServerSpec) -> Result<String> {
    let env = if settings.location.is_none() || spec.workload_profile.is_some() {
        Some(arm.get_environment(&settings.environment_id).await?)
    } else {
        None
    };
    let location = match (&settings.location, &env) {
        (Some(l), _) => l.clone(),
        (None, Some(e)) => e
            .location
            .as_deref()
            .ok_or_else(|| Error::new(ErrorCode::InvalidResponse, "the managed environment has no location"))?
            .to_lowercase()
            .replace(' ', ""),
        (None, None) => unreachable!("the environment is read when no location is configured"),
    };
    let profile = spec.profile.as_deref().map(|p| format!(" (profile `{p}`)")).unwrap_or_default();

    if let (Some(wp), Some(env)) = (&spec.workload_profile, &env) {
        let kind = workload_profile(settings, env, wp, spec.cpu, &spec.memory, &profile)?;
        let slow = if kind.to_ascii_lowercase().contains("gpu") {
            "; GPU capacity and large images can take several minutes"
        } else {
            ""
        };
        output::progress(
            6,
            &format!("Workload profile {wp} ({kind}) has room for {} vCPU / {}{slow}", spec.cpu, spec.memory),
        );
    }

    let mut seen = BTreeSet::new();
    for v in &spec.volumes {
        if seen.insert((v.storage.clone(), v.kind == StorageKind::NfsAzureFile, v.read_only)) {
            storage(arm, settings, &v.name, &v.storage, v.kind, v.read_only, &profile).await?;
        }
    }
    if !spec.volumes.is_empty() {
        let names: BTreeSet<&str> = seen.iter().map(|(s, _, _)| s.as_str()).collect();
        output::progress(7, &format!("Storage ready: {}", names.into_iter().collect::<Vec<_>>().join(", ")));
    }
    Ok(location)
}

fn env_name(settings: &Settings) -> &str {
    settings.environment_id.rsplit('/').next().unwrap_or_default()
}

/// The workload profile `wp` of `env` has room for cpu/memory; returns its type.
fn workload_profile(
    settings: &Settings,
    env: &ManagedEnvironment,
    wp: &str,
    cpu: f64,
    memory: &str,
    profile: &str,
) -> Result<String> {
    let defined = env.properties.as_ref().map(|p| p.workload_profiles.as_slice()).unwrap_or_default();
    let found = defined.iter().find(|p| p.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(wp)));
    let Some(found) = found else {
        let names: Vec<&str> = defined.iter().filter_map(|p| p.name.as_deref()).collect();
        return Err(Error::new(
            ErrorCode::WorkloadProfileNotFound,
            format!(
                "workload profile `{wp}`{profile} is not defined in managed environment {} (it has: {}); add it to the environment or fix the configuration",
                env_name(settings),
                if names.is_empty() { "none, a Consumption-only environment".to_string() } else { names.join(", ") }
            ),
        ));
    };
    let kind = found.workload_profile_type.clone().unwrap_or_default();
    match limits::check_workload_profile_resources(&kind, cpu, memory) {
        Ok(true) => {}
        Ok(false) => output::verbose(&format!(
            "workload profile type `{kind}` has no known limits; ARM will check cpu {cpu} / memory {memory}"
        )),
        Err(why) => {
            return Err(Error::new(
                ErrorCode::ResourcesExceedWorkloadProfile,
                format!("workload profile `{wp}` (type {kind}){profile}: {why}"),
            ));
        }
    }
    Ok(kind)
}

/// The environment storage exists, has the volume's type, and is writable unless the volume is read-only.
async fn storage(
    arm: &Arm,
    settings: &Settings,
    volume: &str,
    name: &str,
    kind: StorageKind,
    read_only: bool,
    profile: &str,
) -> Result<()> {
    let Some(st) = arm.get_storage(&settings.environment_id, name).await? else {
        return Err(Error::new(
            ErrorCode::StorageNotFound,
            format!(
                "volume `{volume}`{profile} mounts environment storage `{name}`, which managed environment {} does not have (az containerapp env storage set ...)",
                env_name(settings)
            ),
        ));
    };
    let props = st.properties.unwrap_or_default();
    let share = match kind {
        StorageKind::AzureFile => props.azure_file,
        StorageKind::NfsAzureFile => props.nfs_azure_file,
    };
    let Some(share) = share else {
        return Err(Error::new(
            ErrorCode::StorageTypeMismatch,
            format!(
                "volume `{volume}`{profile}: environment storage `{name}` is not an {} storage (set the volume's `type`)",
                kind.arm_name()
            ),
        ));
    };
    if !read_only && share.access_mode.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("ReadOnly")) {
        return Err(Error::new(
            ErrorCode::StorageReadOnly,
            format!(
                "volume `{volume}`{profile} is writable but environment storage `{name}` is ReadOnly (set `read_only: true` or change the storage's access mode)"
            ),
        ));
    }
    Ok(())
}

/// Every template the configuration can produce: the server's, each profile's, each choice's
/// (with the other options at their defaults), labelled for messages.
fn templates(settings: &Settings) -> Vec<(String, ServerTemplate)> {
    if settings.profiles.is_empty() {
        return vec![(String::new(), settings.server.clone())];
    }
    let mut out = Vec::new();
    for p in &settings.profiles {
        let base = settings.server.apply(&p.server);
        let defaults = p.options.iter().fold(base.clone(), |t, o| t.apply(&o.choices[o.default].server));
        out.push((format!(" (profile `{}`)", p.slug), defaults));
        for (i, o) in p.options.iter().enumerate() {
            for c in &o.choices {
                let t = p.options.iter().enumerate().fold(base.clone(), |t, (j, x)| {
                    t.apply(if i == j { &c.server } else { &x.choices[x.default].server })
                });
                out.push((format!(" (profile `{}`, {} `{}`)", p.slug, o.name, c.slug), t));
            }
        }
    }
    out
}

/// For `acactl doctor`: (check, Ok(detail) | Err(problem)) for every storage and workload profile
/// the configuration uses. Empty when it uses none.
pub async fn check_configured(
    arm: &Arm,
    settings: &Settings,
) -> Vec<(&'static str, std::result::Result<String, String>)> {
    let mut out = Vec::new();
    let all = templates(settings);
    let mut storages = BTreeSet::new();
    let mut env: Option<ManagedEnvironment> = None;
    let mut workloads = BTreeSet::new();
    for (label, t) in &all {
        for v in &t.volumes {
            if storages.insert((v.storage.clone(), v.kind == StorageKind::NfsAzureFile, v.read_only)) {
                let r = storage(arm, settings, &v.name, &v.storage, v.kind, v.read_only, label).await;
                out.push((
                    "storage",
                    r.map(|_| {
                        format!("environment storage `{}` ({}) for volume `{}`", v.storage, v.kind.arm_name(), v.name)
                    })
                    .map_err(|e| e.message),
                ));
            }
        }
        if let Some(wp) = &t.workload_profile {
            if !workloads.insert((wp.clone(), t.cpu.to_string(), t.memory.clone())) {
                continue;
            }
            if env.is_none() {
                match arm.get_environment(&settings.environment_id).await {
                    Ok(e) => env = Some(e),
                    Err(e) => {
                        out.push(("workload profile", Err(e.to_string())));
                        continue;
                    }
                }
            }
            let r = workload_profile(settings, env.as_ref().expect("read above"), wp, t.cpu, &t.memory, label);
            out.push((
                "workload profile",
                r.map(|kind| format!("`{wp}` ({kind}) fits {} vCPU / {}{label}", t.cpu, t.memory))
                    .map_err(|e| e.message),
            ));
        }
    }
    out
}
