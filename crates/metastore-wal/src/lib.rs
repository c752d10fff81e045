//! MetaStore's write-ahead log (docs/wal.md): Raft-shaped entries (index, term, bytes) in
//! segments of CRC-32C-chained records; one record and one fdatasync per group commit; on open,
//! a torn tail is cut off and any other damage refuses to start with the segment and offset.

mod record;
mod segment;

use record::{frame, framed_len, read, Read, TYPE_ENTRIES};
use segment::{create_segment, list_segments, SegmentHeader, SEGMENT_HEADER};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

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
}

impl fmt::Display for WalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalError::Io(e) => write!(f, "WAL I/O error: {e}"),
            WalError::Corrupt { segment, offset, reason } => write!(f, "WAL corrupt in {} at offset {offset}: {reason}", segment.display()),
        }
    }
}

impl std::error::Error for WalError {}

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

pub struct Wal {
    dir: PathBuf,
    options: Options,
    file: File,
    seq: u64,
    /// Write offset in the active segment.
    offset: u64,
    last_crc: u32,
    next_index: u64,
    /// Set after a failed write or sync: the state on disk is unknown, so every later call fails.
    failed: bool,
    scratch: Vec<u8>,
}

impl Wal {
    /// Opens (or creates) the log in `dir` and returns it with every entry it holds.
    pub fn open(dir: &Path, options: Options) -> Result<(Wal, Vec<Entry>, Recovery), WalError> {
        std::fs::create_dir_all(dir)?;
        let segments = list_segments(dir)?;
        if segments.is_empty() {
            let header = SegmentHeader { seq: 1, first_index: 1, prev_crc: 0 };
            let (_, file) = create_segment(dir, &header, options.segment_size)?;
            let wal = Wal::at(dir, options, file, 1, SEGMENT_HEADER as u64, 0, 1);
            return Ok((wal, Vec::new(), Recovery::default()));
        }
        let mut entries = Vec::new();
        let mut recovery = Recovery::default();
        let mut crc = 0u32;
        let mut next_index = None;
        let mut end = (0u64, 0u64);
        for (i, path) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            let mut data = Vec::new();
            File::open(path)?.read_to_end(&mut data)?;
            let corrupt = |offset: usize, reason| WalError::Corrupt { segment: path.clone(), offset: offset as u64, reason };
            let header = SegmentHeader::decode(&data).ok_or_else(|| corrupt(0, "bad segment header"))?;
            if i > 0 && header.prev_crc != crc {
                return Err(corrupt(0, "segment does not chain from the previous one"));
            }
            crc = header.prev_crc;
            if let Some(expected) = next_index {
                if header.first_index != expected {
                    return Err(corrupt(0, "segment's first index does not follow the previous segment"));
                }
            }
            let mut at = SEGMENT_HEADER;
            loop {
                match read(&data[at..], crc) {
                    Read::End => break,
                    Read::Record { payload, crc: c, len, .. } => {
                        let first = decode_entries(payload, &mut entries).ok_or_else(|| corrupt(at, "malformed entries record"))?;
                        if let Some(expected) = next_index {
                            if first != expected {
                                return Err(corrupt(at, "entry index out of sequence"));
                            }
                        }
                        next_index = Some(entries.last().map_or(first, |e: &Entry| e.index + 1));
                        crc = c;
                        at += len;
                    }
                    Read::Bad { reason, claimed_end } => {
                        if last && is_torn(&data[at..], claimed_end, at, (data.len() as u64) < options.segment_size) {
                            zero_from(path, at as u64, data.len() as u64, options.segment_size)?;
                            recovery.truncated = Some((path.clone(), at as u64));
                            break;
                        }
                        return Err(corrupt(at, reason));
                    }
                }
            }
            end = (header.seq, at as u64);
            next_index.get_or_insert(header.first_index);
        }
        let path = segments.last().expect("non-empty");
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let wal = Wal::at(dir, options, file, end.0, end.1, crc, next_index.unwrap_or(1));
        Ok((wal, entries, recovery))
    }

    fn at(dir: &Path, options: Options, file: File, seq: u64, offset: u64, last_crc: u32, next_index: u64) -> Wal {
        Wal { dir: dir.to_path_buf(), options, file, seq, offset, last_crc, next_index, failed: false, scratch: Vec::new() }
    }

    /// Index the next appended entry gets.
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// Appends a group of entries as one record and makes it durable (one fdatasync). Returns
    /// the index of the first entry. After an error the log refuses everything: reopen it.
    pub fn append(&mut self, term: u64, group: &[&[u8]]) -> Result<u64, WalError> {
        if self.failed {
            return Err(WalError::Io(io::Error::other("an earlier write or sync failed; reopen the log")));
        }
        let first = self.next_index;
        let result = self.write_group(term, group);
        if result.is_err() {
            self.failed = true;
        }
        result.map(|()| first)
    }

    fn write_group(&mut self, term: u64, group: &[&[u8]]) -> Result<(), WalError> {
        let mut payload = Vec::with_capacity(20 + group.iter().map(|d| 4 + d.len()).sum::<usize>());
        payload.extend_from_slice(&self.next_index.to_le_bytes());
        payload.extend_from_slice(&term.to_le_bytes());
        payload.extend_from_slice(&(group.len() as u32).to_le_bytes());
        for data in group {
            payload.extend_from_slice(&(data.len() as u32).to_le_bytes());
            payload.extend_from_slice(data);
        }
        if self.offset + framed_len(payload.len()) as u64 > self.options.segment_size && self.offset > SEGMENT_HEADER as u64 {
            self.cut()?;
        }
        self.scratch.clear();
        let crc = frame(&mut self.scratch, TYPE_ENTRIES, &payload, self.last_crc);
        self.file.write_all_at(&self.scratch, self.offset)?;
        self.file.sync_data()?;
        self.offset += self.scratch.len() as u64;
        self.last_crc = crc;
        self.next_index += group.len() as u64;
        Ok(())
    }

    /// Starts a new segment chained from the current one.
    fn cut(&mut self) -> Result<(), WalError> {
        let header = SegmentHeader { seq: self.seq + 1, first_index: self.next_index, prev_crc: self.last_crc };
        let (_, file) = create_segment(&self.dir, &header, self.options.segment_size)?;
        self.file = file;
        self.seq += 1;
        self.offset = SEGMENT_HEADER as u64;
        Ok(())
    }
}

