//! Pure naming rules: app names and server keys, volume directories, tags, origins, env and secret
//! names. (CPU/memory rules are in `limits`.)
//! Changing the app-name scheme moves every running server: the snapshot tests freeze it.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

pub const MAX_APP_NAME: usize = 32;
const HASH_LEN: usize = 10;

/// 1-10 characters: a lowercase letter, then lowercase letters or digits.
pub fn validate_hub_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 10
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!("`{id}` must be 1-10 characters: a lowercase letter, then lowercase letters or digits"))
    }
}

/// The stable identity of one server: what the hash in its name and the `acactl-key` tag are made of.
pub fn server_key(hub_id: &str, user: &str, server: &str) -> String {
    let mut h = Sha256::new();
    // Length-prefixed so ("ab","c") and ("a","bc") differ.
    for part in [hub_id, user, server] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    base32(&h.finalize())
}

fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::new();
    let (mut acc, mut bits) = (0u32, 0);
    for &b in bytes {
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    out
}

/// `{hub}-{slug}-{hash}`: at most 32 characters, lowercase alphanumerics and single dashes, starting
/// with a letter. The slug is for humans; the 50-bit hash of (hub, user, server) keeps two servers apart.
pub fn app_name(hub_id: &str, user: &str, server: &str) -> String {
    let hash = &server_key(hub_id, user, server)[..HASH_LEN];
    let room = MAX_APP_NAME - hub_id.len() - HASH_LEN - 2;
    let mut source = user.to_string();
    if !server.is_empty() {
        source.push('-');
        source.push_str(server);
    }
    let slug = slug(&source, room);
    if slug.is_empty() { format!("{hub_id}-{hash}") } else { format!("{hub_id}-{slug}-{hash}") }
}

fn slug(source: &str, max: usize) -> String {
    let mut out = String::new();
    for c in source.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { '-' };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(c);
        if out.len() >= max {
            break;
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The directory of a per-user (`server: None`) or per-server volume on a shared Azure Files share:
/// one path segment `{slug}-{hash}` (lowercase letters, digits, single dashes; never empty, `.` or
/// `..`, never containing `/`). The hash is of (hub, user[, server]) with the same 50-bit scheme as
/// app names, in its own domain so a user directory never equals a server directory. Changing this
/// moves everyone's home: the snapshot test freezes it.
pub fn volume_sub_path(hub_id: &str, user: &str, server: Option<&str>) -> String {
    let mut h = Sha256::new();
    let domain = if server.is_some() { "acactl-server-dir" } else { "acactl-user-dir" };
    for part in [domain, hub_id, user, server.unwrap_or("")] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    let hash = &base32(&h.finalize())[..HASH_LEN];
    let mut source = user.to_string();
    if let Some(s) = server.filter(|s| !s.is_empty()) {
        source.push('-');
        source.push_str(s);
    }
    let slug = slug(&source, 40);
    if slug.is_empty() { hash.to_string() } else { format!("{slug}-{hash}") }
}

/// ACA's rule for container app names.
pub fn is_valid_app_name(name: &str) -> bool {
    (2..=MAX_APP_NAME).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.contains("--")
}

pub fn validate_env_name(name: &str) -> Result<(), String> {
    let ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err("is not a valid environment variable name (letters, digits and `_`, not starting with a digit)".into())
    }
}

pub fn is_valid_secret_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// Variables that never reach a user container, whatever the spawner asks: the hub's Azure
/// credentials and secrets, and process plumbing that belongs to the image.
pub fn is_denied_env(name: &str) -> bool {
    const PREFIXES: &[&str] = &["AZURE_", "IDENTITY_", "MSI_", "ACACTL_", "CONFIGPROXY_", "LD_"];
    const NAMES: &[&str] = &[
        "JPY_COOKIE_SECRET",
        "JUPYTERHUB_CRYPT_KEY",
        "JUPYTERHUB_COOKIE_SECRET",
        "IMDS_ENDPOINT",
        "PATH",
        "HOME",
        "PWD",
        "SHELL",
        "HOSTNAME",
        "USER",
    ];
    let upper = name.to_ascii_uppercase();
    PREFIXES.iter().any(|p| upper.starts_with(p)) || NAMES.contains(&upper.as_str())
}

/// Forwarded variables whose names say they hold a secret go into ACA secrets, not plain env.
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "PRIVATE"].iter().any(|w| upper.contains(w))
        || upper.ends_with("_KEY")
}

