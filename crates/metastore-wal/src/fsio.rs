//! The few file-system calls that differ between platforms, behind portable names: positional
//! writes, syncing a directory, preallocation and the exclusive lock.

use std::fs::File;
use std::io;
use std::path::Path;

/// Writes all of `buf` at `offset` without moving the file cursor (a plain `pwrite` on Unix).
pub fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        let (mut buf, mut offset) = (buf, offset);
        while !buf.is_empty() {
            match file.seek_write(buf, offset) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => {
                    buf = &buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// fsync of a directory, so a created, renamed or deleted name is durable. Windows has no such
/// call (its metadata journal orders renames itself), so it is a no-op there.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Reserves `len` bytes of disk for `file` (falls back to a sparse length where the file system
/// cannot allocate).
pub fn preallocate(file: &File, len: u64) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a plain syscall on a descriptor `file` keeps open.
        let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len as libc::off_t) };
        if rc == 0 {
            return Ok(());
        }
    }
    file.set_len(len)
}

/// Tries to take an exclusive lock on `file` without waiting: `Ok(false)` if it is held
/// elsewhere. The lock belongs to the open file (`flock` on Unix, `LockFileEx` on Windows), so
/// two opens in one process conflict as two processes do, and the OS drops it when the holder
/// exits however it exits.
pub fn try_lock(file: &File) -> io::Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}
