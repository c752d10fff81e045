//! The durable log behind `MetaStore.open({ path })`: the write-ahead log and snapshots of
//! `metastore-wal` around an engine's store. Appends go to the log's writer thread
//! (wal_writer.rs); snapshot writes run on the libuv threadpool. A snapshot's plan (counters,
//! leases, key count) is taken on the JS thread between two applies; the keys and their
//! histories are then read on the threadpool while applies go on, keeping the versions up to the
//! plan's revision, so it is exactly the state at the applied index it names, and streamed to
//! the snapshot file.
//!
//! The store directory's layout and recovery order live in `metastore_wal::open_store`
//! (docs/wal.md); this file wires them to an engine. Errors cross as errors.rs says.

use crate::errors::{fail, io_error, wal_error};
use crate::panics::GuardedTask;
use crate::wal_writer::{SharedWal, WalWriter};
use crate::Engine;
use metastore_core::codec::{decode_batch, Limits, OpRef};
use metastore_core::{SnapshotPlan, SnapshotStreamError, Store};
use metastore_wal::{DirLock, Entry, Options, WalError};
use napi::bindgen_prelude::{AsyncTask, Buffer, External, FnArgs, Function};
use napi::{Env, Result, Task};
use napi_derive::napi;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Options of `durableOpen`.
#[napi(object)]
pub struct DurableOpenOptions {
    /// Size each WAL segment is preallocated to.
    pub segment_bytes: Option<f64>,
}

/// One committed entry found on open.
#[napi(object)]
pub struct RecoveredEntry {
    pub index: f64,
    pub term: f64,
    pub data: Buffer,
}

/// What `durableOpen` found: taken once with `durableRecovered`.
#[napi(object)]
pub struct Recovered {
    /// Index of the snapshot the engine was restored from (0: none).
    pub snapshot_index: f64,
    /// Index of the last entry in the log (the snapshot's when the log holds nothing after it).
    pub last_index: f64,
    /// Size of the snapshot's payload in bytes (0: none).
    pub snapshot_bytes: f64,
    /// This boot's epoch, one more than the previous open's.
    pub epoch: u32,
    /// Committed entries after the snapshot, in index order.
    pub entries: Vec<RecoveredEntry>,
    /// `segment:offset` of a torn last record that was cut off.
    pub truncated: Option<String>,
    /// Snapshot files that were damaged and skipped.
    pub skipped_snapshots: Vec<String>,
    /// Damage read past because the snapshot holds everything it could have held:
    /// `segment:offset: reason` each.
    pub covered_damage: Vec<String>,
}

/// An open durable log.
pub struct Durable {
    wal: SharedWal,
    snap_dir: PathBuf,
    recovered: Option<Recovered>,
    #[cfg_attr(not(feature = "test-hooks"), allow(dead_code))] // set by durableFailNext only
    fail_next: Arc<AtomicBool>,
    writer: WalWriter,
    /// Index of the newest snapshot written (or found on open).
    last_snapshot: Arc<AtomicU64>,
    /// Held for the store's lifetime: dropping it releases the directory lock.
    lock: Option<DirLock>,
}

