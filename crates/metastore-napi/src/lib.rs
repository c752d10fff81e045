//! Node-API binding of `metastore-core`. Thin on purpose: bytes in, bytes out, no per-op JS
//! objects. The caller registers two buffers once: `input`, where it writes small requests
//! (a key, a range request), and `scratch`, where results that fit are copied. A call then
//! passes only lengths, and nothing is allocated on the JS heap per call. Results too large for
//! the scratch buffer are handed over as one Buffer by `takePending`.
//!
//! Errors cross in one format (errors.rs), `MSERR:<code>:<opIndex>:<message>`; the
//! TypeScript wrapper turns them into typed `MetaStoreError`s. Every export catches panics
//! (`#[napi(catch_unwind)]`, see panics.rs): one reaches JS as an error with the panic's message,
//! which the wrapper makes `ERR_INTERNAL`, instead of aborting the process.

// The unit-test build of this cdylib runs source checks only: the exports napi-rs registers at load
// time are never called from Rust, so they read as dead code there.
#![cfg_attr(test, allow(dead_code))]

use errors::{bad_len, batch_error, closed};
use metastore_core::codec::Limits;
use metastore_core::results::ResultWriter;
use metastore_core::{BatchError, Config, EventsMode, Store};
use napi::bindgen_prelude::{BufferSlice, External, Uint8Array};
use napi::{Env, Result};
use napi_derive::napi;
use std::sync::Arc;

mod durable;
mod errors;
mod panics;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod wal_writer;

// Apply allocates a value per version and grows histories: with glibc's allocator, malloc/free
// took about a third of the stress batch's samples (perf).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Freed memory goes back to the OS once it has been idle for a second, instead of after 10 ms
/// (mimalloc's default). Growing a store frees and reallocates large tables; with the default,
/// faulting those pages in again took half the time of inserting new keys (perf: kernel page
/// zeroing). Never giving memory back (-1) cost as much RSS as the tables a growing store left
/// behind: loading 10M keys (bench/scale-child.js) kept 2.50-2.53 GiB, with one second
/// 2.47-2.49 GiB, loading as fast.
fn keep_freed_memory() {
    // `mi_option_purge_delay` in mimalloc's option enum (the -sys crate does not name it).
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    const PURGE_AFTER_MS: std::ffi::c_long = 1000;
    // SAFETY: sets a process-wide allocator option; mimalloc reads options at any time.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_AFTER_MS) };
}

/// Limits and tuning, as the TypeScript `EngineOptions`.
#[napi(object)]
pub struct NativeEngineOptions {
    pub max_key_bytes: Option<u32>,
    pub max_value_bytes: Option<u32>,
    pub parallel_threshold: Option<u32>,
    pub threads: Option<u32>,
    pub max_txn_ops: Option<u32>,
    pub max_txn_depth: Option<u32>,
    pub min_lease_ttl: Option<i64>,
}

/// Returned by `get` and `range` when the answer did not fit the scratch buffer; fetch it with
/// `takePending`.
pub const PENDING: i32 = -2;
/// Returned by `get` for a missing key.
pub const ABSENT: i32 = -1;

/// One store with its I/O buffers. JS holds it as an opaque External; the exported functions
/// below take it as their first argument. (Plain functions over an External cost a fraction of
/// a class method call in napi-rs 3.16, whose per-call borrow tracking dominated small reads.)
pub struct Engine {
    pub(crate) store: Option<Arc<Store>>,
    input: Uint8Array,
    io: Output,
}

impl Engine {
    fn store(&self) -> Result<&Store> {
        self.store.as_deref().ok_or_else(closed)
    }
}

/// Where results go: the scratch buffer when they fit, else `pending`.
struct Output {
    scratch: Uint8Array,
    pending: Vec<u8>,
    /// Reused for every result before it is copied to `scratch`.
    buf: Vec<u8>,
}

impl Output {
    /// Copies `buf` into the scratch buffer when it fits, else hands it to `pending`.
    fn deliver(&mut self) -> i32 {
        let n = self.buf.len();
        // SAFETY: JS only touches the scratch array between calls, never during one.
        let scratch = unsafe { self.scratch.as_mut() };
        if n <= scratch.len() {
            scratch[..n].copy_from_slice(&self.buf);
            n as i32
        } else {
            // The two buffers trade places, so neither is allocated again.
            std::mem::swap(&mut self.pending, &mut self.buf);
            self.buf.clear();
            PENDING
        }
    }

