//! `acactl doctor`: checks an operator can run in minutes, each ok / warning / failed with the fix.

use serde::Serialize;
use serde_json::{Value, json};

use crate::arm::Arm;
use crate::cli::GlobalArgs;
use crate::env::Env;
use crate::error::{Exit, Result};
use crate::output::Outcome;
use crate::settings::{self, Settings};
use crate::table::Table;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Failed,
    Skipped,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

struct Report(Vec<Check>);

impl Report {
    fn add(&mut self, check: &'static str, status: Status, detail: impl Into<String>, fix: Option<&str>) {
        self.0.push(Check { check, status, detail: detail.into(), fix: fix.map(str::to_string) });
    }
    fn failed(&self) -> bool {
        self.0.iter().any(|c| c.status == Status::Failed)
    }
}

/// What the hub identity needs on the user-app resource group (README "Identity and roles").
const RG_ACTIONS: &[&str] = &[
    "Microsoft.App/containerApps/read",
    "Microsoft.App/containerApps/write",
    "Microsoft.App/containerApps/delete",
    "Microsoft.App/containerApps/revisions/read",
    "Microsoft.App/containerApps/revisions/replicas/read",
];
const ENV_ACTIONS: &[&str] =
    &["Microsoft.App/managedEnvironments/read", "Microsoft.App/managedEnvironments/join/action"];
const IDENTITY_ACTIONS: &[&str] = &["Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"];

pub async fn run(global: &GlobalArgs, env: &dyn Env) -> Result<Outcome> {
    let mut r = Report(Vec::new());
    match settings::load(global, env) {
        Ok(s) => {
            let found = settings::find_config(global.config.as_deref(), env).ok().flatten();
            let where_ = found.map(|p| p.display().to_string()).unwrap_or_else(|| "no file: environment only".into());
            r.add("config", Status::Ok, format!("valid ({where_}); hub_id {}", s.hub_id), None);
            checks(&s, &mut r).await;
        }
        Err(e) => r.add(
            "config",
            Status::Failed,
            e.message,
            Some("fix the key named above; config.example.yaml documents every key"),
        ),
    }
    let failed = r.failed();
    let table = table(&r.0);
    let exit = if failed { Exit::Runtime } else { Exit::Ok };
    Ok(Outcome::json(json!({ "ok": !failed, "checks": r.0 })).table(table).exit(exit))
}

/// The shared fleet view's age and the hub-wide ARM budget's state.
fn fleet_checks(s: &Settings, r: &mut Report) {
    match crate::arm::fleet::Fleet::open(s) {
        Ok(None) if !s.fleet.enabled => {
            r.add("fleet view", Status::Ok, "disabled (fleet.enabled: false): one ARM GET per poll", None)
        }
        Ok(None) => {
            r.add("fleet view", Status::Warning, "no cache directory: one ARM GET per poll", Some("set cache_dir"))
        }
        Ok(Some(f)) => match f.read() {
            Some(snap) => match snap.age() {
                Some(age) => r.add(
                    "fleet view",
                    if age <= f.max_age.saturating_mul(3) { Status::Ok } else { Status::Warning },
                    format!(
                        "{} app(s) of this hub, {} page(s), refreshed {:.1} s ago (max_age {} s)",
                        snap.count(),
                        snap.pages,
                        age.as_secs_f64(),
                        f.max_age.as_secs()
                    ),
                    None,
                ),
                None => r.add(
                    "fleet view",
                    Status::Warning,
                    "dated in the future (clock went back): it will be refreshed, not trusted",
                    None,
                ),
            },
            None => r.add(
                "fleet view",
                Status::Ok,
                format!("none yet at {} (the first poll creates it)", f.path().display()),
                None,
            ),
        },
        Err(why) => r.add(
            "fleet view",
            Status::Warning,
            why,
            Some("chmod 700 the directory (acactl ignores a view it cannot trust)"),
        ),
    }
    match crate::arm::hub_budget(s).and_then(|b| b.state()) {
        Some(classes) => r.add(
            "ARM budget",
            Status::Ok,
            classes
                .iter()
                .map(|c| format!("{} {:.0}/{:.0} (+{:.0}/s)", c.class, c.available, c.burst, c.per_second))
                .collect::<Vec<_>>()
                .join(", "),
            None,
        ),
        None => {
            r.add("ARM budget", Status::Warning, "no usable budget file: no client-side pacing", Some("set cache_dir"))
        }
    }
}

