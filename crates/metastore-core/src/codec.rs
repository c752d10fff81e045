//! Reader of the op codec, version 1 (docs/codec.md). The TypeScript side writes batches; this
//! module validates a whole batch before anything is applied and then hands out borrowed ops.

use crate::errors::{BatchError, ErrorNumber};

// The layout (magic, version, op types, flags, sizes and offsets, SortOrder, SortTarget,
// CompareTarget, CompareResult) is declared in formats/codec.mjs.
pub use crate::layout::codec::*;

// decode_op reads a PUT, DELETE_RANGE or RANGE alike: the data's (value's or range end's) length
// right after the key's, then the key and the data right after the fixed-size fields.
const _: () = assert!(PUT_VALUE_LEN_AT == PUT_KEY_LEN_AT + 4 && PUT_KEY_AT == PUT_FIXED);
const _: () = assert!(DELETE_END_LEN_AT == DELETE_KEY_LEN_AT + 4 && DELETE_KEY_AT == DELETE_FIXED);
const _: () = assert!(RANGE_END_LEN_AT == RANGE_KEY_LEN_AT + 4 && RANGE_KEY_AT == RANGE_FIXED);

const MAX_SAFE: i64 = (1 << 53) - 1;
/// etcd's largest lease TTL, in seconds.
pub const MAX_LEASE_TTL: i64 = 9_000_000_000;

/// Default of [`Limits::max_txn_depth`].
pub const DEFAULT_MAX_TXN_DEPTH: usize = 64;
/// The highest `max_txn_depth` honoured: decoding, the transaction checks and apply recurse once
/// per level, and this many levels take ~0.6 MiB of stack in a release build, within a 1 MiB
/// thread stack (a Node worker's is 4 MiB). A larger configured limit counts as this one.
pub const TXN_DEPTH_CEILING: usize = 512;

/// Limits checked by validation.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_key_bytes: usize,
    pub max_value_bytes: usize,
    /// Most ops in one TXN list (etcd's --max-txn-ops).
    pub max_txn_ops: usize,
    /// Most levels of TXN nesting: a top-level TXN is level 1, a TXN in its branch level 2.
    pub max_txn_depth: usize,
}

impl Limits {
    /// The nesting limit decoding enforces: `max_txn_depth`, at most [`TXN_DEPTH_CEILING`].
    pub fn txn_depth(&self) -> usize {
        self.max_txn_depth.min(TXN_DEPTH_CEILING)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_key_bytes: 1_572_864, max_value_bytes: 1_572_864, max_txn_ops: 128, max_txn_depth: DEFAULT_MAX_TXN_DEPTH }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct PutRef<'a> {
    pub key: &'a [u8],
    pub value: &'a [u8],
    pub lease: i64,
    pub flags: u8,
}

#[derive(Clone, Copy, Debug)]
pub struct DeleteRangeRef<'a> {
    pub key: &'a [u8],
    pub range_end: &'a [u8],
    pub prev_kv: bool,
}

#[derive(Clone, Copy, Debug)]
pub struct RangeRef<'a> {
    pub key: &'a [u8],
    pub range_end: &'a [u8],
    pub limit: i64,
    pub revision: i64,
    pub sort_order: SortOrder,
    pub sort_target: SortTarget,
    pub keys_only: bool,
    pub count_only: bool,
    pub min_mod_revision: i64,
    pub max_mod_revision: i64,
    pub min_create_revision: i64,
    pub max_create_revision: i64,
}

#[derive(Clone, Copy, Debug)]
pub struct CompareRef<'a> {
    pub key: &'a [u8],
    pub range_end: &'a [u8],
    pub target: CompareTarget,
    pub result: CompareResult,
    pub operand: i64,
    pub value: &'a [u8],
}

#[derive(Clone, Debug)]
pub struct TxnRef<'a> {
    pub compare: Vec<CompareRef<'a>>,
    pub success: Vec<OpRef<'a>>,
    pub failure: Vec<OpRef<'a>>,
}

/// One op, borrowing its bytes from the batch.
#[derive(Clone, Debug)]
pub enum OpRef<'a> {
    Put(PutRef<'a>),
    DeleteRange(DeleteRangeRef<'a>),
    Range(RangeRef<'a>),
    Txn(Box<TxnRef<'a>>),
    LeaseGrant { id: i64, ttl: i64 },
    LeaseRevoke { id: i64 },
    Compact { revision: i64 },
}

impl OpRef<'_> {
    pub fn type_byte(&self) -> u8 {
        match self {
            OpRef::Put(_) => OP_PUT,
            OpRef::DeleteRange(_) => OP_DELETE_RANGE,
            OpRef::Range(_) => OP_RANGE,
            OpRef::Txn(_) => OP_TXN,
            OpRef::LeaseGrant { .. } => OP_LEASE_GRANT,
            OpRef::LeaseRevoke { .. } => OP_LEASE_REVOKE,
            OpRef::Compact { .. } => OP_COMPACT,
        }
    }
}

#[inline]
pub(crate) fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

#[inline]
pub(crate) fn i64_at(b: &[u8], at: usize) -> i64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&b[at..at + 8]);
    i64::from_le_bytes(raw)
}

pub(crate) fn check_safe(b: &[u8], from: usize, to: usize, index: i64) -> Result<(), BatchError> {
    for at in (from..to).step_by(8) {
        if !(-MAX_SAFE..=MAX_SAFE).contains(&i64_at(b, at)) {
            return Err(BatchError::new(ErrorNumber::MalformedBatch, index, "integer field is not a safe integer"));
        }
    }
    Ok(())
}

pub(crate) fn check_key(key_len: usize, index: i64, limits: &Limits) -> Result<(), BatchError> {
    if key_len == 0 {
        return Err(BatchError::new(ErrorNumber::KeyNotProvided, index, ""));
    }
    if key_len > limits.max_key_bytes {
        return Err(BatchError::new(ErrorNumber::KeyTooLarge, index, format!("{key_len} > {} bytes", limits.max_key_bytes)));
    }
    Ok(())
}

mod validate;
mod writer;

pub use validate::decode_batch;
pub use writer::BatchBuilder;
