//! On-disk token cache: one file per (cloud, tenant, client, scope), mode 0600 in a 0700 directory
//! we own. Anything unexpected (bad permissions, foreign owner, torn or garbage file) is a cache
//! miss, never an error, because hundreds of polls may race here at hub start-up.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::output;

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    token: String,
    expires_on: i64,
}

pub struct TokenCache {
    dir: PathBuf,
}

impl TokenCache {
    /// `None` (with a warning) when the directory cannot be made private to us.
    pub fn open(base: &Path) -> Option<TokenCache> {
        let dir = base.join("tokens");
        if let Err(e) = fs::create_dir_all(&dir) {
            output::warn(&format!("token cache disabled: cannot create {}: {e}", dir.display()));
            return None;
        }
        // Tighten what we created; refuse what we cannot trust.
        let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o700));
        match private(&dir) {
            Ok(()) => Some(TokenCache { dir }),
            Err(why) => {
                output::warn(&format!("token cache disabled: {} {why}", dir.display()));
                None
            }
        }
    }

    /// Whether an existing cache under `base` is private (doctor); a missing one is fine.
    pub fn check(base: &Path) -> Result<(), String> {
        let dir = base.join("tokens");
        if !dir.exists() {
            return Ok(());
        }
        private(&dir).map_err(|why| format!("{} {why}", dir.display()))?;
        for entry in fs::read_dir(&dir).map_err(|e| e.to_string())?.flatten() {
            if entry.path().extension().is_some_and(|x| x == "json") {
                private(&entry.path()).map_err(|why| format!("{} {why}", entry.path().display()))?;
            }
        }
        Ok(())
    }

    fn path(&self, key: &str) -> PathBuf {
        let digest = Sha256::digest(key.as_bytes());
        let name: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.json"))
    }

    /// A token valid for at least `early` more.
    pub fn get(&self, key: &str, early: Duration) -> Option<String> {
        let path = self.path(key);
        if !path.exists() {
            return None;
        }
        if let Err(why) = private(&path) {
            output::warn(&format!("ignoring token cache file {}: {why}", path.display()));
            return None;
        }
        let entry: Entry = serde_json::from_slice(&fs::read(&path).ok()?).ok()?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
        (entry.expires_on - early.as_secs() as i64 > now && !entry.token.is_empty()).then_some(entry.token)
    }

    /// Atomic: write a private temp file, then rename over the entry.
    pub fn put(&self, key: &str, token: &str, expires_on: i64) {
        let path = self.path(key);
        let tmp = self.dir.join(format!(".{}.{}.tmp", std::process::id(), nanos()));
        let result = (|| -> std::io::Result<()> {
            let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
            f.write_all(serde_json::to_string(&Entry { token: token.to_string(), expires_on })?.as_bytes())?;
            f.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            output::debug(&format!("could not write token cache {}: {e}", path.display()));
        }
    }
}

fn nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default()
}

/// Owned by us and not readable or writable by group or others.
fn private(path: &Path) -> Result<(), String> {
    let meta = fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if meta.file_type().is_symlink() {
        return Err("is a symbolic link".into());
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!("is owned by uid {}, not {me}", meta.uid()));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!("has mode {:o}; it must not be accessible by group or others", meta.mode() & 0o777));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn future(secs: i64) -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64 + secs
    }

    #[test]
    fn round_trip_and_expiry() {
        let d = tempfile::tempdir().unwrap();
        let c = TokenCache::open(d.path()).unwrap();
        c.put("k", "tok", future(3600));
        assert_eq!(c.get("k", Duration::from_secs(300)).as_deref(), Some("tok"));
        c.put("k", "tok2", future(200));
        assert_eq!(c.get("k", Duration::from_secs(300)), None, "within 5 minutes of expiry");
        assert_eq!(c.get("other", Duration::from_secs(300)), None);
        let meta = fs::metadata(c.path("k")).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(d.path().join("tokens")).unwrap().mode() & 0o777, 0o700);
    }

    #[test]
    fn loose_permissions_and_garbage_are_misses() {
        let d = tempfile::tempdir().unwrap();
        let c = TokenCache::open(d.path()).unwrap();
        c.put("k", "tok", future(3600));
        fs::set_permissions(c.path("k"), fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(c.get("k", Duration::ZERO), None);
        fs::write(c.path("g"), "{not json").unwrap();
        fs::set_permissions(c.path("g"), fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(c.get("g", Duration::ZERO), None);
    }
}
