//! Read-only inspection: what a log holds and whether it would open, without locking it or
//! changing a byte (a torn tail is reported, not cut).

mod common;

use common::*;
use metastore_wal::{inspect, Wal};

#[test]
fn inspecting_a_torn_tail_reports_it_and_changes_nothing() {
    let dir = temp_dir("inspect-torn");
    fill(&dir, 40);
    // A last record longer than a sector, so it always crosses a sector boundary.
    let (mut wal, _, _) = Wal::open(&dir, small()).unwrap();
    wal.append(1, &[&[7u8; 1000]]).unwrap();
    drop(wal);
    let last = segments(&dir).last().unwrap().clone();
    let (start, end) = last_record_span(&last);
    // Cut mid-record (file shorter than preallocated) and zero the record's later sectors.
    type Cut = fn(&mut Vec<u8>, usize, usize);
    let cuts: [(&str, Cut); 2] = [
        ("file cut mid-record", |d, s, e| d.truncate((s + e) / 2)),
        ("record's later part zeroed", |d, s, e| d[((s / 512 + 1) * 512).min(e)..e].fill(0)),
    ];
    let pristine = std::fs::read(&last).unwrap();
    for (what, cut) in cuts {
        let mut data = pristine.clone();
        cut(&mut data, start, end);
        assert_ne!(data, pristine, "{what}");
        std::fs::write(&last, &data).unwrap();
        let before = dir_bytes(&dir);
        let info = inspect(&dir, small()).unwrap();
        assert_eq!(dir_bytes(&dir), before, "{what}: inspect changed the log");
        assert_eq!(info.torn_tail, Some((last.clone(), start as u64)), "{what}");
        assert!(info.opens() && info.corruption.is_none(), "{what}");
        assert_eq!(info.last_index, record_first_index(&last, start) - 1, "{what}");
        assert_eq!(info.segments.last().unwrap().bytes_used, start as u64, "{what}");
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
        purge_through: Option<u64>,
        flip_in_segment: Option<usize>,
    }
    let cases = [
        Case { what: "empty log", groups: 0, purge_through: None, flip_in_segment: None },
        Case { what: "healthy log", groups: 120, purge_through: None, flip_in_segment: None },
        Case { what: "purged log", groups: 120, purge_through: Some(200), flip_in_segment: None },
        Case { what: "bit flip mid-log", groups: 120, purge_through: None, flip_in_segment: Some(1) },
    ];
    for (i, case) in cases.iter().enumerate() {
        let what = case.what;
        let dir = temp_dir(&format!("inspect-{i}"));
        fill(&dir, case.groups);
        if let Some(through) = case.purge_through {
            let (mut wal, _, _) = Wal::open(&dir, small()).unwrap();
            assert!(wal.purge_through(through).unwrap() > 0, "{what}");
        }
        let segs = segments(&dir);
        // The second record of that segment, and the entry before it (read before the flip).
        let damage = case.flip_in_segment.map(|s| {
            let offset = record_offsets(&segs[s])[1];
            let last_kept = record_first_index(&segs[s], offset) - 1;
            flip_bit(&segs[s], offset + 16);
            (s, offset as u64, last_kept)
        });
        let before = dir_bytes(&dir);
        let info = inspect(&dir, small()).unwrap();
        assert_eq!(dir_bytes(&dir), before, "{what}: inspect changed the log");
        assert_eq!(info.first_index, first_index_of(&segs[0]), "{what}");
        assert_eq!(info.torn_tail, None, "{what}");
        let names: Vec<String> = segs.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        match damage {
            None => {
                assert!(info.opens() && info.unread.is_empty(), "{what}");
                assert_eq!(info.last_index, case.groups * 3, "{what}");
                assert_eq!(info.segments.iter().map(|s| s.name.clone()).collect::<Vec<_>>(), names, "{what}");
                let entries: u64 = info.segments.iter().map(|s| s.entries).sum();
                let records: u64 = info.segments.iter().map(|s| s.records).sum();
                assert_eq!(entries, info.last_index + 1 - info.first_index, "{what}");
                assert_eq!(records * 3, entries, "{what}");
                for (s, path) in info.segments.iter().zip(&segs) {
                    let seq = u64::from_str_radix(&s.name[..16], 16).unwrap();
                    assert_eq!((s.seq, s.first_index), (seq, first_index_of(path)), "{what}");
                    assert!(s.bytes_used >= 32 && s.bytes_used <= SEGMENT_SIZE, "{what}");
                }
            }
            Some((s, offset, last_kept)) => {
                assert!(!info.opens(), "{what}");
                let (segment, at, _) = info.corruption.clone().unwrap();
                assert_eq!((segment, at), (segs[s].clone(), offset), "{what}");
                assert_eq!(info.segments.len(), s + 1, "{what}");
                assert_eq!(info.segments[s].records, 1, "{what}");
                assert_eq!(info.unread, segs[s + 1..].to_vec(), "{what}");
                assert_eq!(info.last_index, last_kept, "{what}");
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
    assert_eq!(inspect(&dir, small()).unwrap().last_index, 30);
    wal.append(1, &[b"more"]).unwrap();
    assert_eq!(inspect(&dir, small()).unwrap().last_index, 31);
    drop(wal);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inspecting_a_missing_directory_is_an_error_and_creates_nothing() {
    let dir = temp_dir("inspect-missing");
    assert!(inspect(&dir, small()).is_err());
    assert!(!dir.exists());
}
