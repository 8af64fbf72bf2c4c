//! The process environment, behind one trait: resolution (`settings`), the spawner request
//! (`request`) and secret registration read variables only through `Env`, so tests pass a map
//! and nothing else in acactl calls `std::env::var`.

use std::collections::BTreeMap;

/// What the environment contributes; passed in so resolution is a pure function.
pub trait Env {
    /// A set, non-empty variable (an empty setting means "not set" for acactl's own variables).
    fn var(&self, name: &str) -> Option<String>;
    /// A set variable, empty or not: forwarded variables are forwarded exactly, and JupyterHub
    /// sends some empty on purpose (`JUPYTERHUB_SERVER_NAME=""` for the default server).
    fn var_raw(&self, name: &str) -> Option<String> {
        self.var(name)
    }
    /// In batch mode (batchspawner runs submit with only `get_env()` plus `env_keep`), the
    /// forward list is every variable present; the deny-list still applies.
    fn batch_forward(&self) -> Option<String> {
        None
    }
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
    fn var_raw(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// The process environment for `acactl batch submit`.
pub struct BatchEnv;

impl Env for BatchEnv {
    fn var(&self, name: &str) -> Option<String> {
        ProcessEnv.var(name)
    }
    fn var_raw(&self, name: &str) -> Option<String> {
        ProcessEnv.var_raw(name)
    }
    fn batch_forward(&self) -> Option<String> {
        let skip = |n: &str| n.starts_with("LC_") || ["LANG", "TERM", "SHLVL", "_"].contains(&n);
        Some(std::env::vars().map(|(k, _)| k).filter(|k| !skip(k)).collect::<Vec<_>>().join(","))
    }
}

impl Env for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned().filter(|v| !v.is_empty())
    }
    fn var_raw(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}
