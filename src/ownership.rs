//! One ownership rule for every command that reads or changes an app (start, poll, stop, gc,
//! status, batch): acactl acts on an app only when its tags say it is acactl's, of this hub, and
//! (for one server's commands) of that server. Names and states are claims; tags decide.
//!
//! Here too: the tags that say so, the app reference one server's commands act on, and the hub's
//! view of which servers are in use (gc, status).
//!
//! Also the per-server lock that serialises lifecycle commands (start, stop, batch submit/cancel)
//! of one server across processes.

use std::collections::{BTreeMap, HashSet};

use crate::arm::model::ContainerApp;
use crate::cli::TargetArgs;
use crate::env::Env;
use crate::error::Result;
use crate::hub::User;
use crate::naming;
use crate::request;
use crate::settings::Settings;

// The tags acactl puts on every app it creates (`tags`); `owns` decides by them.
pub const TAG_MANAGED_BY: &str = "managed-by";
pub const TAG_HUB: &str = "acactl-hub";
pub const TAG_USER: &str = "acactl-user";
pub const TAG_SERVER: &str = "acactl-server";
pub const TAG_KEY: &str = "acactl-key";
pub const TAG_CREATED: &str = "acactl-created";
pub const TAG_VERSION: &str = "acactl-version";
/// The profile a server was started with (only when profiles are configured).
pub const TAG_PROFILE: &str = "acactl-profile";

/// The ARM resource id of app `name` in the configured subscription and resource group.
pub fn app_id(settings: &Settings, name: &str) -> String {
    format!(
        "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.App/containerApps/{name}",
        settings.subscription, settings.resource_group
    )
}

/// Ownership tags: what `status` and `gc` trust, never name prefixes.
pub fn tags(settings: &Settings, user: &str, server: &str, created: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (TAG_MANAGED_BY.to_string(), "acactl".to_string()),
        (TAG_HUB.to_string(), settings.hub_id.clone()),
        (TAG_USER.to_string(), naming::tag_value(user)),
        (TAG_SERVER.to_string(), naming::tag_value(server)),
        (TAG_KEY.to_string(), naming::server_key(&settings.hub_id, user, server)),
        (TAG_CREATED.to_string(), created.to_string()),
        (TAG_VERSION.to_string(), env!("CARGO_PKG_VERSION").to_string()),
    ])
}

/// Whose app a command expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Any app of this hub (status, gc).
    Hub,
    /// One server, by its key (`acactl-key` tag): from start's own (hub, user, server), from the
    /// key a state recorded, or rebuilt from the spawner's user and server for an older state.
    Key(String),
    /// One server known only by its app name (batchspawner's job id, or an old state without
    /// user information): the app's key must be the one the name's hash was made from.
    Name(String),
}

impl Expect {
    pub fn server(settings: &Settings, user: &str, server: &str) -> Expect {
        Expect::Key(naming::server_key(&settings.hub_id, user, server))
    }
}

/// Tagged as acactl's and this hub's.
fn of_hub(app: &ContainerApp, settings: &Settings) -> bool {
    managed(app) && app.tag(TAG_HUB) == Some(settings.hub_id.as_str())
}

/// The rule.
pub fn owns(app: &ContainerApp, settings: &Settings, expect: &Expect) -> bool {
    if !of_hub(app, settings) {
        return false;
    }
    match expect {
        Expect::Hub => true,
        Expect::Key(k) => app.tag(TAG_KEY) == Some(k.as_str()),
        Expect::Name(name) => {
            // `{hub}-{slug}-{hash}`: the hash is the key's first characters.
            let hash = name.rsplit('-').next().unwrap_or("");
            hash.len() >= 10 && app.tag(TAG_KEY).is_some_and(|k| k.starts_with(hash))
        }
    }
}

/// Tagged `managed-by=acactl` (any hub).
pub fn managed(app: &ContainerApp) -> bool {
    app.tag(TAG_MANAGED_BY) == Some("acactl")
}

/// Tagged as this hub's.
pub fn ours(app: &ContainerApp, settings: &Settings) -> bool {
    owns(app, settings, &Expect::Hub)
}

