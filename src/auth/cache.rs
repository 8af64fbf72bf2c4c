//! On-disk token cache: one file per (cloud, tenant, client, scope), mode 0600 in a 0700 directory
//! we own. Anything unexpected (bad permissions, foreign owner, torn or garbage file) is a cache
//! miss, never an error, because hundreds of polls may race here at hub start-up.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
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
        // Look before touching: a symlinked or foreign `tokens` is refused as it is, never chmodded
        // (set_permissions follows symlinks and would loosen or tighten someone else's directory).
        if fs::symlink_metadata(&dir).is_err() {
            let _ = fs::create_dir_all(base);
            if let Err(e) = fs::DirBuilder::new().mode(0o700).create(&dir) {
                // Another process (hundreds of polls start at once) may have created it first:
                // it is checked below like any existing one.
                if e.kind() != std::io::ErrorKind::AlreadyExists {
                    output::warn(&format!("token cache disabled: cannot create {}: {e}", dir.display()));
                    return None;
                }
            }
        }
        match fs::symlink_metadata(&dir) {
            Ok(meta) if owned_dir(&meta).is_ok() => {
                // Ours and a real directory: tighten it if an older version left it loose.
                let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o700));
            }
            Ok(meta) => {
                let why = owned_dir(&meta).err().unwrap_or_default();
                output::warn(&format!("token cache disabled: {} {why}", dir.display()));
                return None;
            }
            Err(e) => {
                output::warn(&format!("token cache disabled: {}: {e}", dir.display()));
                return None;
            }
        }
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
        // No-follow open, then checks on what was opened (not on the path, which could change).
        let file = match OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                output::warn(&format!("ignoring token cache file {}: {e}", path.display()));
                return None;
            }
        };
        let meta = file.metadata().ok()?;
        if let Err(why) = private_meta(&meta) {
            output::warn(&format!("ignoring token cache file {}: {why}", path.display()));
            return None;
        }
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(file, 64 * 1024), &mut text).ok()?;
        let entry: Entry = serde_json::from_slice(&text).ok()?;
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

/// A real directory (not a symlink) owned by us.
fn owned_dir(meta: &fs::Metadata) -> Result<(), String> {
    if meta.file_type().is_symlink() {
        return Err("is a symbolic link".into());
    }
    if !meta.is_dir() {
        return Err("is not a directory".into());
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!("is owned by uid {}, not {me}", meta.uid()));
    }
    Ok(())
}

/// Owned by us and not readable or writable by group or others.
fn private(path: &Path) -> Result<(), String> {
    let meta = fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    private_meta(&meta)
}

/// The one rule for private files (`lock.rs`).
fn private_meta(meta: &fs::Metadata) -> Result<(), String> {
    crate::lock::private_meta(meta)
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
    fn symlinked_cache_dir_is_refused_untouched() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("elsewhere");
        fs::create_dir(&target).unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o755)).unwrap();
        let base = d.path().join("cache");
        fs::create_dir(&base).unwrap();
        std::os::unix::fs::symlink(&target, base.join("tokens")).unwrap();
        assert!(TokenCache::open(&base).is_none());
        assert_eq!(fs::metadata(&target).unwrap().mode() & 0o777, 0o755, "the target was chmodded");
    }

    #[test]
    fn symlinked_token_file_is_a_miss() {
        let d = tempfile::tempdir().unwrap();
        let c = TokenCache::open(d.path()).unwrap();
        let real = d.path().join("real.json");
        fs::write(&real, format!(r#"{{"token":"stolen","expires_on":{}}}"#, future(3600))).unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::symlink(&real, c.path("k")).unwrap();
        assert_eq!(c.get("k", Duration::ZERO), None);
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
