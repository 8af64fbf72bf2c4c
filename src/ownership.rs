//! One ownership rule for every command that reads or changes an app (start, poll, stop, gc,
//! status, batch): acactl acts on an app only when its tags say it is acactl's, of this hub, and
//! (for one server's commands) of that server. Names and states are claims; tags decide.
//!
//! Also the per-server lock that serialises lifecycle commands (start, stop, batch submit/cancel)
//! of one server across processes.

use crate::arm::model::ContainerApp;
use crate::naming;
use crate::settings::Settings;
use crate::spec;

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
    app.tag(spec::TAG_MANAGED_BY) == Some("acactl") && app.tag(spec::TAG_HUB) == Some(settings.hub_id.as_str())
}

/// The rule.
pub fn owns(app: &ContainerApp, settings: &Settings, expect: &Expect) -> bool {
    if !of_hub(app, settings) {
        return false;
    }
    match expect {
        Expect::Hub => true,
        Expect::Key(k) => app.tag(spec::TAG_KEY) == Some(k.as_str()),
        Expect::Name(name) => {
            // `{hub}-{slug}-{hash}`: the hash is the key's first characters.
            let hash = name.rsplit('-').next().unwrap_or("");
            hash.len() >= 10 && app.tag(spec::TAG_KEY).is_some_and(|k| k.starts_with(hash))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app(hub: &str, key: &str) -> ContainerApp {
        let tags = json!({spec::TAG_MANAGED_BY: "acactl", spec::TAG_HUB: hub, spec::TAG_KEY: key});
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
