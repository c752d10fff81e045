//! Crash and damage cases: reopen after appends, a torn last record at every byte offset, zeroed
//! tails, flipped bits mid-log (refused with segment and offset), segment rotation.

mod common;

use common::{entry, last_record_span, small, temp_dir};
use metastore_wal::{Wal, WalError};
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

/// Appends `groups` groups of 3 entries and returns the segment paths.
fn fill(dir: &Path, groups: u64) -> Vec<PathBuf> {
    let (mut wal, entries, _) = Wal::open(dir, small()).unwrap();
    assert!(entries.is_empty());
    for g in 0..groups {
        let data: Vec<Vec<u8>> = (0..3).map(|k| entry(g * 3 + k + 1)).collect();
        let refs: Vec<&[u8]> = data.iter().map(|d| d.as_slice()).collect();
        assert_eq!(wal.append(1, &refs).unwrap(), g * 3 + 1);
    }
    let mut segs: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "wal")).collect();
    segs.sort();
    segs
}

#[test]
fn reopen_returns_every_entry_in_order_across_segments() {
    let dir = temp_dir("reopen");
    let segs = fill(&dir, 60);
    assert!(segs.len() > 2, "small segments rotate");
    let (mut wal, entries, recovery) = Wal::open(&dir, small()).unwrap();
    assert_eq!(recovery.truncated, None);
    assert_eq!(entries.len(), 180);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!((e.index, e.term, &e.data), (i as u64 + 1, 1, &entry(i as u64 + 1)));
    }
    assert_eq!(wal.append(2, &[b"after"]).unwrap(), 181);
    drop(wal);
    let (_, entries, _) = Wal::open(&dir, small()).unwrap();
    assert_eq!(entries.last().unwrap().data, b"after");
    std::fs::remove_dir_all(&dir).unwrap();
}


