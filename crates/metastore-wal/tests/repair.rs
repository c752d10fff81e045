//! Explicit repair: damage to records the state needs cuts the log exactly at the damage,
//! reports the readable entries it drops, and leaves a log that opens with the entries before
//! the damage and is marked closed there; damage the snapshot covers, a torn tail and a healthy
//! log are left as they are; a lost MANIFEST is rebuilt, a lost newest segment accepted; running
//! it twice changes nothing the second time.

mod common;

use common::*;
use metastore_wal::{inspect, repair, Wal, WalError};
use std::path::{Path, PathBuf};

const GROUPS: u64 = 120;
const TOTAL: u64 = GROUPS * 3;

/// Where to damage the pristine log and what a repair must make of it.
struct Case {
    what: &'static str,
    damage: Box<dyn Fn(&Path)>,
    /// The segment number (in the pristine log) and offset the damage is reported at.
    at: (usize, u64),
    /// The last entry the repaired log holds; the readable entries it drops start at
    /// `drop_from` (everything up to TOTAL).
    kept: u64,
    drop_from: u64,
}

fn cases(segs: &[PathBuf]) -> Vec<Case> {
    let recs = |s: usize| records(&segs[s]);
    let name = |s: usize| segs[s].file_name().unwrap().to_owned();
    let first = |s: usize| first_index_of(&segs[s]);
    let mut out = Vec::new();
    // A flipped bit in record `r` of segment `s`: an ENTRIES record's entries go with it (not
    // readable), a COMMIT loses none.
    let mut flip = |what: &'static str, s: usize, r: usize, byte: usize| {
        let rec = recs(s)[r].clone();
        let n = name(s);
        let kept = if rec.kind == ENTRIES { rec.first - 1 } else { rec.last };
        out.push(Case { what, damage: Box::new(move |d| flip_bit(&d.join(&n), rec.offset + byte)), at: (s, rec.offset as u64), kept, drop_from: rec.last + 1 });
    };
    flip("first record of the first segment", 0, 0, RECORD_HEADER + 5);
    flip("an ENTRIES header in the first segment", 0, 6, 2);
    flip("a COMMIT mid-log", 1, 3, RECORD_HEADER + 1);
    flip("middle of a middle segment", 2, 4, RECORD_HEADER + 40);
    flip("first record of a middle segment", 1, 0, RECORD_HEADER + 5);
    flip("last segment, not its last append", 5, 2, RECORD_HEADER + 20);
    let rec = recs(5)[6].clone();
    let n = name(5);
    out.push(Case {
        what: "zeroed record header mid last segment",
        damage: Box::new(move |d| zero_range(&d.join(&n), rec.offset, rec.offset + RECORD_HEADER)),
        at: (5, rec.offset as u64),
        kept: rec.first - 1,
        drop_from: rec.last + 1,
    });
    let n = name(2);
    out.push(Case {
        what: "header of a middle segment",
        damage: Box::new(move |d| flip_bit(&d.join(&n), 12)),
        at: (2, 0),
        kept: first(2) - 1,
        drop_from: first(2),
    });
    let n = name(0);
    out.push(Case { what: "header of the first segment", damage: Box::new(move |d| flip_bit(&d.join(&n), 12)), at: (0, 0), kept: 0, drop_from: 1 });
    let n = name(2);
    out.push(Case {
        what: "middle segment missing",
        damage: Box::new(move |d| std::fs::remove_file(d.join(&n)).unwrap()),
        at: (3, 0),
        kept: first(2) - 1,
        drop_from: first(3),
    });
    let cut_at = recs(2)[6].offset;
    let kept = recs(2)[5].last;
    let n = name(2);
    out.push(Case {
        what: "middle segment cut short",
        damage: Box::new(move |d| truncate(&d.join(&n), cut_at as u64)),
        at: (2, cut_at as u64),
        kept,
        drop_from: first(3),
    });
    out
}

