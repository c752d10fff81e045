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

fn defined_flags(op_type: u8) -> u8 {
    match op_type {
        OP_PUT => PUT_PREV_KV | PUT_IGNORE_VALUE | PUT_IGNORE_LEASE,
        OP_DELETE_RANGE => DELETE_PREV_KV,
        OP_RANGE => RANGE_KEYS_ONLY | RANGE_COUNT_ONLY | RANGE_SERIALIZABLE,
        OP_COMPACT => COMPACT_PHYSICAL,
        _ => 0,
    }
}

fn sort_order(b: u8) -> SortOrder {
    match b {
        1 => SortOrder::Ascend,
        2 => SortOrder::Descend,
        _ => SortOrder::None,
    }
}

fn sort_target(b: u8) -> SortTarget {
    match b {
        1 => SortTarget::Version,
        2 => SortTarget::Create,
        3 => SortTarget::Mod,
        4 => SortTarget::Value,
        _ => SortTarget::Key,
    }
}

/// Validates a whole batch (docs/codec.md, "Validation") and decodes it into borrowed ops.
/// On error nothing has been applied and the error names the first failing op.
pub fn decode_batch<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Vec<OpRef<'a>>, BatchError> {
    let len = bytes.len();
    if len < BATCH_HEADER_BYTES || bytes[..3] != MAGIC {
        return Err(BatchError::new(ErrorNumber::MalformedBatch, -1, "bad magic or short header"));
    }
    if bytes[3] != CODEC_VERSION {
        return Err(BatchError::new(ErrorNumber::UnsupportedVersion, -1, format!("version {}", bytes[3])));
    }
    let count = u32_at(bytes, 4);
    // Every op takes at least 10 bytes: a larger count is caught as truncation, never allocated.
    let mut ops = Vec::with_capacity(count.min((len - BATCH_HEADER_BYTES) / DELETE_FIXED));
    let mut p = BATCH_HEADER_BYTES;
    for i in 0..count {
        ops.push(decode_op(bytes, &mut p, i as i64, limits, limits.max_txn_ops, 0)?);
    }
    if p != len {
        return Err(BatchError::new(ErrorNumber::MalformedBatch, -1, format!("{} bytes after the last op", len - p)));
    }
    Ok(ops)
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

/// Decodes and validates the op at `*pos`. `budget`: most ops a TXN list may hold here;
/// `enclosing_txns`: how many TXNs hold this op (0 at top level; inside a TXN branch only ops of
/// types 1–4 are allowed).
pub(crate) fn decode_op<'a>(b: &'a [u8], pos: &mut usize, index: i64, limits: &Limits, budget: usize, enclosing_txns: usize) -> Result<OpRef<'a>, BatchError> {
    let fail = |n: ErrorNumber, detail: String| Err(BatchError::new(n, index, detail));
    let in_txn = enclosing_txns > 0;
    let p = *pos;
    let len = b.len();
    if p + 2 > len {
        return fail(ErrorNumber::MalformedBatch, "truncated op".into());
    }
    let op_type = b[p];
    let flags = b[p + 1];
    let max_type = if in_txn { OP_TXN } else { OP_COMPACT };
    if !(OP_PUT..=max_type).contains(&op_type) {
        return fail(ErrorNumber::MalformedBatch, format!("unknown op type {op_type}{}", if in_txn { " in a txn" } else { "" }));
    }
    if flags & !defined_flags(op_type) != 0 {
        return fail(ErrorNumber::MalformedBatch, format!("undefined flags {flags}"));
    }
    let fixed = match op_type {
        OP_PUT => PUT_FIXED,
        OP_DELETE_RANGE => DELETE_FIXED,
        OP_RANGE => RANGE_FIXED,
        OP_TXN => TXN_FIXED,
        OP_LEASE_GRANT => LEASE_GRANT_FIXED,
        _ => ID_OP_FIXED,
    };
    if p + fixed > len {
        return fail(ErrorNumber::MalformedBatch, "truncated op".into());
    }
    match op_type {
        OP_TXN => return crate::txn_check::decode_txn(b, pos, index, limits, budget, enclosing_txns + 1),
        OP_LEASE_GRANT => {
            check_safe(b, p + 2, p + 18, index)?;
            let ttl = i64_at(b, p + 10);
            if ttl > MAX_LEASE_TTL {
                return fail(ErrorNumber::LeaseTtlTooLarge, String::new());
            }
            *pos = p + fixed;
            return Ok(OpRef::LeaseGrant { id: i64_at(b, p + 2), ttl });
        }
        OP_LEASE_REVOKE | OP_COMPACT => {
            check_safe(b, p + 2, p + 10, index)?;
            *pos = p + fixed;
            let n = i64_at(b, p + 2);
            return Ok(if op_type == OP_COMPACT { OpRef::Compact { revision: n } } else { OpRef::LeaseRevoke { id: n } });
        }
        _ => {}
    }
    let len_at = match op_type {
        OP_PUT => p + 10,
        OP_DELETE_RANGE => p + 2,
        _ => p + 52,
    };
    let key_len = u32_at(b, len_at);
    let data_len = u32_at(b, len_at + 4);
    let key_start = p + fixed;
    let end = key_start as u64 + key_len as u64 + data_len as u64;
    if end > len as u64 {
        return fail(ErrorNumber::MalformedBatch, "truncated op".into());
    }
    let end = end as usize;
    match op_type {
        OP_PUT => check_safe(b, p + 2, p + 10, index)?,
        OP_RANGE => check_safe(b, p + 4, p + 52, index)?,
        _ => {}
    }
    check_key(key_len, index, limits)?;
    let key = &b[key_start..key_start + key_len];
    let data = &b[key_start + key_len..end];
    *pos = end;
    match op_type {
        OP_PUT => {
            let lease = i64_at(b, p + 2);
            if data_len > limits.max_value_bytes {
                return fail(ErrorNumber::ValueTooLarge, format!("{data_len} > {} bytes", limits.max_value_bytes));
            }
            if flags & PUT_IGNORE_VALUE != 0 && data_len != 0 {
                return fail(ErrorNumber::ValueProvided, String::new());
            }
            if flags & PUT_IGNORE_LEASE != 0 && lease != 0 {
                return fail(ErrorNumber::LeaseProvided, String::new());
            }
            Ok(OpRef::Put(PutRef { key, value: data, lease, flags }))
        }
        OP_DELETE_RANGE => Ok(OpRef::DeleteRange(DeleteRangeRef { key, range_end: data, prev_kv: flags & DELETE_PREV_KV != 0 })),
        _ => {
            if b[p + 2] > 2 || b[p + 3] > 4 {
                return fail(ErrorNumber::InvalidSort, String::new());
            }
            Ok(OpRef::Range(RangeRef {
                key,
                range_end: data,
                sort_order: sort_order(b[p + 2]),
                sort_target: sort_target(b[p + 3]),
                limit: i64_at(b, p + 4),
                revision: i64_at(b, p + 12),
                min_mod_revision: i64_at(b, p + 20),
                max_mod_revision: i64_at(b, p + 28),
                min_create_revision: i64_at(b, p + 36),
                max_create_revision: i64_at(b, p + 44),
                keys_only: flags & RANGE_KEYS_ONLY != 0,
                count_only: flags & RANGE_COUNT_ONLY != 0,
            }))
        }
    }
}

