//! File locks and private files in the cache dir (the hub-wide ARM budget, the fleet view's
//! refresh). Opens never follow symbolic links; anything we did not create privately is refused
//! rather than trusted (the same rule as the token cache).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// An exclusive `flock` on a file; released on drop (and by the kernel if the process dies, so a
/// crashed holder never leaves a stale lock behind).
pub struct FileLock {
    _file: File,
}

fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

impl FileLock {
    /// The lock within `patience`, else `WouldBlock`. Never a blocking `flock`: acactl runs on a
    /// single-threaded runtime, and a holder that was stopped (SIGSTOP, a hung NFS) must not
    /// freeze every process of the hub inside the syscall where deadlines and SIGTERM cannot act.
    pub fn exclusive_within(path: &Path, patience: Duration) -> io::Result<FileLock> {
        let file = open_lock_file(path)?;
        let until = Instant::now() + patience;
        loop {
            // SAFETY: flock on a file descriptor we own; no memory is involved.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Ok(FileLock { _file: file });
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EWOULDBLOCK) if Instant::now() < until => std::thread::sleep(Duration::from_millis(2)),
                _ => return Err(e),
            }
        }
    }

    /// The lock if nobody holds it, else `None` at once.
    pub fn try_exclusive(path: &Path) -> io::Result<Option<FileLock>> {
        let file = open_lock_file(path)?;
        // SAFETY: as above.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(Some(FileLock { _file: file }));
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) { Ok(None) } else { Err(e) }
    }
}

/// A lock file that stays in place and may be held for minutes (gc's run, a command on one
/// server): a regular file of ours, never a symbolic link, with the holder's pid written into it.
pub struct LockFile {
    file: File,
}

pub enum LockFileError {
    /// Could not be opened (a symbolic link gives `ELOOP`).
    Open(io::Error),
    Inspect(io::Error),
    /// Not a regular file owned by `me`.
    NotOurs {
        me: u32,
    },
}

impl LockFile {
    pub fn open(path: &Path) -> Result<LockFile, LockFileError> {
        let file = open_lock_file(path).map_err(LockFileError::Open)?;
        let meta = file.metadata().map_err(LockFileError::Inspect)?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if !meta.file_type().is_file() || meta.uid() != me {
            return Err(LockFileError::NotOurs { me });
        }
        Ok(LockFile { file })
    }

    /// The lock if free (our pid is then written into the file), else `Err(self)` to try again.
    pub fn try_lock(self) -> io::Result<Result<FileLock, LockFile>> {
        loop {
            // SAFETY: flock on a file descriptor we own; no memory is involved.
            if unsafe { libc::flock(self.file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                let mut file = self.file;
                let _ = file.set_len(0);
                let _ = writeln!(file, "pid {}", std::process::id());
                return Ok(Ok(FileLock { _file: file }));
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EWOULDBLOCK) => return Ok(Err(self)),
                _ => return Err(e),
            }
        }
    }

    /// The pid the current holder wrote, if it did.
    pub fn holder(path: &Path) -> Option<String> {
        let text = read_private(path)?;
        let text = String::from_utf8_lossy(&text);
        let pid = text.trim().strip_prefix("pid ")?;
        pid.bytes().all(|b| b.is_ascii_digit()).then(|| pid.to_string())
    }
}

/// Where lock files live: the cache dir, else a directory private to this user under the temp
/// dir (one someone else made there is refused, never shared).
pub fn base(cache_dir: Option<&Path>) -> Result<PathBuf, String> {
    match cache_dir {
        Some(c) => {
            // A failure shows when the lock file is opened, with its path.
            let _ = fs::create_dir_all(c);
            Ok(c.to_path_buf())
        }
        None => {
            // SAFETY: as above.
            let me = unsafe { libc::geteuid() };
            private_dir(&std::env::temp_dir(), &format!("acactl-{me}"))
        }
    }
}

