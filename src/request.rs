//! What JupyterHub hands a spawner: who, which server, what to forward, and the state from the
//! previous start. Read once from the environment (and --user/--server), validated here.

use serde::{Deserialize, Serialize};

use crate::cli::TargetArgs;
use crate::env::Env;
use crate::error::{Error, ErrorCode, Result};
use crate::naming;
use crate::settings::Settings;

pub const STATE_VERSION: u32 = 1;

/// The `state` object `start` prints and the hub hands back in ACACTL_STATE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub version: u32,
    /// Full ARM resource id of the app: poll and stop use it, so a renamed user or a changed naming
    /// scheme never turns a live app into "gone".
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub_id: Option<String>,
    /// The server's key (`acactl-key` tag) the app was created with: poll and stop act only on an
    /// app carrying it, so a renamed user keeps their app and a state cannot point elsewhere.
    /// Absent in states written by acactl 0.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Target {
    pub user: String,
    pub server: String,
}

#[derive(Debug)]
pub struct ServerRequest {
    pub target: Target,
    /// Variables named in ACACTL_FORWARD (present in the environment, not denied), in order.
    pub forward: Vec<(String, String)>,
    pub forward_declared: bool,
    pub api_token: Option<String>,
    /// The hub's public URL as JupyterHub told the spawner (for allow_origin: auto).
    pub public_hub_url: Option<String>,
    pub service_prefix: String,
    /// ACACTL_USER_OPTIONS (a JSON object; empty when unset): selects a profile and its choices.
    pub user_options: serde_json::Map<String, serde_json::Value>,
    /// ACACTL_USER_GROUPS (a JSON list of the user's hub groups; empty when unset).
    pub groups: Vec<String>,
    /// ACACTL_ARGS (the hub's `Spawner.args`, a JSON list): appended to the container's args.
    pub args: Vec<String>,
}

/// User and server from flags or the spawner environment.
pub fn target(args: &TargetArgs, env: &dyn Env) -> Result<Target> {
    let user = args.user.clone().or_else(|| env.var("JUPYTERHUB_USER")).ok_or_else(|| {
        Error::new(ErrorCode::MissingUser, "no user: set JUPYTERHUB_USER (the exec spawner does) or pass --user")
    })?;
    validate_user(&user)?;
    let server = args.server.clone().or_else(|| env.var("JUPYTERHUB_SERVER_NAME")).unwrap_or_default();
    if server.chars().any(|c| c.is_control() || c == '/') || server.len() > 255 {
        return Err(Error::new(
            ErrorCode::InvalidServerName,
            "server name must not contain `/` or control characters (at most 255 bytes)",
        ));
    }
    Ok(Target { user, server })
}

fn validate_user(user: &str) -> Result<()> {
    if user.is_empty() || user.len() > 255 || user.chars().any(|c| c.is_control() || c == '/') {
        return Err(Error::new(
            ErrorCode::InvalidUserName,
            "user name must be 1-255 bytes without `/` or control characters",
        ));
    }
    Ok(())
}

/// ACACTL_STATE, if any. `{}` (a cleared spawner state) counts as none.
pub fn state(env: &dyn Env) -> Result<Option<State>> {
    let Some(raw) = env.var("ACACTL_STATE") else {
        return Ok(None);
    };
    parse_state(&raw)
}