/// `scheme://host[:port]` of a URL, lower case, default ports dropped: the exact form
/// jupyter_server compares `allow_origin` with.
pub fn origin_of(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?.to_ascii_lowercase();
    if authority.is_empty() {
        return None;
    }
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    let host = authority.rsplit_once(':').map_or(authority, |(h, p)| {
        if p.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(']') || h.ends_with(']') { h } else { authority }
    });
    if host.is_empty() || host.chars().any(|c| c.is_whitespace()) {
        return None;
    }
    Some(format!("{scheme}://{authority}"))
}

/// Azure tag rules: at most 50 tags; names at most 512 characters without `<>%&\?/`; values at most 256.
pub fn validate_tags(tags: &BTreeMap<String, String>) -> Result<(), String> {
    if tags.len() > 50 {
        return Err(format!("{} tags; Azure allows at most 50", tags.len()));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 512 || k.contains(['<', '>', '%', '&', '\\', '?', '/']) {
            return Err(format!("tag name `{k}` breaks Azure's rules (1-512 characters, none of <>%&\\?/)"));
        }
        if v.chars().count() > 256 {
            return Err(format!("tag `{k}` has a value over 256 characters"));
        }
    }
    Ok(())
}

/// A tag value that fits Azure's 256-character limit; longer values keep a prefix and a hash.
pub fn tag_value(value: &str) -> String {
    if value.chars().count() <= 256 {
        return value.to_string();
    }
    let digest = base32(&Sha256::digest(value.as_bytes()));
    let prefix: String = value.chars().take(256 - 1 - 16).collect();
    format!("{prefix}~{}", &digest[..16])
}

