//! Inspection: what a log directory holds and whether it would open, read-only. It takes no
//! lock (looking at a log another process has open is fine) and writes nothing: a torn tail is
//! reported, not cut.

use crate::manifest::Manifest;
use crate::scan::{scan, CoveredDamage, Stop};
use crate::{check, WalError};
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
    /// The segments read, in order; a damaged one is listed up to the damage.
    pub segments: Vec<SegmentInfo>,
    /// First index in the log (1 for an empty directory).
    pub first_index: u64,
    /// Last good entry (`first_index - 1` when there is none); a torn record is not counted.
    pub last_index: u64,
    /// The last index recorded at a clean close, if the log was closed cleanly.
    pub closed_at: Option<u64>,
    /// A torn last record that opening would cut off: (segment, offset).
    pub torn_tail: Option<(PathBuf, u64)>,
    /// Damage that loses nothing (everything it could hold is at or below the index inspected
    /// after): opening reads past it.
    pub covered_damage: Vec<CoveredDamage>,
    /// Damage that makes opening fail: a `WalError::Corrupt`'s (segment, offset, reason).
    pub corruption: Option<(PathBuf, u64, String)>,
}

impl LogInfo {
    /// Whether the log would open (a torn tail included, which opening cuts).
    pub fn opens(&self) -> bool {
        self.corruption.is_none()
    }
}

impl fmt::Display for LogInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} segment(s), entries {}..={}", self.segments.len(), self.first_index, self.last_index)?;
        for s in &self.segments {
            writeln!(
                f,
                "  {}: seq {}, first index {}, {} record(s), {} entries, {} bytes used",
                s.name, s.seq, s.first_index, s.records, s.entries, s.bytes_used
            )?;
        }
        match self.closed_at {
            Some(at) => writeln!(f, "closed cleanly at index {at}")?,
            None => writeln!(f, "not closed cleanly (open now, or the last process stopped without closing)")?,
        }
        for d in &self.covered_damage {
            writeln!(
                f,
                "harmless damage in {} at offset {} ({}): everything there is in the snapshot; the next purge removes it",
                d.segment.display(),
                d.offset,
                d.reason
            )?;
        }
        if let Some((segment, offset)) = &self.torn_tail {
            writeln!(f, "torn tail in {} at offset {offset}: opening cuts it off", segment.display())?;
        }
        if let Some((segment, offset, reason)) = &self.corruption {
            writeln!(f, "corrupt in {} at offset {offset}: {reason}", segment.display())?;
        }
        Ok(())
    }
}

/// Reads and checks the log in `dir` without locking or changing it, as opening it after
/// `after_index` (the snapshot's index) would. Only I/O failures are errors (a missing
/// directory included); damage is described in the result.
pub fn inspect(dir: &Path, after_index: u64) -> Result<LogInfo, WalError> {
    if !dir.is_dir() {
        return Err(WalError::Io(std::io::Error::new(std::io::ErrorKind::NotFound, format!("{} is not a directory", dir.display()))));
    }
    let manifest = Manifest::load(dir)?;
    let closed_at = manifest.as_ref().ok().and_then(|m| m.as_ref()).and_then(|m| m.closed_at);
    let found = scan(dir, after_index, &mut Vec::new())?;
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
    let mut info = LogInfo {
        segments,
        first_index,
        last_index: found.next_index - 1,
        closed_at,
        torn_tail: None,
        covered_damage: found.covered.clone(),
        corruption: None,
    };
    if let Stop::Torn { offset } = found.stop {
        info.torn_tail = found.segments.last().map(|s| (s.path.clone(), offset));
    }
    if let Err(problem) = check(dir, &found, manifest, false) {
        info.corruption = Some(problem);
    }
    Ok(info)
}
