//! Error numbers shared with the TypeScript side (docs/formats.md, "Error numbers").

use std::fmt;

// The numbers, their codes (`ErrorNumber::code`) and the TypeScript side's messages are declared
// in formats/errors.mjs.
pub use crate::layout::errors::ErrorNumber;

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
