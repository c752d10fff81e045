//! Repair: the explicit, on-purpose answer to a log that refuses to open. Never run by `open`.
//! It changes only what stands between the log and opening, and keeps every record that the
//! snapshot plus the rest of the log still hold:
//! - damage the snapshot covers is left alone (opening reads past it; the purge after the next
//!   snapshot removes it);
//! - damage to records the state needs cuts the log there: the rest of that segment is zeroed
//!   (its preallocated size kept) and every later segment deleted, since without the damaged
//!   records nothing after them can be applied. The entries it drops that can still be read
//!   are returned, so the caller can say which requests (revisions, keys) were lost;
//! - a MANIFEST that is damaged or missing is rebuilt; one that names a missing newest segment
//!   or a clean close the log no longer reaches is brought down to what is there (the loss is
//!   reported: those records cannot be read);
//! - a log that ends before the snapshot starts again right after it.
//!
//! The MANIFEST is then marked closed at the new last index, so the next open accepts exactly
//! this log and refuses anything shorter.

use crate::lock::DirLock;
use crate::manifest::Manifest;
use crate::record::{decode_entries, find_next, TYPE_ENTRIES};
use crate::scan::{scan, Scan, Stop};
use crate::segment::{create_segment, list_segments, parse_segment_name, remove_if_present, written_len, zero_from, SegmentHeader, SEGMENT_HEADER};
use crate::{check, fsio::sync_dir, Entry, Options, WalError};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where and how much a repair cut.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// The segment the damage is in, and its offset there (0: the segment's header or its link
    /// to the previous segment).
    pub segment: PathBuf,
    pub offset: u64,
    pub reason: String,
    /// Segments deleted, oldest first.
    pub segments_removed: Vec<PathBuf>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepairReport {
    /// What was done, in order, one line each (empty: the log opens as it is).
    pub actions: Vec<String>,
    /// The cut, when damage to needed records forced one.
    pub truncated: Option<Truncation>,
    /// Entries dropped that could still be read (by index): what the caller can describe in
    /// requests, keys and revisions.
    pub dropped: Vec<Entry>,
    /// Whether records were lost that could not be read (damaged ones, or missing segments).
    pub unreadable_loss: bool,
    /// A torn tail found (and left alone: the next open cuts it, as always): (segment, offset).
    pub torn_tail: Option<(PathBuf, u64)>,
    /// Index of the last entry the log holds after the repair.
    pub last_index: u64,
}

impl fmt::Display for RepairReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.actions.is_empty() {
            write!(f, "nothing to repair; the log ends at index {}", self.last_index)?;
        } else {
            write!(f, "{}; the log now ends at index {}", self.actions.join("; "), self.last_index)?;
        }
        if let Some((segment, offset)) = &self.torn_tail {
            write!(f, "; a torn tail in {} at offset {offset} is cut on the next open", segment.display())?;
        }
        Ok(())
    }
}

/// Repairs the log in `dir` (which must exist) under its own lock, keeping everything above
/// `after_index` that can be kept (see the module). Fails with `WalError::Locked` while the log
/// is open.
pub fn repair(dir: &Path, after_index: u64) -> Result<RepairReport, WalError> {
    let _lock = DirLock::acquire(dir)?;
    repair_in(dir, after_index, segment_size_in(dir)?)
}

/// The size the log's segments were made with (the first readable header's), for a log that
/// has to start again; the default when none is readable.
pub(crate) fn segment_size_in(dir: &Path) -> Result<u64, WalError> {
    for path in list_segments(dir)? {
        let mut header = [0u8; SEGMENT_HEADER];
        if std::fs::File::open(&path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header)).is_ok() {
            if let Ok(h) = SegmentHeader::decode(&header) {
                return Ok(h.size);
            }
        }
    }
    Ok(Options::default().segment_size)
}