/// Opens (or creates) the durable store in `path` for `engine`: restores the newest valid
/// snapshot into the engine, opens the log after it, and bumps the boot epoch.
///
/// `onAppended(appends, firstIndex, error)` is called after each sync of the log: it settles the
/// `appends` oldest pending `durableAppend` calls, in call order; the first of them starts at
/// `firstIndex`, and with `error` (an errors.rs message) they all failed and the log has stopped.
#[napi(
    catch_unwind,
    ts_args_type = "path: string, engine: ExternalObject<Engine>, options: DurableOpenOptions | undefined | null, onAppended: (appends: number, firstIndex: number, error: string | null) => void"
)]
pub fn durable_open(
    path: String,
    engine: &mut External<Engine>,
    options: Option<DurableOpenOptions>,
    on_appended: Function<FnArgs<(u32, f64, Option<String>)>, ()>,
) -> Result<External<Durable>> {
    let dir = PathBuf::from(&path);
    let store = engine.store.as_ref().ok_or_else(crate::errors::closed)?;
    let config = store.config().clone();
    let mut options_wal = Options::default();
    if let Some(size) = options.and_then(|o| o.segment_bytes) {
        options_wal.segment_size = size as u64;
    }
    let mut restored = None;
    let mut snapshot_bytes = 0;
    let opened = metastore_wal::open_store(&dir, options_wal, &mut |snapshot| {
        restored = Some(Store::from_snapshot(config.clone(), &snapshot.payload).map_err(|e| e.to_string())?);
        snapshot_bytes = snapshot.payload.len();
        Ok(())
    })
    .map_err(wal_error)?;
    if let Some(store) = restored {
        engine.store = Some(Arc::new(store));
    }
    let snapshot_index = opened.recovery.snapshot_index;
    let wal = opened.wal;
    let last_index = wal.last_index().max(snapshot_index);
    let epoch = wal.epoch();
    let entries = opened.entries.into_iter().map(|e| RecoveredEntry { index: e.index as f64, term: e.term as f64, data: Buffer::from(e.data) }).collect();
    let recovery = opened.recovery;
    let recovered = Recovered {
        snapshot_index: snapshot_index as f64,
        last_index: last_index as f64,
        snapshot_bytes: snapshot_bytes as f64,
        epoch,
        entries,
        truncated: recovery.truncated.map(|(segment, offset)| format!("{}:{offset}", segment.display())),
        skipped_snapshots: recovery.skipped_snapshots.iter().map(|(p, _)| p.display().to_string()).collect(),
        covered_damage: recovery.covered_damage.iter().map(|d| format!("{}:{}: {}", d.segment.display(), d.offset, d.reason)).collect(),
    };
    let snap_dir = opened.snap_dir;
    let lock = opened.lock;
    let wal: SharedWal = Arc::new(Mutex::new(Some(wal)));
    let fail_next = Arc::new(AtomicBool::new(false));
    let writer = WalWriter::start(wal.clone(), fail_next.clone(), on_appended)?;
    Ok(External::new(Durable {
        wal,
        snap_dir,
        recovered: Some(recovered),
        fail_next,
        writer,
        last_snapshot: Arc::new(AtomicU64::new(snapshot_index)),
        lock: Some(lock),
    }))
}

/// What `durableOpen` found (once; later calls get nothing).
#[napi(catch_unwind)]
pub fn durable_recovered(durable: &mut External<Durable>) -> Result<Recovered> {
    durable.recovered.take().ok_or_else(|| fail("ERR_INTERNAL", "recovery info already taken"))
}

/// Queues entries as one group for the log's writer thread (one record; it is synced with the
/// other groups queued meanwhile). Its outcome comes through `onAppended`. The entries are
/// `data` cut at `lengths` (one argument instead of an array of arrays: converting each array
/// element costs more than the copy).
#[napi(catch_unwind)]
pub fn durable_append(env: Env, durable: &External<Durable>, data: &[u8], lengths: &[u32]) -> Result<()> {
    let mut entries = Vec::with_capacity(lengths.len());
    let mut at = 0usize;
    for &len in lengths {
        let end = (at + len as usize).min(data.len());
        entries.push(data[at..end].to_vec());
        at = end;
    }
    durable.writer.append(&env, entries)
}

pub struct SnapshotTask {
    wal: SharedWal,
    dir: PathBuf,
    /// The newest snapshot before this one: the log is kept from just after it, so that it can
    /// stand in if this one is ever found damaged.
    previous: Arc<AtomicU64>,
    index: u64,
    term: u64,
    /// Kept alive by the task even if the engine closes meanwhile.
    store: Arc<Store>,
    plan: Option<SnapshotPlan>,
}

impl Task for SnapshotTask {
    type Output = u64;
    type JsValue = f64;