/// Decodes an entries record into `out`; returns its first index.
fn decode_entries(p: &[u8], out: &mut Vec<Entry>) -> Option<u64> {
    let first = u64::from_le_bytes(p.get(0..8)?.try_into().ok()?);
    let term = u64::from_le_bytes(p.get(8..16)?.try_into().ok()?);
    let count = u32::from_le_bytes(p.get(16..20)?.try_into().ok()?) as u64;
    let mut at = 20;
    for i in 0..count {
        let len = u32::from_le_bytes(p.get(at..at + 4)?.try_into().ok()?) as usize;
        let data = p.get(at + 4..at + 4 + len)?.to_vec();
        out.push(Entry { index: first + i, term, data });
        at += 4 + len;
    }
    (at == p.len()).then_some(first)
}

const SECTOR: usize = 512;

/// A bad last record is a torn write when nothing was written after it and either it runs past
/// the end of the file, or its part in some disk sector is all zeros: writes reach the disk a
/// whole sector at a time, so a record can be torn only at a sector boundary. Anything else — a
/// flipped bit in a complete record, or bytes after it — is corruption. `at`: the record's
/// offset in its file; `cut_short`: the file is shorter than its preallocated size, so it was
/// truncated and a record running past its end is believable.
fn is_torn(rest: &[u8], claimed_end: usize, at: usize, cut_short: bool) -> bool {
    let end = claimed_end.min(rest.len());
    if rest[end..].iter().any(|&b| b != 0) {
        return false;
    }
    if claimed_end >= rest.len() {
        return cut_short;
    }
    let mut from = 0;
    while from < end {
        let to = ((at + from) / SECTOR + 1) * SECTOR - at;
        let to = to.min(end);
        if from > 0 && rest[from..to].iter().all(|&b| b == 0) {
            return true;
        }
        from = to;
    }
    false
}

/// Zeroes a segment from `from` to `len`, restores its preallocated size if it was cut short,
/// and syncs it.
fn zero_from(path: &Path, from: u64, len: u64, size: u64) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).open(path)?;
    if len < size {
        f.set_len(size)?;
    }
    f.seek(SeekFrom::Start(from))?;
    let zeros = vec![0u8; 64 * 1024];
    let mut left = len.saturating_sub(from);
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        f.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    f.sync_all()
}