async fn checks(s: &Settings, r: &mut Report) {
    match &s.cache_dir {
        Some(dir) => match crate::auth::TokenCache::check(dir) {
            Ok(()) => r.add("token cache", Status::Ok, format!("{} is private", dir.join("tokens").display()), None),
            Err(why) => r.add(
                "token cache",
                Status::Warning,
                why,
                Some("chmod 700 the directory (acactl ignores a cache it cannot trust)"),
            ),
        },
        None => r.add("token cache", Status::Warning, "no cache directory (no HOME?)", Some("set cache_dir")),
    }
    fleet_checks(s, r);
    let arm = match crate::arm::connect(s) {
        Ok(a) => a,
        Err(e) => return r.add("credential", Status::Failed, e.message, None),
    };
    let cred = arm.describe_credential();
    match arm.token().await {
        Ok(()) => r.add("credential", Status::Ok, format!("{cred}: token obtained for {}", s.cloud.token_scope), None),
        Err(e) => {
            r.add("credential", Status::Failed, format!("{cred}: {}", e.message), Some(
                "give the hub an identity: IDENTITY_ENDPOINT (Container Apps managed identity), AZURE_FEDERATED_TOKEN_FILE, or AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET; see credential in config.example.yaml"));
            return;
        }
    }
    environment(&arm, s, r).await;
    permissions(&arm, s, r).await;
    registry(&arm, s, r).await;
    user_apps(&arm, s, r).await;
    hub_api(&arm, s, r).await;
    for (check, result) in crate::preflight::check_configured(&arm, s).await {
        match result {
            Ok(detail) => r.add(check, Status::Ok, detail, None),
            Err(why) => r.add(
                check,
                Status::Failed,
                why,
                Some("create it in the managed environment, or fix the volume or profile that names it"),
            ),
        }
    }
}

fn hub_client_id(s: &Settings) -> Option<String> {
    s.credential.client_id.clone().filter(|c| !c.is_empty())
}

/// The hub's own identity must never be attached to a user app: notebook code could act as the hub.
async fn user_apps(arm: &Arm, s: &Settings, r: &mut Report) {
    let listed = match arm.list_apps(&s.subscription, &s.resource_group).await {
        Ok(l) => l,
        Err(e) => return r.add("user apps", Status::Warning, format!("cannot list apps: {e}"), None),
    };
    let ours: Vec<_> = listed.apps.iter().filter(|a| crate::ownership::ours(a, s)).collect();
    let Some(hub) = hub_client_id(s) else {
        return r.add(
            "user apps",
            Status::Ok,
            format!(
                "{} apps of hub {}; hub identity client id unknown (set AZURE_CLIENT_ID to check attachments)",
                ours.len(),
                s.hub_id
            ),
            None,
        );
    };
    let attached: Vec<String> = ours
        .iter()
        .filter(|a| {
            a.identity.as_ref().and_then(|i| i.user_assigned_identities.as_ref()).is_some_and(|m| {
                m.values().any(|v| v["clientId"].as_str().is_some_and(|c| c.eq_ignore_ascii_case(&hub)))
            })
        })
        .map(|a| crate::phase::app_name(a))
        .collect();
    if attached.is_empty() {
        r.add(
            "user apps",
            Status::Ok,
            format!("{} apps of hub {}; none carries the hub identity", ours.len(), s.hub_id),
            None,
        );
    } else {
        r.add(
            "user apps",
            Status::Warning,
            format!("the hub identity ({hub}) is attached to: {}", attached.join(", ")),
            Some("use a separate AcrPull-only identity in registry.identity, then restart those servers"),
        );
    }
}

/// gc needs a hub token with unfiltered list:users, read:servers and admin:server_state.
async fn hub_api(arm: &Arm, s: &Settings, r: &mut Report) {
    let Some(hub) = crate::hub::Hub::from_settings(s, arm.http().clone()) else {
        return r.add(
            "hub api",
            Status::Skipped,
            "no hub.api_url/api_token: gc cannot run and status shows no hub_knows column",
            None,
        );
    };
    match hub.check_scopes().await {
        Ok(()) => r.add(
            "hub api",
            Status::Ok,
            "answers; the token has unfiltered list:users, read:servers, admin:server_state",
            None,
        ),
        Err(e) => r.add(
            "hub api",
            Status::Failed,
            e.message,
            Some("give the acactl service token the role in README (Admin commands: status and gc)"),
        ),
    }
}

async fn environment(arm: &Arm, s: &Settings, r: &mut Report) {
    match arm.get_environment(&s.environment_id).await {
        Ok(env) => {
            r.add("arm", Status::Ok, format!("{} reachable", s.cloud.resource_manager), None);
            let loc = env.location.unwrap_or_default();
            let norm = loc.to_lowercase().replace(' ', "");
            match &s.location {
                Some(l) if *l != norm => r.add(
                    "environment",
                    Status::Warning,
                    format!("{} is in {loc}, but location is {l}", s.environment_id),
                    Some("set location to the environment's region, or omit it"),
                ),
                _ => r.add("environment", Status::Ok, format!("{} ({loc})", s.environment_id), None),
            }
        }
        Err(e) if e.status.is_none() => {
            r.add(
                "arm",
                Status::Failed,
                e.to_string(),
                Some("check network access to the resource manager endpoint (proxy, ca_bundle, cloud)"),
            );
        }
        Err(e) => {
            r.add("arm", Status::Ok, format!("{} reachable", s.cloud.resource_manager), None);
            let fix = match e.code.as_str() {
                "SubscriptionNotFound" => "check subscription_id",
                "ResourceGroupNotFound" => "check resource_group (or the resource group in the environment id)",
                "AuthorizationFailed" => {
                    "assign the \"acactl hub\" role on the environment (README: Identity and roles)"
                }
                _ => "check environment (name in resource_group, or a full resource id)",
            };
            r.add("environment", Status::Failed, e.to_string(), Some(fix));
        }
    }
}

