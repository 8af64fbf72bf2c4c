//! Observed ARM state -> one vocabulary (running, pending, stopped, failed), readiness and
//! fail-fast reasons, and the facts commands read off an app (name, creation time). Pure: no ARM
//! calls here.

use crate::arm::model::{ContainerApp, Replica, Revision};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Provisioned, running, and the latest revision is the ready one.
    Running,
    /// Still provisioning or activating (or in a state that may become healthy).
    Pending,
    /// Being deleted.
    Deleting,
    /// Failed terminally: provisioning Failed/Canceled with no ready revision, or parked
    /// (Stopped/Suspended): poll deletes such an app and reports it gone.
    Failed(String),
}

fn eq(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(b))
}

pub fn app_phase(app: &ContainerApp) -> Phase {
    let p = app.props();
    let prov = p.provisioning_state.as_deref();
    let running = p.running_status.as_deref();
    let latest = p.latest_revision_name.as_deref().filter(|s| !s.is_empty());
    let ready = p.latest_ready_revision_name.as_deref().filter(|s| !s.is_empty());
    if eq(prov, "Deleting") {
        return Phase::Deleting;
    }
    if (eq(prov, "Failed") || eq(prov, "Canceled")) && ready.is_none() {
        return Phase::Failed(format!("provisioning {}", prov.unwrap_or_default()));
    }
    if eq(running, "Stopped") || eq(running, "Suspended") {
        return Phase::Failed(format!("the app is {}", running.unwrap_or_default()));
    }
    // Running on the latest revision; a failed later update still serves from the ready one.
    let settled = eq(prov, "Succeeded") || eq(prov, "Failed") || eq(prov, "Canceled");
    if settled && eq(running, "Running") && latest.is_some() && latest == ready {
        return Phase::Running;
    }
    Phase::Pending
}

/// Whether the app has provisioned but its latest revision is not the ready one: the case where a
/// revision lookup can tell "still activating" from "failed to activate".
pub fn needs_revision_check(app: &ContainerApp) -> bool {
    let p = app.props();
    let latest = p.latest_revision_name.as_deref().filter(|s| !s.is_empty());
    eq(p.provisioning_state.as_deref(), "Succeeded")
        && latest.is_some()
        && latest != p.latest_ready_revision_name.as_deref()
}

const FATAL_WAITING: &[&str] = &[
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "ContainerCrashing",
    "RunContainerError",
];

/// The platform's reason when the revision cannot become healthy (image pull, crash loop,
/// activation failure). None while it may still come up.
pub fn revision_failure(revision: Option<&Revision>, replicas: &[Replica]) -> Option<String> {
    if let Some(props) = revision.and_then(|r| r.properties.as_ref()) {
        if eq(props.provisioning_state.as_deref(), "Failed") {
            return Some(
                props
                    .provisioning_error
                    .clone()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "revision provisioning failed".into()),
            );
        }
        if eq(props.running_state.as_deref(), "Failed") || eq(props.running_state.as_deref(), "ActivationFailed") {
            return Some(
                props
                    .running_state_details
                    .clone()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| format!("revision {}", props.running_state.as_deref().unwrap_or_default())),
            );
        }
    }
    for replica in replicas {
        let Some(props) = replica.properties.as_ref() else {
            continue;
        };
        for c in props.init_containers.iter().chain(&props.containers) {
            let details = c.running_state_details.as_deref().unwrap_or_default();
            if FATAL_WAITING.iter().any(|w| details.contains(w)) {
                let who = c.name.as_deref().unwrap_or("container");
                return Some(format!("{who}: {details}"));
            }
            if c.restart_count.unwrap_or(0) >= 3 && c.ready != Some(true) {
                let who = c.name.as_deref().unwrap_or("container");
                return Some(format!(
                    "{who} keeps crashing (restarted {} times): {details}",
                    c.restart_count.unwrap_or(0)
                ));
            }
        }
    }
    None
}

/// A one-line description of where provisioning is, for progress messages.
pub fn describe(app: &ContainerApp, replicas: &[Replica]) -> String {
    let p = app.props();
    let mut s = format!(
        "provisioning {}, running {}",
        p.provisioning_state.as_deref().unwrap_or("?"),
        p.running_status.as_deref().unwrap_or("?")
    );
    if let Some(c) = replicas.iter().filter_map(|r| r.properties.as_ref()).flat_map(|p| &p.containers).next() {
        s.push_str(&format!(
            ", container {}{}",
            c.running_state.as_deref().unwrap_or("?"),
            c.running_state_details.as_deref().filter(|d| !d.is_empty()).map(|d| format!(" ({d})")).unwrap_or_default()
        ));
    }
    s
}

