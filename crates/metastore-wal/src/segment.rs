//! Segment files: `<seq:016x>-<firstIndex:016x>.wal`, each starting with a 40-byte header
//! (`SegmentHeader` in formats/wal.mjs: magic, seq, firstIndex, size, prevCrc, headerCrc) and
//! preallocated to `size` so a data sync never has to update the file size (and a file shorter
//! than its header's size was cut by something other than this log).

use crate::fsio::{preallocate, sync_dir, write_all_at};
use crate::layout::*;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub use crate::layout::SEGMENT_HEADER;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    pub seq: u64,
    pub first_index: u64,
    /// The size the file was preallocated to.
    pub size: u64,
    /// CRC of the previous segment's last record (0 for the first segment).
    pub prev_crc: u32,
}

/// Why a segment header does not decode.
#[derive(Debug, PartialEq, Eq)]
pub enum HeaderError {
    Damaged,
    /// Written by the first log format, which this version does not read.
    OldFormat,
}

impl SegmentHeader {
    pub fn encode(&self) -> [u8; SEGMENT_HEADER] {
        let mut h = [0u8; SEGMENT_HEADER];
        h[SEGMENT_MAGIC_AT..][..8].copy_from_slice(&SEGMENT_MAGIC);
        h[SEGMENT_SEQ_AT..][..8].copy_from_slice(&self.seq.to_le_bytes());
        h[SEGMENT_FIRST_INDEX_AT..][..8].copy_from_slice(&self.first_index.to_le_bytes());
        h[SEGMENT_SIZE_AT..][..8].copy_from_slice(&self.size.to_le_bytes());
        h[SEGMENT_PREV_CRC_AT..][..4].copy_from_slice(&self.prev_crc.to_le_bytes());
        let crc = crc32c::crc32c(&h[..SEGMENT_HEADER_CRC_AT]);
        h[SEGMENT_HEADER_CRC_AT..][..4].copy_from_slice(&crc.to_le_bytes());
        h
    }

    pub fn decode(h: &[u8]) -> Result<Self, HeaderError> {
        if h.starts_with(&SEGMENT_MAGIC_V1) {
            return Err(HeaderError::OldFormat);
        }
        if h.len() < SEGMENT_HEADER || !h.starts_with(&SEGMENT_MAGIC) {
            return Err(HeaderError::Damaged);
        }
        let u64_at = |at: usize| u64::from_le_bytes(h[at..at + 8].try_into().expect("8 bytes"));
        let u32_at = |at: usize| u32::from_le_bytes(h[at..at + 4].try_into().expect("4 bytes"));
        if u32_at(SEGMENT_HEADER_CRC_AT) != crc32c::crc32c(&h[..SEGMENT_HEADER_CRC_AT]) {
            return Err(HeaderError::Damaged);
        }
        Ok(SegmentHeader {
            seq: u64_at(SEGMENT_SEQ_AT),
            first_index: u64_at(SEGMENT_FIRST_INDEX_AT),
            size: u64_at(SEGMENT_SIZE_AT),
            prev_crc: u32_at(SEGMENT_PREV_CRC_AT),
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
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| parse_segment_name(p).is_some()).collect();
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
        write_all_at(file, &ZEROS[..n], at)?;
        at += n as u64;
    }
    Ok(())
}

/// How far into a file anything was written: the offset after its last non-zero byte.
pub fn written_len(path: &Path) -> io::Result<u64> {
    let data = std::fs::read(path)?;
    Ok(data.iter().rposition(|&b| b != 0).map_or(0, |p| p as u64 + 1))
}

/// Creates a segment atomically: written and synced under a temporary name, then renamed, then
/// the directory synced.
pub fn create_segment(dir: &Path, header: &SegmentHeader) -> io::Result<(PathBuf, File)> {
    let name = segment_name(header.seq, header.first_index);
    let tmp = dir.join(format!("{name}.tmp"));
    let path = dir.join(&name);
    {
        let mut f = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
        preallocate(&f, header.size.max(SEGMENT_HEADER as u64))?;
        f.write_all(&header.encode())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    sync_dir(dir)?;
    let file = OpenOptions::new().read(true).write(true).open(&path)?;
    Ok((path, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header format 2 segments start with, field by field (formats/wal.mjs may not drift
    /// from what is on disk).
    #[test]
    fn a_segment_header_is_laid_out_as_declared_and_as_written_before() {
        let header = SegmentHeader { seq: 2, first_index: 0x0102_0304_0506_0708, size: 4096, prev_crc: 0xaabb_ccdd };
        let mut written_before = b"MSWAL002".to_vec();
        for n in [2u64, 0x0102_0304_0506_0708, 4096] {
            written_before.extend_from_slice(&n.to_le_bytes());
        }
        written_before.extend_from_slice(&0xaabb_ccddu32.to_le_bytes());
        written_before.extend_from_slice(&crc32c::crc32c(&written_before).to_le_bytes());
        assert_eq!(header.encode().to_vec(), written_before);
        assert_eq!(SegmentHeader::decode(&written_before), Ok(header));
        assert_eq!((SEGMENT_HEADER, SEGMENT_HEADER_CRC_AT, SEGMENT_HEADER % RECORD_ALIGNMENT), (40, 36, 0));
        assert_eq!(SegmentHeader::decode(b"MSWAL001 and the rest of an old header"), Err(HeaderError::OldFormat));
    }
}
