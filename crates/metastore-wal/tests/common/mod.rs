//! Helpers shared by the integration tests: a fresh temporary directory, small segments, logs
//! filled with known entries (closed cleanly, or dropped as a crash leaves them), a walker over
//! the records on disk (by the layout of metastore_wal::layout, a COMMIT record after every
//! append), damage helpers and a tiny PRNG.
#![allow(dead_code)]

use metastore_wal::layout::{COMMIT_LAST_INDEX_AT, TYPE_COMMIT, TYPE_ENTRIES};
pub use metastore_wal::layout::{
    COMMIT_PAYLOAD_BYTES, ENTRIES_COUNT_AT, ENTRIES_FIRST_INDEX_AT, RECORD_ALIGNMENT, RECORD_HEADER, RECORD_LEN_AT, RECORD_TYPE_AT, SEGMENT_HEADER,
};
use metastore_wal::{Entry, Options, Wal, WalError};
use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

pub const SEGMENT_SIZE: u64 = 4096;
pub const ENTRIES: u8 = TYPE_ENTRIES;
pub const COMMIT: u8 = TYPE_COMMIT;
/// Bytes a COMMIT record takes (header and `u64 lastIndex`).
pub const COMMIT_LEN: usize = RECORD_HEADER + COMMIT_PAYLOAD_BYTES;

/// A fresh, empty directory name for one test (not created).
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metastore-wal-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub fn small() -> Options {
    Options { segment_size: SEGMENT_SIZE }
}

pub fn entry(i: u64) -> Vec<u8> {
    format!("entry-{i}-{}", "x".repeat((i % 50) as usize)).into_bytes()
}

/// Appends `groups` groups of 3 entries (`entry(n)`, `entry(n + 1)`, ...), one append each.
pub fn append_groups(wal: &mut Wal, groups: u64) {
    for _ in 0..groups {
        let first = wal.next_index();
        let data: Vec<Vec<u8>> = (0..3).map(|k| entry(first + k)).collect();
        let refs: Vec<&[u8]> = data.iter().map(|d| d.as_slice()).collect();
        assert_eq!(wal.append(1, &refs).unwrap(), first);
    }
}

/// Creates a log in `dir` holding `groups` groups of 3 entries and drops it without closing it
/// (what a crash leaves: every append acknowledged, no clean-close mark). Returns its segments.
pub fn fill(dir: &Path, groups: u64) -> Vec<PathBuf> {
    let (mut wal, entries, _) = Wal::open(dir, small()).unwrap();
    assert!(entries.is_empty());
    append_groups(&mut wal, groups);
    drop(wal);
    segments(dir)
}

/// `fill`, then `close()`: the MANIFEST says the log ends at `3 * groups`.
pub fn fill_closed(dir: &Path, groups: u64) -> Vec<PathBuf> {
    let (mut wal, entries, _) = Wal::open(dir, small()).unwrap();
    assert!(entries.is_empty());
    append_groups(&mut wal, groups);
    wal.close().unwrap();
    segments(dir)
}

/// Segment files of `dir`, in order.
pub fn segments(dir: &Path) -> Vec<PathBuf> {
    files_ending(dir, ".wal")
}

pub fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.file_name().unwrap().to_str().unwrap().ends_with(suffix)).collect();
    out.sort();
    out
}

/// `(seq, firstIndex)` of a segment, from its name `<seq>-<firstIndex>.wal`.
pub fn name_of(segment: &Path) -> (u64, u64) {
    let name = segment.file_name().unwrap().to_str().unwrap();
    (u64::from_str_radix(&name[..16], 16).unwrap(), u64::from_str_radix(&name[17..33], 16).unwrap())
}

/// First index of a segment, from its name.
pub fn first_index_of(segment: &Path) -> u64 {
    name_of(segment).1
}

pub fn segment_name(seq: u64, first_index: u64) -> String {
    format!("{seq:016x}-{first_index:016x}.wal")
}

/// Every file of `dir` with its bytes (the lock file left out: it is empty and held by others).
pub fn dir_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "LOCK")
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect()
}

/// Puts `dir` back to `files` (as `dir_bytes` took them): rewrites each, deletes any other.
pub fn restore(dir: &Path, files: &BTreeMap<String, Vec<u8>>) {
    for (name, _) in dir_bytes(dir) {
        if !files.contains_key(&name) {
            std::fs::remove_file(dir.join(name)).unwrap();
        }
    }
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// A fresh copy of `src` (files only) at `dst`.
pub fn copy_dir(src: &Path, dst: &Path) {
    let _ = std::fs::remove_dir_all(dst);
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dst.join(p.file_name().unwrap())).unwrap();
    }
}

/// One record on disk, as its length field says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rec {
    pub offset: usize,
    /// End of the payload (padding after it is not covered by the CRC).
    pub payload_end: usize,
    /// End of the record, padding included.
    pub end: usize,
    pub kind: u8,
    /// ENTRIES: the first and last index it holds. COMMIT: `lastIndex + 1` and `lastIndex`.
    pub first: u64,
    pub last: u64,
}