    fn compute(&mut self) -> Result<u64> {
        let Some(plan) = self.plan.take() else { return Err(fail("ERR_INTERNAL", "snapshot task run twice")) };
        // Streamed to the file a section at a time: the whole payload is never in memory.
        let written = metastore_wal::write_snapshot_with(&self.dir, self.index, self.term, |sink| match plan.write_to(&self.store, sink) {
            Ok(()) => Ok(true),
            // A compaction cut history the snapshot needed: no snapshot this time (the log is
            // kept whole); the next one starts from a new plan.
            Err(SnapshotStreamError::Interrupted(_)) => Ok(false),
            Err(SnapshotStreamError::Io(e)) => Err(e),
        })
        .map_err(|e| io_error("cannot write a snapshot", e))?;
        drop(plan);
        let Some((_, size)) = written else { return Ok(0) };
        let keep_after = self.previous.swap(self.index, Ordering::AcqRel);
        let mut guard = self.wal.lock().map_err(|_| fail("ERR_LOG_FAILED", "log lock poisoned"))?;
        if let Some(wal) = guard.as_mut() {
            wal.purge_through(keep_after).map_err(wal_error)?;
        }
        Ok(size)
    }

    fn resolve(&mut self, _env: Env, size: u64) -> Result<f64> {
        Ok(size as f64)
    }
}

/// Captures the engine's state now — the caller says it is exactly at log index `index` — then
/// encodes and writes it as a snapshot and drops the log segments behind it, on the threadpool
/// while applies go on. Resolves with the snapshot's size in bytes, or 0 when a compaction
/// applied meanwhile cut history it needed (nothing is written then, the log is kept).
#[napi(catch_unwind, ts_return_type = "Promise<number>")]
pub fn durable_snapshot(durable: &External<Durable>, engine: &External<Engine>, index: f64, term: f64) -> Result<AsyncTask<GuardedTask<SnapshotTask>>> {
    let store = engine.store.as_ref().ok_or_else(crate::errors::closed)?;
    let plan = store.begin_snapshot();
    Ok(AsyncTask::new(GuardedTask(SnapshotTask {
        wal: durable.wal.clone(),
        dir: durable.snap_dir.clone(),
        previous: durable.last_snapshot.clone(),
        index: index as u64,
        term: term as u64,
        store: store.clone(),
        plan: Some(plan),
    })))
}

/// Test hook: the next append fails like an fdatasync error, and the log stops.
#[cfg(feature = "test-hooks")]
#[napi(catch_unwind)]
pub fn durable_fail_next(durable: &External<Durable>) {
    durable.fail_next.store(true, Ordering::Release);
}

/// Closes the log (writes and syncs the appends queued, then stops the writer) and releases the
/// directory lock. Their reports still reach `onAppended` afterwards.
#[napi(catch_unwind)]
pub fn durable_close(durable: &mut External<Durable>) -> Result<()> {
    durable.writer.stop();
    // A log that failed is left as a crash leaves it: the next open reads it as such.
    let closed = match durable.wal.lock() {
        Ok(mut guard) => guard.take().map_or(Ok(()), |wal| wal.close()),
        // The writer panicked holding the log: release its files without marking it clean.
        Err(poisoned) => {
            poisoned.into_inner().take();
            Ok(())
        }
    };
    durable.recovered = None;
    durable.lock = None;
    closed.map_err(wal_error)
}

/// What `durableVerify` found.
#[napi(object)]
pub struct VerifyReport {
    /// Whether the store would open.
    pub ok: bool,
    /// Whether the store is open in another store (this or another process) right now.
    pub locked: bool,
    /// A readable account: snapshots, segments, what is wrong.
    pub text: String,
}

/// Checks a store directory without opening it: the newest snapshot (decoded in full), every
/// log record the store needs, that the log continues the snapshot and reaches what it
/// acknowledged. Changes nothing, except that temporary files of a snapshot write that crashed
/// are removed.
#[napi(catch_unwind)]
pub fn durable_verify(path: String) -> Result<VerifyReport> {
    let report = metastore_wal::verify_store(&PathBuf::from(&path), &mut |s| {
        let store = Store::from_snapshot(metastore_core::Config::default(), &s.payload).map_err(|e| e.to_string())?;
        Ok(format!("revision {}, {} keys, compacted at {}", store.revision(), store.len(), store.compact_revision()))
    })
    .map_err(|e| match e {
        WalError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => fail("ERR_INVALID_OPTION", io),
        e => wal_error(e),
    })?;
    Ok(VerifyReport { ok: report.ok, locked: report.locked, text: report.text })
}

