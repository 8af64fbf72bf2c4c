//! Azure Resource Manager: wire types (`model`) and the one client (`client`: auth, retries,
//! long-running operations). Nothing here knows about JupyterHub.

pub mod budget;
pub mod bulk_delete;
pub mod client;
pub mod fleet;
pub mod lro;
pub mod model;
pub mod schema;

pub use client::{Arm, DeleteStarted, PutStarted};

use crate::auth::{TokenCache, TokenProvider};
use crate::error::{Error, Result};
use crate::settings::Settings;

/// The ARM client for these settings (no network until the first request).
pub fn connect(settings: &Settings) -> Result<Arm> {
    let http = crate::http::client(settings).map_err(|e| Error::config(format!("{e:#}")))?;
    let cache = settings.cache_dir.as_deref().and_then(TokenCache::open);
    let auth = TokenProvider::new(settings.cloud.clone(), settings.credential.clone(), http.clone(), cache);
    let arm = Arm::new(http, &settings.cloud.resource_manager, &settings.api_version, auth, settings.arm.clone());
    Ok(arm.with_budget(hub_budget(settings)))
}

/// The hub-wide ARM budget in the cache dir (none without one, or when it cannot be trusted).
pub fn hub_budget(settings: &Settings) -> Option<budget::Budget> {
    let cache = settings.cache_dir.as_deref()?;
    let key = format!("{}|{}", settings.cloud.resource_manager, settings.subscription.to_ascii_lowercase());
    match budget::Budget::open(cache, &key) {
        Ok(b) => Some(b),
        Err(why) => {
            crate::output::warn(&format!("ARM request budget disabled: {why}"));
            None
        }
    }
}
