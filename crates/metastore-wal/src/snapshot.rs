//! Snapshot files: `<index:016x>.snap`, an opaque payload (the caller's state at `index`) behind
//! a 48-byte header (`SnapshotFile` in formats/wal.mjs: magic, formatVersion, index, term,
//! payloadLen, payloadCrc, headerCrc; both CRC-32C). Written under a temporary name, synced, renamed, directory synced; loading tries
//! the newest first and falls back past damaged files.

use crate::fsio::{sync_dir, try_lock, write_all_at};
use crate::layout::*;
use crate::segment::remove_if_present;
use crate::WalError;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

const SUFFIX: &str = ".snap";
const TEMP_SUFFIX: &str = ".snap.tmp";

/// A snapshot loaded and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub index: u64,
    pub term: u64,
    pub payload: Vec<u8>,
    pub path: PathBuf,
}

/// A snapshot file by name, not yet checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotFile {
    pub index: u64,
    pub path: PathBuf,
}

/// What `load_newest_snapshot` found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotLoad {
    /// The newest snapshot that checks out, if any.
    pub snapshot: Option<Snapshot>,
    /// Newer files that were damaged or partial, newest first: worth reporting.
    pub skipped: Vec<PathBuf>,
    /// Why each of `skipped` was passed over, in the same order.
    pub skipped_reasons: Vec<&'static str>,
    /// Temporary files left by an interrupted write, now deleted.
    pub removed_temps: Vec<PathBuf>,
}

fn snapshot_name(index: u64) -> String {
    format!("{index:016x}{SUFFIX}")
}

fn parse_snapshot_name(path: &Path) -> Option<u64> {
    let hex = path.file_name()?.to_str()?.strip_suffix(SUFFIX)?;
    if hex.len() != 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

fn encode_header(index: u64, term: u64, payload_len: u64, payload_crc: u32) -> [u8; SNAPSHOT_FILE_HEADER] {
    let mut h = [0u8; SNAPSHOT_FILE_HEADER];
    h[SNAPSHOT_FILE_MAGIC_AT..][..8].copy_from_slice(&SNAPSHOT_FILE_MAGIC);
    h[SNAPSHOT_FILE_FORMAT_VERSION_AT..][..4].copy_from_slice(&SNAPSHOT_FILE_VERSION.to_le_bytes());
    h[SNAPSHOT_FILE_INDEX_AT..][..8].copy_from_slice(&index.to_le_bytes());
    h[SNAPSHOT_FILE_TERM_AT..][..8].copy_from_slice(&term.to_le_bytes());
    h[SNAPSHOT_FILE_PAYLOAD_LEN_AT..][..8].copy_from_slice(&payload_len.to_le_bytes());
    h[SNAPSHOT_FILE_PAYLOAD_CRC_AT..][..4].copy_from_slice(&payload_crc.to_le_bytes());
    let crc = crc32c::crc32c(&h[..SNAPSHOT_FILE_HEADER_CRC_AT]);
    h[SNAPSHOT_FILE_HEADER_CRC_AT..][..4].copy_from_slice(&crc.to_le_bytes());
    h
}

fn le_u64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b.try_into().expect("8 bytes"))
}

fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes(b.try_into().expect("4 bytes"))
}

/// Checks a whole snapshot file's bytes; returns `(index, term)` or why it does not check out.
fn check(data: &[u8], named_index: u64) -> Result<(u64, u64), &'static str> {
    if data.len() < SNAPSHOT_FILE_HEADER {
        return Err("shorter than a snapshot header");
    }
    let h = &data[..SNAPSHOT_FILE_HEADER];
    if !h.starts_with(&SNAPSHOT_FILE_MAGIC) {
        return Err("not a snapshot file (bad magic)");
    }
    if le_u32(&h[SNAPSHOT_FILE_HEADER_CRC_AT..][..4]) != crc32c::crc32c(&h[..SNAPSHOT_FILE_HEADER_CRC_AT]) {
        return Err("header CRC mismatch");
    }
    if le_u32(&h[SNAPSHOT_FILE_FORMAT_VERSION_AT..][..4]) != SNAPSHOT_FILE_VERSION {
        return Err("unknown snapshot format version");
    }
    let index = le_u64(&h[SNAPSHOT_FILE_INDEX_AT..][..8]);
    let term = le_u64(&h[SNAPSHOT_FILE_TERM_AT..][..8]);
    let len = le_u64(&h[SNAPSHOT_FILE_PAYLOAD_LEN_AT..][..8]);
    if index != named_index {
        return Err("file name does not match the index in its header");
    }
    if (data.len() - SNAPSHOT_FILE_HEADER) as u64 != len {
        return Err(if ((data.len() - SNAPSHOT_FILE_HEADER) as u64) < len { "payload cut short" } else { "bytes after the payload" });
    }
    if le_u32(&h[SNAPSHOT_FILE_PAYLOAD_CRC_AT..][..4]) != crc32c::crc32c(&data[SNAPSHOT_FILE_HEADER..]) {
        return Err("payload CRC mismatch");
    }
    Ok((index, term))
}

/// Snapshot files of `dir` (by name only, unchecked), oldest first.
pub fn list_snapshots(dir: &Path) -> io::Result<Vec<SnapshotFile>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if let Some(index) = parse_snapshot_name(&path) {
            files.push(SnapshotFile { index, path });
        }
    }
    files.sort_by_key(|f| f.index);
    Ok(files)
}

