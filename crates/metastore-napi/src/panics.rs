//! A Rust panic never aborts the process. napi-rs calls into the addon from `extern "C"`
//! functions, where an unwinding panic aborts; so every path in catches its own:
//!
//! - every export is declared `#[napi(catch_unwind)]`: the function napi-rs generates runs the
//!   argument conversions, the body and the result's conversion inside `catch_unwind`, and throws
//!   a panic as a JS error with the panic's message (the TypeScript wrappers make it
//!   `ERR_INTERNAL`). The test below fails when an export is declared without it;
//! - async tasks are wrapped in [`GuardedTask`] (their steps run in libuv's callbacks);
//! - the log's writer thread catches a panic around each write and reports it as the outcome of
//!   the appends it was writing (wal_writer.rs).

use napi::{Env, Error, Result, Status, Task};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The panic's message, as napi-rs's `catch_unwind` reports it.
pub(crate) fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| payload.downcast_ref::<String>().cloned()).unwrap_or_else(|| "panic".to_string())
}

/// Runs `f`, turning a panic into an error with its message.
fn catching<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| Err(Error::new(Status::GenericFailure, message(&*payload))))
}

/// A task whose steps run inside `catch_unwind`: `compute` on a threadpool thread, `resolve`,
/// `reject` and `finally` on the JS thread. A panic becomes the task's error: its promise rejects.
pub struct GuardedTask<T>(pub T);

impl<T: Task> Task for GuardedTask<T> {
    type Output = T::Output;
    type JsValue = T::JsValue;

    fn compute(&mut self) -> Result<T::Output> {
        catching(|| {
            injected_panic(Site::Task);
            self.0.compute()
        })
    }

    fn resolve(&mut self, env: Env, output: T::Output) -> Result<T::JsValue> {
        catching(|| self.0.resolve(env, output))
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<T::JsValue> {
        catching(|| self.0.reject(env, err))
    }

    fn finally(self, env: Env) -> Result<()> {
        catching(|| self.0.finally(env))
    }
}

/// Where a test can make the addon panic (`debugPanicIn`), off the JS thread.
#[derive(Clone, Copy)]
pub(crate) enum Site {
    /// The next async task's `compute` (a snapshot write).
    Task = 0,
    /// The log's writer thread, before its next write.
    Writer = 1,
}

#[cfg(feature = "test-hooks")]
static ARMED: [std::sync::atomic::AtomicBool; 2] = [const { std::sync::atomic::AtomicBool::new(false) }; 2];

/// Panics here once after `debugPanicIn(site)` (test builds only; nothing in a release build).
#[inline(always)]
pub(crate) fn injected_panic(site: Site) {
    #[cfg(feature = "test-hooks")]
    if ARMED[site as usize].swap(false, std::sync::atomic::Ordering::AcqRel) {
        panic!("deliberate panic for tests ({})", ["task", "writer"][site as usize]);
    }
    let _ = site;
}

#[cfg(feature = "test-hooks")]
pub(crate) fn arm(site: Site) {
    ARMED[site as usize].store(true, std::sync::atomic::Ordering::Release);
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every `#[napi(...)]` item of the crate's sources: (file, attribute, the item's first line).
    fn napi_items() -> Vec<(String, String, String)> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut items = Vec::new();
        for entry in std::fs::read_dir(&src).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let file = path.file_name().unwrap().to_string_lossy().to_string();
            let lines: Vec<&str> = text.lines().map(str::trim).collect();
            for (i, line) in lines.iter().enumerate() {
                if !line.starts_with("#[napi") {
                    continue;
                }
                // An attribute may span lines (rustfmt wraps long ones): read it to its closing `]`.
                let mut attr = line.to_string();
                let mut next = i + 1;
                while !attr.ends_with(']') && next < lines.len() {
                    attr.push_str(lines[next]);
                    next += 1;
                }
                // The item is the first line after it that is not another attribute or a comment.
                let item = lines[next..].iter().find(|l| !l.starts_with("#[") && !l.starts_with("//")).unwrap_or(&"");
                items.push((file.clone(), attr, item.to_string()));
            }
        }
        items
    }

    #[test]
    fn every_export_catches_panics() {
        let items = napi_items();
        let exports: Vec<_> = items.iter().filter(|(_, _, item)| item.contains("fn ")).collect();
        // The scan sees the exports (a few by name), so an empty or partial result cannot pass.
        for name in ["fn engine_new(", "fn engine_get(", "fn durable_open(", "fn durable_snapshot(", "fn durable_close("] {
            assert!(exports.iter().any(|(_, _, item)| item.contains(name)), "no #[napi] export `{name}` found: the scan is broken");
        }
        let unguarded: Vec<String> =
            exports.iter().filter(|(_, attr, _)| !attr.contains("catch_unwind")).map(|(file, attr, item)| format!("{file}: {attr} {item}")).collect();
        assert!(unguarded.is_empty(), "exports without #[napi(catch_unwind)] (a panic in them aborts the process):\n{}", unguarded.join("\n"));
        // Anything else the macro marks is a plain object, converted inside a guarded export.
        for (file, attr, item) in items.iter().filter(|(_, _, item)| !item.contains("fn ")) {
            assert!(attr == "#[napi(object)]" && item.contains("struct "), "{file}: unexpected napi item {attr} {item}");
        }
    }

    #[test]
    fn every_async_task_is_guarded() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for entry in std::fs::read_dir(&src).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            // Spelled in two pieces so that this file does not match itself.
            const NEEDLE: &str = concat!("AsyncTask", "::new(");
            for (at, _) in text.match_indices(NEEDLE) {
                let rest = &text[at + NEEDLE.len()..];
                assert!(rest.starts_with("GuardedTask("), "{}: an AsyncTask without GuardedTask (a panic in compute aborts)", path.display());
            }
        }
    }
}
