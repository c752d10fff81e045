//! MetaStore's write-ahead log (docs/wal.md): Raft-shaped entries (index, term, bytes) in
//! segments of CRC-32C-chained records; one record and one fdatasync per group commit; on open,
//! a torn tail is cut off and any other damage refuses to start with the segment and offset.
//! Around it: snapshot files, purging segments a snapshot covers, an explicit repair, a
//! directory lock, and a read-only inspection. The byte layouts are declared in formats/wal.mjs
//! and generated into `layout` (docs/formats.md).

mod fsio;
mod inspect;
pub mod layout;
mod lock;
mod manifest;
mod purge;
mod record;
mod repair;
mod scan;
mod segment;
mod snapshot;
mod store;

pub use inspect::{inspect, LogInfo, SegmentInfo};
pub use lock::DirLock;
pub use repair::{repair, RepairReport, Truncation};
pub use scan::CoveredDamage;
pub use snapshot::{list_snapshots, load_newest_snapshot, write_snapshot, write_snapshot_with, Snapshot, SnapshotFile, SnapshotLoad};
pub use store::{open_store, repair_store, verify_store, OpenedStore, StoreRecovery, StoreRepair, StoreVerify};

use fsio::write_all_at;
use manifest::{Manifest, MANIFEST_FILE};
use record::{encode_entries, frame, framed_len, COMMIT_LEN, TYPE_COMMIT, TYPE_ENTRIES};
use scan::{scan, Stop};
use segment::{create_segment, remove_temp_segments, write_zeros, zero_from, SegmentHeader, SEGMENT_HEADER};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// How far past each record the active segment is written with zeros ahead of use. A
/// preallocated block stays "unwritten" to ext4 and XFS until written once, and a data sync that
/// converts such blocks must also commit the file system's journal: here, fdatasync of a 19 KB
/// append took ~160 µs into preallocated space and ~95 µs into space written before. Zeroing
/// 1 MiB at a time, one group commit in ~50 pays the conversion (and the flush of the zeros).
const ZERO_AHEAD: u64 = 1 << 20;

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub index: u64,
    pub term: u64,
    pub data: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct Options {
    /// Size each segment is preallocated to; a segment is cut when the next record would not fit.
    pub segment_size: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { segment_size: 64 << 20 }
    }
}

#[derive(Debug)]
pub enum WalError {
    Io(io::Error),
    /// Damage that is not a torn tail: the log refuses to open. Repair by truncating the log at
    /// this point on purpose (losing what follows), never silently.
    Corrupt {
        segment: PathBuf,
        offset: u64,
        reason: String,
    },
    /// The directory's lock file is held: another process, or another `Wal` in this one, has
    /// the log open.
    Locked(PathBuf),
}

impl fmt::Display for WalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalError::Io(e) => write!(f, "WAL I/O error: {e}"),
            WalError::Corrupt { segment, offset, reason } => write!(f, "WAL corrupt in {} at offset {offset}: {reason}", segment.display()),
            WalError::Locked(path) => write!(f, "WAL is locked ({}): another process or instance has the log open", path.display()),
        }
    }
}

impl std::error::Error for WalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WalError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for WalError {
    fn from(e: io::Error) -> Self {
        WalError::Io(e)
    }
}

impl WalError {
    pub(crate) fn corrupt(segment: impl Into<PathBuf>, offset: u64, reason: impl Into<String>) -> WalError {
        WalError::Corrupt { segment: segment.into(), offset, reason: reason.into() }
    }
}

/// What opening found besides the entries.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// A torn last record that was cut off: (segment, offset).
    pub truncated: Option<(PathBuf, u64)>,
    /// Damage read past because everything it could have held is at or below the index the log
    /// was opened after (the caller's snapshot holds it). The purge after the next snapshot
    /// removes the segments it is in.
    pub covered_damage: Vec<CoveredDamage>,
}

