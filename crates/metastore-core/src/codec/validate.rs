//! Validation of a whole batch before anything is applied (docs/codec.md, "Validation"),
//! decoding it into borrowed ops as it goes; the twin of ts/codec/validate.ts. Every op's fields
//! and limits, and for TXN ops etcd's `checkTxnRequest` (op budget, nesting, compares, branch
//! ops) and `checkIntervals` (duplicate keys). A TXN's branches hold ops, so decoding an op and
//! decoding a TXN call each other; both live here.

use super::{
    check_key, check_safe, i64_at, u32_at, CompareRef, CompareResult, CompareTarget, DeleteRangeRef, Limits, OpRef, PutRef, RangeRef, SortOrder, SortTarget,
    TxnRef, BATCH_HEADER_BYTES, CODEC_VERSION, COMPACT_PHYSICAL, COMPARE_FIXED, DELETE_FIXED, DELETE_PREV_KV, ID_OP_FIXED, LEASE_GRANT_FIXED, MAGIC,
    MAX_LEASE_TTL, OP_COMPACT, OP_DELETE_RANGE, OP_LEASE_GRANT, OP_LEASE_REVOKE, OP_PUT, OP_RANGE, OP_TXN, PUT_FIXED, PUT_IGNORE_LEASE, PUT_IGNORE_VALUE,
    PUT_PREV_KV, RANGE_COUNT_ONLY, RANGE_FIXED, RANGE_KEYS_ONLY, RANGE_SERIALIZABLE, TXN_FIXED,
};
use crate::error::{BatchError, ErrorNumber};
use std::collections::HashSet;

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

/// Decodes and validates the op at `*pos`. `budget`: most ops a TXN list may hold here;
/// `enclosing_txns`: how many TXNs hold this op (0 at top level; inside a TXN branch only ops of
/// types 1–4 are allowed).
fn decode_op<'a>(b: &'a [u8], pos: &mut usize, index: i64, limits: &Limits, budget: usize, enclosing_txns: usize) -> Result<OpRef<'a>, BatchError> {
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
        OP_TXN => return decode_txn(b, pos, index, limits, budget, enclosing_txns + 1),
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

fn target_of(b: u8) -> CompareTarget {
    match b {
        0 => CompareTarget::Version,
        1 => CompareTarget::Create,
        2 => CompareTarget::Mod,
        3 => CompareTarget::Value,
        _ => CompareTarget::Lease,
    }
}

fn result_of(b: u8) -> CompareResult {
    match b {
        0 => CompareResult::Equal,
        1 => CompareResult::Greater,
        2 => CompareResult::Less,
        _ => CompareResult::NotEqual,
    }
}

