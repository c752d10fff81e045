//! Error numbers shared with the TypeScript side (docs/codec.md, "Error numbers").

use std::fmt;

/// A codec error number. The values never change meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum ErrorNumber {
    MalformedBatch = 1,
    UnsupportedVersion = 2,
    KeyNotProvided = 3,
    KeyTooLarge = 4,
    ValueTooLarge = 5,
    InvalidSort = 6,
    ValueProvided = 7,
    LeaseProvided = 8,
    KeyNotFound = 9,
    LeaseNotFound = 10,
    FutureRev = 11,
    Compacted = 12,
    Internal = 13,
    TooManyOps = 14,
    DuplicateKey = 15,
    LeaseTtlTooLarge = 16,
    LeaseExists = 17,
    TxnTooDeep = 18,
}

impl ErrorNumber {
    /// The stable code the TypeScript side exposes.
    pub fn code(self) -> &'static str {
        match self {
            ErrorNumber::MalformedBatch => "ERR_MALFORMED_BATCH",
            ErrorNumber::UnsupportedVersion => "ERR_UNSUPPORTED_VERSION",
            ErrorNumber::KeyNotProvided => "ERR_KEY_NOT_PROVIDED",
            ErrorNumber::KeyTooLarge => "ERR_KEY_TOO_LARGE",
            ErrorNumber::ValueTooLarge => "ERR_VALUE_TOO_LARGE",
            ErrorNumber::InvalidSort => "ERR_INVALID_SORT",
            ErrorNumber::ValueProvided => "ERR_VALUE_PROVIDED",
            ErrorNumber::LeaseProvided => "ERR_LEASE_PROVIDED",
            ErrorNumber::KeyNotFound => "ERR_KEY_NOT_FOUND",
            ErrorNumber::LeaseNotFound => "ERR_LEASE_NOT_FOUND",
            ErrorNumber::FutureRev => "ERR_FUTURE_REV",
            ErrorNumber::Compacted => "ERR_COMPACTED",
            ErrorNumber::Internal => "ERR_INTERNAL",
            ErrorNumber::TooManyOps => "ERR_TOO_MANY_OPS",
            ErrorNumber::DuplicateKey => "ERR_DUPLICATE_KEY",
            ErrorNumber::LeaseTtlTooLarge => "ERR_LEASE_TTL_TOO_LARGE",
            ErrorNumber::LeaseExists => "ERR_LEASE_EXISTS",
            ErrorNumber::TxnTooDeep => "ERR_TXN_TOO_DEEP",
        }
    }
}

/// Why a whole batch (or a standalone request) was refused. Nothing was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchError {
    pub number: ErrorNumber,
    /// Index of the failing op; -1 when the batch header is at fault.
    pub op_index: i64,
    pub detail: String,
}

impl BatchError {
    pub fn new(number: ErrorNumber, op_index: i64, detail: impl Into<String>) -> Self {
        BatchError { number, op_index, detail: detail.into() }
    }
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (op {})", self.number.code(), self.op_index)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for BatchError {}
