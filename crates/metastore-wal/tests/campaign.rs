//! A seeded corruption campaign: a log of known entries in several small segments, and for each
//! of 300 seeds a copy of it with one random damage — a flipped bit anywhere in any file, a
//! zeroed range, a file cut short, a deleted segment, a deleted MANIFEST, two segments' names
//! swapped, a segment duplicated under another name — then `Wal::open`. It must either open
//! with exactly the full entry list, or fail with `WalError::Corrupt`; never open with fewer or
//! different entries (or panic). The one exception is the oldest segments deleted, which is
//! what a purge leaves: the log opens from the first segment left, and `first_index()` shows
//! the gap to the caller, whose snapshot it must reach (`open_store` refuses it). Each run
//! prints its outcomes per damage kind (`cargo test -- --nocapture` shows them).
//!
//! Three runs: the log closed cleanly; the log dropped without `close()` (a crash), where a
//! damage that removes the final COMMIT together with entries before it would be
//! indistinguishable from a torn, unacknowledged last append, so zeroed ranges there are kept off
//! the last append's ENTRIES (every entry is followed by a COMMIT, so all must still be there);
//! and the closed log opened after a random snapshot index, where damage holding only entries at
//! or below it may be read past, and every entry above it must be there.

mod common;

use common::*;
use metastore_wal::{Wal, WalError};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

const GROUPS: u64 = 120;
const TOTAL: u64 = GROUPS * 3;
const SEEDS: u64 = 300;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    BitFlip,
    ZeroedRange,
    Truncation,
    DeletedSegment,
    DeletedManifest,
    SwappedNames,
    DuplicatedSegment,
}

const KINDS: [Kind; 7] =
    [Kind::BitFlip, Kind::ZeroedRange, Kind::Truncation, Kind::DeletedSegment, Kind::DeletedManifest, Kind::SwappedNames, Kind::DuplicatedSegment];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// Opened with every entry (above the snapshot).
    Whole,
    /// Opened without its oldest segments, visible as `first_index()` past the snapshot.
    Gap,
    Corrupt,
    /// Anything else: fewer or different entries, another error, a panic.
    Bad,
}

/// The pristine log: its directory, segment names in order, and the final COMMIT record.
struct Pristine {
    dir: PathBuf,
    names: Vec<String>,
    final_commit: Rec,
}

fn pristine(name: &str, closed: bool) -> Pristine {
    let dir = temp_dir(name);
    let segs = if closed { fill_closed(&dir, GROUPS) } else { fill(&dir, GROUPS) };
    assert!(segs.len() >= 5, "several segments");
    let final_commit = records(segs.last().unwrap()).pop().unwrap();
    assert_eq!((final_commit.kind, final_commit.last), (COMMIT, TOTAL));
    let names = segs.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    Pristine { dir, names, final_commit }
}

fn pick<'a>(rng: &mut Rng, items: &'a [String]) -> &'a String {
    &items[rng.below(items.len() as u64) as usize]
}

/// A position in a file of `len` bytes, mostly in its written part.
fn position(rng: &mut Rng, path: &Path, len: usize) -> usize {
    let written = written_len(path).max(1);
    if rng.below(4) < 3 {
        rng.below(written as u64) as usize
    } else {
        rng.below(len as u64) as usize
    }
}

/// Applies one damage of `kind` to the copy in `dir`; returns what it did. `protect_tail`: keep
/// zeroed ranges that reach the final COMMIT from starting before it (see the module).
fn damage(dir: &Path, log: &Pristine, kind: Kind, rng: &mut Rng, protect_tail: bool) -> String {
    let mut files = log.names.clone();
    files.push("MANIFEST".to_string());
    let last = log.names.last().unwrap();
    match kind {
        Kind::BitFlip => {
            let file = pick(rng, &files).clone();
            let path = dir.join(&file);
            let mut data = std::fs::read(&path).unwrap();
            let at = position(rng, &path, data.len());
            let bit = rng.below(8);
            data[at] ^= 1 << bit;
            std::fs::write(&path, data).unwrap();
            format!("bit {bit} of byte {at} of {file} flipped")
        }
        Kind::ZeroedRange => {
            let file = pick(rng, &files).clone();
            let path = dir.join(&file);
            let len = std::fs::metadata(&path).unwrap().len() as usize;
            let mut from = position(rng, &path, len);
            let span = [8, 64, 1024][rng.below(3) as usize];
            let to = (from + 1 + rng.below(span) as usize).min(len);
            if protect_tail && &file == last && to > log.final_commit.offset {
                from = from.max(log.final_commit.offset);
            }
            zero_range(&path, from, to);
            format!("{file} zeroed from {from} to {to}")
        }
        Kind::Truncation => {
            let file = pick(rng, &files).clone();
            let path = dir.join(&file);
            let len = rng.below(std::fs::metadata(&path).unwrap().len());
            truncate(&path, len);
            format!("{file} cut to {len} bytes")
        }
        Kind::DeletedSegment => {
            let file = pick(rng, &log.names);
            std::fs::remove_file(dir.join(file)).unwrap();
            format!("{file} deleted")
        }
        Kind::DeletedManifest => {
            std::fs::remove_file(dir.join("MANIFEST")).unwrap();
            "MANIFEST deleted".to_string()
        }
        Kind::SwappedNames => {
            let a = rng.below(log.names.len() as u64) as usize;
            let b = (a + 1 + rng.below(log.names.len() as u64 - 1) as usize) % log.names.len();
            let (pa, pb, tmp) = (dir.join(&log.names[a]), dir.join(&log.names[b]), dir.join("swap"));
            std::fs::rename(&pa, &tmp).unwrap();
            std::fs::rename(&pb, &pa).unwrap();
            std::fs::rename(&tmp, &pb).unwrap();
            format!("{} and {} swapped", log.names[a], log.names[b])
        }
        Kind::DuplicatedSegment => {
            let j = rng.below(log.names.len() as u64) as usize;
            let src = &log.names[j];
            let (seq, first) = name_of(Path::new(src));
            let newest = log.names.len() as u64;
            let name = loop {
                let name = match rng.below(3) {
                    0 => segment_name(newest + 1, TOTAL + 1),
                    1 => segment_name(seq, first + 1),
                    _ => segment_name(1 + rng.below(newest + 1), 1 + rng.below(TOTAL + 1)),
                };
                if !log.names.contains(&name) {
                    break name;
                }
            };
            std::fs::copy(dir.join(src), dir.join(&name)).unwrap();
            format!("{src} copied as {name}")
        }
    }
}

