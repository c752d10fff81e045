//! A store directory and the order of its recovery, in one place: `LOCK` (held while open),
//! `snap/` (snapshots), `wal/` (the log and its MANIFEST). Opening takes the lock, restores the
//! newest snapshot that checks out (through the caller, who owns the state), opens the log after
//! it and checks that the log reaches back to it and up to what was acknowledged. Verify and
//! repair read the directory the same way, so the three never disagree.

use crate::inspect::{inspect, LogInfo};
use crate::lock::DirLock;
use crate::repair::{collect_entries, repair_in, segment_size_in, start_after, RepairReport};
use crate::scan::CoveredDamage;
use crate::segment::{list_segments, parse_segment_name, remove_if_present};
use crate::snapshot::{load_newest_snapshot, Snapshot, SnapshotLoad};
use crate::{fsio::sync_dir, manifest::Manifest, Entry, Options, Wal, WalError};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// How the caller restores (or, for verify and repair, decodes) a snapshot's payload; an `Err`
/// says why it does not decode.
pub type RestoreFn<'a> = &'a mut dyn FnMut(&Snapshot) -> Result<(), String>;

/// What opening a store found besides its entries.
#[derive(Debug, Default)]
pub struct StoreRecovery {
    /// Index of the snapshot restored (0: none).
    pub snapshot_index: u64,
    /// A torn last record that was cut off: (segment, offset).
    pub truncated: Option<(PathBuf, u64)>,
    /// Damage read past because the snapshot holds everything it could have held.
    pub covered_damage: Vec<CoveredDamage>,
    /// Newer snapshot files that were damaged and passed over, with why.
    pub skipped_snapshots: Vec<(PathBuf, &'static str)>,
}

pub struct OpenedStore {
    pub wal: Wal,
    /// Committed entries after the snapshot, in index order.
    pub entries: Vec<Entry>,
    pub recovery: StoreRecovery,
    /// The directory lock, held until this is dropped.
    pub lock: DirLock,
    pub snap_dir: PathBuf,
}

fn snapshot_dir(dir: &Path) -> PathBuf {
    dir.join("snap")
}

fn log_dir(dir: &Path) -> PathBuf {
    dir.join("wal")
}

fn skipped(loaded: &SnapshotLoad) -> Vec<(PathBuf, &'static str)> {
    loaded.skipped.iter().cloned().zip(loaded.skipped_reasons.iter().copied()).collect()
}

/// Opens (or creates) the store in `dir`: see the module. `restore` is given the newest valid
/// snapshot, if any.
pub fn open_store(dir: &Path, options: Options, restore: RestoreFn<'_>) -> Result<OpenedStore, WalError> {
    std::fs::create_dir_all(dir)?;
    let lock = DirLock::acquire(dir)?;
    let snap_dir = snapshot_dir(dir);
    std::fs::create_dir_all(&snap_dir)?;
    let loaded = load_newest_snapshot(&snap_dir)?;
    let mut recovery = StoreRecovery { skipped_snapshots: skipped(&loaded), ..StoreRecovery::default() };
    let had_snapshots = loaded.snapshot.is_some() || !loaded.skipped.is_empty();
    if let Some(snapshot) = &loaded.snapshot {
        restore(snapshot).map_err(|e| WalError::corrupt(&snapshot.path, 0, format!("snapshot does not decode: {e}")))?;
        recovery.snapshot_index = snapshot.index;
    }
    let (wal, entries, found) = Wal::open_in(&log_dir(dir), options, recovery.snapshot_index, had_snapshots, None)?;
    recovery.truncated = found.truncated;
    recovery.covered_damage = found.covered_damage;
    Ok(OpenedStore { wal, entries, recovery, lock, snap_dir })
}

/// What `verify_store` found.
#[derive(Debug)]
pub struct StoreVerify {
    /// Whether the store would open.
    pub ok: bool,
    /// Whether another store (in this or another process) has it open right now: what was
    /// read may be changing under the reader.
    pub locked: bool,
    /// A readable account: snapshots, segments, what is wrong.
    pub text: String,
    pub log: Option<LogInfo>,
}

/// Checks the store in `dir` without opening it: the snapshot `open_store` would restore
/// (decoded by `decode`), the log as opening after it would read it, and that they meet.
/// Changes nothing but deleting the temporary files of snapshot writes that crashed.
pub fn verify_store(dir: &Path, decode: &mut dyn FnMut(&Snapshot) -> Result<String, String>) -> Result<StoreVerify, WalError> {
    let wal_dir = log_dir(dir);
    let loaded = load_newest_snapshot(&snapshot_dir(dir))?;
    let had_snapshots = loaded.snapshot.is_some() || !loaded.skipped.is_empty();
    if !wal_dir.is_dir() && !had_snapshots {
        return Err(WalError::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} is not a MetaStore directory (no wal/ and no snapshots)", dir.display()),
        )));
    }
    let locked = DirLock::is_held(dir)?;
    let mut text = String::new();
    let mut ok = true;
    if locked {
        let _ = writeln!(text, "the store is open in another store (this or another process): what follows may change while it is read");
    }
    for (path, reason) in skipped(&loaded) {
        let _ = writeln!(text, "snapshot {} is damaged ({reason}) and would be skipped", path.display());
    }
    let snapshot_index = loaded.snapshot.as_ref().map_or(0, |s| s.index);
    match &loaded.snapshot {
        Some(s) => match decode(s) {
            Ok(summary) => {
                let _ = writeln!(text, "snapshot {}: index {}, {} bytes, {summary}", s.path.display(), s.index, s.payload.len());
            }
            Err(e) => {
                ok = false;
                let _ = writeln!(text, "snapshot {} does not decode: {e}", s.path.display());
            }
        },
        None => text.push_str("no snapshot\n"),
    }
    if !wal_dir.is_dir() {
        let _ = writeln!(text, "the log (wal/) is missing but snapshots exist");
        return Ok(StoreVerify { ok: false, locked, text, log: None });
    }
    let info = inspect(&wal_dir, snapshot_index)?;
    let _ = write!(text, "log: {info}");
    ok &= info.opens();
    if info.opens() {
        if had_snapshots && info.segments.is_empty() && info.closed_at.is_none() {
            ok = false;
            text.push_str("the log is missing (no segments and no MANIFEST) but snapshots exist\n");
        } else if !info.segments.is_empty() && info.first_index > snapshot_index + 1 {
            ok = false;
            let _ = writeln!(
                text,
                "the log starts at index {} but the newest usable snapshot is at {snapshot_index}: entries in between are missing",
                info.first_index
            );
        } else if had_snapshots && info.last_index < snapshot_index {
            ok = false;
            let _ = writeln!(text, "the log ends at index {}, before the snapshot at {snapshot_index}: the newest records are missing", info.last_index);
        }
    }
    Ok(StoreVerify { ok, locked, text, log: Some(info) })
}