/// An exclusive lock on one server (by app name) in `<cache_dir>/locks`, held until dropped or the
/// process ends. Two starts of one server (a retried spawn, batchspawner plus a REST call), or a
/// start and a stop, then run one after the other instead of undoing each other's work. Waits
/// until `deadline`; `ServerBusy` (exit 3) if another command holds it longer.
pub async fn server(cache_dir: Option<&Path>, name: &str, deadline: Instant) -> crate::error::Result<FileLock> {
    use crate::error::{Error, ErrorCode};
    if !crate::naming::is_valid_app_name(name) {
        return Err(Error::new(ErrorCode::InvalidAppName, format!("`{name}` is not a container app name")));
    }
    let dir = base(cache_dir)
        .map_err(|why| Error::new(ErrorCode::ServerLockFailed, format!("no place for the lock of {name}: {why}")))?
        .join("locks");
    let _ = fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir);
    let path = dir.join(format!("{name}.lock"));
    let fail = || Error::new(ErrorCode::ServerLockFailed, format!("cannot lock {}", path.display()));
    let mut file = LockFile::open(&path).map_err(|e| match e {
        LockFileError::Open(e) | LockFileError::Inspect(e) => fail().because(e),
        LockFileError::NotOurs { me } => fail().because(format!("not a regular file owned by uid {me}")),
    })?;
    let mut waited = false;
    loop {
        match file.try_lock() {
            Ok(Ok(held)) => return Ok(held),
            Ok(Err(busy)) => file = busy,
            Err(e) => return Err(fail().because(e)),
        }
        if !waited {
            crate::output::info(&format!("another acactl command is working on {name}; waiting for it"));
            waited = true;
        }
        if !crate::arm::lro::fits(Duration::from_millis(100), deadline) {
            return Err(Error::new(
                ErrorCode::ServerBusy,
                format!("another acactl command kept working on {name} until this command's deadline"),
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `base/name` as a directory private to us (created 0700), or why it cannot be trusted.
pub fn private_dir(base: &Path, name: &str) -> Result<PathBuf, String> {
    let dir = base.join(name);
    if fs::symlink_metadata(&dir).is_err() {
        fs::create_dir_all(base).map_err(|e| format!("cannot create {}: {e}", base.display()))?;
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("cannot create {}: {e}", dir.display())),
        }
    }
    private(&dir).map_err(|why| format!("{} {why}", dir.display()))?;
    Ok(dir)
}

/// Owned by us, not a symbolic link, not accessible by group or others.
pub fn private(path: &Path) -> Result<(), String> {
    let meta = fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    private_meta(&meta)
}

/// [`private`] for metadata already in hand (from `symlink_metadata` or an open descriptor).
pub fn private_meta(meta: &fs::Metadata) -> Result<(), String> {
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

/// The largest private file we read (the fleet view of a very large hub is the biggest); a
/// larger or sparse file is ignored rather than allocated.
pub const MAX_PRIVATE_FILE: u64 = 64 << 20;

/// Read `path` only if it is a regular file private to us (a foreign or loosened file is not
/// trusted), of at most [`MAX_PRIVATE_FILE`] bytes. `O_NONBLOCK`: a FIFO planted in its place must
/// not block the open forever (it is then refused for not being a regular file).
pub fn read_private(path: &Path) -> Option<Vec<u8>> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    // SAFETY: as above.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me || meta.mode() & 0o077 != 0 || !meta.is_file() {
        crate::output::debug(&format!("ignoring {}: not a private file of uid {me}", path.display()));
        return None;
    }
    let mut buf = Vec::new();
    use std::io::Read;
    (&file).take(MAX_PRIVATE_FILE + 1).read_to_end(&mut buf).ok()?;
    if buf.len() as u64 > MAX_PRIVATE_FILE {
        crate::output::debug(&format!("ignoring {}: larger than {MAX_PRIVATE_FILE} bytes", path.display()));
        return None;
    }
    Some(buf)
}

/// Replace `path` atomically with `bytes` (private temp file in the same directory, then rename):
/// readers see the old or the new content, never a torn one.
/// No fsync: for files under a hot lock (the budget, on every request), where a file lost in a
/// crash only means starting fresh; [`write_durable`] for the rest.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_replacing(path, bytes, false)
}

/// [`write_atomic`], fsynced before the rename.
pub fn write_durable(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_replacing(path, bytes, true)
}

