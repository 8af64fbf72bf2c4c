//! Profile selection from the user's options (pure). A user can only pick what the configuration
//! lists: a profile available to them (by hub user or group) and, per option, one of its choices.
//! Anything else is a usage error naming the option; user options never carry an image, a size,
//! an environment variable or container arguments themselves.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, Result};
use crate::settings::Settings;
use crate::table::Table;
use crate::template::{Profile, ServerTemplate};

/// The key of ACACTL_USER_OPTIONS that names the profile.
pub const PROFILE_KEY: &str = "profile";

#[derive(Debug, Clone)]
pub struct Selected {
    /// None when no profiles are configured.
    pub profile: Option<String>,
    /// (option name, choice slug), in the profile's option order.
    pub choices: Vec<(String, String)>,
    pub template: ServerTemplate,
}

/// Whether `user` (with hub `groups`) may use `p`.
pub fn allowed(p: &Profile, user: &str, groups: &[String]) -> bool {
    (p.groups.is_empty() && p.users.is_empty())
        || p.users.iter().any(|u| u == user)
        || p.groups.iter().any(|g| groups.iter().any(|x| x == g))
}

/// The profiles `user` may use, in configuration order.
pub fn available<'a>(profiles: &'a [Profile], user: &str, groups: &[String]) -> Vec<&'a Profile> {
    profiles.iter().filter(|p| allowed(p, user, groups)).collect()
}

/// The profile used when the options name none: the first available `default: true`, else the first available.
pub fn default_of<'a>(avail: &[&'a Profile]) -> Option<&'a Profile> {
    avail.iter().find(|p| p.default).or(avail.first()).copied()
}

fn shown(v: &str) -> String {
    let mut s: String = v.chars().filter(|c| !c.is_control()).take(64).collect();
    if v.chars().count() > 64 {
        s.push('…');
    }
    s
}

/// A user option's value: a string, or a one-string list (what HTML forms produce).
fn as_choice(key: &str, v: &Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Array(a) if a.len() == 1 && a[0].is_string() => Ok(a[0].as_str().unwrap_or_default().to_string()),
        _ => Err(Error::new(
            ErrorCode::InvalidUserOption,
            format!("user option `{}` must be a string naming one of its choices", shown(key)),
        )),
    }
}

/// Choose the template for this start from ACACTL_USER_OPTIONS.
pub fn select(settings: &Settings, user: &str, groups: &[String], options: &Map<String, Value>) -> Result<Selected> {
    if settings.profiles.is_empty() {
        if let Some(k) = options.keys().next() {
            return Err(Error::new(
                ErrorCode::UnknownUserOption,
                format!("user option `{}` is not accepted: this hub defines no profiles", shown(k)),
            ));
        }
        return Ok(Selected { profile: None, choices: Vec::new(), template: settings.server.clone() });
    }
    let avail = available(&settings.profiles, user, groups);
    let profile = match options.get(PROFILE_KEY) {
        Some(v) => {
            let slug = as_choice(PROFILE_KEY, v)?;
            let Some(p) = settings.profiles.iter().find(|p| p.slug == slug) else {
                let names: Vec<&str> = avail.iter().map(|p| p.slug.as_str()).collect();
                return Err(Error::new(
                    ErrorCode::UnknownProfile,
                    format!(
                        "user option `profile`: there is no profile `{}` (available: {})",
                        shown(&slug),
                        names.join(", ")
                    ),
                ));
            };
            if !allowed(p, user, groups) {
                return Err(Error::new(
                    ErrorCode::ProfileNotAllowed,
                    format!("user option `profile`: profile `{}` is limited to other users or groups", p.slug),
                ));
            }
            p
        }
        None => default_of(&avail).ok_or_else(|| {
            Error::new(
                ErrorCode::NoProfileAvailable,
                format!("no profile is available to user `{}` (check the profiles' groups and users)", shown(user)),
            )
        })?,
    };
    for k in options.keys() {
        if k != PROFILE_KEY && !profile.options.iter().any(|o| &o.name == k) {
            let names: Vec<&str> = profile.options.iter().map(|o| o.name.as_str()).collect();
            return Err(Error::new(
                ErrorCode::UnknownUserOption,
                format!(
                    "user option `{}` is not an option of profile `{}` (its options: {})",
                    shown(k),
                    profile.slug,
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                ),
            ));
        }
    }
    let mut template = settings.server.apply(&profile.server);
    let mut choices = Vec::new();
    for o in &profile.options {
        let choice = match options.get(&o.name) {
            Some(v) => {
                let want = as_choice(&o.name, v)?;
                o.choices.iter().find(|c| c.slug == want).ok_or_else(|| {
                    let names: Vec<&str> = o.choices.iter().map(|c| c.slug.as_str()).collect();
                    Error::new(
                        ErrorCode::InvalidUserOption,
                        format!(
                            "user option `{}`: `{}` is not one of its choices ({})",
                            o.name,
                            shown(&want),
                            names.join(", ")
                        ),
                    )
                })?
            }
            None => &o.choices[o.default],
        };
        template = template.apply(&choice.server);
        choices.push((o.name.clone(), choice.slug.clone()));
    }
    Ok(Selected { profile: Some(profile.slug.clone()), choices, template })
}

