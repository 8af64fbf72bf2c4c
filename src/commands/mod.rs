//! One file per command; each returns the JSON document to print (or an Error).

pub mod batch;
pub mod doctor;
pub mod gc;
pub mod generate;
pub mod poll;
pub mod preflight;
pub mod profiles;
pub mod start;
pub mod status;
pub mod stop;

use std::time::{SystemTime, UNIX_EPOCH};

use crate::arm::Arm;
use crate::auth::{TokenCache, TokenProvider};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::naming;
use crate::ownership::{self, Expect};
use crate::request;
use crate::settings::Settings;
use crate::spec;

/// The ARM client for these settings (no network until the first request).
pub fn arm(settings: &Settings) -> Result<Arm> {
    let http = crate::http::client(settings).map_err(|e| Error::config(format!("{e:#}")))?;
    let cache = settings.cache_dir.as_deref().and_then(TokenCache::open);
    let auth = TokenProvider::new(settings.cloud.clone(), settings.credential.clone(), http.clone(), cache);
    let arm = Arm::new(http, &settings.cloud.resource_manager, &settings.api_version, auth, settings.arm.clone());
    Ok(arm.with_budget(budget(settings)))
}

/// The hub-wide ARM budget in the cache dir (none without one, or when it cannot be trusted).
pub fn budget(settings: &Settings) -> Option<crate::arm::budget::Budget> {
    let cache = settings.cache_dir.as_deref()?;
    let key = format!("{}|{}", settings.cloud.resource_manager, settings.subscription.to_ascii_lowercase());
    match crate::arm::budget::Budget::open(cache, &key) {
        Ok(b) => Some(b),
        Err(why) => {
            crate::output::warn(&format!("ARM request budget disabled: {why}"));
            None
        }
    }
}

/// Which app a poll/stop is about: the state's resource id when the hub gave one, else the name
/// rebuilt from (hub id, user, server); and whose it must be (see `ownership`).
pub struct AppRef {
    pub id: String,
    pub name: String,
    pub expect: Expect,
    /// From a state written before states recorded the server's key (acactl 0.1): `expect` was
    /// rebuilt from today's user and server, which a renamed user no longer matches.
    pub legacy_state: bool,
}

pub fn app_ref(target: &crate::cli::TargetArgs, settings: &Settings, env: &dyn Env) -> Result<AppRef> {
    if target.user.is_none() {
        if let Some(state) = request::state(env)? {
            request::check_state_scope(&state, settings)?;
            // The key the state recorded; for older states the spawner's user and server (their
            // tags made the key); with neither, the name's own hash.
            let expect = match (&state.key, request::target(target, env)) {
                (Some(k), _) => Expect::Key(k.clone()),
                (None, Ok(t)) => Expect::server(settings, &t.user, &t.server),
                (None, Err(_)) => Expect::Name(state.name.clone()),
            };
            let legacy_state = state.key.is_none();
            return Ok(AppRef { id: state.id, name: state.name, expect, legacy_state });
        }
    }
    let t = request::target(target, env)?;
    let name = naming::app_name(&settings.hub_id, &t.user, &t.server);
    Ok(AppRef {
        id: spec::app_id(settings, &name),
        name,
        expect: Expect::server(settings, &t.user, &t.server),
        legacy_state: false,
    })
}

/// The ownership rule for this reference.
pub fn is_ours(app: &crate::arm::model::ContainerApp, settings: &Settings, r: &AppRef) -> bool {
    ownership::owns(app, settings, &r.expect)
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

pub fn seed() -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or_default();
    nanos ^ ((std::process::id() as u64) << 40)
}