// Facts read off an app.

/// The app's name (empty when ARM sent none).
pub fn app_name(app: &ContainerApp) -> String {
    app.name.clone().unwrap_or_default()
}

/// When ARM created the app (systemData), else the acactl-created tag.
pub fn created_at(app: &ContainerApp) -> Option<time::OffsetDateTime> {
    let parse = |s: &str| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok();
    app.system_data
        .as_ref()
        .and_then(|d| d.created_at.as_deref())
        .and_then(parse)
        .or_else(|| app.tag(crate::ownership::TAG_CREATED).and_then(parse))
}

/// The later of creation and last modification: an app adopted by a new start counts as young.
pub fn touched_at(app: &ContainerApp) -> Option<time::OffsetDateTime> {
    let parse = |s: &str| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok();
    let modified = app.system_data.as_ref().and_then(|d| d.last_modified_at.as_deref()).and_then(parse);
    match (created_at(app), modified) {
        (Some(c), Some(m)) => Some(c.max(m)),
        (c, m) => c.or(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app(v: serde_json::Value) -> ContainerApp {
        serde_json::from_value(json!({ "properties": v })).unwrap()
    }

    #[test]
    fn phases() {
        assert_eq!(
            app_phase(&app(
                json!({"provisioningState":"Succeeded","runningStatus":"Running","latestRevisionName":"a--1","latestReadyRevisionName":"a--1"})
            )),
            Phase::Running
        );
        assert_eq!(
            app_phase(&app(
                json!({"provisioningState":"InProgress","latestRevisionName":"","latestReadyRevisionName":""})
            )),
            Phase::Pending
        );
        assert_eq!(
            app_phase(&app(
                json!({"provisioningState":"Succeeded","runningStatus":"Running","latestRevisionName":"a--2","latestReadyRevisionName":"a--1"})
            )),
            Phase::Pending
        );
        assert!(matches!(
            app_phase(&app(json!({"provisioningState":"Failed","latestReadyRevisionName":null}))),
            Phase::Failed(_)
        ));
        assert!(matches!(app_phase(&app(json!({"provisioningState":"Canceled"}))), Phase::Failed(_)));
        // A failed update with a ready revision still serves.
        assert_eq!(
            app_phase(&app(
                json!({"provisioningState":"Failed","runningStatus":"Running","latestRevisionName":"a--1","latestReadyRevisionName":"a--1"})
            )),
            Phase::Running
        );
        assert!(matches!(
            app_phase(&app(json!({"provisioningState":"Succeeded","runningStatus":"Stopped"}))),
            Phase::Failed(_)
        ));
        assert_eq!(app_phase(&app(json!({"provisioningState":"Deleting"}))), Phase::Deleting);
        assert_eq!(app_phase(&app(json!(null))), Phase::Pending);
        // casing drift
        assert_eq!(
            app_phase(&app(
                json!({"provisioningState":"succeeded","runningStatus":"RUNNING","latestRevisionName":"a","latestReadyRevisionName":"a"})
            )),
            Phase::Running
        );
    }

    #[test]
    fn fail_fast_reasons() {
        let pull: Replica = serde_json::from_value(json!({"properties":{"containers":[{"name":"notebook","ready":false,"runningState":"Waiting","runningStateDetails":"ImagePullBackOff: Back-off pulling image \"x\"","restartCount":0}]}})).unwrap();
        assert!(revision_failure(None, &[pull]).unwrap().contains("ImagePullBackOff"));
        let crash: Replica = serde_json::from_value(json!({"properties":{"containers":[{"name":"notebook","ready":false,"runningState":"Terminated","runningStateDetails":"Error","restartCount":4}]}})).unwrap();
        assert!(revision_failure(None, &[crash]).unwrap().contains("keeps crashing"));
        let ok: Replica = serde_json::from_value(json!({"properties":{"containers":[{"name":"notebook","ready":false,"runningState":"Waiting","runningStateDetails":"ContainerCreating","restartCount":0}]}})).unwrap();
        assert!(revision_failure(None, &[ok]).is_none());
        let rev: Revision = serde_json::from_value(json!({"properties":{"runningState":"ActivationFailed","runningStateDetails":"Deployment Progress Deadline Exceeded"}})).unwrap();
        assert!(revision_failure(Some(&rev), &[]).unwrap().contains("Deadline"));
    }
}
