//! `acactl start`: create (or adopt) the server's app, wait until Jupyter answers through the
//! ingress, print `{name, url, state}`. On any failure, timeout or SIGTERM after a PUT was sent,
//! delete the app before exiting non-zero.

use std::time::Duration;

use serde_json::json;

use crate::arm::budget::Priority;
use crate::arm::lro;
use crate::cli::StartArgs;
use crate::env::Env;
use crate::error::{Error, ErrorCode, Result};
use crate::estimates;
use crate::launch::{Starter, cleanup, terminated};
use crate::naming;
use crate::output::Outcome;
use crate::request;
use crate::settings::Settings;
use crate::spec;

pub async fn run(args: &StartArgs, settings: &Settings, env: &dyn Env) -> Result<Outcome> {
    let req = request::server_request(&args.target, env)?;
    let suffix = naming::spawn_suffix(crate::clock::seed());
    let spec = spec::build(settings, &req, &crate::clock::now_rfc3339(), &suffix)?;

    if args.dry_run {
        let location = settings.location.clone().unwrap_or_else(|| "<location of the managed environment>".into());
        let body = spec.body(&location, true)?;
        let mut checks = Vec::new();
        for v in &spec.volumes {
            checks.push(format!("environment storage `{}` exists ({})", v.storage, v.kind.arm_name()));
        }
        if let Some(w) = &spec.workload_profile {
            checks.push(format!("workload profile `{w}` exists and fits cpu {} / memory {}", spec.cpu, spec.memory));
        }
        return Ok(Outcome::json(json!({
            "dry_run": true,
            "name": spec.name,
            "url": spec.url,
            "profile": spec.profile,
            "choices": spec.choices.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            "start_timeout": spec.start_timeout.as_secs(),
            "checks": checks,
            "request": {
                "method": "PUT",
                "url": format!("{}{}?api-version={}", settings.cloud.resource_manager, spec.id, settings.api_version),
                "body": body,
            }
        })));
    }
    if !req.forward_declared {
        return Err(Error::new(
            ErrorCode::MissingForward,
            "ACACTL_FORWARD is not set: start forwards exactly the variables it names (the exec spawner sets it to the keys of Spawner.get_env())",
        ));
    }
    if req.api_token.is_none() {
        return Err(Error::new(
            ErrorCode::MissingApiToken,
            "JUPYTERHUB_API_TOKEN is not set: the single-user server cannot authenticate with the hub without it",
        ));
    }

    let arm = crate::arm::connect(settings)?;
    estimates::begin(
        estimates::history_file(settings.cache_dir.as_deref(), &settings.hub_id),
        estimates::profile_key(spec.profile.as_deref(), spec.choices.iter().map(|(o, c)| (o, c))),
    );
    let starter = Starter::new(&arm, settings, &spec);
    let deadline = lro::after(spec.start_timeout);
    // Throttling only slows a start down: its requests wait for the budget until this deadline.
    arm.set_deadline(deadline);
    arm.set_priority(Priority::High);
    arm.report_throttling(Some(10));
    let _lock = crate::lock::server(settings.cache_dir.as_deref(), &spec.name, deadline).await?;
    let outcome = tokio::select! {
        r = tokio::time::timeout_at(deadline.into(), starter.run(deadline)) => match r {
            // A request cut short by the deadline is the start timing out, whatever its own code.
            Ok(Err(e)) if lro::remaining(deadline) < Duration::from_secs(1)
                && matches!(e.code, ErrorCode::Timeout | ErrorCode::RequestBudgetExhausted) =>
            {
                Err(Error::new(ErrorCode::StartTimeout, format!(
                    "{} was not ready within its start timeout ({} s): {}", spec.name, spec.start_timeout.as_secs(), e.message)))
            }
            Ok(r) => r,
            Err(_) => Err(Error::new(ErrorCode::StartTimeout, format!(
                "{} was not ready within its start timeout ({} s)", spec.name, spec.start_timeout.as_secs()))),
        },
        sig = terminated() => Err(Error::new(ErrorCode::Terminated, format!("start of {} interrupted by {sig}", spec.name))),
    };
    match outcome {
        Ok(v) => Ok(Outcome::json(v)),
        Err(e) => {
            if starter.put_sent.get() {
                cleanup(&arm, &spec, !starter.put_answered.get()).await;
            }
            Err(e)
        }
    }
}