/// Opens the damaged copy after `after` and judges the outcome; `Err` describes a bad one.
fn judge(dir: &Path, after: u64) -> (Outcome, Option<String>) {
    let result = catch_unwind(AssertUnwindSafe(|| Wal::open_after(dir, small(), after)));
    match result {
        Err(_) => (Outcome::Bad, Some("open panicked".to_string())),
        Ok(Err(WalError::Corrupt { .. })) => (Outcome::Corrupt, None),
        Ok(Err(e)) => (Outcome::Bad, Some(format!("failed with {e}"))),
        Ok(Ok((wal, entries, _))) => {
            let (first, last) = (wal.first_index(), wal.last_index());
            let from = (after + 1).max(first);
            let exact =
                indexes(&entries) == (from..=TOTAL).collect::<Vec<_>>() && entries.iter().all(|e| e.term == 1 && e.data == entry(e.index)) && last == TOTAL;
            drop(wal);
            match (exact, from > after + 1) {
                (true, false) => (Outcome::Whole, None),
                (true, true) => (Outcome::Gap, None),
                (false, _) => {
                    let distinct = entries.iter().map(|e| e.index).collect::<std::collections::BTreeSet<_>>().len();
                    let span = (entries.first().map(|e| e.index), entries.last().map(|e| e.index));
                    (
                        Outcome::Bad,
                        Some(format!(
                            "opened with {} entries ({distinct} distinct, first {:?}, last {:?}), first_index {first}, last_index {last}",
                            entries.len(),
                            span.0,
                            span.1
                        )),
                    )
                }
            }
        }
    }
}

/// Runs the campaign on `log`; `after`: the snapshot index for a seed (0: none).
fn campaign(name: &str, log: &Pristine, protect_tail: bool, after: impl Fn(&mut Rng) -> u64) {
    let dir = temp_dir(name);
    let mut table: BTreeMap<Kind, BTreeMap<Outcome, u32>> = BTreeMap::new();
    let mut bad = Vec::new();
    for seed in 0..SEEDS {
        let kind = KINDS[(seed % KINDS.len() as u64) as usize];
        let mut rng = Rng::new(seed + 1);
        let k = after(&mut rng);
        copy_dir(&log.dir, &dir);
        let what = damage(&dir, log, kind, &mut rng, protect_tail);
        let (outcome, problem) = judge(&dir, k);
        *table.entry(kind).or_default().entry(outcome).or_default() += 1;
        if let Some(problem) = problem {
            bad.push(format!("seed {seed} ({kind:?}, after {k}): {what}: {problem}"));
        }
    }
    let mut out = format!("\n{name}: {SEEDS} seeds\n{:<18} {:>6} {:>6} {:>8} {:>6}\n", "damage", "whole", "gap", "corrupt", "BAD");
    for (kind, counts) in &table {
        let n = |o: Outcome| counts.get(&o).copied().unwrap_or(0);
        out += &format!("{:<18} {:>6} {:>6} {:>8} {:>6}\n", format!("{kind:?}"), n(Outcome::Whole), n(Outcome::Gap), n(Outcome::Corrupt), n(Outcome::Bad));
    }
    eprintln!("{out}");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&log.dir).unwrap();
    assert!(bad.is_empty(), "{} of {SEEDS} damaged logs opened wrong:\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn campaign_after_a_clean_close_opens_every_entry_or_refuses() {
    let log = pristine("campaign-closed-log", true);
    campaign("campaign-closed", &log, false, |_| 0);
}

#[test]
fn campaign_after_a_crash_keeps_every_committed_entry_or_refuses() {
    let log = pristine("campaign-crash-log", false);
    campaign("campaign-crash", &log, true, |_| 0);
}

#[test]
fn campaign_after_a_snapshot_opens_every_entry_above_it_or_refuses() {
    let log = pristine("campaign-snapshot-log", true);
    campaign("campaign-snapshot", &log, false, |rng| rng.below(TOTAL + 1));
}
