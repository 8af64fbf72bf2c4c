//! `acactl status`: this hub's apps (found by ownership tags, never by name), one ARM list call per
//! page. Also what `gc` shares with it: the output format choice and the table renderer.

use std::io::IsTerminal;

use serde_json::{Value, json};

use crate::arm::model::ContainerApp;
use crate::cli::{OutputFormat, StatusArgs};
use crate::error::{Error, Exit, Result};
use crate::hub::Hub;
use crate::naming;
use crate::output;
use crate::ownership::{self, HubView, managed, ours};
use crate::phase::{self, Phase, app_name, created_at};
use crate::settings::Settings;

pub fn format(opt: Option<OutputFormat>) -> OutputFormat {
    opt.unwrap_or(if std::io::stdout().is_terminal() { OutputFormat::Table } else { OutputFormat::Json })
}

/// poll's vocabulary: running, pending, failed (+ reason); Deleting is pending with reason "deleting".
pub fn status_of(app: &ContainerApp) -> (&'static str, Option<String>) {
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

/// Columns padded to the widest cell; the last column is not padded.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let n = cells.len();
        let mut s = String::new();
        for (i, c) in cells.into_iter().enumerate() {
            if i + 1 == n {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = vec![line(headers.to_vec())];
    for r in rows {
        out.push(line(r.iter().map(String::as_str).collect()));
    }
    out.join("\n")
}

pub async fn run(args: &StatusArgs, settings: &Settings) -> Result<Exit> {
    let fmt = format(args.output);
    let arm = super::arm(settings)?;
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
    let docs: Vec<Value> = apps
        .iter()
        .map(|a| {
            let (status, reason) = status_of(a);
            let c = a.first_container();
            let res = c.and_then(|c| c.resources.as_ref());
            let created = created_at(a);
            let hub_knows = view.as_ref().and_then(|v| ours(a, settings).then(|| v.by_state(a) || v.by_tags(a)));
            json!({
                "hub": a.tag(ownership::TAG_HUB),
                "user": a.tag(ownership::TAG_USER),
                "server": a.tag(ownership::TAG_SERVER),
                "name": app_name(a),
                "status": status,
                "reason": reason,
                "url": url_of(a),
                "image": c.and_then(|c| c.image.clone()),
                "cpu": res.and_then(|r| r.cpu),
                "memory": res.and_then(|r| r.memory.clone()),
                "created_at": created.and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()),
                "age_seconds": created.map(|t| (now - t).whole_seconds()),
                "hub_knows": hub_knows,
            })
        })
        .collect();

    match fmt {
        OutputFormat::Json => output::result(&json!({ "apps": docs, "count": docs.len() })),
        OutputFormat::Table => {
            let mut headers = vec![];
            if args.all_hubs {
                headers.push("HUB");
            }
            headers.extend(["USER", "SERVER", "APP", "STATUS", "URL", "IMAGE", "CPU/MEM", "AGE"]);
            if view.is_some() {
                headers.push("HUB KNOWS");
            }
            let s = |v: &Value| v.as_str().unwrap_or("-").to_string();
            let rows: Vec<Vec<String>> = docs
                .iter()
                .map(|d| {
                    let mut r = vec![];
                    if args.all_hubs {
                        r.push(s(&d["hub"]));
                    }
                    let status = match d["reason"].as_str() {
                        Some(reason) => format!("{} ({reason})", s(&d["status"])),
                        None => s(&d["status"]),
                    };
                    let server = d["server"].as_str().map(|x| if x.is_empty() { "(default)" } else { x });
                    r.extend([
                        s(&d["user"]),
                        server.unwrap_or("-").to_string(),
                        s(&d["name"]),
                        status,
                        s(&d["url"]),
                        s(&d["image"]),
                        format!(
                            "{}/{}",
                            d["cpu"].as_f64().map(|c| c.to_string()).unwrap_or("-".into()),
                            d["memory"].as_str().unwrap_or("-")
                        ),
                        d["age_seconds"].as_i64().map(age_text).unwrap_or("-".into()),
                    ]);
                    if view.is_some() {
                        r.push(match d["hub_knows"].as_bool() {
                            Some(true) => "yes".into(),
                            Some(false) => "NO".into(),
                            None => "-".into(),
                        });
                    }
                    r
                })
                .collect();
            if rows.is_empty() {
                output::info("no apps matched");
            } else {
                output::text(&table(&headers, &rows));
            }
        }
    }
    Ok(if docs.is_empty() { Exit::NothingMatched } else { Exit::Ok })
}
