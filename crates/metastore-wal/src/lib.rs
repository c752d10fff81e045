//! MetaStore's write-ahead log (docs/wal.md): Raft-shaped entries (index, term, bytes) in
//! segments of CRC-32C-chained records; one record and one fdatasync per group commit; on open,
//! a torn tail is cut off and any other damage refuses to start with the segment and offset.
//! Around it: snapshot files, purging segments a snapshot covers, an explicit repair, a
//! directory lock, and a read-only inspection.

mod inspect;
mod lock;
mod purge;
mod record;
mod repair;
mod scan;
mod segment;
mod snapshot;

pub use inspect::{inspect, LogInfo, SegmentInfo};
pub use repair::{repair, RepairReport, Truncation};
pub use snapshot::{list_snapshots, load_newest_snapshot, write_snapshot, write_snapshot_with, Snapshot, SnapshotFile, SnapshotLoad};

use lock::DirLock;
use record::{encode_entries, frame, framed_len, TYPE_ENTRIES};
use scan::{scan, Stop};
use segment::{create_segment, remove_temp_segments, write_zeros, zero_from, SegmentHeader, SEGMENT_HEADER};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
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
    Corrupt { segment: PathBuf, offset: u64, reason: &'static str },
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

/// What opening found besides the entries.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// A torn last record that was cut off: (segment, offset).
    pub truncated: Option<(PathBuf, u64)>,
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
    /// End of the part of the active segment this `Wal` has written (records or zeros).
    zeroed_to: u64,
    last_crc: u32,
    next_index: u64,
    /// Every segment, oldest first; the last one is the active one.
    segments: Vec<Segment>,
    /// Set after a failed write or sync: the state on disk is unknown, so every later call fails.
    failed: bool,
    payload: Vec<u8>,
    scratch: Vec<u8>,
    /// Declared last so it is released after everything else is closed.
    _lock: DirLock,
}

impl Wal {
    /// Opens (or creates) the log in `dir` and returns it with every entry it holds.
    pub fn open(dir: &Path, options: Options) -> Result<(Wal, Vec<Entry>, Recovery), WalError> {
        Wal::open_after(dir, options, 0)
    }

    /// Opens (or creates) the log in `dir`, checking every record as `open` does, but returns
    /// only the entries with an index above `after_index` (the index of the snapshot the caller
    /// restored); the others are checked and dropped. A log created here starts at
    /// `after_index + 1`. Takes the directory lock for the life of the `Wal`. Whether the log
    /// reaches back to the snapshot (`first_index() <= after_index + 1`) is the caller's check.
    pub fn open_after(dir: &Path, options: Options, after_index: u64) -> Result<(Wal, Vec<Entry>, Recovery), WalError> {
        std::fs::create_dir_all(dir)?;
        let lock = DirLock::acquire(dir)?;
        remove_temp_segments(dir)?;
        let mut entries = Vec::new();
        let scan = scan(dir, options.segment_size, after_index, &mut entries)?;
        if scan.paths.is_empty() {
            let first = after_index.saturating_add(1);
            let header = SegmentHeader { seq: 1, first_index: first, prev_crc: 0 };
            let (path, file) = create_segment(dir, &header, options.segment_size)?;
            let segments = vec![Segment { path, first_index: first }];
            let wal = Wal::at(dir, options, file, 1, SEGMENT_HEADER as u64, 0, first, segments, lock);
            return Ok((wal, Vec::new(), Recovery::default()));
        }
        let mut recovery = Recovery::default();
        match scan.stop {
            Stop::Clean => {}
            Stop::Torn { offset } => {
                let last = scan.segments.last().expect("a torn tail is in a segment that was read");
                zero_from(&last.path, offset, last.file_len, options.segment_size)?;
                recovery.truncated = Some((last.path.clone(), offset));
            }
            Stop::Corrupt { segment, offset, reason } => {
                return Err(WalError::Corrupt { segment: scan.paths[segment].clone(), offset, reason });
            }
        }
        let last = scan.segments.last().expect("a log that checks out had its segments read");
        let file = OpenOptions::new().read(true).write(true).open(&last.path)?;
        let (seq, offset) = (last.header.seq, last.end);
        let segments = scan.segments.iter().map(|s| Segment { path: s.path.clone(), first_index: s.header.first_index }).collect();
        let wal = Wal::at(dir, options, file, seq, offset, scan.last_crc, scan.next_index, segments, lock);
        Ok((wal, entries, recovery))
    }

    #[allow(clippy::too_many_arguments)]
    fn at(dir: &Path, options: Options, file: File, seq: u64, offset: u64, last_crc: u32, next_index: u64, segments: Vec<Segment>, lock: DirLock) -> Wal {
        Wal { dir: dir.to_path_buf(), options, file, seq, offset, zeroed_to: offset, last_crc, next_index, segments, failed: false, payload: Vec::new(), scratch: Vec::new(), _lock: lock }
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

    fn write_and_sync(&mut self, term: u64, groups: &[&[&[u8]]]) -> Result<(), WalError> {
        for group in groups {
            self.write_record(term, group)?;
        }
        Ok(self.file.sync_data()?)
    }

    /// Writes one group as a record, not synced.
    fn write_record(&mut self, term: u64, group: &[&[u8]]) -> Result<(), WalError> {
        encode_entries(&mut self.payload, self.next_index, term, group);
        if self.offset + framed_len(self.payload.len()) as u64 > self.options.segment_size && self.offset > SEGMENT_HEADER as u64 {
            self.cut()?;
        }
        self.scratch.clear();
        let crc = frame(&mut self.scratch, TYPE_ENTRIES, &self.payload, self.last_crc);
        let end = self.offset + self.scratch.len() as u64;
        if end > self.zeroed_to {
            self.zero_ahead(end)?;
        }
        self.file.write_all_at(&self.scratch, self.offset)?;
        self.offset += self.scratch.len() as u64;
        self.last_crc = crc;
        self.next_index += group.len() as u64;
        Ok(())
    }

    /// Overwrites the segment with zeros from `end` (where the record about to be written ends)
    /// to `ZERO_AHEAD` past it, within the segment's size. The sync that follows makes these
    /// blocks written for good, so the next ~50 group commits sync data only.
    fn zero_ahead(&mut self, end: u64) -> io::Result<()> {
        let to = (end + ZERO_AHEAD).min(self.options.segment_size);
        write_zeros(&self.file, self.zeroed_to.max(end), to)?;
        self.zeroed_to = end.max(to);
        Ok(())
    }

    /// Starts a new segment chained from the current one. Records written to the current one
    /// and not yet synced are synced first: the caller's sync only reaches the new file.
    fn cut(&mut self) -> Result<(), WalError> {
        self.file.sync_data()?;
        let header = SegmentHeader { seq: self.seq + 1, first_index: self.next_index, prev_crc: self.last_crc };
        let (path, file) = create_segment(&self.dir, &header, self.options.segment_size)?;
        self.file = file;
        self.seq += 1;
        self.offset = SEGMENT_HEADER as u64;
        self.zeroed_to = self.offset;
        self.segments.push(Segment { path, first_index: header.first_index });
        Ok(())
    }
}
