//! The `server` template and the `profiles` (overrides of it) from the file: each value checked
//! and located, and every complete template (server, + profile, + choice) checked as a whole.

use std::collections::BTreeMap;

use super::DEFAULT_IMAGE;
use super::Registry;
use super::file::{Ctx, EnvValueFile, InitContainerFile, OverrideFile, ProfileFile, ServerFile, VolumeFile};
use super::validate::{
    check_image, check_start_timeout, check_workload_profile_name, is_cidr, is_key_vault_secret_url, is_slug,
    is_uami_id,
};
use crate::error::Result;
use crate::template::{
    CONTAINER_NAME, Choice, EnvValue, IngressKind, InitContainer, Override, Profile, ProfileOption, ServerTemplate,
    StorageKind, SubPath, Volume,
};
use crate::{limits, naming};

pub(super) fn resolve_server(s: ServerFile, ctx: &Ctx, registry: Option<&Registry>) -> Result<ServerTemplate> {
    let image = s.image.unwrap_or_else(|| DEFAULT_IMAGE.to_string());
    check_image(&image).map_err(|why| ctx.err("server.image", &why))?;
    let cpu = s.cpu.unwrap_or(0.5);
    let memory = s.memory.unwrap_or_else(|| limits::consumption_memory(cpu));
    limits::validate_resources(cpu, &memory, s.workload_profile.as_deref()).map_err(|why| {
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
    t.check().map_err(|(key, why)| ctx.err(&format!("server.{key}"), &why))?;
    Ok(t)
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
        if !ok_name || c.name == CONTAINER_NAME {
            return Err(err(format!(
                "init container name `{}` must be 1-63 lowercase letters, digits or `-`, and not `{}`",
                c.name, CONTAINER_NAME
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

fn resolve_override(o: OverrideFile, key: &str, ctx: &Ctx, registry: Option<&Registry>) -> Result<Override> {
    if let Some(i) = &o.image {
        check_image(i).map_err(|why| ctx.err(&format!("{key}.image"), &why))?;
    }
    if let Some(w) = &o.workload_profile {
        check_workload_profile_name(w).map_err(|why| ctx.err(&format!("{key}.workload_profile"), &why))?;
    }
    if let Some(c) = o.cpu
        && (c.is_nan() || c <= 0.0)
    {
        return Err(ctx.err(&format!("{key}.cpu"), "must be positive"));
    }
    if let Some(m) = &o.memory
        && limits::parse_gi(m).is_none()
    {
        return Err(ctx.err(&format!("{key}.memory"), &format!("`{m}` must be a number of Gi, like 1Gi or 2.5Gi")));
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

pub(super) fn resolve_profiles(
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
        template.check().map_err(|(k, why)| err(&format!("{key}.server.{k}"), &why))?;
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
                template.apply(&server).check().map_err(|(k, why)| err(&format!("{ckey}.server.{k}"), &why))?;
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
