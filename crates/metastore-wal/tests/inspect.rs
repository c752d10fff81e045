//! Read-only inspection: what a log holds and whether it would open, without locking it or
//! changing a byte (a torn tail is reported, not cut), with the same verdict as opening it.

mod common;

use common::*;
use metastore_wal::{inspect, Wal, WalError};
use std::path::{Path, PathBuf};

const GROUPS: u64 = 120;

#[test]
fn inspecting_a_torn_tail_reports_it_and_changes_nothing() {
    let dir = temp_dir("inspect-torn");
    fill(&dir, 40);
    // A last record longer than a sector, so it always crosses a sector boundary.
    let (mut wal, _, _) = Wal::open(&dir, small()).unwrap();
    wal.append(1, &[&[7u8; 1000]]).unwrap();
    drop(wal);
    let last = segments(&dir).last().unwrap().clone();
    let rec = last_entries(&last);
    let (start, end) = (rec.offset, records(&last).last().unwrap().end);
    // The last append reached the disk only in part, and its COMMIT not at all (zeros written
    // over preallocated space: the file keeps its length).
    type Cut = fn(&mut Vec<u8>, usize, usize);
    let cuts: [(&str, Cut); 2] = [
        ("zeroed from the middle of the record", |d, s, e| d[(s + e) / 2..e].fill(0)),
        ("zeroed from a sector boundary", |d, s, e| d[((s / 512 + 1) * 512).min(e)..e].fill(0)),
    ];
    let pristine = std::fs::read(&last).unwrap();
    for (what, cut) in cuts {
        let mut data = pristine.clone();
        cut(&mut data, start, end);
        assert_ne!(data, pristine, "{what}");
        std::fs::write(&last, &data).unwrap();
        let before = dir_bytes(&dir);
        let info = inspect(&dir, 0).unwrap();
        assert_eq!(dir_bytes(&dir), before, "{what}: inspect changed the log");
        assert_eq!(info.torn_tail, Some((last.clone(), start as u64)), "{what}");
        assert!(info.opens() && info.corruption.is_none() && info.covered_damage.is_empty(), "{what}");
        assert_eq!(info.last_index, rec.first - 1, "{what}");
        assert_eq!(info.segments.last().unwrap().bytes_used, start as u64, "{what}");
        assert!(info.to_string().contains("torn tail"), "{what}: {info}");
        // Opening does cut it, which is the difference.
        let (wal, entries, recovery) = Wal::open(&dir, small()).unwrap();
        assert_eq!((entries.len() as u64, recovery.truncated), (info.last_index, Some((last.clone(), start as u64))), "{what}");
        drop(wal);
        assert_ne!(dir_bytes(&dir), before, "{what}: open cuts the torn tail");
        std::fs::write(&last, &pristine).unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inspect_describes_segments_indexes_and_damage() {
    struct Case {
        what: &'static str,
        groups: u64,
        closed: bool,
        purge_through: Option<u64>,
        flip_in_segment: Option<usize>,
    }
    let cases = [
        Case { what: "empty log", groups: 0, closed: false, purge_through: None, flip_in_segment: None },
        Case { what: "healthy log", groups: GROUPS, closed: false, purge_through: None, flip_in_segment: None },
        Case { what: "healthy log, closed", groups: GROUPS, closed: true, purge_through: None, flip_in_segment: None },
        Case { what: "purged log", groups: GROUPS, closed: false, purge_through: Some(200), flip_in_segment: None },
        Case { what: "bit flip mid-log", groups: GROUPS, closed: true, purge_through: None, flip_in_segment: Some(1) },
    ];
    for (i, case) in cases.iter().enumerate() {
        let what = case.what;
        let dir = temp_dir(&format!("inspect-{i}"));
        if case.closed {
            fill_closed(&dir, case.groups);
        } else {
            fill(&dir, case.groups);
        }
        if let Some(through) = case.purge_through {
            let (mut wal, _, _) = Wal::open(&dir, small()).unwrap();
            assert!(wal.purge_through(through).unwrap() > 0, "{what}");
        }
        let segs = segments(&dir);
        // The second ENTRIES record of that segment, and the entry before it (read before the
        // flip): the segment is read up to it (an ENTRIES and a COMMIT record).
        let damage = case.flip_in_segment.map(|s| {
            let offset = entries_offsets(&segs[s])[1];
            let last_kept = record_first_index(&segs[s], offset) - 1;
            flip_bit(&segs[s], offset + RECORD_HEADER + 4);
            (s, offset as u64, last_kept)
        });
        let before = dir_bytes(&dir);
        let info = inspect(&dir, 0).unwrap();
        assert_eq!(dir_bytes(&dir), before, "{what}: inspect changed the log");
        assert_eq!(info.first_index, first_index_of(&segs[0]), "{what}");
        assert_eq!(info.torn_tail, None, "{what}");
        assert!(info.covered_damage.is_empty(), "{what}");
        assert_eq!(info.closed_at, case.closed.then_some(case.groups * 3), "{what}");
        let names: Vec<String> = segs.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        match damage {
            None => {
                assert!(info.opens(), "{what}");
                assert_eq!(info.last_index, case.groups * 3, "{what}");
                assert_eq!(info.segments.iter().map(|s| s.name.clone()).collect::<Vec<_>>(), names, "{what}");
                let entries: u64 = info.segments.iter().map(|s| s.entries).sum();
                let record_count: u64 = info.segments.iter().map(|s| s.records).sum();
                assert_eq!(entries, info.last_index + 1 - info.first_index, "{what}");
                // An ENTRIES and a COMMIT record per append of 3 entries.
                assert_eq!(record_count * 3, entries * 2, "{what}");
                for (s, path) in info.segments.iter().zip(&segs) {
                    assert_eq!((s.seq, s.first_index), name_of(path), "{what}");
                    let used = records(path).last().map_or(SEGMENT_HEADER, |r| r.end) as u64;
                    assert_eq!(s.bytes_used, used, "{what}");
                }
            }
            Some((s, offset, last_kept)) => {
                assert!(!info.opens(), "{what}");
                let (segment, at, reason) = info.corruption.clone().unwrap();
                assert_eq!((segment, at), (segs[s].clone(), offset), "{what}");
                assert_eq!(info.segments.len(), s + 1, "{what}");
                assert_eq!(info.segments[s].records, 2, "{what}");
                assert_eq!(info.last_index, last_kept, "{what}");
                assert!(info.to_string().contains(&reason), "{what}: {info}");
            }
        }
        assert!(!info.to_string().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn inspect_works_while_another_instance_has_the_log_open() {
    let dir = temp_dir("inspect-open");
    fill(&dir, 10);
    let (mut wal, _, _) = Wal::open(&dir, small()).unwrap();
    assert_eq!(inspect(&dir, 0).unwrap().last_index, 30);
    wal.append(1, &[b"more"]).unwrap();
    assert_eq!(inspect(&dir, 0).unwrap().last_index, 31);
    drop(wal);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inspecting_a_missing_directory_is_an_error_and_creates_nothing() {
    let dir = temp_dir("inspect-missing");
    assert!(inspect(&dir, 0).is_err());
    assert!(!dir.exists());
}

/// How a log opens (or not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// Opens as it is.
    Opens,
    /// Opens after cutting a torn tail.
    Torn,
    /// Opens, reading past damage the snapshot covers.
    Covered,
    Corrupt,
}

type Damage = Box<dyn Fn(&Path, &[PathBuf])>;

fn dmg(f: impl Fn(&Path, &[PathBuf]) + 'static) -> Damage {
    Box::new(f)
}

/// Every kind of damage the other tests pin, on a copy of the same log: (case, closed cleanly,
/// the snapshot index it is opened after, damage, expected verdict; `None`: only that inspect
/// and open agree).
fn agreement_cases(segs: &[PathBuf]) -> Vec<(&'static str, bool, u64, Damage, Option<Verdict>)> {
    use Verdict::*;
    let last = segs.len() - 1;
    let last_recs = records(&segs[last]);
    let (entries_at, commit_at, commit_end) =
        (last_recs[last_recs.len() - 2].offset, last_recs[last_recs.len() - 1].offset, last_recs[last_recs.len() - 1].end);
    let mid = records(&segs[0])[6].clone();
    let (mid_at, mid_last) = (mid.offset, mid.last);
    let mid_of_last = last_recs[4].offset;
    let f = |s: usize| first_index_of(&segs[s]);
    let size = SEGMENT_SIZE as usize;
    vec![
        ("healthy, after a crash", false, 0, dmg(|_, _| {}), Some(Opens)),
        ("healthy, closed", true, 0, dmg(|_, _| {}), Some(Opens)),
        ("no log yet", false, 0, dmg(|d, _| std::fs::read_dir(d).unwrap().for_each(|e| std::fs::remove_file(e.unwrap().path()).unwrap())), Some(Opens)),
        ("last append torn", false, 0, dmg(move |_, ds| zero_range(&ds[last], entries_at + 50, size)), Some(Torn)),
        ("final COMMIT flipped, closed", true, 0, dmg(move |_, ds| flip_bit(&ds[last], commit_at + 27)), Some(Torn)),
        ("final COMMIT zeroed", false, 0, dmg(move |_, ds| zero_range(&ds[last], commit_at, commit_end)), Some(Opens)),
        ("garbage after the final COMMIT", false, 0, dmg(move |_, ds| flip_bit(&ds[last], commit_end + 100)), Some(Torn)),
        ("zeroed header mid last segment", false, 0, dmg(move |_, ds| zero_range(&ds[last], mid_of_last, mid_of_last + RECORD_HEADER)), Some(Corrupt)),
        ("flipped byte in the last acknowledged record", true, 0, dmg(move |_, ds| flip_bit(&ds[last], entries_at + 30)), Some(Corrupt)),
        ("flipped bit mid first segment", false, 0, dmg(move |_, ds| flip_bit(&ds[0], mid_at + 30)), Some(Corrupt)),
        ("flipped bit mid first segment, covered", false, mid_last, dmg(move |_, ds| flip_bit(&ds[0], mid_at + 30)), Some(Covered)),
        ("flipped bit mid first segment, not quite covered", true, mid_last - 1, dmg(move |_, ds| flip_bit(&ds[0], mid_at + 30)), Some(Corrupt)),
        ("damaged header of the first segment, covered", true, f(1) - 1, dmg(|_, ds| flip_bit(&ds[0], 20)), Some(Covered)),
        ("damaged header of a middle segment", true, f(3) - 2, dmg(|_, ds| flip_bit(&ds[2], 20)), Some(Corrupt)),
        (
            "segment in the first log format, covered",
            true,
            f(1) - 1,
            dmg(|_, ds| {
                let mut data = std::fs::read(&ds[0]).unwrap();
                data[..8].copy_from_slice(b"MSWAL001");
                std::fs::write(&ds[0], data).unwrap();
            }),
            Some(Corrupt),
        ),
        ("newest segment missing", false, 0, dmg(|_, ds| std::fs::remove_file(ds.last().unwrap()).unwrap()), Some(Corrupt)),
        ("every segment missing", true, 0, dmg(|_, ds| ds.iter().for_each(|p| std::fs::remove_file(p).unwrap())), Some(Corrupt)),
        ("MANIFEST missing", false, 0, dmg(|d, _| std::fs::remove_file(d.join("MANIFEST")).unwrap()), Some(Corrupt)),
        ("MANIFEST damaged", true, 0, dmg(|d, _| flip_bit(&d.join("MANIFEST"), 3)), Some(Corrupt)),
        ("middle segment missing", false, 0, dmg(|_, ds| std::fs::remove_file(&ds[2]).unwrap()), Some(Corrupt)),
        ("middle segment missing, covered", true, f(3) - 1, dmg(|_, ds| std::fs::remove_file(&ds[2]).unwrap()), Some(Covered)),
        ("oldest segment missing", true, 0, dmg(|_, ds| std::fs::remove_file(&ds[0]).unwrap()), Some(Opens)),
        ("closed log, last append zeroed", true, 0, dmg(move |_, ds| zero_range(&ds[last], entries_at, size)), Some(Corrupt)),
        ("segment cut short", false, 0, dmg(|_, ds| truncate(&ds[1], 1000)), Some(Corrupt)),
        ("last segment cut short", true, 0, dmg(|_, ds| truncate(ds.last().unwrap(), SEGMENT_SIZE - 8)), Some(Corrupt)),
        (
            "first segment copied beside itself",
            false,
            0,
            dmg(|d, ds| {
                std::fs::copy(&ds[0], d.join(segment_name(1, 2))).unwrap();
            }),
            None,
        ),
        (
            "two segments' names swapped",
            false,
            0,
            dmg(|_, ds| {
                let tmp = ds[1].with_extension("x");
                std::fs::rename(&ds[1], &tmp).unwrap();
                std::fs::rename(&ds[3], &ds[1]).unwrap();
                std::fs::rename(&tmp, &ds[3]).unwrap();
            }),
            Some(Corrupt),
        ),
    ]
}

#[test]
fn inspect_and_open_agree_on_every_kind_of_damage() {
    let pristine: Vec<PathBuf> = [false, true]
        .iter()
        .map(|&closed| {
            let dir = temp_dir(&format!("agree-pristine-{closed}"));
            if closed {
                fill_closed(&dir, GROUPS);
            } else {
                fill(&dir, GROUPS);
            }
            dir
        })
        .collect();
    let segs = segments(&pristine[0]);
    assert_eq!(segs.iter().map(|p| p.file_name()).collect::<Vec<_>>(), segments(&pristine[1]).iter().map(|p| p.file_name()).collect::<Vec<_>>());
    let dir = temp_dir("agree");
    for (what, closed, k, damage, expected) in agreement_cases(&segs) {
        let what = format!("{what} (closed {closed}, after {k})");
        copy_dir(&pristine[closed as usize], &dir);
        let ds: Vec<PathBuf> = segs.iter().map(|p| dir.join(p.file_name().unwrap())).collect();
        damage(&dir, &ds);
        let before = dir_bytes(&dir);
        let info = inspect(&dir, k).unwrap();
        assert_eq!(dir_bytes(&dir), before, "{what}: inspect changed the log");
        let verdict = match Wal::open_after(&dir, small(), k) {
            Err(WalError::Corrupt { segment, offset, reason }) => {
                assert_eq!(info.corruption, Some((segment, offset, reason)), "{what}");
                assert!(!info.opens(), "{what}");
                Verdict::Corrupt
            }
            Err(e) => panic!("{what}: {e}"),
            Ok((wal, entries, recovery)) => {
                assert!(info.opens(), "{what}: inspect says {:?}", info.corruption);
                assert_eq!(info.torn_tail, recovery.truncated, "{what}");
                assert_eq!(info.covered_damage, recovery.covered_damage, "{what}");
                assert_eq!(info.last_index, wal.last_index(), "{what}");
                if recovery.covered_damage.is_empty() {
                    // (Past a covered damaged first segment, inspect counts from the first segment
                    // it could read, the log from the first segment's name.)
                    assert_eq!(info.first_index, wal.first_index(), "{what}");
                }
                assert_eq!(entries.last().map_or(k.max(wal.first_index() - 1), |e| e.index), wal.last_index(), "{what}");
                if recovery.truncated.is_some() {
                    Verdict::Torn
                } else if !recovery.covered_damage.is_empty() {
                    Verdict::Covered
                } else {
                    Verdict::Opens
                }
            }
        };
        if let Some(expected) = expected {
            assert_eq!(verdict, expected, "{what}");
        }
        if verdict == Verdict::Corrupt {
            assert!(info.to_string().contains("corrupt in"), "{what}: {info}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    for p in pristine {
        std::fs::remove_dir_all(&p).unwrap();
    }
}
