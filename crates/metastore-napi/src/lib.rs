//! Node-API binding of `metastore-core`. Thin on purpose: bytes in, bytes out, no per-op JS
//! objects. Batches arrive as one Uint8Array and results leave as one Buffer that owns the
//! result memory. Small reads write into a scratch buffer the caller registered once, so a get
//! costs one call and no allocation on the JS side.
//!
//! Errors cross as JS errors whose message starts with `MSERR:<number>:<opIndex>:`; the
//! TypeScript wrapper turns them into typed `MetaStoreError`s. Panics are caught and reported
//! as error number 13 (internal) instead of aborting the process.

use metastore_core::codec::Limits;
use metastore_core::results::ResultWriter;
use metastore_core::{BatchError, Config, ErrorNumber, Store};
use napi::bindgen_prelude::{Buffer, Uint8Array};
use napi::{Error, Result, Status};
use napi_derive::napi;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Limits and tuning, as the TypeScript `EngineOptions`.
#[napi(object)]
pub struct NativeEngineOptions {
    pub max_key_bytes: Option<u32>,
    pub max_value_bytes: Option<u32>,
    pub parallel_threshold: Option<u32>,
    pub threads: Option<u32>,
}

/// Returned by `get` and `range` when the answer did not fit the scratch buffer; fetch it with
/// `takePending`.
pub const PENDING: i32 = -2;
/// Returned by `get` for a missing key.
pub const ABSENT: i32 = -1;

fn batch_error(e: BatchError) -> Error {
    Error::new(Status::GenericFailure, format!("MSERR:{}:{}:{}", e.number as u16, e.op_index, e.detail))
}

fn closed() -> Error {
    Error::new(Status::GenericFailure, "MSERR:0:-1:engine is closed".to_string())
}

/// Runs `f`, turning a panic into error number 13.
fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".to_string());
            Err(batch_error(BatchError::new(ErrorNumber::Internal, -1, what)))
        }
    }
}

#[napi]
pub struct NativeEngine {
    store: Option<Store>,
    scratch: Uint8Array,
    pending: Vec<u8>,
    read_buf: Vec<u8>,
}

#[napi]
impl NativeEngine {
    /// `scratch` receives small read results; the engine keeps a reference to it.
    #[napi(constructor)]
    pub fn new(scratch: Uint8Array, options: Option<NativeEngineOptions>) -> Self {
        let defaults = Config::default();
        let mut config = defaults.clone();
        if let Some(o) = options {
            config.limits = Limits {
                max_key_bytes: o.max_key_bytes.map_or(defaults.limits.max_key_bytes, |n| n as usize),
                max_value_bytes: o.max_value_bytes.map_or(defaults.limits.max_value_bytes, |n| n as usize),
            };
            config.parallel_threshold = o.parallel_threshold.map_or(defaults.parallel_threshold, |n| n as usize);
            config.threads = o.threads.map_or(0, |n| n as usize);
        }
        NativeEngine { store: Some(Store::new(config)), scratch, pending: Vec::new(), read_buf: Vec::with_capacity(4096) }
    }

    fn store(&self) -> Result<&Store> {
        self.store.as_ref().ok_or_else(closed)
    }

    /// Applies one encoded batch; returns the packed results.
    #[napi]
    pub fn apply_batch(&self, batch: &[u8]) -> Result<Buffer> {
        let store = self.store()?;
        guarded(|| store.apply_batch(batch).map(Buffer::from).map_err(batch_error))
    }

    /// Writes the latest KV of `key` into the scratch buffer; returns its length, -1 when the key
    /// is absent, -2 when it is waiting in `takePending`.
    #[napi]
    pub fn get(&mut self, key: &[u8]) -> Result<i32> {
        let store = self.store.as_ref().ok_or_else(closed)?;
        let mut out = ResultWriter::bare(std::mem::take(&mut self.read_buf));
        let found = store.with_kv(key, |kv| kv.map(|(k, kv)| out.kv(k, kv, false)).is_some());
        self.read_buf = out.finish(0);
        if !found {
            return Ok(ABSENT);
        }
        Ok(self.deliver())
    }

    /// Serves a one-op batch holding a RANGE op; the bare RANGE result goes to the scratch
    /// buffer (length returned) or to `takePending` (-2).
    #[napi]
    pub fn range(&mut self, request: &[u8]) -> Result<i32> {
        let store = self.store.as_ref().ok_or_else(closed)?;
        let buf = std::mem::take(&mut self.read_buf);
        let result = guarded(|| store.range_request(request, buf).map_err(batch_error))?;
        self.read_buf = result;
        Ok(self.deliver())
    }

    /// The last read result that did not fit the scratch buffer.
    #[napi]
    pub fn take_pending(&mut self) -> Buffer {
        Buffer::from(std::mem::take(&mut self.pending))
    }

    /// Current revision.
    #[napi(getter)]
    pub fn revision(&self) -> Result<i64> {
        Ok(self.store()?.revision())
    }

    /// Number of live keys.
    #[napi(getter)]
    pub fn size(&self) -> Result<i64> {
        Ok(self.store()?.len() as i64)
    }

    /// Frees the store; later calls fail.
    #[napi]
    pub fn close(&mut self) {
        self.store = None;
        self.read_buf = Vec::new();
        self.pending = Vec::new();
    }

    /// Copies `read_buf` into the scratch buffer when it fits, else parks it in `pending`.
    fn deliver(&mut self) -> i32 {
        let n = self.read_buf.len();
        // SAFETY: the scratch array is only touched by JS between calls, never during one.
        let scratch = unsafe { self.scratch.as_mut() };
        if n <= scratch.len() {
            scratch[..n].copy_from_slice(&self.read_buf);
            n as i32
        } else {
            self.pending = std::mem::take(&mut self.read_buf);
            PENDING
        }
    }
}

/// A call that does nothing, to measure the floor cost of crossing into the addon.
#[napi]
pub fn noop() {}