pub fn parse_state(raw: &str) -> Result<Option<State>> {
    let value: serde_json::Value = serde_json::from_str(raw)
        .map_err(|e| Error::new(ErrorCode::InvalidState, "ACACTL_STATE is not JSON").because(e))?;
    if value.as_object().is_some_and(|m| m.is_empty()) || value.is_null() {
        return Ok(None);
    }
    let version = value.get("version").and_then(|v| v.as_u64());
    if version != Some(STATE_VERSION as u64) {
        return Err(Error::new(
            ErrorCode::InvalidState,
            format!(
                "ACACTL_STATE has format version {} but this acactl reads version {STATE_VERSION}",
                value.get("version").map_or("(none)".to_string(), |v| v.to_string())
            ),
        ));
    }
    let state: State = serde_json::from_value(value)
        .map_err(|e| Error::new(ErrorCode::InvalidState, "ACACTL_STATE is not an acactl state object").because(e))?;
    if state.id.contains(['?', '#']) || state.id.chars().any(char::is_control) {
        return Err(Error::new(ErrorCode::InvalidState, "ACACTL_STATE id contains `?`, `#` or a control character"));
    }
    if let Some(k) = &state.key {
        if k.is_empty() || k.len() > 64 || !k.chars().all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c)) {
            return Err(Error::new(ErrorCode::InvalidState, "ACACTL_STATE key is not a server key"));
        }
        // The name ends in the first characters of its key: a key that is not its name's is refused.
        let hash = state.name.rsplit('-').next().unwrap_or("");
        if hash.len() < 10 || !k.starts_with(hash) {
            return Err(Error::new(ErrorCode::InvalidState, "ACACTL_STATE key does not belong to its app name"));
        }
    }
    let parts: Vec<&str> = state.id.split('/').collect();
    let valid = parts.len() == 9
        && parts[0].is_empty()
        && parts[1].eq_ignore_ascii_case("subscriptions")
        && parts[3].eq_ignore_ascii_case("resourceGroups")
        && parts[5].eq_ignore_ascii_case("providers")
        && parts[6].eq_ignore_ascii_case("Microsoft.App")
        && parts[7].eq_ignore_ascii_case("containerApps")
        && naming::is_valid_app_name(parts[8])
        && parts[8] == state.name;
    if !valid {
        return Err(Error::new(
            ErrorCode::InvalidState,
            format!("ACACTL_STATE id `{}` is not a container app resource id matching name `{}`", state.id, state.name),
        ));
    }
    Ok(Some(state))
}

/// A state names an app only inside the configured subscription and resource group: anything
/// else is not this hub's to poll or delete, whatever the state says.
pub fn check_state_scope(state: &State, settings: &Settings) -> Result<()> {
    let parts: Vec<&str> = state.id.split('/').collect();
    let (sub, rg) = (parts.get(2).copied().unwrap_or(""), parts.get(4).copied().unwrap_or(""));
    if !sub.eq_ignore_ascii_case(&settings.subscription) || !rg.eq_ignore_ascii_case(&settings.resource_group) {
        return Err(Error::new(
            ErrorCode::InvalidState,
            format!(
                "ACACTL_STATE names an app in subscription {sub}, resource group {rg}; this hub uses {}, {}",
                settings.subscription, settings.resource_group
            ),
        ));
    }
    Ok(())
}

/// Everything `start` needs from the spawner environment.
pub fn server_request(args: &TargetArgs, env: &dyn Env) -> Result<ServerRequest> {
    let target = target(args, env)?;
    let forward_list = env.var("ACACTL_FORWARD").or_else(|| env.batch_forward());
    let mut forward = Vec::new();
    if let Some(list) = &forward_list {
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if naming::is_denied_env(name) || naming::validate_env_name(name).is_err() {
                continue;
            }
            if forward.iter().any(|(n, _): &(String, String)| n == name) {
                continue;
            }
            if let Some(value) = env.var_raw(name) {
                if naming::looks_secret(name) {
                    crate::output::register_secret(&value);
                }
                forward.push((name.to_string(), value));
            }
        }
    }
    let user_options = user_options(env)?;
    let groups = user_groups(env)?;
    let args = extra_args(env)?;
    let service_prefix = env.var("JUPYTERHUB_SERVICE_PREFIX").unwrap_or_else(|| {
        let base = env.var("JUPYTERHUB_BASE_URL").unwrap_or_else(|| "/".into());
        let base = if base.ends_with('/') { base } else { format!("{base}/") };
        let mut p = format!("{base}user/{}/", quote(&target.user));
        if !target.server.is_empty() {
            p.push_str(&format!("{}/", quote(&target.server)));
        }
        p
    });
    if !service_prefix.starts_with('/') || !service_prefix.ends_with('/') {
        return Err(Error::new(
            ErrorCode::InvalidServicePrefix,
            format!("JUPYTERHUB_SERVICE_PREFIX `{service_prefix}` must start and end with `/`"),
        ));
    }
    Ok(ServerRequest {
        target,
        forward,
        forward_declared: forward_list.is_some(),
        api_token: env.var("JUPYTERHUB_API_TOKEN").or_else(|| env.var("JPY_API_TOKEN")),
        public_hub_url: env.var("JUPYTERHUB_PUBLIC_HUB_URL").or_else(|| env.var("JUPYTERHUB_PUBLIC_URL")),
        service_prefix,
        user_options,
        groups,
        args,
    })
}