fn write_replacing(path: &Path, bytes: &[u8], durable: bool) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let tmp = dir.join(format!(".tmp.{}.{nanos}", std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)?;
        f.write_all(bytes)?;
        if durable {
            // On disk before the rename, so a crash leaves the old content or the new, never an
            // empty file.
            f.sync_all()?;
        }
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Remove temp files left by writers that died mid-write (older than a minute).
pub fn sweep_temp(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().starts_with(".tmp.") {
            continue;
        }
        let old = e.metadata().ok().and_then(|m| m.modified().ok()).and_then(|m| m.elapsed().ok());
        if old.is_some_and(|a| a.as_secs() > 60) {
            let _ = fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn lock_is_exclusive_and_released_on_drop() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("l");
        let a = FileLock::exclusive_within(&p, Duration::ZERO).unwrap();
        assert!(FileLock::try_exclusive(&p).unwrap().is_none());
        // A held lock is given up on within the patience, not waited for.
        let t = Instant::now();
        let e = FileLock::exclusive_within(&p, Duration::from_millis(100)).err().unwrap();
        assert_eq!(e.raw_os_error(), Some(libc::EWOULDBLOCK));
        assert!(t.elapsed() >= Duration::from_millis(100) && t.elapsed() < Duration::from_secs(2));
        drop(a);
        assert!(FileLock::try_exclusive(&p).unwrap().is_some());
    }

    #[test]
    fn symlinks_and_loose_files_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("t");
        fs::write(&target, b"x").unwrap();
        std::os::unix::fs::symlink(&target, d.path().join("link")).unwrap();
        assert!(FileLock::exclusive_within(&d.path().join("link"), Duration::ZERO).is_err());
        assert!(read_private(&d.path().join("link")).is_none());
        fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(read_private(&target).is_none());
        fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_private(&target).unwrap(), b"x");
        std::os::unix::fs::symlink(d.path(), d.path().join("dirlink")).unwrap();
        assert!(private_dir(d.path(), "dirlink").is_err());
        let made = private_dir(d.path(), "fleet").unwrap();
        assert_eq!(fs::metadata(made).unwrap().mode() & 0o777, 0o700);
    }

    #[test]
    fn fifos_and_huge_files_are_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("budget.json");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let t = std::time::Instant::now();
        assert!(read_private(&fifo).is_none());
        assert!(t.elapsed() < Duration::from_secs(2));
        // Sparse: a terabyte claimed, nothing allocated for it.
        let big = d.path().join("big");
        let f = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&big).unwrap();
        f.set_len(1 << 40).unwrap();
        assert!(read_private(&big).is_none());
        f.set_len(MAX_PRIVATE_FILE).unwrap();
        assert_eq!(read_private(&big).map(|b| b.len() as u64), Some(MAX_PRIVATE_FILE));
    }

    #[test]
    fn lock_files_record_their_holder_and_refuse_links() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("gc.lock");
        let held = match LockFile::open(&p).ok().unwrap().try_lock().unwrap() {
            Ok(l) => l,
            Err(_) => panic!("a fresh lock is free"),
        };
        assert_eq!(LockFile::holder(&p), Some(std::process::id().to_string()));
        assert!(LockFile::open(&p).ok().unwrap().try_lock().unwrap().is_err());
        drop(held);
        assert!(LockFile::open(&p).ok().unwrap().try_lock().unwrap().is_ok());
        std::os::unix::fs::symlink(&p, d.path().join("link")).unwrap();
        assert!(matches!(LockFile::open(&d.path().join("link")), Err(LockFileError::Open(_))));
        fs::create_dir(d.path().join("dir")).unwrap();
        assert!(LockFile::open(&d.path().join("dir")).is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn server_lock_serialises_and_refuses_symlinks() {
        let d = tempfile::tempdir().unwrap();
        let c = Some(d.path());
        let soon = || Instant::now() + Duration::from_millis(300);
        let held = server(c, "hub1-ann-abcdefghij", soon()).await.unwrap();
        let e = server(c, "hub1-ann-abcdefghij", soon()).await.err().unwrap();
        assert_eq!(e.code, "ServerBusy");
        drop(held);
        server(c, "hub1-ann-abcdefghij", soon()).await.unwrap();
        let target = d.path().join("victim");
        std::fs::write(&target, "keep").unwrap();
        std::os::unix::fs::symlink(&target, d.path().join("locks/hub1-bob-abcdefghij.lock")).unwrap();
        let e = server(c, "hub1-bob-abcdefghij", soon()).await.err().unwrap();
        assert_eq!(e.code, "ServerLockFailed");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }

    #[test]
    fn atomic_write_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(read_private(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1, "no temp file left behind");
    }
}