/// A segment of the open log: its file and the index of its first entry.
struct Segment {
    path: PathBuf,
    first_index: u64,
}

pub struct Wal {
    dir: PathBuf,
    options: Options,
    file: File,
    seq: u64,
    /// Write offset in the active segment.
    offset: u64,
    /// The size the active segment was made with (the options' size may have changed since).
    size: u64,
    /// End of the part of the active segment this `Wal` has written (records or zeros).
    zeroed_to: u64,
    last_crc: u32,
    next_index: u64,
    /// Every segment, oldest first; the last one is the active one.
    segments: Vec<Segment>,
    /// Set after a failed write or sync: the state on disk is unknown, so every later call fails.
    failed: bool,
    manifest: Manifest,
    payload: Vec<u8>,
    scratch: Vec<u8>,
    /// Declared last so it is released after everything else is closed (`None` when the
    /// caller holds the lock of a directory around the log).
    _lock: Option<DirLock>,
}

/// Checks what a scan found against the log's MANIFEST (`Manifest::load`'s result): the MANIFEST
/// is sound, the newest segment it names is there, a log closed cleanly ends where it was
/// closed, and the scan's own verdict. `Ok(None)`: there is no log yet (it may be created);
/// `Ok(Some(m))`: the log opens (a torn tail is in `scan.stop`); `Err`: where and why it is
/// damaged. Shared by open, inspect and repair, so they never disagree.
pub(crate) fn check(
    dir: &Path,
    scan: &scan::Scan,
    manifest: Result<Option<Manifest>, &'static str>,
    must_exist: bool,
) -> Result<Option<Manifest>, (PathBuf, u64, String)> {
    let manifest = manifest.map_err(|reason| (dir.join(MANIFEST_FILE), 0, reason.to_string()))?;
    let Some(last_path) = scan.paths.last() else {
        return match manifest {
            Some(m) => Err((dir.to_path_buf(), 0, format!("every segment of the log is missing (its MANIFEST names segment {})", m.newest_seq))),
            None if must_exist => Err((dir.to_path_buf(), 0, "the log is missing (no segments and no MANIFEST)".to_string())),
            None => Ok(None),
        };
    };
    let newest_on_disk = segment::parse_segment_name(last_path).expect("listed").0;
    let manifest = match manifest {
        Some(m) => m,
        // A log's first segment is durable before its MANIFEST: one empty first segment and no
        // MANIFEST is a creation that was interrupted.
        None if scan.paths.len() == 1 && newest_on_disk == 1 && scan.segments.first().is_some_and(|s| s.records == 0) && !must_exist => {
            Manifest { newest_seq: 1, epoch: 0, closed_at: None }
        }
        None => return Err((dir.join(MANIFEST_FILE), 0, "the log's MANIFEST is missing".to_string())),
    };
    if newest_on_disk < manifest.newest_seq {
        return Err((last_path.clone(), 0, format!("the newest segment (seq {}, named in the MANIFEST) is missing", manifest.newest_seq)));
    }
    let torn = match &scan.stop {
        Stop::Clean => None,
        Stop::Torn { offset } => Some(*offset),
        Stop::Corrupt { segment, offset, reason } => return Err((scan.paths[*segment].clone(), *offset, reason.to_string())),
    };
    if let (Some(closed_at), Some(last)) = (manifest.closed_at, scan.segments.last()) {
        if scan.next_index - 1 != closed_at {
            let reason =
                format!("the log ends at index {} but was closed at index {closed_at}: records acknowledged before the close are missing", scan.next_index - 1);
            return Err((last.path.clone(), torn.unwrap_or(last.end), reason));
        }
    }
    Ok(Some(manifest))
}

impl Wal {
    /// Opens (or creates) the log in `dir` and returns it with every entry it holds.
    pub fn open(dir: &Path, options: Options) -> Result<(Wal, Vec<Entry>, Recovery), WalError> {
        Wal::open_after(dir, options, 0)
    }

