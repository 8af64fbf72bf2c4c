//! One file per command; each returns the JSON document to print (or an Error). Also what they
//! share: the ARM client for the settings, the hub-wide budget, the clock and the retry seed.

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

use crate::arm::Arm;
use crate::auth::{TokenCache, TokenProvider};
use crate::error::{Error, Result};
use crate::settings::Settings;

/// The ARM client for these settings (no network until the first request).
pub fn arm(settings: &Settings) -> Result<Arm> {
    let http = crate::http::client(settings).map_err(|e| Error::config("").because(e))?;
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
