//! Value rules shared by resolution: each says what is wrong (the caller adds key and line).

use std::time::Duration;

pub(super) fn check_image(image: &str) -> std::result::Result<(), String> {
    if image.trim().is_empty() || image.chars().any(char::is_whitespace) {
        return Err("must be an image reference like myregistry.azurecr.io/notebook:2026.11".into());
    }
    Ok(())
}

pub(super) fn check_workload_profile_name(w: &str) -> std::result::Result<(), String> {
    let ok = !w.is_empty() && w.len() <= 64 && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok { Ok(()) } else { Err(format!("`{w}` is not a workload profile name (letters, digits, `-`, `_`)")) }
}

pub(super) fn check_start_timeout(secs: u64) -> std::result::Result<Duration, String> {
    if !(10..=3600).contains(&secs) {
        return Err(
            "must be 10-3600 seconds, and below the hub's Spawner.start_timeout minus the exec spawner's term_grace"
                .into(),
        );
    }
    Ok(Duration::from_secs(secs))
}

pub(super) fn is_cidr(s: &str) -> bool {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    addr.parse::<std::net::Ipv4Addr>().is_ok() && bits.is_none_or(|b| b.parse::<u8>().is_ok_and(|n| n <= 32))
}

pub(super) fn is_key_vault_secret_url(u: &str) -> bool {
    let Some(rest) = u.strip_prefix("https://") else { return false };
    let Some((host, path)) = rest.split_once('/') else { return false };
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    host.contains(".vault.")
        && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && (segs.len() == 2 || segs.len() == 3)
        && segs[0] == "secrets"
        && segs[1..].iter().all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

pub(super) fn is_slug(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

pub(super) fn environment_id(env: &str, sub: &str, rg: &str) -> std::result::Result<String, String> {
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

pub(super) fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

pub(super) fn is_api_version(s: &str) -> bool {
    let date = s.strip_suffix("-preview").unwrap_or(s);
    date.len() == 10
        && date.chars().enumerate().all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() })
}

pub(super) fn is_uami_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('/').collect();
    parts.len() == 9
        && parts[1].eq_ignore_ascii_case("subscriptions")
        && parts[6].eq_ignore_ascii_case("Microsoft.ManagedIdentity")
        && parts[7].eq_ignore_ascii_case("userAssignedIdentities")
}
