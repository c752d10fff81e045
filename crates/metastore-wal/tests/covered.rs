//! Damage the snapshot covers: a log opened with `open_after(dir, options, k)` reads past damage
//! (flipped bits, zeroed headers, whole damaged segment headers, missing or cut segments) when
//! every entry it could have held is at or below `k`, returns every entry above `k` and reports
//! the damage in `Recovery::covered_damage`; the same damage with `k` below the damaged entries
//! is corruption at the same place.

mod common;

use common::*;
use metastore_wal::Wal;
use std::path::{Path, PathBuf};

const GROUPS: u64 = 120;
const TOTAL: u64 = GROUPS * 3;

/// A damage case: what it does to the pristine log's segments, where it is reported (segment
/// number in the pristine log, offset) and the highest entry index it can have held (the
/// smallest `k` that covers it).
struct Case {
    what: &'static str,
    damage: Box<dyn Fn(&Path)>,
    at: (usize, u64),
    holds_up_to: u64,
    /// Where a `k` just below `holds_up_to` is refused, when not at `at` (several damages).
    refused_at: Option<(usize, u64)>,
}

/// The damage cases, laid out on the pristine log's segments `segs`.
fn cases(segs: &[PathBuf]) -> Vec<Case> {
    let recs = |s: usize| records(&segs[s]);
    let name = |s: usize| segs[s].file_name().unwrap().to_owned();
    let first = |s: usize| first_index_of(&segs[s]);
    let in_seg = move |s: usize, f: fn(&Path)| -> Box<dyn Fn(&Path)> {
        let n = name(s);
        Box::new(move |d: &Path| f(&d.join(&n)))
    };
    let mut out = Vec::new();
    let flip_in = |s: usize, r: usize, byte: usize| -> Case {
        let rec = recs(s)[r].clone();
        let n = name(s);
        Case {
            what: "",
            damage: Box::new(move |d| flip_bit(&d.join(&n), rec.offset + byte)),
            at: (s, rec.offset as u64),
            holds_up_to: rec.last,
            refused_at: None,
        }
    };
    out.push(Case { what: "flipped bit in the log's first record", ..flip_in(0, 0, RECORD_HEADER + 2) });
    out.push(Case { what: "flipped bit in an ENTRIES payload, first segment", ..flip_in(0, 8, RECORD_HEADER + 30) });
    out.push(Case { what: "flipped bit in an ENTRIES header, middle segment", ..flip_in(2, 6, 1) });
    out.push(Case { what: "flipped bit in a COMMIT, middle segment", ..flip_in(2, 5, RECORD_HEADER) });
    let last_of_1 = recs(1).len() - 1;
    out.push(Case { what: "flipped bit in the last record of a segment (a COMMIT)", ..flip_in(1, last_of_1, RECORD_HEADER) });
    out.push(Case { what: "flipped bit in the last segment, not in its last append", ..flip_in(5, 4, RECORD_HEADER + 10) });
    let rec = recs(2)[8].clone();
    let n = name(2);
    out.push(Case {
        what: "zeroed ENTRIES header, middle segment",
        damage: Box::new(move |d| zero_range(&d.join(&n), rec.offset, rec.offset + RECORD_HEADER)),
        at: (2, rec.offset as u64),
        holds_up_to: rec.last,
        refused_at: None,
    });
    out.push(Case {
        what: "damaged segment header, middle segment",
        damage: in_seg(2, |p| flip_bit(p, 17)),
        at: (2, 0),
        holds_up_to: first(3) - 1,
        refused_at: None,
    });
    out.push(Case {
        what: "damaged segment header, first segment",
        damage: in_seg(0, |p| flip_bit(p, 30)),
        at: (0, 0),
        holds_up_to: first(1) - 1,
        refused_at: None,
    });
    out.push(Case {
        what: "every record of a middle segment zeroed",
        damage: in_seg(2, |p| zero_range(p, SEGMENT_HEADER, SEGMENT_SIZE as usize)),
        at: (3, 0),
        holds_up_to: first(3) - 1,
        refused_at: None,
    });
    out.push(Case {
        what: "middle segment deleted",
        damage: in_seg(2, |p| std::fs::remove_file(p).unwrap()),
        at: (3, 0),
        holds_up_to: first(3) - 1,
        refused_at: None,
    });
    out.push(Case { what: "middle segment cut short", damage: in_seg(2, |p| truncate(p, 2000)), at: (2, 2000), holds_up_to: first(3) - 1, refused_at: None });
    let (a, b, c) = (recs(0)[2].clone(), recs(0)[10].clone(), recs(1)[5].clone());
    let (n0, n1) = (name(0), name(1));
    out.push(Case {
        what: "three damaged records in two segments",
        damage: Box::new(move |d| {
            flip_bit(&d.join(&n0), a.offset + RECORD_HEADER + 1);
            flip_bit(&d.join(&n0), b.offset + 3);
            flip_bit(&d.join(&n1), c.offset + RECORD_HEADER + 5);
        }),
        at: (0, recs(0)[2].offset as u64),
        holds_up_to: recs(1)[5].last,
        refused_at: Some((1, recs(1)[5].offset as u64)),
    });
    out
}

#[test]
fn damage_holding_only_entries_at_or_below_the_snapshot_is_read_past_and_above_it_is_corruption() {
    for closed in [false, true] {
        let pristine = temp_dir(&format!("covered-pristine-{closed}"));
        let segs = if closed { fill_closed(&pristine, GROUPS) } else { fill(&pristine, GROUPS) };
        assert_eq!(segs.len(), 6);
        let dir = temp_dir(&format!("covered-{closed}"));
        for case in cases(&segs) {
            let (seg, offset) = (segs[case.at.0].file_name().unwrap(), case.at.1);
            for k in [case.holds_up_to - 1, case.holds_up_to, case.holds_up_to + 1, TOTAL] {
                let what = format!("{} (closed {closed}), opened after {k}", case.what);
                copy_dir(&pristine, &dir);
                (case.damage)(&dir);
                let result = Wal::open_after(&dir, small(), k);
                if k < case.holds_up_to {
                    let (s, o) = case.refused_at.unwrap_or(case.at);
                    let (segment, at, _) = corrupt(result, &what);
                    assert_eq!((segment, at), (dir.join(segs[s].file_name().unwrap()), o), "{what}");
                    continue;
                }
                let (mut wal, entries, recovery) = result.unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_entries(&entries, k + 1, TOTAL, &what);
                assert_eq!(recovery.truncated, None, "{what}");
                let first = recovery.covered_damage.first().unwrap_or_else(|| panic!("{what}: no covered damage reported"));
                assert_eq!((first.segment.clone(), first.offset), (dir.join(seg), offset), "{what}");
                assert_eq!((wal.last_index(), wal.next_index()), (TOTAL, TOTAL + 1), "{what}");
                if case.what.starts_with("three") {
                    assert_eq!(recovery.covered_damage.len(), 3, "{what}: {:?}", recovery.covered_damage);
                }
                if k == case.holds_up_to {
                    // The log goes on after the damage, and opens the same way again.
                    assert_eq!(wal.append(1, &[b"after"]).unwrap(), TOTAL + 1, "{what}");
                    drop(wal);
                    let (wal, entries, recovery) = Wal::open_after(&dir, small(), k).unwrap_or_else(|e| panic!("{what}: reopen: {e}"));
                    assert_eq!((entries.len() as u64, entries.last().unwrap().data.as_slice()), (TOTAL + 1 - k, &b"after"[..]), "{what}");
                    assert!(!recovery.covered_damage.is_empty(), "{what}");
                    drop(wal);
                }
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&pristine).unwrap();
    }
}