/// `repair` for a caller holding a lock around `dir`. `segment_size`: for a log that has to
/// start again.
pub(crate) fn repair_in(dir: &Path, after_index: u64, segment_size: u64) -> Result<RepairReport, WalError> {
    let mut report = RepairReport::default();
    let mut dropped = BTreeMap::new();
    // Each pass fixes the first problem `check` names; a log has few kinds of them.
    for _ in 0..16 {
        let manifest = Manifest::load(dir)?;
        let found = scan(dir, after_index, &mut Vec::new())?;
        report.last_index = found.next_index - 1;
        report.torn_tail = match found.stop {
            Stop::Torn { offset } => found.segments.last().map(|s| (s.path.clone(), offset)),
            _ => None,
        };
        let problem = match check(dir, &found, manifest.clone(), false) {
            Ok(Some(_)) | Ok(None) => break,
            Err(problem) => problem,
        };
        let newest_on_disk = found.paths.last().and_then(|p| parse_segment_name(p)).map_or(0, |n| n.0);
        match (&found.stop, manifest) {
            (_, Err(reason)) => {
                rewrite_manifest(dir, newest_on_disk, None)?;
                report.actions.push(format!("rebuilt the MANIFEST ({reason})"));
            }
            (_, Ok(None)) if !found.paths.is_empty() => {
                rewrite_manifest(dir, newest_on_disk, None)?;
                report.actions.push("rebuilt the missing MANIFEST".to_string());
            }
            (Stop::Corrupt { segment, offset, reason }, _) => {
                let cut = cut(dir, &found, *segment, *offset, &mut dropped)?;
                report.actions.push(format!(
                    "cut the log at {} offset {} ({reason}) and deleted {} later segment(s)",
                    cut.segment.display(),
                    cut.offset,
                    cut.segments_removed.len()
                ));
                report.unreadable_loss = true;
                report.truncated = Some(Truncation { reason: reason.to_string(), ..cut });
                let kept = list_segments(dir)?.last().and_then(|p| parse_segment_name(p)).map_or(0, |n| n.0);
                rewrite_manifest(dir, kept, None)?;
            }
            (_, Ok(None)) => break,
            (_, Ok(Some(m))) => {
                // A missing newest segment, a missing log, or a clean close the log no longer
                // reaches: what is gone cannot be read back; accept what is there.
                report.unreadable_loss = true;
                report.actions.push(format!("accepted the loss: {}", problem.2));
                if found.paths.is_empty() {
                    start_after(dir, after_index, m.newest_seq, segment_size)?;
                    report.actions.push(format!("started the log again at index {}", after_index + 1));
                } else {
                    rewrite_manifest(dir, newest_on_disk, None)?;
                }
            }
        }
    }
    let found = scan(dir, after_index, &mut Vec::new())?;
    report.last_index = found.next_index - 1;
    if !found.paths.is_empty() && report.last_index < after_index {
        // Everything left is in the snapshot: start again right after it.
        let newest = found.paths.last().and_then(|p| parse_segment_name(p)).map_or(0, |n| n.0);
        for path in found.paths.iter().rev() {
            remove_if_present(path)?;
        }
        start_after(dir, after_index, newest, segment_size)?;
        report.actions.push(format!(
            "the log ended at index {} before the snapshot at {after_index}: started it again at index {}",
            report.last_index,
            after_index + 1
        ));
        report.last_index = after_index;
    }
    if !report.actions.is_empty() {
        let newest = list_segments(dir)?.last().and_then(|p| parse_segment_name(p)).map_or(0, |n| n.0);
        rewrite_manifest(dir, newest, Some(report.last_index))?;
    }
    report.dropped = dropped.into_values().filter(|e: &Entry| e.index > report.last_index).collect();
    Ok(report)
}

/// Replaces the MANIFEST, keeping its epoch when it has one.
fn rewrite_manifest(dir: &Path, newest_seq: u64, closed_at: Option<u64>) -> Result<(), WalError> {
    let epoch = Manifest::load(dir)?.ok().flatten().map_or(0, |m| m.epoch);
    Manifest { newest_seq, epoch, closed_at }.store(dir)?;
    Ok(())
}

/// Starts an empty log in `dir` at `after_index + 1` with a segment numbered after `newest_seq`.
pub(crate) fn start_after(dir: &Path, after_index: u64, newest_seq: u64, segment_size: u64) -> Result<(), WalError> {
    let header = SegmentHeader { seq: newest_seq + 1, first_index: after_index + 1, size: segment_size, prev_crc: 0 };
    create_segment(dir, &header)?;
    let epoch = Manifest::load(dir)?.ok().flatten().map_or(0, |m| m.epoch);
    Manifest { newest_seq: header.seq, epoch, closed_at: Some(after_index) }.store(dir)?;
    Ok(())
}

/// Cuts the log at damage in `found.paths[segment]` at `offset`: keeps what is before it,
/// collects the readable entries after it into `dropped`, deletes later segments (newest first,
/// so a crash part way leaves a prefix and the repair can run again) and zeroes the rest of the
/// damaged segment. A segment damaged in its header or its link goes whole, unless it is the
/// first, which gets a fresh header from its name.
fn cut(dir: &Path, found: &Scan, segment: usize, offset: u64, dropped: &mut BTreeMap<u64, Entry>) -> Result<Truncation, WalError> {
    let damaged = found.paths[segment].clone();
    let whole = offset < SEGMENT_HEADER as u64 && segment > 0;
    let removed: Vec<PathBuf> = found.paths[if whole { segment } else { segment + 1 }..].to_vec();
    collect_entries(&damaged, offset.max(SEGMENT_HEADER as u64) as usize, dropped)?;
    for path in &removed {
        collect_entries(path, SEGMENT_HEADER, dropped)?;
    }
    for path in removed.iter().rev() {
        remove_if_present(path)?;
    }
    if !whole {
        let keep_from = offset.max(SEGMENT_HEADER as u64);
        let size = match SegmentHeader::decode(&std::fs::read(&damaged)?) {
            Ok(h) => h.size,
            Err(_) => {
                let (seq, first_index) = parse_segment_name(&damaged).expect("listed");
                let size = std::fs::metadata(&damaged)?.len().max(SEGMENT_HEADER as u64);
                let header = SegmentHeader { seq, first_index, size, prev_crc: 0 };
                crate::fsio::write_all_at(&std::fs::OpenOptions::new().write(true).open(&damaged)?, &header.encode(), 0)?;
                size
            }
        };
        let written = written_len(&damaged)?.max(keep_from);
        zero_from(&damaged, keep_from, written, size)?;
    }
    sync_dir(dir)?;
    Ok(Truncation { segment: damaged, offset, reason: String::new(), segments_removed: removed })
}

/// Every ENTRIES record of `path` that reads whole from `from` on (chain or no chain).
pub(crate) fn collect_entries(path: &Path, from: usize, out: &mut BTreeMap<u64, Entry>) -> Result<(), WalError> {
    let data = std::fs::read(path)?;
    let mut at = from;
    while let Some((p, r)) = find_next(&data, at) {
        if r.record_type == TYPE_ENTRIES {
            let mut entries = Vec::new();
            if decode_entries(r.payload, 0, &mut entries).is_some() {
                for e in entries {
                    out.entry(e.index).or_insert(e);
                }
            }
        }
        at = p + r.len;
    }
    Ok(())
}
