//! Opening after a crash or damage: reopen after appends; a torn last append (zeros written over
//! preallocated space from any byte or sector boundary on, file length kept) is cut and the log
//! continues; damage to acknowledged records (a zeroed record header, any flipped byte) refuses
//! to open naming segment and offset; a damaged final COMMIT loses nothing; segment rotation and
//! zeroing ahead.

mod common;

use common::*;
use metastore_wal::{Options, Wal};
use std::path::{Path, PathBuf};

const GROUPS: u64 = 120;
const TOTAL: u64 = GROUPS * 3;

#[test]
fn reopen_returns_every_entry_in_order_across_segments() {
    let dir = temp_dir("reopen");
    let segs = fill(&dir, 60);
    assert!(segs.len() > 2, "small segments rotate");
    let (mut wal, entries, recovery) = Wal::open(&dir, small()).unwrap();
    assert_eq!(recovery.truncated, None);
    assert!(recovery.covered_damage.is_empty());
    assert_entries(&entries, 1, 180, "reopen");
    assert_eq!(wal.append(2, &[b"after"]).unwrap(), 181);
    drop(wal);
    let (_, entries, _) = Wal::open(&dir, small()).unwrap();
    assert_eq!((entries.len(), entries.last().unwrap().data.as_slice(), entries.last().unwrap().term), (181, &b"after"[..], 2));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Builds the log for a torn-write case: 30 groups, then a last append of `last_group`, dropped
/// without close (a crash). Returns the log's options and the number of entries before the last
/// append.
fn log_with_last_append(dir: &Path, options: &Options, last_group: &[Vec<u8>]) -> u64 {
    let (mut wal, _, _) = Wal::open(dir, options.clone()).unwrap();
    append_groups(&mut wal, 30);
    let before = wal.last_index();
    let refs: Vec<&[u8]> = last_group.iter().map(|d| d.as_slice()).collect();
    wal.append(1, &refs).unwrap();
    drop(wal);
    before
}

/// A crash during the last append: its ENTRIES record is zeroed from byte `z` on (a write that
/// reached the disk only up to there; the zeros are the preallocated space, the file keeps its
/// length) and the COMMIT after it never made it. Nothing it held was acknowledged, so it is a
/// torn tail: cut off, reported, every entry before it kept, and appends continue right after
/// them. Tried from every byte of a small record, and from every 512-byte sector boundary of
/// a record spanning several sectors.
#[test]
fn the_last_append_zeroed_from_any_byte_or_sector_boundary_is_a_torn_tail_and_the_log_continues() {
    let big: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8 + 1).collect();
    // (case, options, the last append, every byte or only sector boundaries)
    let cases: [(&str, Options, Vec<Vec<u8>>, bool); 2] = [
        ("small group, every byte", small(), vec![entry(91), entry(92), entry(93)], true),
        ("3,000-byte value, every sector boundary", Options { segment_size: 16384 }, vec![big, b"tail".to_vec()], false),
    ];
    for (what, options, last_group, every_byte) in cases {
        let dir = temp_dir(&format!("torn-{}", every_byte));
        let before = log_with_last_append(&dir, &options, &last_group);
        let last = segments(&dir).last().unwrap().clone();
        let recs = records(&last);
        let (entries_rec, commit) = (&recs[recs.len() - 2], &recs[recs.len() - 1]);
        assert_eq!((entries_rec.kind, commit.kind, commit.last), (ENTRIES, COMMIT, before + last_group.len() as u64), "{what}");
        let pristine = dir_bytes(&dir);
        let points: Vec<usize> = if every_byte {
            (entries_rec.offset + 1..entries_rec.payload_end).collect()
        } else {
            (entries_rec.offset.next_multiple_of(512)..entries_rec.payload_end).step_by(512).collect()
        };
        assert!(points.len() >= if every_byte { 100 } else { 5 }, "{what}: {} points", points.len());
        for &z in &points {
            let what = format!("{what}: zeroed from {z}");
            restore(&dir, &pristine);
            zero_range(&last, z, commit.end);
            // A cut inside the header that leaves only zeros of it: nothing of the record is
            // there, the log just ends before it.
            let header_left = std::fs::read(&last).unwrap()[entries_rec.offset..entries_rec.offset + RECORD_HEADER].iter().any(|&b| b != 0);
            let (mut wal, entries, recovery) = Wal::open(&dir, options.clone()).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_entries(&entries, 1, before, &what);
            assert_eq!(recovery.truncated, header_left.then(|| (last.clone(), entries_rec.offset as u64)), "{what}");
            assert_eq!(std::fs::metadata(&last).unwrap().len(), options.segment_size, "{what}: the segment keeps its size");
            assert!(std::fs::read(&last).unwrap()[entries_rec.offset..].iter().all(|&b| b == 0), "{what}: the torn record is zeroed");
            assert_eq!(wal.append(1, &[b"next"]).unwrap(), before + 1, "{what}: appends continue after the cut");
            drop(wal);
            let (wal, entries, recovery) = Wal::open(&dir, options.clone()).unwrap_or_else(|e| panic!("{what}: reopen: {e}"));
            assert_eq!((recovery.truncated, entries.len() as u64, entries.last().unwrap().data.as_slice()), (None, before + 1, &b"next"[..]), "{what}");
            drop(wal);
        }
        // Zeroed from the record's first byte: nothing of it was written, so the log simply ends
        // before it (no cut to report).
        restore(&dir, &pristine);
        zero_range(&last, entries_rec.offset, commit.end);
        let (wal, entries, recovery) = Wal::open(&dir, options.clone()).unwrap();
        assert_entries(&entries, 1, before, what);
        assert_eq!(recovery.truncated, None, "{what}");
        assert_eq!(wal.next_index(), before + 1, "{what}");
        drop(wal);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// A crash after the last append's ENTRIES were written and synced but before its COMMIT reached
/// the disk (the COMMIT zeroed, in whole or in part). The code keeps those entries: the record
/// is whole and chains from the one before, and a COMMIT only tells a torn write from damage, it
/// is not needed to read a whole record. Keeping them is allowed: the append was never
/// acknowledged, so keeping it (like a write that made it just before the crash) or cutting it
/// loses nothing anyone was told about. A partly zeroed COMMIT is itself a torn tail and is cut;
/// the same holds when the unacknowledged groups of one `append_groups` call went partly into
/// the previous segment (synced there by the segment cut) and the new segment was torn.
#[test]
fn a_crash_between_the_entries_and_their_commit_keeps_the_whole_entries() {
    let dir = temp_dir("no-commit");
    fill(&dir, GROUPS);
    let last = segments(&dir).last().unwrap().clone();
    let commit = records(&last).pop().unwrap();
    assert_eq!((commit.kind, commit.last), (COMMIT, TOTAL));
    let pristine = dir_bytes(&dir);
    // (case, zeroed range, the cut reported)
    let cases = [
        ("COMMIT zeroed whole", commit.offset..commit.end, None),
        ("COMMIT header zeroed, its payload left", commit.offset..commit.offset + RECORD_HEADER, Some(commit.offset as u64)),
        ("COMMIT zeroed from its second byte", commit.offset + 1..commit.end, Some(commit.offset as u64)),
        ("COMMIT payload zeroed", commit.offset + RECORD_HEADER..commit.end, Some(commit.offset as u64)),
    ];
    for (what, range, cut) in cases {
        restore(&dir, &pristine);
        zero_range(&last, range.start, range.end);
        let (mut wal, entries, recovery) = Wal::open(&dir, small()).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_entries(&entries, 1, TOTAL, what);
        assert_eq!(recovery.truncated, cut.map(|c| (last.clone(), c)), "{what}");
        // The caller applies the kept entries, so opening vouches for them at once: a later
        // flipped bit in them is damage, not a torn write.
        let vouched = records(&last).pop().unwrap();
        assert_eq!((vouched.kind, vouched.last), (COMMIT, TOTAL), "{what}: opening wrote their COMMIT");
        assert_eq!(wal.append(1, &[b"next"]).unwrap(), TOTAL + 1, "{what}");
        drop(wal);
        let (wal, entries, _) = Wal::open(&dir, small()).unwrap();
        assert_eq!(indexes(&entries), (1..=TOTAL + 1).collect::<Vec<_>>(), "{what}");
        drop(wal);
    }
    std::fs::remove_dir_all(&dir).unwrap();

    // One append_groups call crossing a segment cut: its first groups are in the old segment,
    // synced by the cut; the crash tore the new segment before the COMMIT.
    let dir = temp_dir("no-commit-cut");
    fill(&dir, 10);
    let (mut wal, _, _) = Wal::open(&dir, small()).unwrap();
    let data: Vec<Vec<u8>> = (31..=150).map(entry).collect();
    let groups: Vec<Vec<&[u8]>> = data.chunks(3).map(|c| c.iter().map(|d| d.as_slice()).collect()).collect();
    let refs: Vec<&[&[u8]]> = groups.iter().map(|g| g.as_slice()).collect();
    wal.append_groups(1, &refs).unwrap();
    drop(wal);
    let segs = segments(&dir);
    assert!(segs.len() >= 3, "the call cut segments");
    let (old, new) = (&segs[segs.len() - 2], &segs[segs.len() - 1]);
    let old_recs: Vec<Rec> = records(old);
    assert_eq!(old_recs.last().unwrap().kind, ENTRIES, "the old segment ends with ENTRIES no COMMIT vouches for");
    let kept = old_recs.last().unwrap().last;
    let new_first = records(new)[0].clone();
    zero_range(new, new_first.offset + 30, SEGMENT_SIZE as usize);
    let (wal, entries, recovery) = Wal::open(&dir, small()).unwrap();
    assert_entries(&entries, 1, kept, "torn new segment");
    assert_eq!(recovery.truncated, Some((new.clone(), SEGMENT_HEADER as u64)));
    assert_eq!(wal.next_index(), kept + 1);
    drop(wal);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A record header zeroed in the middle of the last segment, with whole records (and a COMMIT)
/// after it: not the end of the log but damage to acknowledged records, refused with the
/// segment and the offset. (The first log format took a zeroed header for the end and opened
/// without every record after it.) Only the final COMMIT's header, with nothing acknowledged
/// after it, is a torn tail; in any segment but the last a zeroed header is always corruption.
#[test]
fn a_zeroed_record_header_with_records_after_it_is_corruption_at_that_offset() {
    for closed in [false, true] {
        let dir = temp_dir(&format!("zeroed-header-{closed}"));
        let segs = if closed { fill_closed(&dir, GROUPS) } else { fill(&dir, GROUPS) };
        let last = segs.last().unwrap().clone();
        let pristine = dir_bytes(&dir);
        let recs = records(&last);
        let mut cases: Vec<(PathBuf, Rec)> = recs[..recs.len() - 1].iter().map(|r| (last.clone(), r.clone())).collect();
        cases.extend(records(&segs[0]).into_iter().step_by(7).map(|r| (segs[0].clone(), r)));
        for (seg, rec) in cases {
            let what =
                format!("closed {closed}: header of {} record at {} of {}", if rec.kind == ENTRIES { "ENTRIES" } else { "COMMIT" }, rec.offset, seg.display());
            zero_range(&seg, rec.offset, rec.offset + RECORD_HEADER);
            let (segment, offset, reason) = corrupt(Wal::open(&dir, small()), &what);
            assert_eq!((segment, offset), (seg.clone(), rec.offset as u64), "{what}");
            assert!(reason.contains("zeroed record header"), "{what}: {reason}");
            restore(&dir, &pristine);
        }
        // The final COMMIT's header: its payload after it is unvouched-for data, a torn tail.
        let commit = recs.last().unwrap();
        zero_range(&last, commit.offset, commit.offset + RECORD_HEADER);
        let (wal, entries, recovery) = Wal::open(&dir, small()).unwrap();
        assert_entries(&entries, 1, TOTAL, "final COMMIT header zeroed");
        assert_eq!(recovery.truncated, Some((last.clone(), commit.offset as u64)));
        drop(wal);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Builds a closed or crashed log whose last append is `last_group`; returns the last segment.
fn log_ending_with(dir: &Path, closed: bool, last_group: &[Vec<u8>]) -> (PathBuf, u64) {
    let (mut wal, _, _) = Wal::open(dir, small()).unwrap();
    append_groups(&mut wal, 30);
    let refs: Vec<&[u8]> = last_group.iter().map(|d| d.as_slice()).collect();
    wal.append(1, &refs).unwrap();
    let total = wal.last_index();
    if closed {
        wal.close().unwrap();
    } else {
        drop(wal);
    }
    (segments(dir).last().unwrap().clone(), total)
}

/// One flipped byte anywhere in the last acknowledged ENTRIES record (a COMMIT follows it) is
/// corruption at that record, never a torn tail and never fewer entries: also when its payload
/// is all zeros, which the first log format took for an unwritten sector and cut off. The
/// padding after the payload is outside the CRC: a flip there changes nothing that is read, and
/// the log opens whole. A flipped byte in the final COMMIT (nothing acknowledged after it) is a
/// torn tail: cut, with every entry kept.
#[test]
fn a_flipped_byte_in_the_last_acknowledged_record_is_corruption_and_in_the_final_commit_loses_nothing() {
    let cases: [(&str, Vec<Vec<u8>>); 3] = [
        ("small entries", vec![entry(91), entry(92), entry(93)]),
        ("a 2,000-byte zero value", vec![vec![0; 2000]]),
        ("a group of zero values", vec![vec![0; 700], vec![], vec![0; 1], vec![0; 901]]),
    ];
    for closed in [false, true] {
        for (i, (case, group)) in cases.iter().enumerate() {
            let dir = temp_dir(&format!("flip-last-{closed}-{i}"));
            let (last, total) = log_ending_with(&dir, closed, group);
            let recs = records(&last);
            let (rec, commit) = (recs[recs.len() - 2].clone(), recs[recs.len() - 1].clone());
            assert_eq!((rec.kind, rec.last, commit.kind, commit.last), (ENTRIES, total, COMMIT, total), "{case}");
            let pristine = dir_bytes(&dir);
            let mut opened_whole = 0;
            // Every byte after a crash; after a clean close (the same scan, then the MANIFEST's
            // check) the header, the padding and every 3rd byte of the payload.
            let sample = |at: usize| !closed || at < rec.offset + RECORD_HEADER + 24 || at >= rec.payload_end - 8 || at.is_multiple_of(3);
            for at in (rec.offset..rec.end).filter(|&at| sample(at)) {
                // A different bit at each position, all eight over any 8 bytes.
                let mask = 1u8 << (at % 8);
                let what = format!("closed {closed}, {case}: byte {} of the record (mask {mask:#x})", at - rec.offset);
                flip_byte(&last, at, mask);
                match Wal::open(&dir, small()) {
                    Ok((wal, entries, recovery)) => {
                        assert!(at >= rec.payload_end, "{what}: opened ({} entries, truncated {:?})", entries.len(), recovery.truncated);
                        assert_eq!((entries.len() as u64, recovery.truncated), (total, None), "{what}");
                        drop(wal);
                        opened_whole += 1;
                        restore(&dir, &pristine);
                    }
                    Err(e) => {
                        let (segment, offset, _) = corrupt::<()>(Err(e), &what);
                        assert_eq!((segment, offset), (last.clone(), rec.offset as u64), "{what}");
                        flip_byte(&last, at, mask);
                    }
                }
            }
            assert_eq!(opened_whole, (rec.payload_end..rec.end).filter(|&at| sample(at)).count(), "{case}: only padding flips open");
            for at in commit.offset..commit.end {
                let what = format!("closed {closed}, {case}: byte {} of the final COMMIT", at - commit.offset);
                flip_byte(&last, at, 0xff);
                let (wal, entries, recovery) = Wal::open(&dir, small()).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(entries.len() as u64, total, "{what}");
                assert_eq!(recovery.truncated, Some((last.clone(), commit.offset as u64)), "{what}");
                drop(wal);
                restore(&dir, &pristine);
            }
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}

/// A flipped bit in any record of any segment but in the last append (a COMMIT vouches for
/// everything before it) refuses to open, naming the segment and the record's offset.
#[test]
fn damage_to_an_acknowledged_record_in_any_segment_is_corruption_naming_segment_and_offset() {
    let dir = temp_dir("flip-any");
    let segs = fill(&dir, GROUPS);
    let pristine = dir_bytes(&dir);
    for (s, seg) in segs.iter().enumerate() {
        let recs = records(seg);
        let last_seg = s + 1 == segs.len();
        // The last segment's final ENTRIES and COMMIT are the previous test's.
        let upto = if last_seg { recs.len() - 2 } else { recs.len() };
        for rec in recs[..upto].iter().step_by(3) {
            for at in [rec.offset + 2, rec.offset + 9, rec.offset + RECORD_HEADER + 3, rec.payload_end - 1] {
                let what = format!("segment {s}, record at {}, byte {at}", rec.offset);
                flip_bit(seg, at);
                let (segment, offset, _) = corrupt(Wal::open(&dir, small()), &what);
                assert_eq!((segment, offset), (seg.clone(), rec.offset as u64), "{what}");
                restore(&dir, &pristine);
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Bytes that are not a record after the final COMMIT: nothing vouches for them, so they are a
/// torn write (cut, every entry kept). The same bytes over a record that a COMMIT follows are
/// damage to acknowledged records.
#[test]
fn garbage_after_the_final_commit_is_a_torn_tail_but_before_a_commit_is_corruption() {
    let dir = temp_dir("garbage");
    let segs = fill(&dir, 3);
    let last = segs.last().unwrap().clone();
    let recs = records(&last);
    let pristine = dir_bytes(&dir);
    use std::os::unix::fs::FileExt;
    let write_at = |at: usize| std::fs::OpenOptions::new().write(true).open(&last).unwrap().write_all_at(&[0xAB; 40], at as u64).unwrap();

    write_at(recs.last().unwrap().end);
    let (wal, entries, recovery) = Wal::open(&dir, small()).unwrap();
    assert_entries(&entries, 1, 9, "garbage after the final COMMIT");
    assert_eq!(recovery.truncated, Some((last.clone(), recs.last().unwrap().end as u64)));
    assert_eq!(wal.next_index(), 10);
    drop(wal);
    assert!(std::fs::read(&last).unwrap()[recs.last().unwrap().end..].iter().all(|&b| b == 0), "cut");

    restore(&dir, &pristine);
    write_at(recs[2].offset + 8);
    let (segment, offset, _) = corrupt(Wal::open(&dir, small()), "garbage over the second ENTRIES");
    assert_eq!((segment, offset), (last.clone(), recs[2].offset as u64));
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
    let options = Options { segment_size: 3 << 20 };
    let value = vec![0x5Au8; 20_000];
    let (mut wal, _, _) = Wal::open(&dir, options.clone()).unwrap();
    // 400 groups of 20 KB: past several zeroing steps and into a third segment.
    for i in 0..400u64 {
        assert_eq!(wal.append(1, &[&value, format!("group-{i}").as_bytes()]).unwrap(), i * 2 + 1);
    }
    drop(wal);
    let segs = segments(&dir);
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

/// Several groups appended together: one ENTRIES record each, synced together, across segment
/// cuts, and one COMMIT after the sync; indexes continue from group to group and reopening
/// returns every entry in order.
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
    let recs: Vec<Rec> = segments(&dir).iter().flat_map(|s| records(s)).collect();
    let kinds = |k: u8| recs.iter().filter(|r| r.kind == k).count();
    assert_eq!((kinds(ENTRIES), kinds(COMMIT)), (61, 2), "one ENTRIES record per group, one COMMIT per call");
    assert_eq!(recs.last().unwrap().kind, COMMIT);
    assert_eq!(recs.last().unwrap().last, 181);
    let (_, entries, recovery) = Wal::open(&dir, small()).unwrap();
    assert_eq!(recovery.truncated, None);
    assert_eq!(entries.len(), 181);
    assert_eq!(entries[0].data, b"alone");
    for e in &entries[1..] {
        assert_eq!(e.data, entry(e.index), "entry {}", e.index);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