    fn get(&mut self, store: &Store, key: &[u8]) -> i32 {
        let mut out = ResultWriter::bare(std::mem::take(&mut self.buf));
        let found = store.with_kv(key, |kv| kv.map(|(k, kv)| out.kv(k, kv, false)).is_some());
        self.buf = out.finish(0);
        if found {
            self.deliver()
        } else {
            ABSENT
        }
    }

    fn range(&mut self, store: &Store, request: &[u8]) -> Result<i32> {
        let buf = std::mem::take(&mut self.buf);
        self.buf = store.range_request(request, buf).map_err(batch_error)?;
        Ok(self.deliver())
    }
}

/// A new, empty store. `scratch` receives results, `input` carries small requests; the engine
/// keeps both.
#[napi(catch_unwind)]
pub fn engine_new(scratch: Uint8Array, input: Uint8Array, options: Option<NativeEngineOptions>) -> External<Engine> {
    let defaults = Config::default();
    let mut config = defaults.clone();
    if let Some(o) = options {
        config.limits = Limits {
            max_key_bytes: o.max_key_bytes.map_or(defaults.limits.max_key_bytes, |n| n as usize),
            max_value_bytes: o.max_value_bytes.map_or(defaults.limits.max_value_bytes, |n| n as usize),
            max_txn_ops: o.max_txn_ops.map_or(defaults.limits.max_txn_ops, |n| n as usize),
            max_txn_depth: o.max_txn_depth.map_or(defaults.limits.max_txn_depth, |n| n as usize),
        };
        config.parallel_threshold = o.parallel_threshold.map_or(defaults.parallel_threshold, |n| n as usize);
        config.threads = o.threads.map_or(0, |n| n as usize);
        config.min_lease_ttl = o.min_lease_ttl.unwrap_or(defaults.min_lease_ttl);
    }
    keep_freed_memory();
    let io = Output { scratch, pending: Vec::new(), buf: Vec::with_capacity(64 * 1024) };
    External::new(Engine { store: Some(Arc::new(Store::new(config))), input, io })
}

/// Applies one encoded batch with an events mode (0 none, 1 events, 2 with previous values).
/// Returns the length of the packed results in the scratch buffer, or -2 when they wait in
/// `engineTakePending`.
#[napi(catch_unwind)]
pub fn engine_apply_batch(engine: &mut External<Engine>, batch: &[u8], events: u32) -> Result<i32> {
    let Engine { store, io, .. } = &mut **engine;
    let store = store.as_ref().ok_or_else(closed)?;
    let buf = std::mem::take(&mut io.buf);
    io.buf = store.apply_batch_into(batch, buf, EventsMode::from_u32(events)).map_err(batch_error)?;
    Ok(io.deliver())
}

/// History replay: the events section (`u32 count | events`) of changes with revision ≥ `from`
/// for keys in [key, rangeEnd), in the scratch buffer (length) or pending (-2).
#[napi(catch_unwind)]
pub fn engine_changes(engine: &mut External<Engine>, from: i64, key: &[u8], range_end: &[u8], prev_kv: bool) -> Result<i32> {
    let Engine { store, io, .. } = &mut **engine;
    let store = store.as_ref().ok_or_else(closed)?;
    io.buf = store.changes(from, key, range_end, prev_kv).map_err(|n| batch_error(BatchError::new(n, -1, "")))?;
    Ok(io.deliver())
}

/// A lease as `i64 ttl | u32 n | n × (u32 len | key)` in the scratch buffer (length), pending
/// (-2), or -1 when it does not exist.
#[napi(catch_unwind)]
pub fn engine_lease_info(engine: &mut External<Engine>, id: i64) -> Result<i32> {
    let Engine { store, io, .. } = &mut **engine;
    let store = store.as_ref().ok_or_else(closed)?;
    let Some((ttl, keys)) = store.lease_info(id) else { return Ok(ABSENT) };
    io.buf.clear();
    io.buf.extend_from_slice(&ttl.to_le_bytes());
    io.buf.extend_from_slice(&(keys.len() as u32).to_le_bytes());
    for key in keys {
        io.buf.extend_from_slice(&(key.len() as u32).to_le_bytes());
        io.buf.extend_from_slice(&key);
    }
    Ok(io.deliver())
}

