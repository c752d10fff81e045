//! The log's writer thread. JS queues appends without waiting; the thread writes them in queue
//! order, and the appends that queued while a sync ran are synced together by the next one. Each
//! sync's outcome goes back to JS in one call: `(appends, firstIndex, error)`.
//!
//! One long-lived thread instead of a threadpool task per append: a task had to wake an idle
//! pool thread (a cross-CPU wake-up, tens of µs on a virtual machine) and then wait for its turn
//! behind the append before it (another wake-up), on the path of every group commit.

use crate::errors::{fail, log_closed, wal_error};
use metastore_wal::Wal;
use napi::bindgen_prelude::{FnArgs, Function};
use napi::threadsafe_function::{ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Error, Result, Status};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// `(appends, firstIndex, error)`: how many of the oldest pending appends this report settles,
/// the index of the first entry of the first of them, and the error (errors.rs format) they failed with.
type Report = (u32, f64, Option<String>);
type ReportFn = ThreadsafeFunction<Report, (), FnArgs<Report>, Status, false, true>;

/// The log shared by the writer thread, snapshot tasks (which purge segments) and close.
pub type SharedWal = Arc<Mutex<Option<Wal>>>;

pub struct WalWriter {
    queue: Option<Sender<Vec<Vec<u8>>>>,
    thread: Option<JoinHandle<()>>,
    /// Released at `stop`: it holds the JS callback, and through it the store.
    report: Option<Arc<ReportFn>>,
    /// Appends queued and not yet reported. While there are any, the report function keeps the
    /// event loop alive (it is weak otherwise, so an idle open store does not hold the process).
    pending: Arc<AtomicU32>,
}

impl WalWriter {
    /// Starts the thread; `on_report` is called on the JS thread after each sync.
    pub fn start(wal: SharedWal, fail_next: Arc<AtomicBool>, on_report: Function<FnArgs<Report>, ()>) -> Result<WalWriter> {
        let pending = Arc::new(AtomicU32::new(0));
        let seen = pending.clone();
        // The callback needs the function's own handle, known only once it is made.
        let handle = Arc::new(AtomicPtr::new(std::ptr::null_mut()));
        let own = handle.clone();
        let report: ReportFn =
            on_report.build_threadsafe_function().weak::<true>().callee_handled::<false>().build_callback(move |ctx: ThreadsafeCallContext<Report>| {
                if seen.fetch_sub(ctx.value.0, Ordering::AcqRel) == ctx.value.0 {
                    set_loop_ref(&ctx.env, own.load(Ordering::Acquire), false);
                }
                Ok(FnArgs { data: ctx.value })
            })?;
        handle.store(report.raw(), Ordering::Release);
        let report = Arc::new(report);
        let (queue, appends) = channel();
        let thread_report = report.clone();
        let thread = std::thread::Builder::new()
            .name("metastore-wal".into())
            .spawn(move || run(appends, wal, fail_next, thread_report))
            .map_err(|e| fail("ERR_LOG_FAILED", format!("cannot start the log writer thread: {e}")))?;
        Ok(WalWriter { queue: Some(queue), thread: Some(thread), report: Some(report), pending })
    }

    /// Queues one append (its entries); its outcome comes in a later report.
    pub fn append(&self, env: &Env, entries: Vec<Vec<u8>>) -> Result<()> {
        let queue = self.queue.as_ref().ok_or_else(log_closed)?;
        let report = self.report.as_ref().ok_or_else(log_closed)?.raw();
        if self.pending.fetch_add(1, Ordering::AcqRel) == 0 {
            set_loop_ref(env, report, true);
        }
        queue.send(entries).map_err(|_| {
            if self.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
                set_loop_ref(env, report, false);
            }
            fail("ERR_LOG_FAILED", "the log writer thread has stopped")
        })
    }

    /// Lets the thread write and sync what is queued, then stops it. Reports still to come are
    /// delivered to JS afterwards.
    pub fn stop(&mut self) {
        self.queue = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // Released now, not when this writer is finalized: the function holds its JS callback
        // (and through it the store) from a GC root, so the finalizer never came and every
        // closed store stayed in memory. The reports already queued are still delivered.
        self.report = None;
    }
}

impl Drop for WalWriter {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether the report function keeps the event loop alive (on the JS thread only).
fn set_loop_ref(env: &Env, report: napi::sys::napi_threadsafe_function, on: bool) {
    // SAFETY: called on the JS thread with the env that owns the function, which is alive: from
    // `append`, the writer holds it; from its callback, Node finalizes it only after the last call.
    unsafe {
        if on {
            napi::sys::napi_ref_threadsafe_function(env.raw(), report);
        } else {
            napi::sys::napi_unref_threadsafe_function(env.raw(), report);
        }
    }
}

fn run(appends: Receiver<Vec<Vec<u8>>>, wal: SharedWal, fail_next: Arc<AtomicBool>, report: Arc<ReportFn>) {
    let mut batch = Vec::new();
    while let Ok(first) = appends.recv() {
        batch.push(first);
        while let Ok(more) = appends.try_recv() {
            batch.push(more);
        }
        let n = batch.len() as u32;
        // A panic must still settle the appends: JS waits for their report.
        let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::panics::injected_panic(crate::panics::Site::Writer);
            write(&wal, &fail_next, &batch)
        }))
        .unwrap_or_else(|panic| Err(fail("ERR_LOG_FAILED", format!("the log writer panicked: {}", crate::panics::message(&*panic)))));
        let outcome = match written {
            Ok(first_index) => (n, first_index as f64, None),
            Err(e) => (n, 0.0, Some(e.reason.clone())),
        };
        batch.clear();
        report.call(outcome, ThreadsafeFunctionCallMode::NonBlocking);
    }
}

/// Writes the queued appends, one record each, and syncs them together.
fn write(wal: &SharedWal, fail_next: &AtomicBool, batch: &[Vec<Vec<u8>>]) -> std::result::Result<u64, Error> {
    let mut guard = wal.lock().map_err(|_| fail("ERR_LOG_FAILED", "log lock poisoned"))?;
    let log = guard.as_mut().ok_or_else(log_closed)?;
    if fail_next.swap(false, Ordering::AcqRel) {
        // Test hook: what an fdatasync failure does — the log stops for good.
        *guard = None;
        return Err(fail("ERR_LOG_FAILED", "WAL I/O error: injected fdatasync failure"));
    }
    let groups: Vec<Vec<&[u8]>> = batch.iter().map(|entries| entries.iter().map(|e| e.as_slice()).collect()).collect();
    let refs: Vec<&[&[u8]]> = groups.iter().map(|g| g.as_slice()).collect();
    log.append_groups(1, &refs).map_err(wal_error)
}