#[test]
fn repair_cuts_at_the_damage_reports_the_dropped_entries_and_marks_the_log_closed_there() {
    for closed in [false, true] {
        let pristine = temp_dir(&format!("repair-pristine-{closed}"));
        let segs = if closed { fill_closed(&pristine, GROUPS) } else { fill(&pristine, GROUPS) };
        assert_eq!(segs.len(), 6);
        let names: Vec<PathBuf> = segs.iter().map(|p| PathBuf::from(p.file_name().unwrap())).collect();
        let dir = temp_dir(&format!("repair-{closed}"));
        for case in cases(&segs) {
            let what = format!("{} (closed {closed})", case.what);
            copy_dir(&pristine, &dir);
            let path = |s: usize| dir.join(&names[s]);
            (case.damage)(&dir);
            let (seg, offset) = (path(case.at.0), case.at.1);
            let (segment, o, reason) = corrupt(Wal::open(&dir, small()), &what);
            assert_eq!((segment, o), (seg.clone(), offset), "{what}");
            let damaged_before = std::fs::read(&seg).unwrap();
            let there_before = segments(&dir);

            let report = repair(&dir, 0).unwrap();
            let cut = report.truncated.clone().unwrap_or_else(|| panic!("{what}: nothing cut: {report}"));
            assert_eq!((cut.segment.clone(), cut.offset, cut.reason.as_str()), (seg.clone(), offset, reason.as_str()), "{what}");
            assert_eq!(report.last_index, case.kept, "{what}: {report}");
            assert_eq!(indexes(&report.dropped), (case.drop_from..=TOTAL).collect::<Vec<_>>(), "{what}");
            assert!(report.dropped.iter().all(|e| e.data == entry(e.index) && e.term == 1), "{what}");
            if case.drop_from > case.kept + 1 {
                assert!(report.unreadable_loss, "{what}: entries {}..{} could not be read", case.kept + 1, case.drop_from);
            }
            assert!(report.actions[0].starts_with("cut the log at"), "{what}: {report}");
            assert!(report.to_string().contains(&format!("the log now ends at index {}", case.kept)), "{what}: {report}");
            // Whole segments go when the damage is in a later segment's header or link.
            let s = segs.iter().position(|p| p.file_name() == seg.file_name()).unwrap();
            let whole = offset == 0 && s > 0;
            let from = if whole { s } else { s + 1 };
            let removed: Vec<PathBuf> =
                there_before.iter().filter(|p| segs.iter().position(|q| q.file_name() == p.file_name()).unwrap() >= from).cloned().collect();
            assert_eq!(cut.segments_removed, removed, "{what}");
            let left: Vec<PathBuf> = segments(&dir);
            assert!(left.iter().all(|p| !removed.contains(p)) && left.last().map(|p| first_index_of(p)) <= Some(case.kept + 1), "{what}: {left:?}");
            if !whole {
                // Cut exactly there: the bytes before are untouched, everything after is zero,
                // and the segment has its preallocated size.
                let now = std::fs::read(&seg).unwrap();
                let keep = (offset as usize).max(SEGMENT_HEADER);
                assert_eq!(now.len() as u64, SEGMENT_SIZE, "{what}");
                if offset > 0 {
                    assert!(now[..keep] == damaged_before[..keep], "{what}: bytes before the damage changed");
                }
                assert!(now[keep..].iter().all(|&b| b == 0), "{what}: bytes after the damage remain");
            }

            // A second repair finds nothing and changes nothing.
            let files = dir_bytes(&dir);
            let again = repair(&dir, 0).unwrap();
            assert_eq!(dir_bytes(&dir), files, "{what}: the second repair changed files");
            assert!(again.actions.is_empty() && again.truncated.is_none() && again.dropped.is_empty() && !again.unreadable_loss, "{what}: {again}");
            assert_eq!(again.last_index, case.kept, "{what}");

            // The MANIFEST says the log was closed at the new last index: a tail zeroed now is
            // detected on the next open.
            assert_eq!(inspect(&dir, 0).unwrap().closed_at, Some(case.kept), "{what}");
            let last = left.last().unwrap().clone();
            if let Some(r) = records(&last).into_iter().rev().find(|r| r.kind == ENTRIES) {
                zero_range(&last, r.offset, SEGMENT_SIZE as usize);
                let (_, _, reason) = corrupt(Wal::open(&dir, small()), &format!("{what}: tail zeroed after the repair"));
                assert!(reason.contains(&format!("but was closed at index {}", case.kept)), "{what}: {reason}");
                restore(&dir, &files);
            }

            let (mut wal, entries, recovery) = Wal::open(&dir, small()).unwrap_or_else(|e| panic!("{what}: open after repair: {e}"));
            assert_eq!(recovery, Default::default(), "{what}");
            assert_entries(&entries, 1, case.kept, &what);
            assert_eq!(wal.append(1, &[b"after repair"]).unwrap(), case.kept + 1, "{what}");
            drop(wal);
            let (wal, entries, _) = Wal::open(&dir, small()).unwrap();
            assert_eq!(entries.len() as u64, case.kept + 1, "{what}");
            drop(wal);
        }
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&pristine).unwrap();
    }
}

