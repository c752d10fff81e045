//! Exports for the tests only, compiled with the cargo feature `test-hooks` (the build
//! `npm run build:native:test` makes for the test suite). The published addon has none of them.
//! (`durableFailNext` is in durable.rs, beside the flag it sets.)

use crate::panics::{self, Site};
use napi::{Error, Result, Status};
use napi_derive::napi;

/// Panics, so a test can show that a Rust panic in an export reaches JS as an error and the
/// process keeps running.
#[napi(catch_unwind)]
pub fn debug_panic() -> Result<()> {
    panic!("deliberate panic for tests")
}

/// Makes the addon panic once off the JS thread: `'task'` in the next async task's compute (a
/// snapshot write), `'writer'` in the log's writer thread before its next write.
#[napi(catch_unwind, ts_args_type = "site: 'task' | 'writer'")]
pub fn debug_panic_in(site: String) -> Result<()> {
    let site = match site.as_str() {
        "task" => Site::Task,
        "writer" => Site::Writer,
        _ => return Err(Error::new(Status::InvalidArg, format!("unknown panic site {site}"))),
    };
    panics::arm(site);
    Ok(())
}

/// A call that does nothing, to measure the floor cost of crossing into the addon (bench/ffi).
#[napi(catch_unwind)]
pub fn noop() {}
