//! Checks `start` makes before it creates anything, and only when the chosen profile needs them:
//! every environment storage a volume mounts exists with the right type and access mode, and the
//! workload profile exists in the environment with room for the requested CPU and memory. A plain
//! start (no volumes, no workload profile, location configured) makes no extra ARM request.

use std::collections::BTreeSet;

use crate::arm::Arm;
use crate::error::{Error, Result};
use crate::naming;
use crate::output;
use crate::settings::{Settings, StorageKind};
use crate::spec::ServerSpec;

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
            .ok_or_else(|| Error::runtime("InvalidResponse", "the managed environment has no location"))?
            .to_lowercase()
            .replace(' ', ""),
        (None, None) => unreachable!("the environment is read when no location is configured"),
    };
    let env_name = settings.environment_id.rsplit('/').next().unwrap_or_default();
    let profile = spec.profile.as_deref().map(|p| format!(" (profile `{p}`)")).unwrap_or_default();

    if let (Some(wp), Some(env)) = (&spec.workload_profile, &env) {
        let defined = env.properties.as_ref().map(|p| p.workload_profiles.as_slice()).unwrap_or_default();
        let found = defined.iter().find(|p| p.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(wp)));
        let Some(found) = found else {
            let names: Vec<&str> = defined.iter().filter_map(|p| p.name.as_deref()).collect();
            return Err(Error::usage(
                "WorkloadProfileNotFound",
                format!(
                    "workload profile `{wp}`{profile} is not defined in managed environment {env_name} (it has: {}); add it to the environment or fix the configuration",
                    if names.is_empty() {
                        "none, a Consumption-only environment".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
        };
        let kind = found.workload_profile_type.clone().unwrap_or_default();
        match naming::check_workload_profile_resources(&kind, spec.cpu, &spec.memory) {
            Ok(true) => {
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
            Ok(false) => output::verbose(&format!(
                "workload profile type `{kind}` has no known limits; ARM will check cpu {} / memory {}",
                spec.cpu, spec.memory
            )),
            Err(why) => {
                return Err(Error::usage(
                    "ResourcesExceedWorkloadProfile",
                    format!("workload profile `{wp}` (type {kind}){profile}: {why}"),
                ));
            }
        }
    }

    let mut seen = BTreeSet::new();
    for v in &spec.volumes {
        if !seen.insert((v.storage.clone(), v.kind == StorageKind::NfsAzureFile, v.read_only)) {
            continue;
        }
        let Some(st) = arm.get_storage(&settings.environment_id, &v.storage).await? else {
            return Err(Error::usage(
                "StorageNotFound",
                format!(
                    "volume `{}`{profile} mounts environment storage `{}`, which managed environment {env_name} does not have (az containerapp env storage set ...)",
                    v.name, v.storage
                ),
            ));
        };
        let props = st.properties.unwrap_or_default();
        let share = match v.kind {
            StorageKind::AzureFile => props.azure_file,
            StorageKind::NfsAzureFile => props.nfs_azure_file,
        };
        let Some(share) = share else {
            return Err(Error::usage(
                "StorageTypeMismatch",
                format!(
                    "volume `{}`{profile}: environment storage `{}` is not an {} storage (set the volume's `type`)",
                    v.name,
                    v.storage,
                    v.kind.arm_name()
                ),
            ));
        };
        if !v.read_only && share.access_mode.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("ReadOnly")) {
            return Err(Error::usage(
                "StorageReadOnly",
                format!(
                    "volume `{}`{profile} is writable but environment storage `{}` is ReadOnly (set `read_only: true` or change the storage's access mode)",
                    v.name, v.storage
                ),
            ));
        }
    }
    if !spec.volumes.is_empty() {
        let names: Vec<&str> = seen.iter().map(|(s, _, _)| s.as_str()).collect();
        output::progress(7, &format!("Storage ready: {}", names.join(", ")));
    }
    Ok(location)
}
