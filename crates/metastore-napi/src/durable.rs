//! The durable log behind `MetaStore.open({ path })`: the write-ahead log and snapshots of
//! `metastore-wal` around an engine's store. Appends go to the log's writer thread
//! (wal_writer.rs); snapshot writes run on the libuv threadpool. A snapshot's plan (counters,
//! leases, key count) is taken on the JS thread between two applies; the keys and their
//! histories are then read on the threadpool while applies go on, keeping the versions up to the
//! plan's revision, so it is exactly the state at the applied index it names, and streamed to
//! the snapshot file.
//!
//! Layout of a store directory: `LOCK` (held while open), `EPOCH` (boot counter), `wal/`
//! (segments), `snap/` (snapshots). Errors cross as `MSDUR:<code>:<message>`.

use crate::panics::GuardedTask;
use crate::Engine;
use metastore_core::{SnapshotPlan, SnapshotStreamError, Store};
use metastore_wal::{Options, Wal, WalError};
use crate::wal_writer::{SharedWal, WalWriter};
use napi::bindgen_prelude::{AsyncTask, Buffer, External, FnArgs, Function};
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub(crate) fn fail(code: &str, message: impl std::fmt::Display) -> Error {
    Error::new(Status::GenericFailure, format!("MSDUR:{code}:{message}"))
}

pub(crate) fn wal_error(e: WalError) -> Error {
    match e {
        WalError::Corrupt { .. } => fail("ERR_CORRUPT", format!("{e}; the store refuses to open (see `metastore repair`)")),
        WalError::Locked(_) => fail("ERR_LOCKED", e),
        WalError::Io(_) => fail("ERR_LOG_FAILED", e),
    }
}

fn io_error(what: &str, e: std::io::Error) -> Error {
    fail("ERR_LOG_FAILED", format!("{what}: {e}"))
}

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
    /// This boot's epoch, one more than the previous open's.
    pub epoch: u32,
    /// Committed entries after the snapshot, in index order.
    pub entries: Vec<RecoveredEntry>,
    /// `segment:offset` of a torn last record that was cut off.
    pub truncated: Option<String>,
    /// Snapshot files that were damaged and skipped.
    pub skipped_snapshots: Vec<String>,
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
    /// Held open for the store's lifetime: dropping it releases the directory lock.
    lock: Option<File>,
}

/// Bumps the boot counter in `dir/EPOCH` (written atomically) and returns the new value.
fn next_epoch(dir: &Path) -> std::io::Result<u32> {
    let path = dir.join("EPOCH");
    let last = match fs::read_to_string(&path) {
        Ok(text) => text.trim().parse::<u32>().unwrap_or(0),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e),
    };
    let epoch = last.wrapping_add(1).max(1);
    let tmp = dir.join("EPOCH.tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(format!("{epoch}\n").as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, &path)?;
    File::open(dir)?.sync_all()?;
    Ok(epoch)
}

