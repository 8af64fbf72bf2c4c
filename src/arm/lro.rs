//! Time arithmetic for retries, long-running operations and waits. Every delay that came from a
//! server (Retry-After) or a setting goes through here: clamped, checked, never an `Instant`
//! overflow (a `Retry-After: 18446744073709551615` once panicked start after its PUT: an orphan).

use std::time::{Duration, Instant};

/// The longest server-provided delay acactl honours as such; anything longer is clamped (and in
/// practice cut further by the command's own deadline).
pub const MAX_SERVER_DELAY: Duration = Duration::from_secs(600);

/// A far-away instant for "no deadline" that is still safe to compare and subtract from.
fn far() -> Duration {
    Duration::from_secs(100 * 365 * 24 * 3600)
}

/// `now + d`, saturating at a far-future instant instead of panicking.
pub fn after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d).or_else(|| now.checked_add(far())).unwrap_or(now)
}

/// Time left until `deadline` (zero once passed).
pub fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// When to wake up for a wait of `wait`, never later than `deadline`.
pub fn wake_at(wait: Duration, deadline: Instant) -> Instant {
    Instant::now().checked_add(wait).map_or(deadline, |t| t.min(deadline))
}

/// Whether a wait of `wait` still ends before `deadline`.
pub fn fits(wait: Duration, deadline: Instant) -> bool {
    Instant::now().checked_add(wait).is_some_and(|t| t <= deadline)
}

/// Parse a Retry-After value (ARM sends delta-seconds; an HTTP date or garbage counts as absent),
/// clamped to [`MAX_SERVER_DELAY`].
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Digits only: a parse failure can only be overflow, i.e. "very long".
    let secs = v.parse::<u64>().unwrap_or(u64::MAX);
    Some(Duration::from_secs(secs).min(MAX_SERVER_DELAY))
}

/// Exponential backoff before jitter: `base`, 2 x `base`, 4 x `base`... from attempt 1, at most 30 s.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    base.saturating_mul(1u32 << attempt.clamp(1, 8).saturating_sub(1)).min(Duration::from_secs(30))
}

/// Codes ARM uses for "another operation is in progress, retry" (a 409): the one list every
/// retry decision uses.
const OPERATION_IN_PROGRESS: &[&str] = &[
    "ContainerAppOperationInProgress",
    "ContainerAppLockConflict",
    "ManagedEnvironmentOperationInProgress",
    "RetryableErrorDueToAnotherOperation",
    "Conflict",
];

/// Whether a 409 with this ARM error code is worth retrying.
pub fn operation_in_progress(code: &str) -> bool {
    OPERATION_IN_PROGRESS.iter().any(|c| code.eq_ignore_ascii_case(c))
}

/// `op` again, every `every`, while ARM answers 409 (another operation on the resource is in
/// progress) and the wait still fits before `deadline`: the client's own retries of the
/// in-progress codes are bounded by attempts, a start or stop may wait out a longer operation.
pub async fn while_conflicting<T, F, Fut>(
    every: Duration,
    deadline: Instant,
    mut op: F,
) -> Result<T, super::client::ArmError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, super::client::ArmError>>,
{
    loop {
        match op().await {
            Err(e) if e.status == Some(409) && fits(every, deadline) => {
                crate::output::verbose(&format!("{e}; waiting"));
                tokio::time::sleep(every).await;
            }
            r => return r,
        }
    }
}

/// An Azure-AsyncOperation status body, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// InProgress, or anything ARM may add that is not terminal.
    Running,
    Succeeded,
    /// Failed or Canceled, with ARM's error code and message.
    Ended {
        canceled: bool,
        code: Option<String>,
        message: String,
    },
}

impl Operation {
    pub fn of(op: super::model::OperationStatus) -> Operation {
        let st = op.status.unwrap_or_default().to_ascii_lowercase();
        match st.as_str() {
            "succeeded" => Operation::Succeeded,
            "failed" | "canceled" => {
                let e = op.error.unwrap_or_default();
                Operation::Ended { canceled: st == "canceled", code: e.code, message: e.message.unwrap_or_default() }
            }
            _ => Operation::Running,
        }
    }
}

/// Sleep `wait`, but wake at `deadline` at the latest.
pub async fn sleep_within(wait: Duration, deadline: Instant) {
    tokio::time::sleep_until(wake_at(wait, deadline).into()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_retry_after_is_clamped_not_a_panic() {
        assert_eq!(parse_retry_after("18446744073709551615"), Some(MAX_SERVER_DELAY));
        assert_eq!(parse_retry_after("99999999999999999999999999"), Some(MAX_SERVER_DELAY));
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after(""), None);
    }

    #[test]
    fn backoff_doubles_then_caps() {
        let b = Duration::from_millis(100);
        assert_eq!(backoff(b, 0), b);
        assert_eq!(backoff(b, 1), b);
        assert_eq!(backoff(b, 3), b * 4);
        assert_eq!(backoff(b, u32::MAX), b * 128);
        assert_eq!(backoff(Duration::from_secs(10), 5), Duration::from_secs(30));
    }

    #[test]
    fn operation_status_is_typed() {
        use crate::arm::model::OperationStatus;
        let op = |v: serde_json::Value| Operation::of(serde_json::from_value::<OperationStatus>(v).unwrap());
        assert_eq!(op(serde_json::json!({"status": "InProgress"})), Operation::Running);
        assert_eq!(op(serde_json::json!({})), Operation::Running);
        assert_eq!(op(serde_json::json!({"status": "succeeded"})), Operation::Succeeded);
        assert_eq!(
            op(serde_json::json!({"status": "Canceled", "error": {"code": "X", "message": "m"}})),
            Operation::Ended { canceled: true, code: Some("X".into()), message: "m".into() }
        );
        assert!(operation_in_progress("containerappoperationinprogress"));
        assert!(!operation_in_progress("ResourceNotFound"));
    }

    #[test]
    fn arithmetic_saturates() {
        let d = after(Duration::MAX);
        assert!(d > Instant::now());
        let soon = after(Duration::from_millis(50));
        assert!(wake_at(Duration::MAX, soon) == soon);
        assert!(!fits(Duration::MAX, soon));
        assert!(fits(Duration::ZERO, soon));
        assert_eq!(remaining(Instant::now() - Duration::from_secs(1)), Duration::ZERO);
    }
}