fn u64_at(d: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(d[at..at + 8].try_into().unwrap())
}

fn u32_at(d: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(d[at..at + 4].try_into().unwrap())
}

/// The records of a segment, walking their length fields from the segment header up to the
/// first all-zero record header.
pub fn records(path: &Path) -> Vec<Rec> {
    let data = std::fs::read(path).unwrap();
    let mut at = SEGMENT_HEADER;
    let mut out = Vec::new();
    while at + RECORD_HEADER <= data.len() && data[at..at + RECORD_HEADER].iter().any(|&b| b != 0) {
        let len = u32_at(&data, at + RECORD_LEN_AT) as usize;
        let kind = data[at + RECORD_TYPE_AT];
        let payload = at + RECORD_HEADER;
        let end = at + (RECORD_HEADER + len).next_multiple_of(RECORD_ALIGNMENT);
        assert!(end <= data.len(), "record at {at} of {} runs past the end", path.display());
        let (first, last) = match kind {
            ENTRIES => {
                let first = u64_at(&data, payload + ENTRIES_FIRST_INDEX_AT);
                (first, first + u32_at(&data, payload + ENTRIES_COUNT_AT) as u64 - 1)
            }
            COMMIT => {
                let k = u64_at(&data, payload + COMMIT_LAST_INDEX_AT);
                (k + 1, k)
            }
            t => panic!("unknown record type {t} at {at} of {}", path.display()),
        };
        out.push(Rec { offset: at, payload_end: payload + len, end, kind, first, last });
        at = end;
    }
    out
}

/// (start, end) of the last record of a segment (normally the final COMMIT).
pub fn last_record_span(path: &Path) -> (usize, usize) {
    let r = records(path).pop().expect("a record");
    (r.offset, r.end)
}

/// The last ENTRIES record of a segment.
pub fn last_entries(path: &Path) -> Rec {
    records(path).into_iter().rev().find(|r| r.kind == ENTRIES).expect("an ENTRIES record")
}

/// Offsets of the ENTRIES records of a segment.
pub fn entries_offsets(path: &Path) -> Vec<usize> {
    records(path).into_iter().filter(|r| r.kind == ENTRIES).map(|r| r.offset).collect()
}

/// Offsets of every record (ENTRIES and COMMIT) of a segment.
pub fn record_offsets(path: &Path) -> Vec<usize> {
    records(path).into_iter().map(|r| r.offset).collect()
}

/// First entry index of the ENTRIES record at `offset` (its payload starts with it).
pub fn record_first_index(path: &Path, offset: usize) -> u64 {
    let data = std::fs::read(path).unwrap();
    u64_at(&data, offset + RECORD_HEADER + ENTRIES_FIRST_INDEX_AT)
}

/// Offset after the last non-zero byte of a file.
pub fn written_len(path: &Path) -> usize {
    let data = std::fs::read(path).unwrap();
    data.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1)
}

pub fn flip_bit(path: &Path, at: usize) {
    flip_byte(path, at, 0x10);
}

pub fn flip_byte(path: &Path, at: usize, mask: u8) {
    use std::os::unix::fs::FileExt;
    let file = OpenOptions::new().read(true).write(true).open(path).unwrap();
    let mut byte = [0u8];
    file.read_exact_at(&mut byte, at as u64).unwrap();
    file.write_all_at(&[byte[0] ^ mask], at as u64).unwrap();
}

/// Zeroes `from..to` of a file (clamped to its length), keeping its length: what a torn write
/// into preallocated space leaves.
pub fn zero_range(path: &Path, from: usize, to: usize) {
    let mut data = std::fs::read(path).unwrap();
    let to = to.min(data.len());
    if from < to {
        data[from..to].fill(0);
    }
    std::fs::write(path, &data).unwrap();
}

pub fn truncate(path: &Path, len: u64) {
    OpenOptions::new().write(true).open(path).unwrap().set_len(len).unwrap();
}

/// The `(segment, offset, reason)` of a `WalError::Corrupt`; panics on anything else.
pub fn corrupt<T>(result: Result<T, WalError>, what: &str) -> (PathBuf, u64, String) {
    match result {
        Err(WalError::Corrupt { segment, offset, reason }) => (segment, offset, reason),
        Err(e) => panic!("{what}: expected Corrupt, got {e}"),
        Ok(_) => panic!("{what}: expected Corrupt, but the log opened"),
    }
}

pub fn indexes(entries: &[Entry]) -> Vec<u64> {
    entries.iter().map(|e| e.index).collect()
}

/// Asserts that `entries` are exactly `entry(i)` (term 1) for `i` in `first..=last`.
pub fn assert_entries(entries: &[Entry], first: u64, last: u64, what: &str) {
    assert_eq!(indexes(entries), (first..=last).collect::<Vec<_>>(), "{what}");
    for e in entries {
        assert!(e.term == 1 && e.data == entry(e.index), "{what}: entry {} differs", e.index);
    }
}

/// xorshift64*: a tiny, seedable PRNG for damage campaigns.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
