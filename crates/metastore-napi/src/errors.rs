//! The one format errors cross the FFI in: a JS error whose message is
//! `MSERR:<code>:<opIndex>:<message>`, where `<code>` is a codec error number (docs/codec.md,
//! "Error numbers": what apply and validation report, per op) or an `ERR_*` code name (what the
//! durable log reports). `ts/engines/binding-error.ts` turns it into a typed `MetaStoreError`.

use metastore_core::BatchError;
use metastore_wal::WalError;
use napi::{Error, Status};

/// A codec error, naming the op it is about.
pub(crate) fn batch_error(e: BatchError) -> Error {
    Error::new(Status::GenericFailure, format!("MSERR:{}:{}:{}", e.number as u16, e.op_index, e.detail))
}

/// An error with an `ERR_*` code, about no op in particular.
pub(crate) fn fail(code: &str, message: impl std::fmt::Display) -> Error {
    Error::new(Status::GenericFailure, format!("MSERR:{code}:-1:{message}"))
}

pub(crate) fn wal_error(e: WalError) -> Error {
    match e {
        WalError::Corrupt { .. } => fail("ERR_CORRUPT", format!("{e}; the store refuses to open (see `metastore repair`)")),
        WalError::Locked(_) => fail("ERR_LOCKED", e),
        WalError::Io(_) => fail("ERR_LOG_FAILED", e),
    }
}

pub(crate) fn io_error(what: &str, e: std::io::Error) -> Error {
    fail("ERR_LOG_FAILED", format!("{what}: {e}"))
}

/// A request longer than the input buffer it claims to be in.
pub(crate) fn bad_len(len: u32) -> Error {
    Error::new(Status::InvalidArg, format!("MSERR:1:-1:request length {len} exceeds the input buffer"))
}

pub(crate) fn closed() -> Error {
    fail("ERR_CLOSED", "engine is closed")
}

pub(crate) fn log_closed() -> Error {
    fail("ERR_CLOSED", "log is closed")
}
