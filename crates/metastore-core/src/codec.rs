//! Reader of the op codec, version 1 (docs/codec.md). The TypeScript side writes batches; this
//! module validates a whole batch before anything is applied and then hands out borrowed ops.

use crate::error::{BatchError, ErrorNumber};

pub const CODEC_VERSION: u8 = 1;
pub const BATCH_HEADER_BYTES: usize = 8;
const MAGIC: [u8; 3] = *b"MSB";

pub const OP_PUT: u8 = 1;
pub const OP_DELETE_RANGE: u8 = 2;
pub const OP_RANGE: u8 = 3;

pub const PUT_PREV_KV: u8 = 1;
pub const PUT_IGNORE_VALUE: u8 = 2;
pub const PUT_IGNORE_LEASE: u8 = 4;
pub const DELETE_PREV_KV: u8 = 1;
pub const RANGE_KEYS_ONLY: u8 = 1;
pub const RANGE_COUNT_ONLY: u8 = 2;
pub const RANGE_SERIALIZABLE: u8 = 4;

const PUT_FIXED: usize = 18;
const DELETE_FIXED: usize = 10;
const RANGE_FIXED: usize = 60;
const MAX_SAFE: i64 = (1 << 53) - 1;

/// Size limits checked by validation.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_key_bytes: usize,
    pub max_value_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_key_bytes: 1_572_864, max_value_bytes: 1_572_864 }
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

/// One op, borrowing its bytes from the batch.
#[derive(Clone, Copy, Debug)]
pub enum OpRef<'a> {
    Put(PutRef<'a>),
    DeleteRange(DeleteRangeRef<'a>),
    Range(RangeRef<'a>),
}

impl OpRef<'_> {
    pub fn type_byte(&self) -> u8 {
        match self {
            OpRef::Put(_) => OP_PUT,
            OpRef::DeleteRange(_) => OP_DELETE_RANGE,
            OpRef::Range(_) => OP_RANGE,
        }
    }
}

#[inline]
fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

#[inline]
fn i64_at(b: &[u8], at: usize) -> i64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&b[at..at + 8]);
    i64::from_le_bytes(raw)
}

fn defined_flags(op_type: u8) -> u8 {
    match op_type {
        OP_PUT => PUT_PREV_KV | PUT_IGNORE_VALUE | PUT_IGNORE_LEASE,
        OP_DELETE_RANGE => DELETE_PREV_KV,
        _ => RANGE_KEYS_ONLY | RANGE_COUNT_ONLY | RANGE_SERIALIZABLE,
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
        ops.push(decode_op(bytes, &mut p, i as i64, limits)?);
    }
    if p != len {
        return Err(BatchError::new(ErrorNumber::MalformedBatch, -1, format!("{} bytes after the last op", len - p)));
    }
    Ok(ops)
}

fn decode_op<'a>(b: &'a [u8], pos: &mut usize, index: i64, limits: &Limits) -> Result<OpRef<'a>, BatchError> {
    let fail = |n: ErrorNumber, detail: String| Err(BatchError::new(n, index, detail));
    let p = *pos;
    let len = b.len();
    if p + 2 > len {
        return fail(ErrorNumber::MalformedBatch, "truncated op".into());
    }
    let op_type = b[p];
    let flags = b[p + 1];
    if !(OP_PUT..=OP_RANGE).contains(&op_type) {
        return fail(ErrorNumber::MalformedBatch, format!("unknown op type {op_type}"));
    }
    if flags & !defined_flags(op_type) != 0 {
        return fail(ErrorNumber::MalformedBatch, format!("undefined flags {flags}"));
    }
    let (fixed, len_at) = match op_type {
        OP_PUT => (PUT_FIXED, p + 10),
        OP_DELETE_RANGE => (DELETE_FIXED, p + 2),
        _ => (RANGE_FIXED, p + 52),
    };
    if p + fixed > len {
        return fail(ErrorNumber::MalformedBatch, "truncated op".into());
    }
    let key_len = u32_at(b, len_at);
    let data_len = u32_at(b, len_at + 4);
    let key_start = p + fixed;
    let end = key_start as u64 + key_len as u64 + data_len as u64;
    if end > len as u64 {
        return fail(ErrorNumber::MalformedBatch, "truncated op".into());
    }
    let end = end as usize;
    let ints: &[usize] = match op_type {
        OP_PUT => &[2],
        OP_DELETE_RANGE => &[],
        _ => &[4, 12, 20, 28, 36, 44],
    };
    for &at in ints {
        let n = i64_at(b, p + at);
        if !(-MAX_SAFE..=MAX_SAFE).contains(&n) {
            return fail(ErrorNumber::MalformedBatch, "integer field is not a safe integer".into());
        }
    }
    if key_len == 0 {
        return fail(ErrorNumber::KeyNotProvided, String::new());
    }
    if key_len > limits.max_key_bytes {
        return fail(ErrorNumber::KeyTooLarge, format!("{key_len} > {} bytes", limits.max_key_bytes));
    }
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

    pub fn finish(&mut self) -> Vec<u8> {
        self.buf[4..8].copy_from_slice(&self.count.to_le_bytes());
        self.buf.clone()
    }
}