async fn permissions(arm: &Arm, s: &Settings, r: &mut Report) {
    let rg = format!("/subscriptions/{}/resourceGroups/{}", s.subscription, s.resource_group);
    let mut scopes = vec![(rg, RG_ACTIONS), (s.environment_id.clone(), ENV_ACTIONS)];
    if let Some(reg) = &s.registry {
        scopes.push((reg.identity.clone(), IDENTITY_ACTIONS));
    }
    let mut missing = Vec::new();
    for (scope, needed) in scopes {
        match arm.get_resource(&format!("{scope}/providers/Microsoft.Authorization/permissions"), "2022-04-01").await {
            Ok(v) => missing.extend(needed.iter().filter(|a| !allowed(&v, a)).map(|a| format!("{a} on {scope}"))),
            Err(e) => {
                return r.add("permissions", Status::Warning, format!("cannot read permissions on {scope}: {e}"), None);
            }
        }
    }
    if missing.is_empty() {
        r.add(
            "permissions",
            Status::Ok,
            "the hub identity may create, read and delete apps, join the environment and assign the pull identity",
            None,
        );
    } else {
        r.add(
            "permissions",
            Status::Failed,
            format!("missing: {}", missing.join("; ")),
            Some("assign the \"acactl hub\" custom role (README: Identity and roles)"),
        );
    }
}

async fn registry(arm: &Arm, s: &Settings, r: &mut Report) {
    let Some(reg) = &s.registry else {
        return r.add("registry identity", Status::Skipped, "no registry configured (public images)", None);
    };
    match arm.get_resource(&reg.identity, "2023-01-31").await {
        Ok(v) => {
            let client = v["properties"]["clientId"].as_str().unwrap_or_default().to_string();
            if hub_client_id(s).is_some_and(|h| h.eq_ignore_ascii_case(&client)) {
                r.add(
                    "registry identity",
                    Status::Failed,
                    format!(
                        "{} is the hub's own identity (client id {client}): every notebook could act as the hub",
                        reg.identity
                    ),
                    Some("create a separate identity with AcrPull only (README: Identity and roles)"),
                );
            } else {
                r.add("registry identity", Status::Ok, format!("{} exists (client id {client})", reg.identity), None);
            }
        }
        Err(e) => r.add(
            "registry identity",
            Status::Failed,
            e.to_string(),
            Some("create it (az identity create) and grant it AcrPull on the registry"),
        ),
    }
}

/// Whether the permissions document allows `action` (wildcards as ARM uses them).
fn allowed(perms: &Value, action: &str) -> bool {
    let list = |v: &Value, key: &str| -> Vec<String> {
        v[key].as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
    };
    perms["value"].as_array().is_some_and(|entries| {
        entries.iter().any(|p| {
            list(p, "actions").iter().any(|pat| glob(pat, action))
                && !list(p, "notActions").iter().any(|pat| glob(pat, action))
        })
    })
}

fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.to_ascii_lowercase(), text.to_ascii_lowercase());
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == t;
    }
    let mut rest = t.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else { return false };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(pos) = rest.find(part) else { return false };
            rest = &rest[pos + part.len()..];
        }
    }
    true
}

/// Check, status, detail; a fix goes on a line of its own under the detail.
fn table(checks: &[Check]) -> Table {
    let mut rows = Vec::new();
    for c in checks {
        let status = match c.status {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Failed => "FAILED",
            Status::Skipped => "skipped",
        };
        rows.push(vec![c.check.to_string(), status.to_string(), c.detail.clone()]);
        if let Some(fix) = &c.fix {
            rows.push(vec![String::new(), String::new(), format!("fix: {fix}")]);
        }
    }
    // The status column is as wide as its longest word whatever the checks say.
    Table { min_widths: vec![0, "warning".len()], keep_trailing: true, ..Table::new(&[], rows) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_wildcards() {
        assert!(glob("*", "Microsoft.App/containerApps/write"));
        assert!(glob("Microsoft.App/*", "microsoft.app/containerApps/write"));
        assert!(glob("*/read", "Microsoft.App/containerApps/read"));
        assert!(!glob("*/read", "Microsoft.App/containerApps/write"));
        assert!(glob("Microsoft.App/*/read", "Microsoft.App/containerApps/revisions/read"));
        let perms =
            json!({"value": [{"actions": ["Microsoft.App/*"], "notActions": ["Microsoft.App/containerApps/delete"]}]});
        assert!(allowed(&perms, "Microsoft.App/containerApps/write"));
        assert!(!allowed(&perms, "Microsoft.App/containerApps/delete"));
        assert!(!allowed(&perms, "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"));
    }
}
