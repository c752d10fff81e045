//! The directory lock: an exclusive, non-blocking lock on `<dir>/LOCK`, held as long as the
//! file stays open. The OS drops it when the holder exits, however it exits (a SIGKILL
//! included), so a crash never leaves a stale lock behind. It belongs to the open file, so two
//! opens in one process conflict just as two processes do.

use crate::fsio::try_lock;
use crate::WalError;
use std::fs::{File, OpenOptions};
use std::path::Path;

pub(crate) const LOCK_FILE: &str = "LOCK";

/// A held directory lock; dropping it releases the lock.
pub struct DirLock {
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

    /// Whether someone holds the lock of `dir` right now (taken and released at once; creates
    /// nothing). A directory without a lock file is not locked.
    pub fn is_held(dir: &Path) -> Result<bool, WalError> {
        match OpenOptions::new().read(true).write(true).open(dir.join(LOCK_FILE)) {
            Ok(file) => Ok(!try_lock(&file)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