/// Granted lease ids as `u32 n | n × i64`, ascending, in the scratch buffer (length) or pending (-2).
#[napi(catch_unwind)]
pub fn engine_leases(engine: &mut External<Engine>) -> Result<i32> {
    let Engine { store, io, .. } = &mut **engine;
    let store = store.as_ref().ok_or_else(closed)?;
    let ids = store.lease_ids();
    io.buf.clear();
    io.buf.extend_from_slice(&(ids.len() as u32).to_le_bytes());
    for id in ids {
        io.buf.extend_from_slice(&id.to_le_bytes());
    }
    Ok(io.deliver())
}

/// The compacted revision (-1 for a fresh store).
#[napi(catch_unwind)]
pub fn engine_compact_revision(engine: &External<Engine>) -> Result<i64> {
    Ok(engine.store()?.compact_revision())
}

/// Writes the latest KV of the key in `input[..keyLen]` into the scratch buffer; returns its
/// length, -1 when the key is absent, -2 when it waits in `engineTakePending`.
#[napi(catch_unwind)]
pub fn engine_get(engine: &mut External<Engine>, key_len: u32) -> Result<i32> {
    let Engine { store, input, io } = &mut **engine;
    let store = store.as_ref().ok_or_else(closed)?;
    let key = input.get(..key_len as usize).ok_or_else(|| bad_len(key_len))?;
    Ok(io.get(store, key))
}

/// `engineGet` for a key too large for `input`.
#[napi(catch_unwind)]
pub fn engine_get_bytes(engine: &mut External<Engine>, key: &[u8]) -> Result<i32> {
    let Engine { store, io, .. } = &mut **engine;
    let store = store.as_ref().ok_or_else(closed)?;
    Ok(io.get(store, key))
}

/// Serves the one-op RANGE batch in `input[..len]`: the bare RANGE result goes to the scratch
/// buffer (length returned) or to `engineTakePending` (-2).
#[napi(catch_unwind)]
pub fn engine_range(engine: &mut External<Engine>, len: u32) -> Result<i32> {
    let Engine { store, input, io } = &mut **engine;
    let store = store.as_ref().ok_or_else(closed)?;
    let request = input.get(..len as usize).ok_or_else(|| bad_len(len))?;
    io.range(store, request)
}

/// `engineRange` for a request too large for `input`.
#[napi(catch_unwind)]
pub fn engine_range_bytes(engine: &mut External<Engine>, request: &[u8]) -> Result<i32> {
    let Engine { store, io, .. } = &mut **engine;
    let store = store.as_ref().ok_or_else(closed)?;
    io.range(store, request)
}

const KEPT_PENDING_BYTES: usize = 4 << 20;

/// The last result that did not fit the scratch buffer, copied into a Node buffer. Handing the
/// Vec itself over (zero-copy) left one allocation per large result to the garbage collector:
/// loading 10M keys in batches of 10,000 kept ~200 MiB of them resident.
#[napi(catch_unwind)]
pub fn engine_take_pending<'env>(env: &'env Env, engine: &mut External<Engine>) -> Result<BufferSlice<'env>> {
    let pending = &mut engine.io.pending;
    let copy = BufferSlice::copy_from(env, &*pending);
    pending.clear();
    // Kept for the next large result unless a rare huge one made it big.
    if pending.capacity() > KEPT_PENDING_BYTES {
        *pending = Vec::new();
    }
    copy
}

/// Current revision.
#[napi(catch_unwind)]
pub fn engine_revision(engine: &External<Engine>) -> Result<i64> {
    Ok(engine.store()?.revision())
}

/// Number of live keys.
#[napi(catch_unwind)]
pub fn engine_size(engine: &External<Engine>) -> Result<i64> {
    Ok(engine.store()?.len() as i64)
}

/// Frees the store (once a snapshot being written, which holds it too, is done) and lets go of
/// the two registered buffers; later calls fail.
#[napi(catch_unwind)]
pub fn engine_close(engine: &mut External<Engine>) {
    engine.store = None;
    engine.io.buf = Vec::new();
    engine.io.pending = Vec::new();
    // Each holds a reference to its JS buffer (64 KiB), which would otherwise live until the
    // External's finalizer, which Node runs only on a later turn of the event loop.
    engine.input = Uint8Array::new(Vec::new());
    engine.io.scratch = Uint8Array::new(Vec::new());
}