#[test]
fn a_last_record_cut_at_any_byte_is_a_torn_tail_and_is_truncated() {
    let dir = temp_dir("torn");
    let segs = fill(&dir, 5);
    let last_seg = segs.last().unwrap().clone();
    let pristine = std::fs::read(&last_seg).unwrap();
    let (start, end) = last_record_span(&last_seg);
    for cut in start..end {
        std::fs::write(&last_seg, &pristine[..cut]).unwrap();
        let (mut wal, entries, recovery) = Wal::open(&dir, small()).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(entries.len(), 12, "cut at {cut}: the torn group is gone, the rest stays");
        if cut > start {
            assert_eq!(recovery.truncated, Some((last_seg.clone(), start as u64)), "cut at {cut}");
        }
        assert_eq!(wal.append(1, &[b"next"]).unwrap(), 13, "cut at {cut}: appends continue after the cut");
        drop(wal);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_record_zeroed_from_a_sector_boundary_is_torn_but_a_flipped_bit_is_corruption() {
    let dir = temp_dir("flip");
    let segs = fill(&dir, 40);
    let first = segs[0].clone();
    // A flipped bit in the middle of the first segment: refused, naming segment and offset.
    let mut data = std::fs::read(&first).unwrap();
    data[100] ^= 0x10;
    std::fs::write(&first, &data).unwrap();
    match Wal::open(&dir, small()) {
        Err(WalError::Corrupt { segment, offset, .. }) => assert_eq!((segment, offset <= 100), (first.clone(), true)),
        Ok(_) => panic!("a flipped bit mid-log must refuse to open"),
        Err(e) => panic!("unexpected {e}"),
    }
    data[100] ^= 0x10;
    std::fs::write(&first, &data).unwrap();
    assert!(Wal::open(&dir, small()).is_ok());
    // A flipped bit inside the last record with nothing after it is still corruption (the record
    // was written whole), not a torn tail.
    let last = segs.last().unwrap().clone();
    let (start, end) = last_record_span(&last);
    let mut data = std::fs::read(&last).unwrap();
    data[start + 14] ^= 0x01;
    std::fs::write(&last, &data).unwrap();
    assert!(matches!(Wal::open(&dir, small()), Err(WalError::Corrupt { .. })));
    data[start + 14] ^= 0x01;
    // The same record with its part in a later sector zeroed (a write that reached the disk only
    // in part) is torn.
    if end - start > 512 || (start / 512) != ((end - 1) / 512) {
        let boundary = (start / 512 + 1) * 512;
        for b in &mut data[boundary..end] {
            *b = 0;
        }
        std::fs::write(&last, &data).unwrap();
        let (_, _, recovery) = Wal::open(&dir, small()).unwrap();
        assert_eq!(recovery.truncated, Some((last.clone(), start as u64)));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bytes_after_a_bad_record_make_it_corruption_not_a_torn_tail() {
    let dir = temp_dir("after");
    let segs = fill(&dir, 3);
    let last = segs.last().unwrap().clone();
    let (_, end) = last_record_span(&last);
    let f = OpenOptions::new().write(true).open(&last).unwrap();
    use std::os::unix::fs::FileExt;
    // Garbage after the last record: it reads as a bad record followed by non-zero bytes.
    f.write_all_at(&[0xAB; 40], end as u64).unwrap();
    assert!(matches!(Wal::open(&dir, small()), Err(WalError::Corrupt { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_segment_left_half_made_under_its_temporary_name_is_deleted_on_open() {
    let dir = temp_dir("temp-segment");
    fill(&dir, 3);
    let temp = dir.join("0000000000000002-000000000000000a.wal.tmp");
    std::fs::write(&temp, [0xAAu8; 100]).unwrap();
    let (wal, entries, _) = Wal::open(&dir, small()).unwrap();
    assert_eq!(entries.len(), 9);
    assert!(!temp.exists());
    drop(wal);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Appends write zeros up to 1 MiB past each record (so later syncs find the blocks written);
/// none of that may change what the log reads back, its files' sizes, or where it resumes.
#[test]
fn zeros_written_ahead_of_the_tail_keep_segments_at_their_size_and_the_log_readable() {
    let dir = temp_dir("zero-ahead");
    let options = metastore_wal::Options { segment_size: 3 << 20 };
    let value = vec![0x5Au8; 20_000];
    let (mut wal, _, _) = Wal::open(&dir, options.clone()).unwrap();
    // 400 groups of 20 KB: past several zeroing steps and into a third segment.
    for i in 0..400u64 {
        assert_eq!(wal.append(1, &[&value, format!("group-{i}").as_bytes()]).unwrap(), i * 2 + 1);
    }
    drop(wal);
    let segs = common::segments(&dir);
    assert_eq!(segs.len(), 3);
    for seg in &segs {
        assert_eq!(std::fs::metadata(seg).unwrap().len(), 3 << 20, "{}", seg.display());
    }
    let last = segs.last().unwrap();
    let (_, end) = last_record_span(last);
    assert!(std::fs::read(last).unwrap()[end..].iter().all(|&b| b == 0), "nothing but zeros after the last record");

    let (mut wal, entries, recovery) = Wal::open(&dir, options.clone()).unwrap();
    assert_eq!(recovery.truncated, None);
    assert_eq!(entries.len(), 800);
    for (i, e) in entries.iter().enumerate() {
        let want: &[u8] = if i % 2 == 0 { &value } else { &format!("group-{}", i / 2).into_bytes() };
        assert_eq!((e.index, e.data.as_slice()), (i as u64 + 1, want), "entry {}", i + 1);
    }
    assert_eq!(wal.append(1, &[b"after reopen"]).unwrap(), 801);
    drop(wal);
    let (_, entries, _) = Wal::open(&dir, options).unwrap();
    assert_eq!(entries.last().unwrap().data, b"after reopen");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Several groups appended together: one record each, synced together, across segment cuts;
/// indexes continue from group to group and reopening returns every entry in order.
#[test]
fn groups_appended_together_are_records_of_their_own_across_segment_cuts() {
    let dir = temp_dir("append-groups");
    let (mut wal, _, _) = Wal::open(&dir, small()).unwrap();
    assert_eq!(wal.append(1, &[b"alone"]).unwrap(), 1);
    let data: Vec<Vec<u8>> = (2..=181).map(entry).collect();
    let groups: Vec<Vec<&[u8]>> = data.chunks(3).map(|c| c.iter().map(|d| d.as_slice()).collect()).collect();
    let refs: Vec<&[&[u8]]> = groups.iter().map(|g| g.as_slice()).collect();
    assert_eq!(wal.append_groups(1, &refs).unwrap(), 2);
    assert_eq!(wal.next_index(), 182);
    assert!(wal.segment_count() > 2, "60 groups of 3 entries cross 4 KiB segments");
    drop(wal);
    let segs = common::segments(&dir);
    let records: usize = segs.iter().map(|s| common::record_offsets(s).len()).sum();
    assert_eq!(records, 61, "one record per group");
    let (_, entries, recovery) = Wal::open(&dir, small()).unwrap();
    assert_eq!(recovery.truncated, None);
    assert_eq!(entries.len(), 181);
    assert_eq!(entries[0].data, b"alone");
    for e in &entries[1..] {
        assert_eq!(e.data, entry(e.index), "entry {}", e.index);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