/// Which app a poll/stop is about: the state's resource id when the hub gave one, else the name
/// rebuilt from (hub id, user, server); and whose it must be (see `Expect`).
pub struct AppRef {
    pub id: String,
    pub name: String,
    pub expect: Expect,
    /// From a state written before states recorded the server's key (acactl 0.1): `expect` was
    /// rebuilt from today's user and server, which a renamed user no longer matches.
    pub legacy_state: bool,
}

/// The reference poll and stop act on: ACACTL_STATE's app when the hub gave one (and no --user),
/// else the name rebuilt from the target.
pub fn app_ref(target: &TargetArgs, settings: &Settings, env: &dyn Env) -> Result<AppRef> {
    if target.user.is_none()
        && let Some(state) = request::state(env)?
    {
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
    let t = request::target(target, env)?;
    let name = naming::app_name(&settings.hub_id, &t.user, &t.server);
    Ok(AppRef {
        id: app_id(settings, &name),
        name,
        expect: Expect::server(settings, &t.user, &t.server),
        legacy_state: false,
    })
}

/// The ownership rule for this reference.
pub fn is_ours(app: &ContainerApp, settings: &Settings, r: &AppRef) -> bool {
    owns(app, settings, &r.expect)
}

/// What the hub considers in use: app names found in servers' `state`, and the server keys
/// (hub id, user, server) of active servers.
#[derive(Default)]
pub struct HubView {
    pub state_refs: HashSet<String>,
    pub server_keys: HashSet<String>,
    /// Keys of servers whose spawn is pending: gc leaves their failed apps to start.
    pub pending_spawn: HashSet<String>,
    pub users: usize,
    pub servers: usize,
    pub pages: usize,
}

impl HubView {
    pub fn build(settings: &Settings, users: &[User], pages: usize) -> HubView {
        let mut v = HubView { users: users.len(), pages, ..Default::default() };
        for u in users {
            for (key, s) in &u.servers {
                if !s.active() {
                    continue;
                }
                v.servers += 1;
                let name = if s.name.is_empty() { key.as_str() } else { s.name.as_str() };
                let k = naming::server_key(&settings.hub_id, &u.name, name);
                if s.pending.as_deref() == Some("spawn") {
                    v.pending_spawn.insert(k.clone());
                }
                v.server_keys.insert(k);
                v.state_refs.extend(s.state_refs());
            }
        }
        v
    }

    pub fn by_state(&self, app: &ContainerApp) -> bool {
        self.state_refs.contains(&crate::phase::app_name(app).to_ascii_lowercase())
    }

    pub fn by_tags(&self, app: &ContainerApp) -> bool {
        app.tag(TAG_KEY).is_some_and(|k| self.server_keys.contains(k))
    }

    pub fn spawning(&self, app: &ContainerApp) -> bool {
        app.tag(TAG_KEY).is_some_and(|k| self.pending_spawn.contains(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app(hub: &str, key: &str) -> ContainerApp {
        let tags = json!({TAG_MANAGED_BY: "acactl", TAG_HUB: hub, TAG_KEY: key});
        serde_json::from_value(json!({"name": "x", "tags": tags})).unwrap()
    }

    #[test]
    fn one_rule() {
        let s = crate::settings::for_tests("");
        let key = naming::server_key(&s.hub_id, "ann", "");
        let name = naming::app_name(&s.hub_id, "ann", "");
        let mine = app(&s.hub_id, &key);
        assert!(owns(&mine, &s, &Expect::Hub));
        assert!(owns(&mine, &s, &Expect::server(&s, "ann", "")));
        assert!(owns(&mine, &s, &Expect::Key(key.clone())));
        assert!(owns(&mine, &s, &Expect::Name(name.clone())));
        // Another user's app of this hub: the hub matches, the server does not.
        assert!(!owns(&mine, &s, &Expect::server(&s, "bob", "")));
        assert!(!owns(&mine, &s, &Expect::Name(naming::app_name(&s.hub_id, "bob", ""))));
        assert!(!owns(&mine, &s, &Expect::Name("short".into())));
        let other_hub = app("other", &key);
        assert!(!owns(&other_hub, &s, &Expect::Key(key.clone())));
        let untagged: ContainerApp = serde_json::from_value(json!({"name": "x"})).unwrap();
        assert!(!owns(&untagged, &s, &Expect::Hub));
    }
}