const MAX_ARGS: usize = 64;
const MAX_ARG_LEN: usize = 4096;

/// ACACTL_ARGS: the operator's `c.Spawner.args` (the exec spawner sets it), a JSON list of strings
/// appended to the notebook container's args. allow_origin stays acactl's (`hub.allow_origin`).
pub fn extra_args(env: &dyn Env) -> Result<Vec<String>> {
    let Some(raw) = env.var("ACACTL_ARGS") else {
        return Ok(Vec::new());
    };
    let bad = |why: String| Error::new(ErrorCode::InvalidArgs, format!("ACACTL_ARGS {why}"));
    let args: Vec<String> =
        serde_json::from_str(&raw).map_err(|e| bad(format!("must be a JSON list of strings: {e}")))?;
    if args.len() > MAX_ARGS {
        return Err(bad(format!("has {} arguments; at most {MAX_ARGS} are accepted", args.len())));
    }
    for a in &args {
        if a.len() > MAX_ARG_LEN || a.contains('\0') {
            return Err(bad(format!("has an argument longer than {MAX_ARG_LEN} bytes or containing NUL")));
        }
        if a.to_ascii_lowercase().contains("allow_origin") {
            return Err(bad(format!(
                "sets `{a}`: the allowed origin is acactl's `hub.allow_origin` (an exact origin, never `*`)"
            )));
        }
    }
    Ok(args)
}

/// ACACTL_USER_OPTIONS: a JSON object (the spawner's `user_options`), or empty.
pub fn user_options(env: &dyn Env) -> Result<serde_json::Map<String, serde_json::Value>> {
    let Some(raw) = env.var("ACACTL_USER_OPTIONS") else {
        return Ok(serde_json::Map::new());
    };
    let v: serde_json::Value = serde_json::from_str(&raw)
        .map_err(|e| Error::new(ErrorCode::InvalidUserOptions, "ACACTL_USER_OPTIONS is not JSON").because(e))?;
    match v {
        serde_json::Value::Object(m) => Ok(m),
        serde_json::Value::Null => Ok(serde_json::Map::new()),
        _ => Err(Error::new(ErrorCode::InvalidUserOptions, "ACACTL_USER_OPTIONS must be a JSON object")),
    }
}

/// ACACTL_USER_GROUPS: the user's hub group names as a JSON list of strings (the exec spawner sets it
/// from `user.groups`), or empty.
pub fn user_groups(env: &dyn Env) -> Result<Vec<String>> {
    let Some(raw) = env.var("ACACTL_USER_GROUPS") else {
        return Ok(Vec::new());
    };
    serde_json::from_str::<Vec<String>>(&raw).map_err(|e| {
        Error::new(ErrorCode::InvalidUserGroups, format!("ACACTL_USER_GROUPS must be a JSON list of group names: {e}"))
    })
}

