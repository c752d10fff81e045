//! Reader of the op codec, version 1 (docs/codec.md). The TypeScript side writes batches; this
//! module validates a whole batch before anything is applied and then hands out borrowed ops.

use crate::error::{BatchError, ErrorNumber};

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

/// Validates a whole batch (docs/codec.md, "Validation") and decodes it into borrowed ops.
/// On error nothing has been applied and the error names the first failing op.
pub fn decode_batch<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Vec<OpRef<'a>>, BatchError> {
    let len = bytes.len();
    if len < BATCH_HEADER_BYTES || bytes[..BATCH_MAGIC.len()] != BATCH_MAGIC {
        return Err(BatchError::new(ErrorNumber::MalformedBatch, -1, "bad magic or short header"));
    }
    if bytes[BATCH_VERSION_AT] != CODEC_VERSION {
        return Err(BatchError::new(ErrorNumber::UnsupportedVersion, -1, format!("version {}", bytes[BATCH_VERSION_AT])));
    }
    let count = u32_at(bytes, BATCH_COUNT_AT);
    // Every op takes at least DELETE_FIXED bytes: a larger count is caught as truncation, never allocated.
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
    if p + OP_HEADER_BYTES > len {
        return fail(ErrorNumber::MalformedBatch, "truncated op".into());
    }
    let op_type = b[p + OP_TYPE_AT];
    let flags = b[p + OP_FLAGS_AT];
    let max_type = if in_txn { OP_TXN } else { OP_COMPACT };
    if !(OP_PUT..=max_type).contains(&op_type) {
        return fail(ErrorNumber::MalformedBatch, format!("unknown op type {op_type}{}", if in_txn { " in a txn" } else { "" }));
    }
    if flags & !DEFINED_FLAGS[op_type as usize] != 0 {
        return fail(ErrorNumber::MalformedBatch, format!("undefined flags {flags}"));
    }
    let fixed = match op_type {
        OP_PUT => PUT_FIXED,
        OP_DELETE_RANGE => DELETE_FIXED,
        OP_RANGE => RANGE_FIXED,
        OP_TXN => TXN_FIXED,
        OP_LEASE_GRANT => LEASE_GRANT_FIXED,
        OP_LEASE_REVOKE => LEASE_REVOKE_FIXED,
        _ => COMPACT_FIXED,
    };
    if p + fixed > len {
        return fail(ErrorNumber::MalformedBatch, "truncated op".into());
    }
    match op_type {
        OP_TXN => return crate::txn_check::decode_txn(b, pos, index, limits, budget, enclosing_txns + 1),
        OP_LEASE_GRANT => {
            check_safe(b, p + LEASE_GRANT_ID_AT, p + LEASE_GRANT_FIXED, index)?;
            let ttl = i64_at(b, p + LEASE_GRANT_TTL_AT);
            if ttl > MAX_LEASE_TTL {
                return fail(ErrorNumber::LeaseTtlTooLarge, String::new());
            }
            *pos = p + fixed;
            return Ok(OpRef::LeaseGrant { id: i64_at(b, p + LEASE_GRANT_ID_AT), ttl });
        }
        OP_LEASE_REVOKE | OP_COMPACT => {
            // Each holds one i64 (the lease id, the revision) after its header.
            let n_at = if op_type == OP_COMPACT { COMPACT_REVISION_AT } else { LEASE_REVOKE_ID_AT };
            check_safe(b, p + n_at, p + fixed, index)?;
            *pos = p + fixed;
            let n = i64_at(b, p + n_at);
            return Ok(if op_type == OP_COMPACT { OpRef::Compact { revision: n } } else { OpRef::LeaseRevoke { id: n } });
        }
        _ => {}
    }
    let len_at = match op_type {
        OP_PUT => p + PUT_KEY_LEN_AT,
        OP_DELETE_RANGE => p + DELETE_KEY_LEN_AT,
        _ => p + RANGE_KEY_LEN_AT,
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
        OP_PUT => check_safe(b, p + PUT_LEASE_AT, p + PUT_KEY_LEN_AT, index)?,
        // The six i64s, limit to maxCreateRevision.
        OP_RANGE => check_safe(b, p + RANGE_LIMIT_AT, p + RANGE_KEY_LEN_AT, index)?,
        _ => {}
    }
    check_key(key_len, index, limits)?;
    let key = &b[key_start..key_start + key_len];
    let data = &b[key_start + key_len..end];
    *pos = end;
    match op_type {
        OP_PUT => {
            let lease = i64_at(b, p + PUT_LEASE_AT);
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
            let (Some(sort_order), Some(sort_target)) = (SortOrder::from_repr(b[p + RANGE_SORT_ORDER_AT]), SortTarget::from_repr(b[p + RANGE_SORT_TARGET_AT])) else {
                return fail(ErrorNumber::InvalidSort, String::new());
            };
            Ok(OpRef::Range(RangeRef {
                key,
                range_end: data,
                sort_order,
                sort_target,
                limit: i64_at(b, p + RANGE_LIMIT_AT),
                revision: i64_at(b, p + RANGE_REVISION_AT),
                min_mod_revision: i64_at(b, p + RANGE_MIN_MOD_REVISION_AT),
                max_mod_revision: i64_at(b, p + RANGE_MAX_MOD_REVISION_AT),
                min_create_revision: i64_at(b, p + RANGE_MIN_CREATE_REVISION_AT),
                max_create_revision: i64_at(b, p + RANGE_MAX_CREATE_REVISION_AT),
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
        buf.extend_from_slice(&BATCH_MAGIC);
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
        self.buf[start + TXN_SUCCESS_COUNT_AT..][..4].copy_from_slice(&n_success.to_le_bytes());
        self.buf[start + TXN_FAILURE_COUNT_AT..][..4].copy_from_slice(&n_failure.to_le_bytes());
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
        self.buf[BATCH_COUNT_AT..][..4].copy_from_slice(&self.count.to_le_bytes());
        self.buf.clone()
    }
}