/// `acactl profiles` as JSON: what the exec spawner needs to render its form and set its start
/// timeout. Keys come out sorted, as serde_json's map keeps them.
#[derive(Debug, Serialize)]
pub struct Listing {
    pub profiles: Vec<Listed>,
    pub start_timeout: u64,
    /// `--selected`: what start would choose for the user options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected: Option<Selection>,
}

#[derive(Debug, Serialize)]
pub struct Listed {
    slug: String,
    display_name: String,
    description: String,
    default: bool,
    start_timeout: u64,
    image: String,
    cpu: f64,
    memory: String,
    workload_profile: Option<String>,
    groups: Vec<String>,
    users: Vec<String>,
    options: Vec<ListedOption>,
}

#[derive(Debug, Serialize)]
struct ListedOption {
    name: String,
    display_name: String,
    default: String,
    choices: Vec<ListedChoice>,
}

#[derive(Debug, Serialize)]
struct ListedChoice {
    slug: String,
    display_name: String,
    image: String,
    cpu: f64,
    memory: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_timeout: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct Selection {
    pub profile: Option<String>,
    pub choices: BTreeMap<String, String>,
    pub start_timeout: u64,
}

impl From<Selected> for Selection {
    fn from(s: Selected) -> Selection {
        Selection {
            profile: s.profile,
            choices: s.choices.into_iter().collect(),
            start_timeout: s.template.start_timeout.as_secs(),
        }
    }
}

/// With `user`, only the profiles that user may use, and `default` is the one they would get.
pub fn listing(settings: &Settings, user: Option<(&str, &[String])>) -> Listing {
    let list: Vec<&Profile> = match user {
        Some((u, g)) => available(&settings.profiles, u, g),
        None => settings.profiles.iter().collect(),
    };
    let default_slug = match user {
        Some(_) => default_of(&list).map(|p| p.slug.clone()),
        None => None,
    };
    let profiles = list
        .iter()
        .map(|p| {
            let t = settings.server.apply(&p.server);
            let options = p
                .options
                .iter()
                .map(|o| ListedOption {
                    name: o.name.clone(),
                    display_name: o.display_name.clone(),
                    default: o.choices[o.default].slug.clone(),
                    choices: o
                        .choices
                        .iter()
                        .map(|c| {
                            let ct = t.apply(&c.server);
                            ListedChoice {
                                slug: c.slug.clone(),
                                display_name: c.display_name.clone(),
                                image: ct.image,
                                cpu: ct.cpu,
                                memory: ct.memory,
                                start_timeout: c.server.start_timeout.map(|s| s.as_secs()),
                            }
                        })
                        .collect(),
                })
                .collect();
            Listed {
                slug: p.slug.clone(),
                display_name: p.display_name.clone(),
                description: p.description.clone(),
                default: match &default_slug {
                    Some(d) => d == &p.slug,
                    None => p.default,
                },
                start_timeout: t.start_timeout.as_secs(),
                image: t.image,
                cpu: t.cpu,
                memory: t.memory,
                workload_profile: t.workload_profile,
                groups: p.groups.clone(),
                users: p.users.clone(),
                options,
            }
        })
        .collect();
    Listing { profiles, start_timeout: settings.server.start_timeout.as_secs(), selected: None }
}

/// `acactl profiles -o table`.
pub fn table(listing: &Listing) -> Table {
    let rows = listing
        .profiles
        .iter()
        .map(|p| {
            let limited: Vec<String> = p
                .groups
                .iter()
                .map(|g| format!("group:{g}"))
                .chain(p.users.iter().map(|u| format!("user:{u}")))
                .collect();
            let options: Vec<String> = p
                .options
                .iter()
                .map(|o| {
                    let cs: Vec<&str> = o.choices.iter().map(|c| c.slug.as_str()).collect();
                    format!("{}={}", o.name, cs.join("|"))
                })
                .collect();
            vec![
                p.slug.clone(),
                if p.default { "yes".into() } else { "".into() },
                p.image.clone(),
                // As the JSON writes it (1.0, not 1).
                serde_json::to_string(&p.cpu).unwrap_or_default(),
                p.memory.clone(),
                p.workload_profile.clone().unwrap_or("-".into()),
                format!("{}s", p.start_timeout),
                if options.is_empty() { "-".into() } else { options.join(" ") },
                if limited.is_empty() { "everyone".into() } else { limited.join(",") },
            ]
        })
        .collect();
    Table::new(
        &["SLUG", "DEFAULT", "IMAGE", "CPU", "MEMORY", "WORKLOAD PROFILE", "TIMEOUT", "OPTIONS", "LIMITED TO"],
        rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn settings(extra: &str) -> Settings {
        crate::settings::for_tests(extra)
    }

    const CONFIG: &str = "server:
  image: base:1
  env:
    A: server
    B: server
profiles:
  - slug: one
    server:
      cpu: 1.0
      env:
        B: one
    options:
      - name: size
        choices:
          - slug: s
          - slug: m
            default: true
            server:
              cpu: 1.5
              start_timeout: 600
  - slug: two
    default: true
    groups: [g]
    server:
      image: two:1
";

    fn opts(v: serde_json::Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn defaults_and_overrides_apply_in_order() {
        let s = settings(CONFIG);
        // `two` is the default but limited to group g: marcus gets the first available, `one`.
        let sel = select(&s, "marcus", &[], &Map::new()).unwrap();
        assert_eq!(sel.profile.as_deref(), Some("one"));
        assert_eq!(sel.choices, vec![("size".to_string(), "m".to_string())]);
        assert_eq!((sel.template.cpu, sel.template.memory.as_str()), (1.5, "3Gi"));
        assert_eq!(sel.template.start_timeout.as_secs(), 600);
        let env: BTreeMap<_, _> = sel.template.env.iter().cloned().collect();
        assert_eq!(env["A"], crate::template::EnvValue::Plain("server".into()));
        assert_eq!(env["B"], crate::template::EnvValue::Plain("one".into()));
        let sel = select(&s, "marcus", &["g".into()], &Map::new()).unwrap();
        assert_eq!(sel.profile.as_deref(), Some("two"));
        assert_eq!(sel.template.image, "two:1");
        let sel = select(&s, "marcus", &[], &opts(serde_json::json!({"size": "s"}))).unwrap();
        assert_eq!((sel.template.cpu, sel.template.start_timeout.as_secs()), (1.0, 300));
    }

    #[test]
    fn rejections_name_the_option() {
        let s = settings(CONFIG);
        for (v, code, names) in [
            (serde_json::json!({"profile": "two"}), "ProfileNotAllowed", "two"),
            (serde_json::json!({"profile": "nope"}), "UnknownProfile", "nope"),
            (serde_json::json!({"size": "xl"}), "InvalidUserOption", "`size`"),
            (serde_json::json!({"image": "evil:1"}), "UnknownUserOption", "`image`"),
            (serde_json::json!({"size": 2}), "InvalidUserOption", "`size`"),
            (serde_json::json!({"profile": "x".repeat(500)}), "UnknownProfile", "…"),
        ] {
            let e = select(&s, "marcus", &[], &opts(v.clone())).unwrap_err();
            assert_eq!(e.code, code, "{v}");
            assert!(e.message.contains(names), "{v}: {}", e.message);
            assert!(e.message.len() < 300, "user input is shortened: {}", e.message);
            assert_eq!(e.exit(), crate::error::Exit::Usage);
        }
    }

    #[test]
    fn listing_filters_by_user_and_marks_their_default() {
        let s = settings(CONFIG);
        let all = listing(&s, None);
        let table_rows = table(&all).render().lines().count();
        let all = serde_json::to_value(all).unwrap();
        assert_eq!(all["profiles"].as_array().unwrap().len(), 2);
        assert_eq!(all["profiles"][1]["default"], true);
        let mine = serde_json::to_value(listing(&s, Some(("marcus", &[])))).unwrap();
        assert_eq!(mine["profiles"].as_array().unwrap().len(), 1);
        assert_eq!(mine["profiles"][0]["default"], true);
        assert_eq!(mine["profiles"][0]["options"][0]["default"], "m");
        assert_eq!(mine["profiles"][0]["options"][0]["choices"][1]["start_timeout"], 600);
        assert!(mine["profiles"][0]["options"][0]["choices"][0].get("start_timeout").is_none());
        assert!(table_rows == 3);
    }

    #[test]
    fn gc_grace_covers_the_slowest_profile() {
        let s = settings(CONFIG);
        assert_eq!(s.max_start_timeout().as_secs(), 600);
        assert_eq!(settings("").max_start_timeout().as_secs(), 300);
    }
}
