//! What the MANIFEST adds: a missing newest segment, a missing log, a missing MANIFEST or a log
//! that no longer ends where it was closed cleanly are refused instead of opened at an older
//! state; segment files cut short, missing from the middle or out of place are refused; each
//! open bumps the epoch.

mod common;

use common::*;
use metastore_wal::{inspect, repair, Wal};
use std::path::{Path, PathBuf};

const GROUPS: u64 = 120;
const TOTAL: u64 = GROUPS * 3;

fn log(dir: &Path, closed: bool) -> Vec<PathBuf> {
    if closed {
        fill_closed(dir, GROUPS)
    } else {
        fill(dir, GROUPS)
    }
}

/// Files gone from the log directory, after a clean close or a crash: the newest segment (the
/// MANIFEST names it), every segment (the MANIFEST says there was a log), the MANIFEST of a log
/// that has records, a segment from the middle (the next one's sequence number does not follow).
/// Each is refused with where and why; the first log format opened the rest of the log (or a
/// new, empty one) as if nothing were missing.
#[test]
fn missing_files_are_corruption() {
    type Damage = fn(&Path, &[PathBuf]);
    // (case, damage, where the error points: a segment's index or None for the MANIFEST / the
    // directory, the reason's gist)
    let cases: [(&str, Damage, Option<usize>, &str); 5] = [
        (
            "newest segment deleted",
            |_, s| std::fs::remove_file(s.last().unwrap()).unwrap(),
            Some(4),
            "the newest segment (seq 6, named in the MANIFEST) is missing",
        ),
        ("every segment deleted", |_, s| s.iter().for_each(|p| std::fs::remove_file(p).unwrap()), None, "every segment of the log is missing"),
        ("MANIFEST deleted", |d, _| std::fs::remove_file(d.join("MANIFEST")).unwrap(), None, "the log's MANIFEST is missing"),
        ("middle segment deleted", |_, s| std::fs::remove_file(&s[2]).unwrap(), Some(3), "the segment before this one is missing"),
        ("MANIFEST damaged", |d, _| flip_bit(&d.join("MANIFEST"), 20), None, "MANIFEST is damaged"),
    ];
    for closed in [false, true] {
        for (i, (what, damage, at, gist)) in cases.iter().enumerate() {
            let what = format!("{what} (closed {closed})");
            let dir = temp_dir(&format!("missing-{closed}-{i}"));
            let segs = log(&dir, closed);
            assert_eq!(segs.len(), 6);
            damage(&dir, &segs);
            let before = dir_bytes(&dir);
            let (segment, offset, reason) = corrupt(Wal::open(&dir, small()), &what);
            let expected = match at {
                Some(s) => segs[*s].clone(),
                None if gist.contains("MANIFEST") => dir.join("MANIFEST"),
                None => dir.clone(),
            };
            assert_eq!((segment, offset), (expected, 0), "{what}");
            assert!(reason.contains(gist), "{what}: {reason}");
            assert_eq!(dir_bytes(&dir), before, "{what}: a refused open changes nothing");
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}

/// A log's first segment is durable before its MANIFEST: one empty first segment and no
/// MANIFEST is a creation that was interrupted, and opens (and finishes it).
#[test]
fn an_empty_first_segment_without_a_manifest_is_an_interrupted_creation_and_opens() {
    let dir = temp_dir("interrupted-create");
    let (wal, _, _) = Wal::open(&dir, small()).unwrap();
    drop(wal);
    std::fs::remove_file(dir.join("MANIFEST")).unwrap();
    let (mut wal, entries, _) = Wal::open(&dir, small()).unwrap();
    assert!(entries.is_empty());
    assert_eq!(wal.append(1, &[b"one"]).unwrap(), 1);
    drop(wal);
    assert!(dir.join("MANIFEST").exists());
    // With one record in it, the same is a lost MANIFEST.
    std::fs::remove_file(dir.join("MANIFEST")).unwrap();
    let (segment, _, reason) = corrupt(Wal::open(&dir, small()), "MANIFEST of a log with a record");
    assert_eq!((segment, reason.as_str()), (dir.join("MANIFEST"), "the log's MANIFEST is missing"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The oldest segments gone look exactly like a purge: the log opens from the first segment
/// left, and `first_index()` shows the gap to a caller whose snapshot is older (`open_store`
/// refuses it; at this level it is the caller's check).
#[test]
fn missing_oldest_segments_show_as_a_later_first_index() {
    for closed in [false, true] {
        let dir = temp_dir(&format!("missing-oldest-{closed}"));
        let segs = log(&dir, closed);
        std::fs::remove_file(&segs[0]).unwrap();
        std::fs::remove_file(&segs[1]).unwrap();
        let (wal, entries, _) = Wal::open(&dir, small()).unwrap();
        let first = first_index_of(&segs[2]);
        assert_eq!((wal.first_index(), wal.last_index()), (first, TOTAL));
        assert_entries(&entries, first, TOTAL, "oldest segments deleted");
        drop(wal);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// A segment's bytes under another segment's name — renamed, swapped, copied — are out of place:
/// read where they are, they would replay entries twice or out of order, or leave the log
/// appending at an index it already holds. Refused, whatever the segment (the first one, whose
/// header says it starts at index 1, included). Opened after a snapshot, such a segment may be
/// read past only if the log still returns exactly the entries above the snapshot and goes on
/// at the right index.
#[test]
fn a_segment_under_another_name_is_never_replayed_out_of_place() {
    type Damage = fn(&Path, &[PathBuf]);
    // (case, damage, the snapshot index it is opened after)
    let cases: [(&str, Damage, fn(&[PathBuf]) -> u64); 10] = [
        ("first segment copied as a new newest segment", |d, s| copy_as(&s[0], d, segment_name(7, TOTAL + 1)), |_| 0),
        ("first segment copied beside itself", |d, s| copy_as(&s[0], d, segment_name(1, 2)), |_| 0),
        ("first segment renamed to a new newest segment", |d, s| rename_as(&s[0], d, segment_name(7, TOTAL + 1)), |_| 0),
        ("middle segment copied as a new newest segment", |d, s| copy_as(&s[2], d, segment_name(7, TOTAL + 1)), |_| 0),
        ("middle segment copied beside itself", |d, s| copy_as(&s[2], d, segment_name(name_of(&s[2]).0, name_of(&s[2]).1 + 1)), |_| 0),
        ("first two segments' names swapped", |_, s| swap(&s[0], &s[1]), |_| 0),
        ("middle and last segments' names swapped", |_, s| swap(&s[2], &s[5]), |_| 0),
        ("first segment copied beside itself, after a snapshot past it", |d, s| copy_as(&s[0], d, segment_name(1, 2)), |s| first_index_of(&s[1]) + 5),
        ("first and last segments swapped, after a snapshot at the last segment's start", |_, s| swap(&s[0], &s[5]), |s| first_index_of(&s[5]) - 1),
        (
            "last segment copied under a second segment's name, after a snapshot near the end",
            |d, s| copy_as(&s[5], d, segment_name(2, first_index_of(&s[5]) - 9)),
            |_| TOTAL - 8,
        ),
    ];
    let mut failures = Vec::new();
    for closed in [false, true] {
        for (i, (what, damage, after)) in cases.iter().enumerate() {
            let dir = temp_dir(&format!("out-of-place-{closed}-{i}"));
            let segs = log(&dir, closed);
            let after = after(&segs);
            let what = format!("{what} (closed {closed}, after {after})");
            damage(&dir, &segs);
            let info = inspect(&dir, after).unwrap();
            match Wal::open_after(&dir, small(), after) {
                Err(metastore_wal::WalError::Corrupt { .. }) => assert!(!info.opens(), "{what}: inspect disagrees"),
                Err(e) => panic!("{what}: {e}"),
                Ok((wal, entries, _)) => {
                    let exact = after > 0 && indexes(&entries) == (after + 1..=TOTAL).collect::<Vec<_>>() && wal.last_index() == TOTAL;
                    if !exact {
                        failures.push(format!(
                            "{what}: opened with {} entries ({:?}..{:?}, {} distinct), next index {}",
                            entries.len(),
                            entries.first().map(|e| e.index),
                            entries.last().map(|e| e.index),
                            entries.iter().map(|e| e.index).collect::<std::collections::BTreeSet<_>>().len(),
                            wal.next_index()
                        ));
                    }
                }
            }
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
    assert!(failures.is_empty(), "segments out of place were read:\n{}", failures.join("\n"));
}

fn copy_as(src: &Path, dir: &Path, name: String) {
    std::fs::copy(src, dir.join(name)).unwrap();
}

fn rename_as(src: &Path, dir: &Path, name: String) {
    std::fs::rename(src, dir.join(name)).unwrap();
}

fn swap(a: &Path, b: &Path) {
    let tmp = a.with_extension("swap");
    std::fs::rename(a, &tmp).unwrap();
    std::fs::rename(b, a).unwrap();
    std::fs::rename(&tmp, b).unwrap();
}

/// After `close()` the log must end exactly where it was closed: a tail of the last segment
/// zeroed from any byte on (file length kept) that takes entries with it is refused, with the
/// "closed at" reason; zeroing only the final COMMIT (or the zeros after it) loses nothing and
/// opens. The same zeroing after a crash is a torn write and opens with the entries before it.
#[test]
fn after_a_clean_close_a_zeroed_tail_that_removes_entries_is_corruption() {
    let dir = temp_dir("closed-tail");
    let segs = log(&dir, true);
    let last = segs.last().unwrap().clone();
    let recs = records(&last);
    let last_entries = recs[recs.len() - 2].clone();
    let written = written_len(&last);
    let pristine = dir_bytes(&dir);
    let (mut refused, mut opened) = (0, 0);
    // Every byte of the last three appends' records and of what follows them; every 5th before.
    let dense_from = recs[recs.len() - 6].offset;
    for z in (SEGMENT_HEADER..=written).filter(|&z| z >= dense_from || z % 5 == 0) {
        let what = format!("zeroed from {z}");
        zero_range(&last, z, written);
        if z < last_entries.payload_end {
            let (segment, _, reason) = corrupt(Wal::open(&dir, small()), &what);
            assert_eq!(segment, last, "{what}");
            assert!(reason.contains(&format!("but was closed at index {TOTAL}")), "{what}: {reason}");
            refused += 1;
            std::fs::write(&last, &pristine[last.file_name().unwrap().to_str().unwrap()]).unwrap();
        } else {
            let (wal, entries, _) = Wal::open(&dir, small()).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(entries.len() as u64, TOTAL, "{what}");
            drop(wal);
            opened += 1;
            restore(&dir, &pristine);
        }
    }
    assert!(refused > 800 && opened > 30, "{refused} refused, {opened} opened");
    // The same tail zeroed after a crash: the last append looks torn and goes.
    let (wal, _, _) = Wal::open(&dir, small()).unwrap();
    drop(wal);
    zero_range(&last, last_entries.offset, written);
    let (wal, entries, _) = Wal::open(&dir, small()).unwrap();
    assert_entries(&entries, 1, last_entries.first - 1, "zeroed after a crash");
    drop(wal);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Segments are preallocated to the size in their header and never shrink: a segment file
/// shorter than that was cut by something else ("cut off"), refused after a close or a crash,
/// whichever segment it is and wherever it was cut (a cut inside the header is a bad header).
#[test]
fn a_segment_file_cut_shorter_than_it_was_made_is_corruption() {
    for closed in [false, true] {
        let dir = temp_dir(&format!("cut-short-{closed}"));
        let segs = log(&dir, closed);
        let pristine = dir_bytes(&dir);
        for (s, seg) in segs.iter().enumerate() {
            let written = written_len(seg) as u64;
            for len in [0, 20, 39, 40, 41, 300, written / 2, written - 1, written, written + 1, SEGMENT_SIZE - 8, SEGMENT_SIZE - 1] {
                let what = format!("closed {closed}: segment {s} cut to {len} bytes");
                truncate(seg, len);
                let (segment, offset, reason) = corrupt(Wal::open(&dir, small()), &what);
                assert_eq!(segment, *seg, "{what}");
                if len < SEGMENT_HEADER as u64 {
                    assert_eq!((offset, reason.as_str()), (0, "bad segment header"), "{what}");
                } else {
                    assert_eq!(offset, len, "{what}");
                    assert!(reason.contains("cut off"), "{what}: {reason}");
                }
                restore(&dir, &pristine);
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// The epoch is a boot counter: 1 for a new log, one more on every open, whether the log was
/// closed cleanly or dropped (a crash), and `open_after` counts too. A refused open does not
/// count; a repair keeps it.
#[test]
fn each_open_bumps_the_epoch_by_one_after_a_clean_close_or_a_crash() {
    let dir = temp_dir("epoch");
    let (mut wal, _, _) = Wal::open(&dir, small()).unwrap();
    assert_eq!(wal.epoch(), 1);
    wal.append(1, &[b"a"]).unwrap();
    wal.close().unwrap();
    let mut expected = 1;
    // (how the previous run ended, how this one opens)
    for (step, crash) in [false, true, true, false, true].into_iter().enumerate() {
        expected += 1;
        let (mut wal, entries, _) = if step % 2 == 0 { Wal::open(&dir, small()).unwrap() } else { Wal::open_after(&dir, small(), 1).unwrap() };
        assert_eq!(wal.epoch(), expected, "step {step}");
        assert!(!entries.is_empty() || step % 2 == 1);
        wal.append(1, &[b"b"]).unwrap();
        if crash {
            drop(wal);
        } else {
            wal.close().unwrap();
        }
    }
    // A refused open leaves the epoch alone.
    let last = segments(&dir).last().unwrap().clone();
    let pristine = std::fs::read(&last).unwrap();
    zero_range(&last, SEGMENT_HEADER, SEGMENT_HEADER + RECORD_HEADER);
    assert!(Wal::open(&dir, small()).is_err());
    std::fs::write(&last, &pristine).unwrap();
    // A repair with nothing to do, and one that rebuilds the MANIFEST after its loss.
    assert!(repair(&dir, 0).unwrap().actions.is_empty());
    let (wal, _, _) = Wal::open(&dir, small()).unwrap();
    expected += 1;
    assert_eq!(wal.epoch(), expected);
    wal.close().unwrap();
    // A repair that rewrites the MANIFEST (a closed log whose tail was zeroed) keeps the epoch.
    let first = records(&last)[0].clone();
    zero_range(&last, first.offset, SEGMENT_SIZE as usize);
    assert!(Wal::open(&dir, small()).is_err());
    assert!(!repair(&dir, 0).unwrap().actions.is_empty());
    let (wal, _, _) = Wal::open(&dir, small()).unwrap();
    expected += 1;
    assert_eq!(wal.epoch(), expected);
    drop(wal);
    std::fs::remove_dir_all(&dir).unwrap();
}