/// Writes batches in the codec's format. Used by tests and benchmarks on the Rust side; the
/// product's writer is the TypeScript `BatchWriter`.
#[derive(Default)]
pub struct BatchBuilder {
    buf: Vec<u8>,
    count: u32,
}

impl BatchBuilder {
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&MAGIC);
        buf.push(CODEC_VERSION);
        buf.extend_from_slice(&0u32.to_le_bytes());
        BatchBuilder { buf, count: 0 }
    }

    pub fn put(&mut self, key: &[u8], value: &[u8], lease: i64, flags: u8) -> &mut Self {
        self.buf.extend_from_slice(&[OP_PUT, flags]);
        self.buf.extend_from_slice(&lease.to_le_bytes());
        self.buf.extend_from_slice(&(key.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&(value.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(key);
        self.buf.extend_from_slice(value);
        self.count += 1;
        self
    }

    pub fn delete_range(&mut self, key: &[u8], range_end: &[u8], prev_kv: bool) -> &mut Self {
        self.buf.extend_from_slice(&[OP_DELETE_RANGE, if prev_kv { DELETE_PREV_KV } else { 0 }]);
        self.buf.extend_from_slice(&(key.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&(range_end.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(key);
        self.buf.extend_from_slice(range_end);
        self.count += 1;
        self
    }

    /// A RANGE op; `ints` = [limit, revision, minMod, maxMod, minCreate, maxCreate].
    pub fn range(&mut self, key: &[u8], range_end: &[u8], flags: u8, order: u8, target: u8, ints: [i64; 6]) -> &mut Self {
        self.buf.extend_from_slice(&[OP_RANGE, flags, order, target]);
        for n in ints {
            self.buf.extend_from_slice(&n.to_le_bytes());
        }
        self.buf.extend_from_slice(&(key.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&(range_end.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(key);
        self.buf.extend_from_slice(range_end);
        self.count += 1;
        self
    }

    /// A TXN whose branches are written by `success` and `failure` on this builder.
    pub fn txn(&mut self, compares: &[(u8, u8, i64, &[u8], &[u8], &[u8])], success: impl FnOnce(&mut Self), failure: impl FnOnce(&mut Self)) -> &mut Self {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[OP_TXN, 0]);
        self.buf.extend_from_slice(&(compares.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&[0; 8]);
        for &(target, result, operand, key, end, value) in compares {
            self.buf.extend_from_slice(&[target, result]);
            self.buf.extend_from_slice(&operand.to_le_bytes());
            for part in [key, end, value] {
                self.buf.extend_from_slice(&(part.len() as u32).to_le_bytes());
            }
            self.buf.extend_from_slice(key);
            self.buf.extend_from_slice(end);
            self.buf.extend_from_slice(value);
        }
        let top = self.count;
        success(self);
        let n_success = self.count - top;
        failure(self);
        let n_failure = self.count - top - n_success;
        self.buf[start + 6..start + 10].copy_from_slice(&n_success.to_le_bytes());
        self.buf[start + 10..start + 14].copy_from_slice(&n_failure.to_le_bytes());
        self.count = top + 1;
        self
    }

    pub fn lease_grant(&mut self, id: i64, ttl: i64) -> &mut Self {
        self.buf.extend_from_slice(&[OP_LEASE_GRANT, 0]);
        self.buf.extend_from_slice(&id.to_le_bytes());
        self.buf.extend_from_slice(&ttl.to_le_bytes());
        self.count += 1;
        self
    }

    pub fn lease_revoke(&mut self, id: i64) -> &mut Self {
        self.buf.extend_from_slice(&[OP_LEASE_REVOKE, 0]);
        self.buf.extend_from_slice(&id.to_le_bytes());
        self.count += 1;
        self
    }

    pub fn compact(&mut self, revision: i64) -> &mut Self {
        self.buf.extend_from_slice(&[OP_COMPACT, 0]);
        self.buf.extend_from_slice(&revision.to_le_bytes());
        self.count += 1;
        self
    }

    pub fn finish(&mut self) -> Vec<u8> {
        self.buf[4..8].copy_from_slice(&self.count.to_le_bytes());
        self.buf.clone()
    }
}
