//! Segment files: `<seq:016x>-<firstIndex:016x>.wal`, each starting with a 32-byte header
//! (`"MSWAL001" | u64 seq | u64 firstIndex | u32 prevCrc | u32 headerCrc`) and preallocated to
//! the segment size so a data sync never has to update the file size.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub const SEGMENT_HEADER: usize = 32;
const MAGIC: &[u8; 8] = b"MSWAL001";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    pub seq: u64,
    pub first_index: u64,
    /// CRC of the previous segment's last record (0 for the first segment).
    pub prev_crc: u32,
}

impl SegmentHeader {
    pub fn encode(&self) -> [u8; SEGMENT_HEADER] {
        let mut h = [0u8; SEGMENT_HEADER];
        h[..8].copy_from_slice(MAGIC);
        h[8..16].copy_from_slice(&self.seq.to_le_bytes());
        h[16..24].copy_from_slice(&self.first_index.to_le_bytes());
        h[24..28].copy_from_slice(&self.prev_crc.to_le_bytes());
        let crc = crc32c::crc32c(&h[..28]);
        h[28..32].copy_from_slice(&crc.to_le_bytes());
        h
    }

    pub fn decode(h: &[u8]) -> Option<Self> {
        if h.len() < SEGMENT_HEADER || &h[..8] != MAGIC {
            return None;
        }
        let crc = u32::from_le_bytes(h[28..32].try_into().ok()?);
        if crc != crc32c::crc32c(&h[..28]) {
            return None;
        }
        Some(SegmentHeader {
            seq: u64::from_le_bytes(h[8..16].try_into().ok()?),
            first_index: u64::from_le_bytes(h[16..24].try_into().ok()?),
            prev_crc: u32::from_le_bytes(h[24..28].try_into().ok()?),
        })
    }
}

pub fn segment_name(seq: u64, first_index: u64) -> String {
    format!("{seq:016x}-{first_index:016x}.wal")
}

/// `(seq, firstIndex)` from a segment's file name.
pub fn parse_segment_name(path: &Path) -> Option<(u64, u64)> {
    let name = path.file_name()?.to_str()?.strip_suffix(".wal")?;
    let (seq, first) = name.split_once('-')?;
    if seq.len() != 16 || first.len() != 16 {
        return None;
    }
    Some((u64::from_str_radix(seq, 16).ok()?, u64::from_str_radix(first, 16).ok()?))
}

/// Segment files of `dir`, in sequence order.
pub fn list_segments(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| parse_segment_name(p).is_some())
        .collect();
    names.sort();
    Ok(names)
}

/// Deletes segments left half-made under their temporary name by a crash during creation.
pub fn remove_temp_segments(dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".wal.tmp")) {
            remove_if_present(&path)?;
        }
    }
    Ok(())
}

/// `remove_file` that treats an already missing file as removed.
pub fn remove_if_present(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Zeroes a segment from `from` to `len`, restores its preallocated size if it was cut short,
/// and syncs it.
pub fn zero_from(path: &Path, from: u64, len: u64, size: u64) -> io::Result<()> {
    let f = OpenOptions::new().write(true).open(path)?;
    if len < size {
        f.set_len(size)?;
    }
    write_zeros(&f, from, len)?;
    f.sync_all()
}

static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

/// Writes zeros over `file` from `from` to `to` (not synced).
pub fn write_zeros(file: &File, from: u64, to: u64) -> io::Result<()> {
    let mut at = from;
    while at < to {
        let n = (to - at).min(ZEROS.len() as u64) as usize;
        file.write_all_at(&ZEROS[..n], at)?;
        at += n as u64;
    }
    Ok(())
}

/// How far into a file anything was written: the offset after its last non-zero byte.
pub fn written_len(path: &Path) -> io::Result<u64> {
    let data = std::fs::read(path)?;
    Ok(data.iter().rposition(|&b| b != 0).map_or(0, |p| p as u64 + 1))
}

/// fsync of a directory, so a created or renamed file's name is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Reserves `len` bytes of disk for `file` (falls back to a sparse length where the file system
/// cannot allocate).
fn preallocate(file: &File, len: u64) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a plain syscall on a valid descriptor.
        let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len as libc::off_t) };
        if rc == 0 {
            return Ok(());
        }
    }
    file.set_len(len)
}

/// Creates a segment atomically: written and synced under a temporary name, then renamed, then
/// the directory synced.
pub fn create_segment(dir: &Path, header: &SegmentHeader, size: u64) -> io::Result<(PathBuf, File)> {
    let name = segment_name(header.seq, header.first_index);
    let tmp = dir.join(format!("{name}.tmp"));
    let path = dir.join(&name);
    {
        let mut f = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
        preallocate(&f, size.max(SEGMENT_HEADER as u64))?;
        f.write_all(&header.encode())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    sync_dir(dir)?;
    let file = OpenOptions::new().read(true).write(true).open(&path)?;
    Ok((path, file))
}
