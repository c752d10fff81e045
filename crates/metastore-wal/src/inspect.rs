//! Inspection: what a log directory holds and whether it would open, read-only. It takes no
//! lock (looking at a log another process has open is fine) and writes nothing: a torn tail is
//! reported, not cut.

use crate::scan::{scan, Stop};
use crate::{Options, WalError};
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    /// File name within the log directory.
    pub name: String,
    pub seq: u64,
    pub first_index: u64,
    /// Bytes up to the end of the last good record, header included.
    pub bytes_used: u64,
    pub records: u64,
    pub entries: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogInfo {
    /// The segments that check out, in order; a damaged one is listed up to the damage.
    pub segments: Vec<SegmentInfo>,
    /// Segments after the damage, not read.
    pub unread: Vec<PathBuf>,
    /// First index in the log (1 for an empty directory).
    pub first_index: u64,
    /// Last good entry (`first_index - 1` when there is none); a torn record is not counted.
    pub last_index: u64,
    /// A torn last record that opening would cut off: (segment, offset).
    pub torn_tail: Option<(PathBuf, u64)>,
    /// Damage that makes opening fail: a `WalError::Corrupt`'s (segment, offset, reason).
    pub corruption: Option<(PathBuf, u64, &'static str)>,
}

impl LogInfo {
    /// Whether `Wal::open` would succeed (a torn tail included, which it cuts).
    pub fn opens(&self) -> bool {
        self.corruption.is_none()
    }
}

impl fmt::Display for LogInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} segment(s), entries {}..={}", self.segments.len(), self.first_index, self.last_index)?;
        for s in &self.segments {
            writeln!(f, "  {}: seq {}, first index {}, {} record(s), {} entries, {} bytes used", s.name, s.seq, s.first_index, s.records, s.entries, s.bytes_used)?;
        }
        if let Some((segment, offset)) = &self.torn_tail {
            writeln!(f, "torn tail in {} at offset {offset}: opening cuts it off", segment.display())?;
        }
        if let Some((segment, offset, reason)) = &self.corruption {
            writeln!(f, "corrupt in {} at offset {offset}: {reason}; {} later segment(s) not read", segment.display(), self.unread.len())?;
        }
        Ok(())
    }
}

/// Reads and checks the log in `dir` without locking or changing it. Only I/O failures are
/// errors (a missing directory included); damage is described in the result.
pub fn inspect(dir: &Path, options: Options) -> Result<LogInfo, WalError> {
    let mut unused = Vec::new();
    let found = scan(dir, options.segment_size, u64::MAX, &mut unused)?;
    let segments: Vec<SegmentInfo> = found
        .segments
        .iter()
        .map(|s| SegmentInfo {
            name: s.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            seq: s.header.seq,
            first_index: s.header.first_index,
            bytes_used: s.end,
            records: s.records,
            entries: s.entries,
        })
        .collect();
    let first_index = segments.first().map_or(1, |s| s.first_index);
    let mut info = LogInfo { segments, unread: Vec::new(), first_index, last_index: found.next_index - 1, torn_tail: None, corruption: None };
    match found.stop {
        Stop::Clean => {}
        Stop::Torn { offset } => info.torn_tail = found.segments.last().map(|s| (s.path.clone(), offset)),
        Stop::Corrupt { segment, offset, reason } => {
            info.corruption = Some((found.paths[segment].clone(), offset, reason));
            info.unread = found.paths[segment + 1..].to_vec();
        }
    }
    Ok(info)
}