/// Repairs a store that refuses to open, on purpose (docs/wal.md, "Repair"): keeps every record
/// the snapshot and the rest of the log still hold; says what it dropped, in entries, requests
/// and keys. Fails with ERR_LOCKED while the store is open.
#[napi(catch_unwind)]
pub fn durable_repair(path: String) -> Result<String> {
    let dir = PathBuf::from(&path);
    let repaired = metastore_wal::repair_store(&dir, Options::default(), &mut |s| {
        Store::from_snapshot(metastore_core::Config::default(), &s.payload).map(drop).map_err(|e| e.to_string())
    })
    .map_err(|e| match e {
        WalError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => fail("ERR_INVALID_OPTION", io),
        e => wal_error(e),
    })?;
    let mut text = repaired.log.to_string();
    if !repaired.log.dropped.is_empty() {
        text.push_str(&format!("\n{}", describe_dropped(&repaired.log.dropped)));
    }
    if repaired.log.unreadable_loss {
        text.push_str("\nsome dropped records could not be read (damaged or missing): their requests cannot be listed");
    }
    Ok(text)
}

/// Entries as the requests and keys they carried (docs/log.md, "Entry framing").
fn describe_dropped(entries: &[Entry]) -> String {
    let (mut requests, mut puts, mut deletes, mut txns, mut others, mut unreadable) = (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut keys = BTreeSet::new();
    fn walk<'a>(ops: &[OpRef<'a>], keys: &mut BTreeSet<&'a [u8]>, counts: &mut [u64; 4]) {
        for op in ops {
            match op {
                OpRef::Put(p) => {
                    counts[0] += 1;
                    keys.insert(p.key);
                }
                OpRef::DeleteRange(d) => {
                    counts[1] += 1;
                    keys.insert(d.key);
                }
                OpRef::Txn(t) => {
                    counts[2] += 1;
                    walk(&t.success, keys, &mut [0; 4]);
                    walk(&t.failure, keys, &mut [0; 4]);
                }
                _ => counts[3] += 1,
            }
        }
    }
    let limits = Limits { max_key_bytes: usize::MAX, max_value_bytes: usize::MAX, max_txn_ops: usize::MAX, ..Limits::default() };
    for e in entries {
        let d = &e.data;
        let proposals = if d.len() >= 8 && &d[..3] == b"MSE" { u32::from_le_bytes([d[4], d[5], d[6], d[7]]) as usize } else { usize::MAX };
        match d.get(8usize.saturating_add(proposals.saturating_mul(20))..).map(|batch| decode_batch(batch, &limits)) {
            Some(Ok(ops)) => {
                requests += proposals as u64;
                let mut counts = [0u64; 4];
                walk(&ops, &mut keys, &mut counts);
                puts += counts[0];
                deletes += counts[1];
                txns += counts[2];
                others += counts[3];
            }
            _ => unreadable += 1,
        }
    }
    let shown: Vec<String> = keys.iter().take(20).map(|k| String::from_utf8_lossy(k).into_owned()).collect();
    let first = entries.first().map_or(0, |e| e.index);
    let last = entries.last().map_or(0, |e| e.index);
    let mut text = format!(
        "dropped {} readable entries ({first}..={last}): {requests} request(s) with {puts} put(s), {deletes} delete(s), {txns} transaction(s), {others} other op(s), touching {} key(s)",
        entries.len(),
        keys.len()
    );
    if !shown.is_empty() {
        text.push_str(&format!(": {}{}", shown.join(", "), if keys.len() > shown.len() { ", ..." } else { "" }));
    }
    if unreadable > 0 {
        text.push_str(&format!(" ({unreadable} entries did not decode)"));
    }
    text.push_str("; each write among them was a revision after the one the repaired store opens at");
    text
}
