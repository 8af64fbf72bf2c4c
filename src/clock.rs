//! The wall clock, in the three forms acactl needs: Unix milliseconds for files shared between
//! processes (fleet view, budget), RFC 3339 for tags, and a per-process seed for jitter and names.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now as Unix milliseconds (0 before 1970: a broken clock never panics).
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A time as Unix milliseconds (file mtimes).
pub fn unix_ms(t: SystemTime) -> Option<i64> {
    t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_millis() as i64)
}

/// Now in RFC 3339, whole seconds (the `acactl-created` tag).
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// Differs between processes started in the same instant (the pid), never zero.
pub fn seed() -> u64 {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or_default();
    (nanos ^ ((std::process::id() as u64) << 40)) | 1
}
