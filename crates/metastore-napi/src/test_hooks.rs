//! Exports for the tests only, compiled with the cargo feature `test-hooks` (the build
//! `npm run build:native:test` makes for the test suite). The published addon has none of them.
//! (`durableFailNext` is in durable.rs, beside the flag it sets.)

use napi::Result;
use napi_derive::napi;

/// Test hook: panics inside the same guard every engine call runs in, so a test can show that a
/// Rust panic reaches JS as error number 13 and the process keeps running.
#[napi]
pub fn debug_panic() -> Result<()> {
    crate::guarded(|| panic!("deliberate panic for tests"))
}

/// A call that does nothing, to measure the floor cost of crossing into the addon (bench/ffi).
#[napi]
pub fn noop() {}