/// Damage the snapshot covers does not stop the log from opening after it: repair after that
/// snapshot leaves it alone (the purge after the next snapshot removes it) and says there is
/// nothing to repair. Repair with no snapshot does cut it.
#[test]
fn repair_leaves_damage_the_snapshot_covers_alone() {
    let pristine = temp_dir("repair-covered-pristine");
    let segs = fill_closed(&pristine, GROUPS);
    let dir = temp_dir("repair-covered");
    let rec = records(&segs[1])[4].clone();
    type Damage = Box<dyn Fn(&Path)>;
    let (n0, n1, n2) = (segs[0].file_name().unwrap().to_owned(), segs[1].file_name().unwrap().to_owned(), segs[2].file_name().unwrap().to_owned());
    // (case, damage, a snapshot index that covers it)
    let cases: Vec<(&str, Damage, u64)> = vec![
        ("flipped bit in a record", Box::new(move |d| flip_bit(&d.join(&n1), rec.offset + RECORD_HEADER + 3)), rec.last),
        ("damaged first segment header", Box::new(move |d| flip_bit(&d.join(&n0), 9)), first_index_of(&segs[1]) - 1),
        ("middle segment missing", Box::new(move |d| std::fs::remove_file(d.join(&n2)).unwrap()), first_index_of(&segs[3]) - 1),
    ];
    for (what, damage, k) in cases {
        for after in [k, TOTAL] {
            copy_dir(&pristine, &dir);
            damage(&dir);
            let before = dir_bytes(&dir);
            let report = repair(&dir, after).unwrap();
            assert_eq!(dir_bytes(&dir), before, "{what} after {after}: repair changed files");
            assert!(report.actions.is_empty() && report.truncated.is_none() && report.dropped.is_empty() && !report.unreadable_loss, "{what}: {report}");
            assert_eq!((report.last_index, report.torn_tail.clone()), (TOTAL, None), "{what}");
            assert!(report.to_string().starts_with("nothing to repair"), "{what}: {report}");
            let (wal, entries, recovery) = Wal::open_after(&dir, small(), after).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_entries(&entries, after + 1, TOTAL, what);
            assert!(!recovery.covered_damage.is_empty(), "{what}");
            drop(wal);
        }
        // Without the snapshot the same damage is cut.
        let report = repair(&dir, 0).unwrap();
        assert!(report.truncated.is_some() && report.last_index < TOTAL, "{what}: {report}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&pristine).unwrap();
}

#[test]
fn repair_of_a_log_that_opens_changes_nothing() {
    // (case, damage): a healthy log, and one with a torn tail (which opening cuts, not repair).
    let cases: [(&str, bool); 2] = [("healthy", false), ("torn tail", true)];
    for (i, (what, torn)) in cases.iter().enumerate() {
        let dir = temp_dir(&format!("repair-noop-{i}"));
        let segs = fill(&dir, GROUPS);
        let last = segs.last().unwrap().clone();
        let rec = last_entries(&last);
        if *torn {
            // The last append's later part never reached the disk, nor did its COMMIT.
            zero_range(&last, rec.offset + 50, SEGMENT_SIZE as usize);
        }
        let before = dir_bytes(&dir);
        let report = repair(&dir, 0).unwrap();
        assert_eq!(dir_bytes(&dir), before, "{what}: repair changed files");
        assert!(report.truncated.is_none() && report.actions.is_empty() && report.dropped.is_empty() && !report.unreadable_loss, "{what}");
        assert!(report.to_string().starts_with("nothing to repair"), "{what}: {report}");
        let kept = if *torn { rec.first - 1 } else { TOTAL };
        assert_eq!(report.last_index, kept, "{what}");
        assert_eq!(report.torn_tail, torn.then(|| (last.clone(), rec.offset as u64)), "{what}");
        if *torn {
            assert!(report.to_string().contains("is cut on the next open"), "{what}: {report}");
        }
        let (wal, entries, recovery) = Wal::open(&dir, small()).unwrap();
        assert_eq!((entries.len() as u64, recovery.truncated), (kept, report.torn_tail.clone()), "{what}");
        drop(wal);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// A lost or damaged MANIFEST is rebuilt from the segments; nothing is lost, and the rebuilt one
/// marks the log closed at its last index.
#[test]
fn repair_rebuilds_a_missing_or_damaged_manifest() {
    type Damage = fn(&Path);
    let cases: [(&str, Damage, &str); 3] = [
        ("missing", |d| std::fs::remove_file(d.join("MANIFEST")).unwrap(), "rebuilt the missing MANIFEST"),
        ("damaged", |d| flip_bit(&d.join("MANIFEST"), 30), "rebuilt the MANIFEST (MANIFEST is damaged)"),
        ("cut short", |d| truncate(&d.join("MANIFEST"), 20), "rebuilt the MANIFEST (MANIFEST is damaged)"),
    ];
    for closed in [false, true] {
        for (i, (what, damage, action)) in cases.iter().enumerate() {
            let what = format!("{what} (closed {closed})");
            let dir = temp_dir(&format!("repair-manifest-{closed}-{i}"));
            if closed {
                fill_closed(&dir, GROUPS);
            } else {
                fill(&dir, GROUPS);
            }
            damage(&dir);
            corrupt(Wal::open(&dir, small()), &what);
            let report = repair(&dir, 0).unwrap();
            assert_eq!(report.actions, vec![action.to_string()], "{what}: {report}");
            assert!(report.truncated.is_none() && report.dropped.is_empty() && !report.unreadable_loss, "{what}: {report}");
            assert_eq!(report.last_index, TOTAL, "{what}");
            assert_eq!(inspect(&dir, 0).unwrap().closed_at, Some(TOTAL), "{what}");
            let files = dir_bytes(&dir);
            assert!(repair(&dir, 0).unwrap().actions.is_empty(), "{what}: second repair");
            assert_eq!(dir_bytes(&dir), files, "{what}: second repair changed files");
            let (wal, entries, _) = Wal::open(&dir, small()).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_entries(&entries, 1, TOTAL, &what);
            drop(wal);
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}

/// What cannot be read back is accepted as lost, on purpose: a missing newest segment, every
/// segment missing (the log starts again), a closed log whose tail was zeroed. The repaired log
/// opens with what is left and appends continue after it.
#[test]
fn repair_accepts_the_loss_of_what_cannot_be_read_and_the_log_opens() {
    type Damage = fn(&Path, &[PathBuf]);
    // (case, damage, entries left, the first action's gist)
    let cases: [(&str, Damage, fn(&[PathBuf]) -> u64, &str); 3] = [
        (
            "newest segment missing",
            |_, s| std::fs::remove_file(s.last().unwrap()).unwrap(),
            |s| first_index_of(s.last().unwrap()) - 1,
            "accepted the loss: the newest segment",
        ),
        (
            "every segment missing",
            |_, s| s.iter().for_each(|p| std::fs::remove_file(p).unwrap()),
            |_| 0,
            "accepted the loss: every segment of the log is missing",
        ),
        (
            "closed log with its last segment's records zeroed",
            |_, s| zero_range(s.last().unwrap(), SEGMENT_HEADER, SEGMENT_SIZE as usize),
            |s| first_index_of(s.last().unwrap()) - 1,
            "accepted the loss: the log ends at index",
        ),
    ];
    for (i, (what, damage, left, gist)) in cases.iter().enumerate() {
        let dir = temp_dir(&format!("repair-loss-{i}"));
        let segs = fill_closed(&dir, GROUPS);
        damage(&dir, &segs);
        let left = left(&segs);
        corrupt(Wal::open(&dir, small()), what);
        let report = repair(&dir, 0).unwrap();
        assert!(report.actions[0].starts_with(gist), "{what}: {report}");
        assert!(report.unreadable_loss && report.truncated.is_none() && report.dropped.is_empty(), "{what}: {report}");
        assert_eq!(report.last_index, left, "{what}");
        assert_eq!(inspect(&dir, 0).unwrap().closed_at, Some(left), "{what}");
        let files = dir_bytes(&dir);
        assert!(repair(&dir, 0).unwrap().actions.is_empty(), "{what}: second repair");
        assert_eq!(dir_bytes(&dir), files, "{what}: second repair changed files");
        let (mut wal, entries, _) = Wal::open(&dir, small()).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_entries(&entries, 1, left, what);
        assert_eq!(wal.append(1, &[b"after"]).unwrap(), left + 1, "{what}");
        drop(wal);
        let (wal, entries, _) = Wal::open(&dir, small()).unwrap();
        assert_eq!(entries.len() as u64, left + 1, "{what}");
        drop(wal);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn repair_refuses_while_the_log_is_open() {
    let dir = temp_dir("repair-locked");
    fill(&dir, 3);
    let (wal, _, _) = Wal::open(&dir, small()).unwrap();
    assert!(matches!(repair(&dir, 0), Err(WalError::Locked(_))));
    drop(wal);
    assert!(repair(&dir, 0).unwrap().truncated.is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}