    /// Opens (or creates) the log in `dir`, checking every record as `open` does, but returns
    /// only the entries with an index above `after_index` (the index of the snapshot the caller
    /// restored); the others are checked and dropped, and damage among them does not stop the
    /// opening (see `Recovery::covered_damage`). A log created here starts at
    /// `after_index + 1`. Takes the directory lock (`dir/LOCK`) for the life of the `Wal`.
    /// Whether the log reaches back to the snapshot (`first_index() <= after_index + 1`) is the
    /// caller's check.
    pub fn open_after(dir: &Path, options: Options, after_index: u64) -> Result<(Wal, Vec<Entry>, Recovery), WalError> {
        std::fs::create_dir_all(dir)?;
        let lock = DirLock::acquire(dir)?;
        Wal::open_in(dir, options, after_index, false, Some(lock))
    }

    /// `open_after` for a store, which holds a lock around `dir` already: the log must reach
    /// back to just after `after_index` (the snapshot restored, 0: none), and when there is a
    /// snapshot (`snapshot`) it must exist and reach at least up to it; otherwise it is refused
    /// before anything is written.
    pub(crate) fn open_in(
        dir: &Path,
        options: Options,
        after_index: u64,
        snapshot: bool,
        lock: Option<DirLock>,
    ) -> Result<(Wal, Vec<Entry>, Recovery), WalError> {
        let must_exist = snapshot;
        std::fs::create_dir_all(dir)?;
        remove_temp_segments(dir)?;
        segment::remove_if_present(&dir.join(format!("{MANIFEST_FILE}.tmp")))?;
        let manifest = Manifest::load(dir)?;
        let mut entries = Vec::new();
        let scan = scan(dir, after_index, &mut entries)?;
        let mut manifest = match check(dir, &scan, manifest, must_exist) {
            Err((segment, offset, reason)) => return Err(WalError::Corrupt { segment, offset, reason }),
            Ok(None) => return Wal::create(dir, options, after_index, Manifest { newest_seq: 0, epoch: 0, closed_at: None }, lock),
            Ok(Some(m)) => m,
        };
        // A store (which holds the lock around the log itself) needs the log to reach back to its
        // snapshot; a bare log (`open_after`) leaves that check to its caller.
        let for_store = lock.is_none();
        if for_store {
            let first = scan.paths.first().and_then(|p| segment::parse_segment_name(p)).map_or(1, |n| n.1);
            if first > after_index.saturating_add(1) {
                return Err(WalError::corrupt(
                    dir,
                    0,
                    format!("the log starts at index {first} but the newest usable snapshot is at {after_index}: entries in between are missing"),
                ));
            }
        }
        if snapshot && scan.next_index - 1 < after_index {
            let reason = format!("the log ends at index {}, before the snapshot at {after_index}: the newest records are missing", scan.next_index - 1);
            return Err(WalError::corrupt(dir, 0, reason));
        }
        let mut recovery = Recovery { truncated: None, covered_damage: scan.covered.clone() };
        let torn = match scan.stop {
            Stop::Torn { offset } => Some(offset),
            _ => None,
        };
        let last = scan.segments.last().expect("a log that checks out has its last segment read");
        if let Some(offset) = torn {
            let written = segment::written_len(&last.path)?.max(offset);
            zero_from(&last.path, offset, written, last.header.size)?;
            recovery.truncated = Some((last.path.clone(), offset));
        }
        let file = OpenOptions::new().read(true).write(true).open(&last.path)?;
        let (seq, offset) = (last.header.seq, last.end);
        let segments = scan.paths.iter().map(|p| Segment { path: p.clone(), first_index: segment::parse_segment_name(p).expect("listed").1 }).collect();
        manifest.newest_seq = seq;
        manifest.epoch = manifest.epoch.wrapping_add(1).max(1);
        manifest.closed_at = None;
        manifest.store(dir)?;
        let mut wal = Wal::at(dir, options, file, seq, offset, scan.last_crc, scan.next_index, segments, manifest, lock);
        wal.size = last.header.size;
        if !scan.ends_with_commit {
            // Whole records a process synced but died before vouching for: the caller applies
            // them now, so they are vouched for now, before anything else can damage them.
            wal.commit_synced()?;
        }
        Ok((wal, entries, recovery))
    }