/// A fresh revision suffix (forces a new revision on adoption): lowercase alphanumerics.
pub fn spawn_suffix(seed: u64) -> String {
    let digest = Sha256::digest(seed.to_be_bytes());
    format!("s{}", &base32(&digest)[..7])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn app_names_are_frozen() {
        // Snapshot: changing these moves running servers to new names.
        insta::assert_snapshot!(app_name("hub1", "marcus", ""), @"hub1-marcus-bmu46ywmq4");
        insta::assert_snapshot!(app_name("hub1", "marcus", "gpu"), @"hub1-marcus-gpu-w3r5ahdsz2");
        insta::assert_snapshot!(app_name("hub1", "Marcus.Müller@example.org", ""), @"hub1-marcus-m-ller-ex-4k2byqalq5");
        insta::assert_snapshot!(app_name("prod", "ÄÖÜ", ""), @"prod-h7c2wyy36c");
        insta::assert_snapshot!(app_name("h", &"x".repeat(200), "s"), @"h-xxxxxxxxxxxxxxxxxxx-nggngce6i7");
    }

    #[test]
    fn volume_sub_paths_are_frozen() {
        // Snapshot: changing these moves every user's home directory on the share.
        insta::assert_snapshot!(volume_sub_path("hub1", "marcus", None), @"marcus-erb45fhd7d");
        insta::assert_snapshot!(volume_sub_path("hub1", "marcus", Some("")), @"marcus-txqrkbrtlz");
        insta::assert_snapshot!(volume_sub_path("hub1", "marcus", Some("gpu")), @"marcus-gpu-af5ud55lxw");
        insta::assert_snapshot!(volume_sub_path("hub1", "Marcus.Müller@example.org", None), @"marcus-m-ller-example-org-ka7rnwcuak");
        insta::assert_snapshot!(volume_sub_path("hub1", "../..", None), @"vyhy6odeph");
        insta::assert_snapshot!(volume_sub_path("hub1", "a/b", None), @"a-b-xvh4xegy4q");
        insta::assert_snapshot!(volume_sub_path("prod", "ÄÖÜ", None), @"f375dvljzy");
        insta::assert_snapshot!(volume_sub_path("h", &"x".repeat(200), None), @"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-pn3osit7mt");
    }

    #[test]
    fn similar_users_get_different_names() {
        assert_ne!(app_name("h", "a.b", ""), app_name("h", "a-b", ""));
        assert_ne!(app_name("h", "Marcus", ""), app_name("h", "marcus", ""));
        assert_ne!(app_name("h", "ab", "c"), app_name("h", "a", "bc"));
        assert_ne!(app_name("h1", "u", ""), app_name("h2", "u", ""));
    }

    #[test]
    fn origins() {
        assert_eq!(origin_of("https://Hub.Example.org/").as_deref(), Some("https://hub.example.org"));
        assert_eq!(origin_of("https://hub.example.org:443/hub/").as_deref(), Some("https://hub.example.org"));
        assert_eq!(origin_of("https://hub.example.org:8443/x").as_deref(), Some("https://hub.example.org:8443"));
        assert_eq!(origin_of("http://h:80").as_deref(), Some("http://h"));
        assert_eq!(origin_of("ftp://h"), None);
        assert_eq!(origin_of("hub.example.org"), None);
    }

    #[test]
    fn denied_env() {
        for n in [
            "AZURE_CLIENT_SECRET",
            "IDENTITY_HEADER",
            "MSI_ENDPOINT",
            "JPY_COOKIE_SECRET",
            "JUPYTERHUB_CRYPT_KEY",
            "PATH",
            "azure_x",
        ] {
            assert!(is_denied_env(n), "{n}");
        }
        for n in ["JUPYTERHUB_API_URL", "MY_AZURE", "JUPYTERHUB_USER"] {
            assert!(!is_denied_env(n), "{n}");
        }
    }

    #[test]
    fn long_tag_values_are_shortened_stably() {
        let long = "ü".repeat(300);
        let v = tag_value(&long);
        assert_eq!(v.chars().count(), 256);
        assert_eq!(v, tag_value(&long));
        assert_ne!(v, tag_value(&format!("{long}x")));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, rng_seed: proptest::test_runner::RngSeed::Fixed(7), ..ProptestConfig::default() })]
        #[test]
        fn names_are_always_valid(hub in "[a-z][a-z0-9]{0,9}", user in "\\PC{0,200}", server in "\\PC{0,40}") {
            let n = app_name(&hub, &user, &server);
            prop_assert!(is_valid_app_name(&n), "{n}");
            prop_assert_eq!(n, app_name(&hub, &user, &server));
        }

        #[test]
        fn names_do_not_collide(a in "\\PC{1,30}", b in "\\PC{1,30}", s in "[a-z]{0,3}") {
            prop_assume!(a != b);
            prop_assert_ne!(app_name("hub", &a, &s), app_name("hub", &b, &s));
        }

        #[test]
        fn volume_sub_paths_are_one_safe_segment(hub in "[a-z][a-z0-9]{0,9}", user in "\\PC{0,200}", server in proptest::option::of("\\PC{0,40}")) {
            let p = volume_sub_path(&hub, &user, server.as_deref());
            prop_assert!(!p.is_empty() && p.len() <= 51, "{p}");
            prop_assert!(p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{p}");
            prop_assert!(!p.starts_with('-') && !p.ends_with('-') && !p.contains("--"), "{p}");
        }

        #[test]
        fn volume_sub_paths_do_not_collide(a in "\\PC{1,30}", b in "\\PC{1,30}") {
            prop_assume!(a != b);
            prop_assert_ne!(volume_sub_path("hub", &a, None), volume_sub_path("hub", &b, None));
            prop_assert_ne!(volume_sub_path("hub", &a, None), volume_sub_path("hub", &a, Some("")));
        }

        #[test]
        fn origin_of_never_panics(s in "\\PC{0,80}") {
            let _ = origin_of(&s);
        }
    }
}
