//! Helpers shared by the integration tests: a fresh temporary directory, small segments, and a
//! log filled with known entries.
#![allow(dead_code)]

use metastore_wal::{Options, Wal};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const SEGMENT_SIZE: u64 = 4096;

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

/// Appends `groups` groups of 3 entries (`entry(1)`, `entry(2)`, ...) to `wal`.
pub fn append_groups(wal: &mut Wal, groups: u64) {
    for _ in 0..groups {
        let first = wal.next_index();
        let data: Vec<Vec<u8>> = (0..3).map(|k| entry(first + k)).collect();
        let refs: Vec<&[u8]> = data.iter().map(|d| d.as_slice()).collect();
        assert_eq!(wal.append(1, &refs).unwrap(), first);
    }
}

/// Creates a log in `dir` holding `groups` groups of 3 entries, closes it, and returns its
/// segment paths.
pub fn fill(dir: &Path, groups: u64) -> Vec<PathBuf> {
    let (mut wal, entries, _) = Wal::open(dir, small()).unwrap();
    assert!(entries.is_empty());
    append_groups(&mut wal, groups);
    drop(wal);
    segments(dir)
}

/// Segment files of `dir`, in order.
pub fn segments(dir: &Path) -> Vec<PathBuf> {
    files_ending(dir, ".wal")
}

pub fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().ends_with(suffix))
        .collect();
    out.sort();
    out
}

/// First index of a segment, from its name `<seq>-<firstIndex>.wal`.
pub fn first_index_of(segment: &Path) -> u64 {
    let name = segment.file_name().unwrap().to_str().unwrap();
    u64::from_str_radix(&name[17..33], 16).unwrap()
}

/// Every file of `dir` with its bytes.
pub fn dir_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect()
}

/// (start, end) of the last record of a segment, walking records by their length fields.
pub fn last_record_span(path: &Path) -> (usize, usize) {
    let data = std::fs::read(path).unwrap();
    let end = (data.iter().rposition(|&b| b != 0).unwrap() + 1).next_multiple_of(8);
    let mut at = 32;
    let mut last = at;
    while at < end {
        let len = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        last = at;
        at += (12 + len).next_multiple_of(8);
    }
    (last, at)
}

/// Offsets of every record in a segment.
pub fn record_offsets(path: &Path) -> Vec<usize> {
    let data = std::fs::read(path).unwrap();
    let mut at = 32;
    let mut out = Vec::new();
    while at + 12 <= data.len() && data[at..at + 12].iter().any(|&b| b != 0) {
        out.push(at);
        let len = u32::from_le_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        at += (12 + len).next_multiple_of(8);
    }
    out
}

/// First entry index of the record at `offset` (its payload starts with it).
pub fn record_first_index(path: &Path, offset: usize) -> u64 {
    let data = std::fs::read(path).unwrap();
    u64::from_le_bytes(data[offset + 12..offset + 20].try_into().unwrap())
}

pub fn flip_bit(path: &Path, at: usize) {
    let mut data = std::fs::read(path).unwrap();
    data[at] ^= 0x10;
    std::fs::write(path, &data).unwrap();
}