/// Opens (or creates) the durable store in `path` for `engine`: restores the newest valid
/// snapshot into the engine, opens the log after it, and bumps the boot epoch.
///
/// `onAppended(appends, firstIndex, error)` is called after each sync of the log: it settles the
/// `appends` oldest pending `durableAppend` calls, in call order; the first of them starts at
/// `firstIndex`, and with `error` (an `MSDUR:` message) they all failed and the log has stopped.
#[napi(catch_unwind, ts_args_type = "path: string, engine: ExternalObject<Engine>, options: DurableOpenOptions | undefined | null, onAppended: (appends: number, firstIndex: number, error: string | null) => void")]
pub fn durable_open(
    path: String,
    engine: &mut External<Engine>,
    options: Option<DurableOpenOptions>,
    on_appended: Function<FnArgs<(u32, f64, Option<String>)>, ()>,
) -> Result<External<Durable>> {
    let dir = PathBuf::from(&path);
    fs::create_dir_all(&dir).map_err(|e| io_error("cannot create the store directory", e))?;
    let lock = File::create(dir.join("LOCK")).map_err(|e| io_error("cannot create the lock file", e))?;
    if lock.try_lock().is_err() {
        return Err(fail("ERR_LOCKED", format!("{path} is open in another store (this or another process)")));
    }
    let snap_dir = dir.join("snap");
    let wal_dir = dir.join("wal");
    fs::create_dir_all(&snap_dir).map_err(|e| io_error("cannot create the snapshot directory", e))?;
    let store = engine.store.as_ref().ok_or_else(crate::closed)?;
    let config = store.config().clone();
    let loaded = metastore_wal::load_newest_snapshot(&snap_dir).map_err(wal_error)?;
    let mut skipped = Vec::new();
    let mut snapshot_index = 0u64;
    if let Some(snapshot) = loaded.snapshot {
        let restored = Store::from_snapshot(config, &snapshot.payload)
            .map_err(|e| fail("ERR_CORRUPT", format!("snapshot {} does not decode: {e}", snapshot.path.display())))?;
        engine.store = Some(Arc::new(restored));
        snapshot_index = snapshot.index;
    }
    skipped.extend(loaded.skipped.iter().map(|p| p.display().to_string()));
    let mut options_wal = Options::default();
    if let Some(size) = options.and_then(|o| o.segment_bytes) {
        options_wal.segment_size = size as u64;
    }
    let fresh = !wal_dir.exists();
    if fresh && snapshot_index > 0 {
        return Err(fail("ERR_CORRUPT", format!("{path} has a snapshot at index {snapshot_index} but no log")));
    }
    let (mut wal, mut entries, mut recovery) = Wal::open_after(&wal_dir, options_wal.clone(), snapshot_index).map_err(wal_error)?;
    if wal.last_index() < snapshot_index {
        // The log ends before the snapshot (a repair cut it back): every entry it holds is in
        // the snapshot, so it starts over right after it.
        drop(wal);
        for entry in fs::read_dir(&wal_dir).map_err(|e| io_error("cannot list the log", e))?.flatten() {
            if entry.path().extension().is_some_and(|x| x == "wal") {
                fs::remove_file(entry.path()).map_err(|e| io_error("cannot remove a log segment", e))?;
            }
        }
        File::open(&wal_dir).and_then(|d| d.sync_all()).map_err(|e| io_error("cannot sync the log directory", e))?;
        (wal, entries, recovery) = Wal::open_after(&wal_dir, options_wal, snapshot_index).map_err(wal_error)?;
    }
    let first = wal.first_index();
    if first > snapshot_index + 1 {
        return Err(fail(
            "ERR_CORRUPT",
            format!("the log starts at index {first} but the newest usable snapshot is at {snapshot_index}: entries in between are missing"),
        ));
    }
    let last_index = wal.last_index().max(snapshot_index);
    let epoch = next_epoch(&dir).map_err(|e| io_error("cannot write EPOCH", e))?;
    let entries = entries
        .into_iter()
        .map(|e| RecoveredEntry { index: e.index as f64, term: e.term as f64, data: Buffer::from(e.data) })
        .collect();
    let truncated = recovery.truncated.map(|(segment, offset)| format!("{}:{offset}", segment.display()));
    let recovered = Recovered {
        snapshot_index: snapshot_index as f64,
        last_index: last_index as f64,
        epoch,
        entries,
        truncated,
        skipped_snapshots: skipped,
    };
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

pub(crate) fn log_closed() -> Error {
    fail("ERR_CLOSED", "log is closed")
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
    let store = engine.store.as_ref().ok_or_else(crate::closed)?;
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
pub fn durable_close(durable: &mut External<Durable>) {
    durable.writer.stop();
    if let Ok(mut guard) = durable.wal.lock() {
        *guard = None;
    }
    durable.recovered = None;
    durable.lock = None;
}

/// The segment size a store's log was made with: its preallocated files' size (all segments
/// are preallocated alike), or the default for a log without segments.
fn segment_size_of(wal_dir: &Path) -> u64 {
    let sizes = fs::read_dir(wal_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "wal"))
        .filter_map(|e| e.metadata().ok().map(|m| m.len()));
    sizes.max().unwrap_or(Options::default().segment_size)
}

/// What `durableVerify` found.
#[napi(object)]
pub struct VerifyReport {
    /// Whether the store would open.
    pub ok: bool,
    /// A readable account: snapshots, segments, what is wrong.
    pub text: String,
}

/// Checks a store directory without opening it for writing: the log's records, the newest
/// snapshot (decoded in full) and that the log continues it. Changes nothing, except that
/// temporary files of a snapshot write that crashed are removed.
#[napi(catch_unwind)]
pub fn durable_verify(path: String) -> Result<VerifyReport> {
    let dir = PathBuf::from(&path);
    let wal_dir = dir.join("wal");
    if !wal_dir.is_dir() {
        return Err(fail("ERR_INVALID_OPTION", format!("{path} is not a MetaStore directory (no wal/)")));
    }
    let info = metastore_wal::inspect(&wal_dir, Options { segment_size: segment_size_of(&wal_dir) }).map_err(wal_error)?;
    let mut ok = info.opens();
    let mut text = String::new();
    let snap_dir = dir.join("snap");
    let mut snapshot_index = 0;
    if snap_dir.is_dir() {
        let loaded = metastore_wal::load_newest_snapshot(&snap_dir).map_err(wal_error)?;
        for (skipped, reason) in loaded.skipped.iter().zip(loaded.skipped_reasons.iter()) {
            text.push_str(&format!("snapshot {} is damaged ({reason}) and would be skipped\n", skipped.display()));
        }
        if let Some(s) = loaded.snapshot {
            match Store::from_snapshot(metastore_core::Config::default(), &s.payload) {
                Ok(store) => text.push_str(&format!(
                    "snapshot {}: index {}, {} bytes, revision {}, {} keys, compacted at {}\n",
                    s.path.display(),
                    s.index,
                    s.payload.len(),
                    store.revision(),
                    store.len(),
                    store.compact_revision()
                )),
                Err(e) => {
                    ok = false;
                    text.push_str(&format!("snapshot {} does not decode: {e}\n", s.path.display()));
                }
            }
            snapshot_index = s.index;
        } else {
            text.push_str("no snapshot\n");
        }
    }
    text.push_str(&format!("log: {info}"));
    if !info.segments.is_empty() && info.first_index > snapshot_index + 1 {
        ok = false;
        text.push_str(&format!("the log starts at index {} but the newest usable snapshot is at {snapshot_index}: entries in between are missing\n", info.first_index));
    }
    Ok(VerifyReport { ok, text })
}

/// Truncates a corrupt log at the damage, on purpose (see docs/log.md); says what it dropped.
/// Fails with ERR_LOCKED while the store is open.
#[napi(catch_unwind)]
pub fn durable_repair(path: String) -> Result<String> {
    let wal_dir = PathBuf::from(&path).join("wal");
    if !wal_dir.is_dir() {
        return Err(fail("ERR_INVALID_OPTION", format!("{path} is not a MetaStore directory (no wal/)")));
    }
    let report = metastore_wal::repair(&wal_dir, Options { segment_size: segment_size_of(&wal_dir) }).map_err(wal_error)?;
    Ok(report.to_string())
}
