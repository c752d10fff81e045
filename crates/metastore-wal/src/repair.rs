//! Repair: the explicit, on-purpose answer to a log that refuses to open. The log is cut at the
//! first damage: the rest of that segment is zeroed (its preallocated size kept) and every later
//! segment deleted, losing whatever they held. Never run by `open`.

use crate::lock::DirLock;
use crate::scan::{scan, Stop};
use crate::segment::{parse_segment_name, remove_if_present, sync_dir, written_len, zero_from, SegmentHeader, SEGMENT_HEADER};
use crate::{Options, WalError};
use std::fmt;
use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Where and how much a repair cut.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// The segment the damage is in, and its offset there (0: the segment's header or its link
    /// to the previous segment).
    pub segment: PathBuf,
    pub offset: u64,
    pub reason: &'static str,
    /// Bytes of written records dropped, from the damaged segment and the deleted ones: an
    /// estimate of what was lost, since past the damage nothing can be trusted to be counted.
    pub bytes_dropped: u64,
    /// Segments deleted, oldest first (the damaged one too when its header was bad and it was
    /// not the first).
    pub segments_removed: Vec<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepairReport {
    /// `None`: the log checked out and nothing was changed.
    pub truncated: Option<Truncation>,
    /// A torn tail found (and left alone: the next open cuts it, as always): (segment, offset).
    pub torn_tail: Option<(PathBuf, u64)>,
    /// Index of the last entry the log holds after the repair.
    pub last_index: u64,
}

impl fmt::Display for RepairReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.truncated {
            None => write!(f, "nothing to repair; the log ends at index {}", self.last_index)?,
            Some(t) => write!(
                f,
                "truncated {} at offset {} ({}): dropped {} bytes of records and deleted {} segment(s); the log now ends at index {}",
                t.segment.display(),
                t.offset,
                t.reason,
                t.bytes_dropped,
                t.segments_removed.len(),
                self.last_index
            )?,
        }
        if let Some((segment, offset)) = &self.torn_tail {
            write!(f, "; a torn tail in {} at offset {offset} is cut on the next open", segment.display())?;
        }
        Ok(())
    }
}

/// Checks the log in `dir` (which must exist) under its lock and, if it is corrupt, truncates it
/// at the damage: zeroes the rest of the damaged segment and deletes every later one (newest
/// first, so a crash part way leaves a log that is still a prefix and the repair can simply be
/// run again), then syncs. A log that checks out is left untouched. Fails with
/// `WalError::Locked` while the log is open.
pub fn repair(dir: &Path, options: Options) -> Result<RepairReport, WalError> {
    let _lock = DirLock::acquire(dir)?;
    let mut unused = Vec::new();
    let found = scan(dir, options.segment_size, u64::MAX, &mut unused)?;
    let mut report = RepairReport { truncated: None, torn_tail: None, last_index: found.next_index - 1 };
    let (segment, offset, reason) = match found.stop {
        Stop::Clean => return Ok(report),
        Stop::Torn { offset } => {
            report.torn_tail = found.segments.last().map(|s| (s.path.clone(), offset));
            return Ok(report);
        }
        Stop::Corrupt { segment, offset, reason } => (segment, offset, reason),
    };
    let damaged = found.paths[segment].clone();
    // A bad header, or a segment that does not follow its predecessor, goes whole; the first
    // segment instead gets a fresh header from its name, so the log still starts where it did.
    let whole = offset < SEGMENT_HEADER as u64 && segment > 0;
    let removed: Vec<PathBuf> = found.paths[if whole { segment } else { segment + 1 }..].to_vec();
    let mut bytes_dropped = 0;
    for path in &removed {
        bytes_dropped += written_len(path)?.saturating_sub(SEGMENT_HEADER as u64);
    }
    for path in removed.iter().rev() {
        remove_if_present(path)?;
    }
    if !whole {
        let keep_from = offset.max(SEGMENT_HEADER as u64);
        bytes_dropped += written_len(&damaged)?.saturating_sub(keep_from);
        if offset < SEGMENT_HEADER as u64 {
            rewrite_header(&damaged)?;
        }
        let len = std::fs::metadata(&damaged)?.len();
        zero_from(&damaged, keep_from, len, options.segment_size)?;
    }
    sync_dir(dir)?;
    let after = scan(dir, options.segment_size, u64::MAX, &mut unused)?;
    if let Stop::Corrupt { segment, offset, reason } = after.stop {
        return Err(WalError::Corrupt { segment: after.paths[segment].clone(), offset, reason });
    }
    report.last_index = after.next_index - 1;
    report.truncated = Some(Truncation { segment: damaged, offset, reason, bytes_dropped, segments_removed: removed });
    Ok(report)
}

/// Gives the first segment, whose header is damaged, a new one made from its file name (with a
/// zero `prevCrc`, which only seeds its own first record).
fn rewrite_header(path: &Path) -> Result<(), WalError> {
    let (seq, first_index) = parse_segment_name(path).expect("listed segments have parseable names");
    let header = SegmentHeader { seq, first_index, prev_crc: 0 };
    let f = OpenOptions::new().write(true).open(path)?;
    f.write_all_at(&header.encode(), 0)?;
    Ok(())
}