    /// Starts a log in `dir` (no segments) at `after_index + 1`, with a segment numbered after
    /// `manifest.newest_seq`; the segment is durable before the MANIFEST that names it.
    fn create(dir: &Path, options: Options, after_index: u64, mut manifest: Manifest, lock: Option<DirLock>) -> Result<(Wal, Vec<Entry>, Recovery), WalError> {
        let first = after_index.saturating_add(1);
        let seq = manifest.newest_seq + 1;
        let header = SegmentHeader { seq, first_index: first, size: options.segment_size, prev_crc: 0 };
        let (path, file) = create_segment(dir, &header)?;
        manifest.newest_seq = seq;
        manifest.epoch = manifest.epoch.wrapping_add(1).max(1);
        manifest.closed_at = None;
        manifest.store(dir)?;
        let segments = vec![Segment { path, first_index: first }];
        let wal = Wal::at(dir, options, file, seq, SEGMENT_HEADER as u64, 0, first, segments, manifest, lock);
        Ok((wal, Vec::new(), Recovery::default()))
    }

    /// This open's boot counter: one more than the previous open's (1 for a new log).
    pub fn epoch(&self) -> u32 {
        self.manifest.epoch
    }

    /// Makes everything written durable and records in the MANIFEST that the log was closed
    /// cleanly at `last_index()`: the next open refuses a log that ends anywhere else. Dropping
    /// a `Wal` without closing it is what a crash looks like to the next open.
    /// A log whose write or sync failed is not marked clean: the next open reads it as after a
    /// crash (its failure was reported to the appends already).
    pub fn close(mut self) -> Result<(), WalError> {
        if self.failed {
            return Ok(());
        }
        self.file.sync_data()?;
        self.manifest.closed_at = Some(self.last_index());
        self.manifest.store(&self.dir)?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn at(
        dir: &Path,
        options: Options,
        file: File,
        seq: u64,
        offset: u64,
        last_crc: u32,
        next_index: u64,
        segments: Vec<Segment>,
        manifest: Manifest,
        lock: Option<DirLock>,
    ) -> Wal {
        Wal {
            dir: dir.to_path_buf(),
            size: options.segment_size,
            options,
            file,
            seq,
            offset,
            zeroed_to: offset,
            last_crc,
            next_index,
            segments,
            failed: false,
            manifest,
            payload: Vec::new(),
            scratch: Vec::new(),
            _lock: lock,
        }
    }

    /// Index the next appended entry gets.
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// Index of the first entry still in the log (segments before it were purged). When the log
    /// holds no entries it is `last_index() + 1`.
    pub fn first_index(&self) -> u64 {
        self.segments[0].first_index
    }

    /// Index of the last entry in the log (`first_index() - 1` when it holds none).
    pub fn last_index(&self) -> u64 {
        self.next_index - 1
    }

    /// Number of segment files, the active one included.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Appends a group of entries as one record and makes it durable (one fdatasync). Returns
    /// the index of the first entry. After an error the log refuses everything: reopen it.
    pub fn append(&mut self, term: u64, group: &[&[u8]]) -> Result<u64, WalError> {
        self.append_groups(term, &[group])
    }

    /// Appends several groups, each as one record, and makes them durable together (one
    /// fdatasync, one more per segment cut). Returns the index of the first entry of the first
    /// group. After an error the log refuses everything: reopen it.
    pub fn append_groups(&mut self, term: u64, groups: &[&[&[u8]]]) -> Result<u64, WalError> {
        if self.failed {
            return Err(WalError::Io(io::Error::other("an earlier write or sync failed; reopen the log")));
        }
        let first = self.next_index;
        let result = self.write_and_sync(term, groups);
        if result.is_err() {
            self.failed = true;
        }
        result.map(|()| first)
    }

    /// Writes the groups, syncs, then writes (not syncs) a COMMIT record: it vouches that
    /// everything before it was synced, and reaches the disk with the next sync, or with the
    /// page cache when the process dies. Appends are acknowledged only after it is written, so
    /// a record with no COMMIT after it was never acknowledged: that is what lets the next open
    /// tell a torn write (cut off) from damage to acknowledged records (refused).
    fn write_and_sync(&mut self, term: u64, groups: &[&[&[u8]]]) -> Result<(), WalError> {
        for group in groups {
            encode_entries(&mut self.payload, self.next_index, term, group);
            self.write_record(TYPE_ENTRIES)?;
            self.next_index += group.len() as u64;
        }
        self.file.sync_data()?;
        self.payload.clear();
        self.payload.extend_from_slice(&(self.next_index - 1).to_le_bytes());
        self.write_record(TYPE_COMMIT)
    }

    /// Writes a COMMIT for everything already in the log, and syncs it.
    fn commit_synced(&mut self) -> Result<(), WalError> {
        self.payload.clear();
        self.payload.extend_from_slice(&(self.next_index - 1).to_le_bytes());
        self.write_record(TYPE_COMMIT)?;
        Ok(self.file.sync_data()?)
    }

    /// Writes `self.payload` as one record, not synced. An ENTRIES record goes to a new segment
    /// when it and a COMMIT after it would not fit, so a COMMIT always fits after it.
    fn write_record(&mut self, record_type: u8) -> Result<(), WalError> {
        let need = framed_len(self.payload.len()) as u64 + if record_type == TYPE_ENTRIES { COMMIT_LEN as u64 } else { 0 };
        if record_type == TYPE_ENTRIES && self.offset + need > self.size && self.offset > SEGMENT_HEADER as u64 {
            self.cut()?;
        }
        self.scratch.clear();
        let crc = frame(&mut self.scratch, record_type, &self.payload, self.last_crc);
        let end = self.offset + self.scratch.len() as u64;
        if end > self.zeroed_to {
            self.zero_ahead(end)?;
        }
        write_all_at(&self.file, &self.scratch, self.offset)?;
        self.offset += self.scratch.len() as u64;
        self.last_crc = crc;
        Ok(())
    }

    /// Overwrites the segment with zeros from `end` (where the record about to be written ends)
    /// to `ZERO_AHEAD` past it, within the segment's size. The sync that follows makes these
    /// blocks written for good, so the next ~50 group commits sync data only.
    fn zero_ahead(&mut self, end: u64) -> io::Result<()> {
        let to = (end + ZERO_AHEAD).min(self.size);
        write_zeros(&self.file, self.zeroed_to.max(end), to)?;
        self.zeroed_to = end.max(to);
        Ok(())
    }

    /// Starts a new segment chained from the current one. Records written to the current one
    /// and not yet synced are synced first: the caller's sync only reaches the new file.
    /// The new segment is durable before the MANIFEST names it.
    fn cut(&mut self) -> Result<(), WalError> {
        self.file.sync_data()?;
        let header = SegmentHeader { seq: self.seq + 1, first_index: self.next_index, size: self.options.segment_size, prev_crc: self.last_crc };
        let (path, file) = create_segment(&self.dir, &header)?;
        self.manifest.newest_seq = header.seq;
        self.manifest.store(&self.dir)?;
        self.file = file;
        self.size = header.size;
        self.seq += 1;
        self.offset = SEGMENT_HEADER as u64;
        self.zeroed_to = self.offset;
        self.segments.push(Segment { path, first_index: header.first_index });
        Ok(())
    }
}
