//! Snapshot files: round trip, keeping one older snapshot, falling back past damaged ones,
//! deleting leftovers of interrupted writes.

mod common;

use common::*;
use metastore_wal::layout::{SNAPSHOT_FILE_HEADER as HEADER, SNAPSHOT_FILE_HEADER_CRC_AT, SNAPSHOT_FILE_PAYLOAD_LEN_AT};
use metastore_wal::{list_snapshots, load_newest_snapshot, write_snapshot, write_snapshot_with, SnapshotFile};
use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
use std::path::Path;

fn payload(seed: u64, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u64).wrapping_mul(seed | 1).wrapping_add(seed >> 3) as u8).collect()
}

#[test]
fn a_written_snapshot_loads_back_byte_for_byte() {
    let cases: [(u64, u64, usize); 5] = [(1, 1, 0), (7, 1, 1), (4096, 3, 100), (123_456, 9, 1 << 20), (u64::MAX, u64::MAX, 17)];
    for (i, &(index, term, len)) in cases.iter().enumerate() {
        let dir = temp_dir(&format!("snap-roundtrip-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let data = payload(index, len);
        let path = write_snapshot(&dir, index, term, &data).unwrap();
        assert_eq!(path, dir.join(format!("{index:016x}.snap")));
        let load = load_newest_snapshot(&dir).unwrap();
        let snap = load.snapshot.expect("a snapshot");
        assert_eq!((snap.index, snap.term, snap.path), (index, term, path));
        assert!(snap.payload == data, "index {index}: payload differs");
        assert!(load.skipped.is_empty() && load.removed_temps.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// A payload streamed in pieces of every size (past the 1 MiB buffer too) is the same file as
/// one written whole; an abandoned or failed stream leaves no file and deletes no older snapshot.
#[test]
fn a_streamed_snapshot_is_the_file_a_whole_one_is_and_an_abandoned_one_leaves_nothing() {
    let dir = temp_dir("snap-streamed");
    std::fs::create_dir_all(&dir).unwrap();
    let data = payload(77, (3 << 20) + 12_345);
    let whole = write_snapshot(&dir, 10, 2, &data).unwrap();
    let whole_bytes = std::fs::read(&whole).unwrap();
    let (path, len) = write_snapshot_with(&dir, 11, 2, |sink| {
        let mut at = 0;
        for size in (1..).map(|k: usize| (k * k * 37) % 200_000 + 1) {
            let end = (at + size).min(data.len());
            sink.write_all(&data[at..end])?;
            at = end;
            if at == data.len() {
                return Ok(true);
            }
        }
        unreachable!()
    })
    .unwrap()
    .expect("written");
    assert_eq!(len, data.len() as u64);
    let streamed_bytes = std::fs::read(&path).unwrap();
    // Same header (but for the index) and the same payload.
    assert_eq!(streamed_bytes.len(), whole_bytes.len());
    assert_eq!(
        streamed_bytes[SNAPSHOT_FILE_PAYLOAD_LEN_AT..SNAPSHOT_FILE_HEADER_CRC_AT],
        whole_bytes[SNAPSHOT_FILE_PAYLOAD_LEN_AT..SNAPSHOT_FILE_HEADER_CRC_AT],
        "length and payload CRC"
    );
    assert!(streamed_bytes[HEADER..] == whole_bytes[HEADER..]);
    let snap = load_newest_snapshot(&dir).unwrap().snapshot.expect("a snapshot");
    assert_eq!((snap.index, snap.term), (11, 2));
    assert!(snap.payload == data);

    let abandoned = write_snapshot_with(&dir, 12, 2, |sink| {
        sink.write_all(&data[..1000])?;
        Ok(false)
    })
    .unwrap();
    assert_eq!(abandoned, None);
    let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["000000000000000a.snap", "000000000000000b.snap"]);
    // A sink error fails the write and leaves no temporary file either.
    let failed = write_snapshot_with(&dir, 13, 2, |_| Err(std::io::Error::other("encoder failed")));
    assert_eq!(failed.unwrap_err().to_string(), "encoder failed");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn writing_a_snapshot_keeps_only_the_previous_one_as_a_fallback() {
    let dir = temp_dir("snap-keep");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("unrelated.txt"), b"x").unwrap();
    let indexes = |dir: &Path| list_snapshots(dir).unwrap().into_iter().map(|f: SnapshotFile| f.index).collect::<Vec<_>>();
    // (write, snapshots left)
    let steps: [(u64, &[u64]); 5] = [(10, &[10]), (20, &[10, 20]), (30, &[20, 30]), (40, &[30, 40]), (41, &[40, 41])];
    for (index, left) in steps {
        write_snapshot(&dir, index, 1, &payload(index, 64)).unwrap();
        assert_eq!(indexes(&dir), left, "after writing {index}");
    }
    assert_eq!(load_newest_snapshot(&dir).unwrap().snapshot.unwrap().index, 41);
    assert!(dir.join("unrelated.txt").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_newest_snapshot_is_skipped_and_the_older_one_loaded() {
    type Damage = fn(&Path);
    let cases: [(&str, Damage, &str); 8] = [
        ("cut mid payload", |p| truncate(p, HEADER as u64 + 500), "payload cut short"),
        ("cut inside the header", |p| truncate(p, 20), "shorter than a snapshot header"),
        ("empty file", |p| truncate(p, 0), "shorter than a snapshot header"),
        ("bit flip in the payload", |p| flip_bit(p, HEADER + 300), "payload CRC mismatch"),
        ("bit flip in the header", |p| flip_bit(p, 17), "header CRC mismatch"),
        ("bad magic", |p| flip_bit(p, 0), "not a snapshot file (bad magic)"),
        ("bytes after the payload", |p| append(p, b"tail"), "bytes after the payload"),
        ("zeroed payload", |p| zero_from(p, HEADER), "payload CRC mismatch"),
    ];
    for (i, (what, damage, reason)) in cases.iter().enumerate() {
        let dir = temp_dir(&format!("snap-damage-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let older = payload(10, 1000);
        write_snapshot(&dir, 10, 1, &older).unwrap();
        let newest = write_snapshot(&dir, 20, 2, &payload(20, 1000)).unwrap();
        damage(&newest);
        let load = load_newest_snapshot(&dir).unwrap();
        let snap = load.snapshot.unwrap_or_else(|| panic!("{what}: no snapshot loaded"));
        assert_eq!((snap.index, snap.term, snap.payload == older), (10, 1, true), "{what}");
        assert_eq!(load.skipped.len(), 1, "{what}");
        assert_eq!((&load.skipped, &load.skipped_reasons), (&vec![newest.clone()], &vec![*reason]), "{what}");
        // With the older one damaged too there is nothing to load, and both are reported.
        flip_bit(&snap.path, HEADER + 1);
        let load = load_newest_snapshot(&dir).unwrap();
        assert!(load.snapshot.is_none(), "{what}");
        assert_eq!(load.skipped, vec![newest.clone(), snap.path.clone()], "{what}");
        assert_eq!(load.skipped_reasons.len(), 2, "{what}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_snapshot_renamed_to_another_index_is_skipped() {
    let dir = temp_dir("snap-renamed");
    std::fs::create_dir_all(&dir).unwrap();
    write_snapshot(&dir, 5, 1, b"five").unwrap();
    let six = write_snapshot(&dir, 6, 1, b"six").unwrap();
    let wrong = dir.join(format!("{:016x}.snap", 7));
    std::fs::rename(&six, &wrong).unwrap();
    let load = load_newest_snapshot(&dir).unwrap();
    assert_eq!(load.snapshot.unwrap().index, 5);
    assert_eq!((&load.skipped, &load.skipped_reasons), (&vec![wrong], &vec!["file name does not match the index in its header"]));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn leftover_temporary_files_are_deleted_on_load_unless_a_writer_holds_them() {
    let dir = temp_dir("snap-temps");
    std::fs::create_dir_all(&dir).unwrap();
    write_snapshot(&dir, 10, 1, b"ten").unwrap();
    let stale = [dir.join(format!("{:016x}.snap.tmp", 20)), dir.join(format!("{:016x}.snap.tmp", 5))];
    for path in &stale {
        std::fs::write(path, b"half written").unwrap();
    }
    // A temporary file a writer is still writing: it holds a lock on it.
    let busy = dir.join(format!("{:016x}.snap.tmp", 30));
    let held = OpenOptions::new().create(true).truncate(true).write(true).open(&busy).unwrap();
    // SAFETY: a plain syscall on an open descriptor.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }, 0);

    let load = load_newest_snapshot(&dir).unwrap();
    assert_eq!(load.snapshot.unwrap().index, 10);
    let mut removed = load.removed_temps.clone();
    removed.sort();
    let mut expected = stale.to_vec();
    expected.sort();
    assert_eq!(removed, expected);
    assert!(stale.iter().all(|p| !p.exists()));
    assert!(busy.exists(), "a temp file being written is left alone");
    drop(held);
    let load = load_newest_snapshot(&dir).unwrap();
    assert_eq!(load.removed_temps, vec![busy.clone()]);
    assert!(!busy.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_or_empty_directory_has_no_snapshot() {
    let dir = temp_dir("snap-none");
    let load = load_newest_snapshot(&dir).unwrap();
    assert!(load.snapshot.is_none() && load.skipped.is_empty());
    std::fs::create_dir_all(&dir).unwrap();
    fill(&dir, 3);
    assert!(list_snapshots(&dir).unwrap().is_empty());
    assert!(load_newest_snapshot(&dir).unwrap().snapshot.is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

fn append(path: &Path, bytes: &[u8]) {
    let mut data = std::fs::read(path).unwrap();
    data.extend_from_slice(bytes);
    std::fs::write(path, data).unwrap();
}

fn zero_from(path: &Path, from: usize) {
    let mut data = std::fs::read(path).unwrap();
    data[from..].fill(0);
    std::fs::write(path, data).unwrap();
}