/// Decodes the TXN at `*pos` (its fixed part is known to be in bounds) with its checks. `level`:
/// 1 for a top-level TXN, its parent's level + 1 for a nested one.
///
/// Refusing a TXN past the nesting limit here, before its branches are decoded, bounds this
/// recursion, and with it every later walk of the decoded tree (the duplicate check, the drop of
/// the tree, apply's path evaluation, checks and execution): all of them recurse once per level.
/// A log may hold a batch nested deeper than the limit (written under a higher one, or by a
/// version without it); replaying it must refuse it, never overflow the stack.
fn decode_txn<'a>(b: &'a [u8], pos: &mut usize, index: i64, limits: &Limits, budget: usize, level: usize) -> Result<OpRef<'a>, BatchError> {
    let malformed = |detail: &str| Err(BatchError::new(ErrorNumber::MalformedBatch, index, detail));
    if level > limits.txn_depth() {
        return Err(BatchError::new(ErrorNumber::TxnTooDeep, index, format!("more than {} levels of nested txn", limits.txn_depth())));
    }
    let top_level = level == 1;
    let p = *pos;
    let n_compare = u32_at(b, p + 2);
    let n_success = u32_at(b, p + 6);
    let n_failure = u32_at(b, p + 10);
    let opc = n_compare.max(n_success).max(n_failure);
    if opc > budget {
        return Err(BatchError::new(ErrorNumber::TooManyOps, index, format!("{opc} > {budget}")));
    }
    let mut q = p + TXN_FIXED;
    // Each compare takes at least COMPARE_FIXED bytes: a larger count fails as truncation below.
    let mut compare = Vec::with_capacity(n_compare.min(b.len() / COMPARE_FIXED));
    for _ in 0..n_compare {
        if q + COMPARE_FIXED > b.len() {
            return malformed("truncated compare");
        }
        let (target, result) = (b[q], b[q + 1]);
        if target > 4 || result > 3 {
            return malformed("compare target or result out of range");
        }
        check_safe(b, q + 2, q + 10, index)?;
        let (key_len, end_len, value_len) = (u32_at(b, q + 10), u32_at(b, q + 14), u32_at(b, q + 18));
        let k = q + COMPARE_FIXED;
        if k as u64 + key_len as u64 + end_len as u64 + value_len as u64 > b.len() as u64 {
            return malformed("truncated compare");
        }
        let operand = i64_at(b, q + 2);
        let is_value = target == CompareTarget::Value as u8;
        if (is_value && operand != 0) || (!is_value && value_len != 0) {
            return malformed("compare operand does not match its target");
        }
        check_key(key_len, index, limits)?;
        if value_len > limits.max_value_bytes {
            return Err(BatchError::new(ErrorNumber::ValueTooLarge, index, format!("{value_len} > {} bytes", limits.max_value_bytes)));
        }
        compare.push(CompareRef {
            key: &b[k..k + key_len],
            range_end: &b[k + key_len..k + key_len + end_len],
            target: target_of(target),
            result: result_of(result),
            operand,
            value: &b[k + key_len + end_len..k + key_len + end_len + value_len],
        });
        q = k + key_len + end_len + value_len;
    }
    let branch = |n: usize, q: &mut usize| -> Result<Vec<OpRef<'a>>, BatchError> {
        let mut ops = Vec::with_capacity(n.min(b.len()));
        for _ in 0..n {
            ops.push(decode_op(b, q, index, limits, budget - opc, level)?);
        }
        Ok(ops)
    };
    let success = branch(n_success, &mut q)?;
    let failure = branch(n_failure, &mut q)?;
    // etcd checks the whole tree's ops first and the duplicate keys once, from the top (the
    // check recurses into nested transactions itself).
    if top_level {
        for list in [&success, &failure] {
            check_intervals(list).map_err(|()| BatchError::new(ErrorNumber::DuplicateKey, index, ""))?;
        }
    }
    *pos = q;
    Ok(OpRef::Txn(Box::new(TxnRef { compare, success, failure })))
}

/// A delete interval: a point (`end` empty) or [start, end) compared bytewise, where an `end` of
/// `[0x00]` is an ordinary byte string (so such an interval holds no key, as in etcd).
struct Interval<'a> {
    start: &'a [u8],
    end: &'a [u8],
}

fn intersects(dels: &[Interval<'_>], key: &[u8]) -> bool {
    dels.iter().any(|d| if d.end.is_empty() { d.start == key } else { d.start <= key && key < d.end })
}

/// etcd's checkIntervals over one op list: its put keys and delete intervals, or Err on a duplicate.
/// Recurses once per level of nesting, which decoding capped.
fn check_intervals<'a>(ops: &[OpRef<'a>]) -> Result<(HashSet<&'a [u8]>, Vec<Interval<'a>>), ()> {
    let mut dels: Vec<Interval<'a>> = ops
        .iter()
        .filter_map(|op| match op {
            OpRef::DeleteRange(d) => Some(Interval { start: d.key, end: d.range_end }),
            _ => None,
        })
        .collect();
    let mut puts: HashSet<&'a [u8]> = HashSet::new();
    for op in ops {
        let OpRef::Txn(t) = op else { continue };
        let (puts_then, dels_then) = check_intervals(&t.success)?;
        let (puts_else, dels_else) = check_intervals(&t.failure)?;
        for &k in &puts_then {
            if puts.contains(k) || intersects(&dels, k) {
                return Err(());
            }
            puts.insert(k);
        }
        for &k in &puts_else {
            if (puts.contains(k) && !puts_then.contains(k)) || intersects(&dels, k) {
                return Err(());
            }
            puts.insert(k);
        }
        dels.extend(dels_then);
        dels.extend(dels_else);
    }
    for op in ops {
        let OpRef::Put(put) = op else { continue };
        if puts.contains(put.key) || intersects(&dels, put.key) {
            return Err(());
        }
        puts.insert(put.key);
    }
    Ok((puts, dels))
}
