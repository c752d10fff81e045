//! The directory lock: an exclusive, non-blocking `flock` on `<dir>/LOCK`, held as long as the
//! file stays open. The kernel drops it when the holder exits, however it exits (a SIGKILL
//! included), so a crash never leaves a stale lock behind. `flock` belongs to the open file
//! description, so two opens in one process conflict just as two processes do.

use crate::WalError;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

pub(crate) const LOCK_FILE: &str = "LOCK";

pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock of `dir` (which must exist), creating the lock file if missing; fails with
    /// `WalError::Locked` if someone else holds it.
    pub fn acquire(dir: &Path) -> Result<DirLock, WalError> {
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path)?;
        if !try_lock(&file)? {
            return Err(WalError::Locked(path));
        }
        Ok(DirLock { _file: file })
    }
}

/// Tries to take an exclusive `flock` on `file` without waiting: `Ok(false)` if it is held
/// elsewhere.
pub(crate) fn try_lock(file: &File) -> io::Result<bool> {
    loop {
        // SAFETY: a plain syscall on a descriptor `file` keeps open.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(code) if code == libc::EWOULDBLOCK => return Ok(false),
            _ => return Err(e),
        }
    }
}