/// Percent-encode a URL path segment the way JupyterHub does (`quote(name, safe="@~")`).
pub fn quote(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn state_round_trip_and_rejections() {
        let ok = r#"{"version":1,"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.App/containerApps/hub1-a-b","name":"hub1-a-b"}"#;
        assert_eq!(parse_state(ok).unwrap().unwrap().name, "hub1-a-b");
        assert!(parse_state("{}").unwrap().is_none());
        for bad in [
            "not json",
            r#"{"version":2,"id":"x","name":"y"}"#,
            r#"{"version":1,"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.App/containerApps/other","name":"hub1-a-b"}"#,
            r#"{"version":1,"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/hub1-a-b","name":"hub1-a-b"}"#,
            r#"{"version":1,"name":"hub1-a-b"}"#,
            r#"[1,2]"#,
            r#"{"version":1,"id":"/subscriptions/s/resourceGroups/rg?x=/providers/Microsoft.App/containerApps/hub1-a-b","name":"hub1-a-b"}"#,
            r#"{"version":1,"id":"/subscriptions/s#/resourceGroups/rg/providers/Microsoft.App/containerApps/hub1-a-b","name":"hub1-a-b"}"#,
            r#"{"version":1,"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.App/containerApps/hub1-a-b","name":"hub1-a-b","key":"NOT-A-KEY"}"#,
        ] {
            let e = parse_state(bad).unwrap_err();
            assert_eq!(e.code, "InvalidState", "{bad}");
        }
    }

    #[test]
    fn extra_args_parsed_and_refused() {
        let env = |v: &str| -> std::collections::BTreeMap<String, String> {
            [("ACACTL_ARGS".to_string(), v.to_string())].into()
        };
        assert_eq!(extra_args(&std::collections::BTreeMap::new()).unwrap(), Vec::<String>::new());
        assert_eq!(extra_args(&env(r#"["--debug","--x=1"]"#)).unwrap(), vec!["--debug", "--x=1"]);
        for bad in [
            "--debug",
            r#"{"a":1}"#,
            "[1]",
            r#"["a\u0000b"]"#,
            r#"["--ServerApp.allow_origin=*"]"#,
            r#"["--NotebookApp.allow_origin_pat=.*"]"#,
        ] {
            let e = extra_args(&env(bad)).unwrap_err();
            assert_eq!(e.code, "InvalidArgs", "{bad}");
            assert_eq!(e.exit(), crate::error::Exit::Usage, "{bad}");
        }
        let many = serde_json::to_string(&vec!["a"; MAX_ARGS + 1]).unwrap();
        assert!(extra_args(&env(&many)).is_err());
        let long = serde_json::to_string(&vec!["a".repeat(MAX_ARG_LEN + 1)]).unwrap();
        assert!(extra_args(&env(&long)).is_err());
    }

    #[test]
    fn quote_matches_jupyterhub() {
        assert_eq!(quote("Marcus.Müller@example.org"), "Marcus.M%C3%BCller@example.org");
        assert_eq!(quote("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn state_scope_is_the_configured_subscription_and_group() {
        let settings = crate::settings::for_tests("");
        let at = |sub: &str, rg: &str| {
            parse_state(&format!(r#"{{"version":1,"id":"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.App/containerApps/hub1-a-b","name":"hub1-a-b"}}"#))
                .unwrap()
                .unwrap()
        };
        check_state_scope(&at("00000000-0000-0000-0000-000000000001", "RG"), &settings).unwrap();
        for (sub, rg) in
            [("00000000-0000-0000-0000-000000000002", "rg"), ("00000000-0000-0000-0000-000000000001", "other")]
        {
            assert_eq!(check_state_scope(&at(sub, rg), &settings).unwrap_err().code, "InvalidState");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, rng_seed: proptest::test_runner::RngSeed::Fixed(11), ..ProptestConfig::default() })]
        #[test]
        fn parse_state_never_panics(s in "\\PC{0,200}") {
            let _ = parse_state(&s);
        }
        #[test]
        fn user_options_never_panic(raw in "\\PC{0,120}") {
            let env: std::collections::BTreeMap<String, String> =
                [("JUPYTERHUB_USER", "u"), ("ACACTL_USER_OPTIONS", raw.as_str())].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let _ = server_request(&TargetArgs { user: None, server: None }, &env);
        }

        #[test]
        fn parse_state_json_never_panics(v in r#"\{"version":[0-9],"id":"[/a-zA-Z.]{0,80}","name":"[a-z-]{0,40}"\}"#) {
            let _ = parse_state(&v);
        }
    }
}