/// Writes the snapshot of `index` atomically into `dir` (which must exist) and returns its
/// path: temporary file, header and payload, fsync, rename, directory fsync. Then deletes the
/// snapshots older than it except the newest of them, kept as a fallback. Once it returns `Ok`
/// the snapshot is durable; an error may still leave it in place (it checks out if so).
pub fn write_snapshot(dir: &Path, index: u64, term: u64, payload: &[u8]) -> io::Result<PathBuf> {
    let written = write_snapshot_with(dir, index, term, |sink| sink.write_all(payload).map(|()| true))?;
    Ok(written.expect("a payload given whole is never abandoned").0)
}

/// [`write_snapshot`] with the payload streamed: `write` writes it to the sink (buffered, its
/// length and CRC taken on the way, the header filled in at the end), so it never has to be in
/// memory whole. `write` returning `Ok(false)` abandons the snapshot: the temporary file goes and
/// the result is `Ok(None)`. Otherwise returns the path and the payload's length.
pub fn write_snapshot_with(dir: &Path, index: u64, term: u64, write: impl FnOnce(&mut dyn Write) -> io::Result<bool>) -> io::Result<Option<(PathBuf, u64)>> {
    let name = snapshot_name(index);
    let path = dir.join(&name);
    let temp = dir.join(format!("{name}.tmp"));
    let len = match write_temp_and_rename(&temp, &path, index, term, write) {
        Ok(Some(len)) => len,
        outcome => {
            let _ = remove_if_present(&temp);
            return outcome.map(|_| None);
        }
    };
    sync_dir(dir)?;
    let older: Vec<SnapshotFile> = list_snapshots(dir)?.into_iter().filter(|f| f.index < index).collect();
    if let Some((_fallback, rest)) = older.split_last() {
        for file in rest {
            remove_if_present(&file.path)?;
        }
    }
    // Not syncing the directory again: a deleted old snapshot that comes back after a crash is
    // harmless, the next write deletes it.
    Ok(Some((path, len)))
}

/// The payload's way to the file: buffered, counted and checksummed.
struct PayloadSink {
    file: BufWriter<File>,
    len: u64,
    crc: u32,
}

impl Write for PayloadSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.crc = crc32c::crc32c_append(self.crc, &buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Writes the temporary file and renames it; `None` when `write` abandoned it, else the
/// payload's length.
fn write_temp_and_rename(temp: &Path, path: &Path, index: u64, term: u64, write: impl FnOnce(&mut dyn Write) -> io::Result<bool>) -> io::Result<Option<u64>> {
    // Held under a lock while being written, so that a concurrent load does not take it for
    // an interrupted write's leftover and delete it.
    let f = OpenOptions::new().write(true).create(true).truncate(false).open(temp)?;
    if !try_lock(&f)? {
        return Err(io::Error::new(io::ErrorKind::WouldBlock, "another writer holds this snapshot's temporary file"));
    }
    f.set_len(0)?;
    // The header, known once the payload is written, goes in front of it at the end.
    let mut file = BufWriter::with_capacity(1 << 20, f);
    file.write_all(&[0u8; SNAPSHOT_FILE_HEADER])?;
    let mut sink = PayloadSink { file, len: 0, crc: 0 };
    if !write(&mut sink)? {
        return Ok(None);
    }
    let f = sink.file.into_inner().map_err(|e| e.into_error())?;
    write_all_at(&f, &encode_header(index, term, sink.len, sink.crc), 0)?;
    f.sync_all()?;
    std::fs::rename(temp, path)?;
    Ok(Some(sink.len))
}

/// Loads the newest snapshot in `dir` that checks out. Newer ones that are damaged or partial
/// are passed over and listed in `skipped`; temporary files of interrupted writes are deleted
/// (a file another process is writing right now is left alone). A missing directory holds no
/// snapshot. Only I/O errors are errors.
pub fn load_newest_snapshot(dir: &Path) -> Result<SnapshotLoad, WalError> {
    let mut out = SnapshotLoad::default();
    let listing = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        r => r?,
    };
    for entry in listing {
        let path = entry?.path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(TEMP_SUFFIX)) {
            let f = match File::open(&path) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                r => r?,
            };
            if try_lock(&f)? {
                remove_if_present(&path)?;
                out.removed_temps.push(path);
            }
        }
    }
    for file in list_snapshots(dir)?.into_iter().rev() {
        let data = match std::fs::read(&file.path) {
            // Deleted since the listing by a writer's cleanup: a newer one exists, or was seen.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            r => r?,
        };
        match check(&data, file.index) {
            Ok((index, term)) => {
                let mut payload = data;
                payload.drain(..SNAPSHOT_FILE_HEADER);
                out.snapshot = Some(Snapshot { index, term, payload, path: file.path });
                break;
            }
            Err(reason) => {
                out.skipped.push(file.path);
                out.skipped_reasons.push(reason);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot file's header as written before, field by field (formats/wal.mjs may not drift
    /// from it).
    #[test]
    fn a_snapshot_header_is_laid_out_as_declared_and_as_written_before() {
        let payload = b"state";
        let mut written_before = b"MSSNAPSH".to_vec();
        written_before.extend_from_slice(&1u32.to_le_bytes()); // format version
        written_before.extend_from_slice(&0u32.to_le_bytes());
        for n in [12u64, 2, payload.len() as u64] {
            written_before.extend_from_slice(&n.to_le_bytes()); // index, term, payload length
        }
        written_before.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
        written_before.extend_from_slice(&crc32c::crc32c(&written_before).to_le_bytes());
        assert_eq!(encode_header(12, 2, payload.len() as u64, crc32c::crc32c(payload)).to_vec(), written_before);
        written_before.extend_from_slice(payload);
        assert_eq!(check(&written_before, 12), Ok((12, 2)));
        assert_eq!((SNAPSHOT_FILE_HEADER, SNAPSHOT_FILE_PAYLOAD_AT), (48, 48));
    }
}
