//! `acactl status`: this hub's apps (found by ownership tags, never by name), one ARM list call per
//! page.

use serde::Serialize;
use serde_json::json;

use crate::arm::model::ContainerApp;
use crate::cli::StatusArgs;
use crate::error::{Error, Exit, Result};
use crate::hub::Hub;
use crate::naming;
use crate::output::{self, Outcome};
use crate::ownership::{self, HubView, managed, ours};
use crate::phase::{self, Phase, app_name, created_at};
use crate::settings::Settings;
use crate::table::Table;

/// poll's vocabulary: running, pending, failed (+ reason); Deleting is pending with reason "deleting".
fn status_of(app: &ContainerApp) -> (&'static str, Option<String>) {
    match phase::app_phase(app) {
        Phase::Running => ("running", None),
        Phase::Pending => ("pending", None),
        Phase::Deleting => ("pending", Some("deleting".into())),
        Phase::Failed(r) => ("failed", Some(r)),
    }
}

fn url_of(app: &ContainerApp) -> Option<String> {
    let ingress = app.props().configuration.as_ref()?.ingress.as_ref()?;
    if ingress.external == Some(true) {
        app.fqdn().map(|f| format!("https://{f}"))
    } else {
        Some(format!("http://{}", app_name(app)))
    }
}

fn age_text(secs: i64) -> String {
    match secs {
        s if s < 0 => "-".into(),
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// One app as status reports it (keys come out sorted, as serde_json's map keeps them).
#[derive(Serialize)]
struct Line {
    hub: Option<String>,
    user: Option<String>,
    server: Option<String>,
    name: String,
    status: &'static str,
    reason: Option<String>,
    url: Option<String>,
    image: Option<String>,
    cpu: Option<f64>,
    memory: Option<String>,
    created_at: Option<String>,
    age_seconds: Option<i64>,
    hub_knows: Option<bool>,
}

pub async fn run(args: &StatusArgs, settings: &Settings) -> Result<Outcome> {
    let arm = crate::arm::connect(settings)?;
    // Status comes after starts and polls in the hub's ARM budget; its complete, fresh list also
    // serves as the fleet view for the polls that follow.
    arm.set_priority(crate::arm::budget::Priority::Low);
    let began = std::time::SystemTime::now();
    let listed = arm.list_apps(&settings.subscription, &settings.resource_group).await.map_err(Error::from)?;
    if let Ok(Some(fleet)) = crate::arm::fleet::Fleet::open(settings) {
        fleet.publish(&listed, began);
    }
    output::verbose(&format!("listed {} apps in {} page(s)", listed.apps.len(), listed.pages));
    let user_tag = args.user.as_deref().map(naming::tag_value);
    let server_tag = args.server.as_deref().map(naming::tag_value);
    let mut apps: Vec<&ContainerApp> = listed
        .apps
        .iter()
        .filter(|a| if args.all_hubs { managed(a) } else { ours(a, settings) })
        .filter(|a| user_tag.as_deref().is_none_or(|u| a.tag(ownership::TAG_USER) == Some(u)))
        .filter(|a| server_tag.as_deref().is_none_or(|s| a.tag(ownership::TAG_SERVER).unwrap_or("") == s))
        .collect();
    apps.sort_by_key(|a| {
        (
            a.tag(ownership::TAG_HUB).unwrap_or("").to_string(),
            a.tag(ownership::TAG_USER).unwrap_or("").to_string(),
            a.tag(ownership::TAG_SERVER).unwrap_or("").to_string(),
            app_name(a),
        )
    });

    // The hub's view only when a hub API is configured; a failure there is a warning, not an error.
    let view = match crate::http::client(settings).ok().and_then(|http| Hub::from_settings(settings, http)) {
        Some(hub) if !apps.is_empty() => match hub.active_users().await {
            Ok(l) => Some(HubView::build(settings, &l.users, l.pages)),
            Err(e) => {
                output::warn(&format!("hub_knows unavailable: {}", e.message));
                None
            }
        },
        _ => None,
    };

    let now = time::OffsetDateTime::now_utc();
    let lines: Vec<Line> = apps
        .iter()
        .map(|a| {
            let (status, reason) = status_of(a);
            let c = a.first_container();
            let res = c.and_then(|c| c.resources.as_ref());
            let created = created_at(a);
            let tag = |t: &str| a.tag(t).map(str::to_string);
            Line {
                hub: tag(ownership::TAG_HUB),
                user: tag(ownership::TAG_USER),
                server: tag(ownership::TAG_SERVER),
                name: app_name(a),
                status,
                reason,
                url: url_of(a),
                image: c.and_then(|c| c.image.clone()),
                cpu: res.and_then(|r| r.cpu),
                memory: res.and_then(|r| r.memory.clone()),
                created_at: created.and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()),
                age_seconds: created.map(|t| (now - t).whole_seconds()),
                hub_knows: view.as_ref().and_then(|v| ours(a, settings).then(|| v.by_state(a) || v.by_tags(a))),
            }
        })
        .collect();

    let mut headers = vec![];
    if args.all_hubs {
        headers.push("HUB");
    }
    headers.extend(["USER", "SERVER", "APP", "STATUS", "URL", "IMAGE", "CPU/MEM", "AGE"]);
    if view.is_some() {
        headers.push("HUB KNOWS");
    }
    let dash = |v: &Option<String>| v.clone().unwrap_or("-".into());
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|d| {
            let mut r = vec![];
            if args.all_hubs {
                r.push(dash(&d.hub));
            }
            let status = match &d.reason {
                Some(reason) => format!("{} ({reason})", d.status),
                None => d.status.to_string(),
            };
            let server = d.server.as_deref().map(|x| if x.is_empty() { "(default)" } else { x });
            r.extend([
                dash(&d.user),
                server.unwrap_or("-").to_string(),
                d.name.clone(),
                status,
                dash(&d.url),
                dash(&d.image),
                format!(
                    "{}/{}",
                    d.cpu.map(|c| c.to_string()).unwrap_or("-".into()),
                    d.memory.as_deref().unwrap_or("-")
                ),
                d.age_seconds.map(age_text).unwrap_or("-".into()),
            ]);
            if view.is_some() {
                r.push(match d.hub_knows {
                    Some(true) => "yes".into(),
                    Some(false) => "NO".into(),
                    None => "-".into(),
                });
            }
            r
        })
        .collect();
    let exit = if lines.is_empty() { Exit::NothingMatched } else { Exit::Ok };
    let table = Table { when_empty: Some("no apps matched"), ..Table::new(&headers, rows) };
    Ok(Outcome::json(json!({ "count": lines.len(), "apps": lines })).table(table).exit(exit))
}
