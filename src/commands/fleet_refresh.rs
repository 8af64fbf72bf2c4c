//! `acactl fleet-refresh` (hidden): replace the fleet view if it is due. A poll that finds the
//! view in its last fifth starts this detached, so no poll waits for the paged list itself.

use std::time::Duration;

use serde_json::json;

use crate::arm::budget::Priority;
use crate::arm::fleet::Fleet;
use crate::arm::lro;
use crate::error::{Exit, Result};
use crate::output::Outcome;
use crate::settings::Settings;

/// The whole refresh, throttling included, ends by then (a view this late is past `max_age`
/// anyway, and polls refresh in the foreground).
const DEADLINE: Duration = Duration::from_secs(30);

pub async fn run(settings: &Settings) -> Result<Outcome> {
    let fleet = match Fleet::open(settings) {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(Outcome::json(json!({ "refreshed": false, "reason": "the fleet view is off" }))),
        Err(why) => return Ok(not_refreshed(&format!("the fleet view is unavailable: {why}"))),
    };
    let before = fleet.modified_ms();
    let arm = crate::arm::connect(settings)?;
    arm.set_deadline(lro::after(DEADLINE));
    arm.set_priority(Priority::Normal);
    // Another refresher holding the lock answers too: the view is then its business.
    let snap = fleet.fresh(&arm, fleet.max_age, lro::after(Duration::from_secs(1))).await;
    let refreshed = fleet.modified_ms() != before;
    Ok(match snap {
        Some(s) => Outcome::json(json!({
            "refreshed": refreshed,
            "apps": s.count(),
            "age_ms": s.age().map(|a| a.as_millis() as u64),
        })),
        None => not_refreshed("the list failed (see -v)"),
    })
}

fn not_refreshed(reason: &str) -> Outcome {
    Outcome::json(json!({ "refreshed": false, "reason": reason })).exit(Exit::Runtime)
}
