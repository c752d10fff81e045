//! Reader of the op codec, version 1 (docs/codec.md). The TypeScript side writes batches; this
//! module validates a whole batch before anything is applied and then hands out borrowed ops.

use crate::error::{BatchError, ErrorNumber};

pub const CODEC_VERSION: u8 = 1;
pub const BATCH_HEADER_BYTES: usize = 8;
const MAGIC: [u8; 3] = *b"MSB";

pub const OP_PUT: u8 = 1;
pub const OP_DELETE_RANGE: u8 = 2;
pub const OP_RANGE: u8 = 3;
pub const OP_TXN: u8 = 4;
pub const OP_LEASE_GRANT: u8 = 5;
pub const OP_LEASE_REVOKE: u8 = 6;
pub const OP_COMPACT: u8 = 7;

pub const PUT_PREV_KV: u8 = 1;
pub const PUT_IGNORE_VALUE: u8 = 2;
pub const PUT_IGNORE_LEASE: u8 = 4;
pub const DELETE_PREV_KV: u8 = 1;
pub const RANGE_KEYS_ONLY: u8 = 1;
pub const RANGE_COUNT_ONLY: u8 = 2;
pub const RANGE_SERIALIZABLE: u8 = 4;
pub const COMPACT_PHYSICAL: u8 = 1;

const PUT_FIXED: usize = 18;
const DELETE_FIXED: usize = 10;
const RANGE_FIXED: usize = 60;
pub(crate) const TXN_FIXED: usize = 14;
pub(crate) const COMPARE_FIXED: usize = 22;
const LEASE_GRANT_FIXED: usize = 18;
const ID_OP_FIXED: usize = 10;
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortOrder {
    None = 0,
    Ascend = 1,
    Descend = 2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortTarget {
    Key = 0,
    Version = 1,
    Create = 2,
    Mod = 3,
    Value = 4,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareTarget {
    Version = 0,
    Create = 1,
    Mod = 2,
    Value = 3,
    Lease = 4,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareResult {
    Equal = 0,
    Greater = 1,
    Less = 2,
    NotEqual = 3,
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

// The format's reader and writer, each in its file; both use the sizes above, private to this
// module and so to them. Their twins are ts/codec/validate.ts and ts/codec/writer.ts.
mod validate;
mod writer;

pub use validate::decode_batch;
pub use writer::BatchBuilder;