/// What `repair_store` did.
#[derive(Debug)]
pub struct StoreRepair {
    pub log: RepairReport,
    /// The snapshot the repaired store starts from (0: none).
    pub snapshot_index: u64,
}

/// Repairs the store in `dir` under its lock (`WalError::Locked` while it is open): the log as
/// `repair` does, after the snapshot `open_store` would restore (checked with `decode`), and a
/// log that does not reach back to that snapshot starts again right after it (its readable
/// entries reported as dropped: without the missing ones they cannot be applied).
pub fn repair_store(dir: &Path, options: Options, decode: RestoreFn<'_>) -> Result<StoreRepair, WalError> {
    let wal_dir = log_dir(dir);
    let snap_dir = snapshot_dir(dir);
    if !wal_dir.is_dir() && !snap_dir.is_dir() {
        return Err(WalError::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} is not a MetaStore directory (no wal/ and no snap/)", dir.display()),
        )));
    }
    let _lock = DirLock::acquire(dir)?;
    let loaded = load_newest_snapshot(&snap_dir)?;
    let snapshot_index = match &loaded.snapshot {
        Some(s) => {
            decode(s).map_err(|e| {
                WalError::corrupt(&s.path, 0, format!("snapshot does not decode: {e}; move it away and repair again to fall back to an older one"))
            })?;
            s.index
        }
        None => 0,
    };
    std::fs::create_dir_all(&wal_dir)?;
    // A log that has to start again keeps the size its segments were made with.
    let options = Options { segment_size: if list_segments(&wal_dir)?.is_empty() { options.segment_size } else { segment_size_in(&wal_dir)? } };
    let mut report = RepairReport::default();
    let segments = list_segments(&wal_dir)?;
    let first = segments.first().and_then(|p| parse_segment_name(p)).map_or(1, |n| n.1);
    if segments.is_empty() && Manifest::load(&wal_dir)?.ok().flatten().is_none() {
        if snapshot_index > 0 {
            start_after(&wal_dir, snapshot_index, 0, options.segment_size)?;
            report.actions.push(format!("the log was missing: started it again at index {}", snapshot_index + 1));
            report.unreadable_loss = true;
        }
        report.last_index = snapshot_index;
        return Ok(StoreRepair { log: report, snapshot_index });
    }
    if first > snapshot_index + 1 {
        let mut dropped = BTreeMap::new();
        for path in &segments {
            collect_entries(path, crate::segment::SEGMENT_HEADER, &mut dropped)?;
        }
        let newest = segments.last().and_then(|p| parse_segment_name(p)).map_or(0, |n| n.0);
        for path in segments.iter().rev() {
            remove_if_present(path)?;
        }
        sync_dir(&wal_dir)?;
        start_after(&wal_dir, snapshot_index, newest, options.segment_size)?;
        report.actions.push(format!(
            "the log started at index {first}, after a gap from the snapshot at {snapshot_index}: dropped it and started again at index {}",
            snapshot_index + 1
        ));
        report.unreadable_loss = true;
        report.dropped = dropped.into_values().collect();
        report.last_index = snapshot_index;
        return Ok(StoreRepair { log: report, snapshot_index });
    }
    let log = repair_in(&wal_dir, snapshot_index, options.segment_size)?;
    Ok(StoreRepair { log, snapshot_index })
}
