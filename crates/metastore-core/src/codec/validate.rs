//! Validation of a whole batch before anything is applied (docs/codec.md, "Validation"),
//! decoding it into borrowed ops as it goes; the twin of ts/codec/validate.ts. Every op's fields
//! and limits, and for TXN ops etcd's `checkTxnRequest` (op budget, nesting, compares, branch
//! ops) and `checkIntervals` (duplicate keys). A TXN's branches hold ops, so decoding an op and
//! decoding a TXN call each other; both live here.

use super::*;
use crate::errors::{BatchError, ErrorNumber};
use std::collections::HashSet;

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

/// Decodes and validates the op at `*pos`. `budget`: most ops a TXN list may hold here;
/// `enclosing_txns`: how many TXNs hold this op (0 at top level; inside a TXN branch only ops of
/// types 1–4 are allowed).
fn decode_op<'a>(b: &'a [u8], pos: &mut usize, index: i64, limits: &Limits, budget: usize, enclosing_txns: usize) -> Result<OpRef<'a>, BatchError> {
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
        OP_TXN => return decode_txn(b, pos, index, limits, budget, enclosing_txns + 1),
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
            let (Some(sort_order), Some(sort_target)) = (SortOrder::from_repr(b[p + RANGE_SORT_ORDER_AT]), SortTarget::from_repr(b[p + RANGE_SORT_TARGET_AT]))
            else {
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
    let n_compare = u32_at(b, p + TXN_COMPARE_COUNT_AT);
    let n_success = u32_at(b, p + TXN_SUCCESS_COUNT_AT);
    let n_failure = u32_at(b, p + TXN_FAILURE_COUNT_AT);
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
        let (Some(target), Some(result)) = (CompareTarget::from_repr(b[q + COMPARE_TARGET_AT]), CompareResult::from_repr(b[q + COMPARE_RESULT_AT])) else {
            return malformed("compare target or result out of range");
        };
        check_safe(b, q + COMPARE_OPERAND_AT, q + COMPARE_KEY_LEN_AT, index)?;
        let (key_len, end_len, value_len) = (u32_at(b, q + COMPARE_KEY_LEN_AT), u32_at(b, q + COMPARE_END_LEN_AT), u32_at(b, q + COMPARE_VALUE_LEN_AT));
        let k = q + COMPARE_FIXED;
        if k as u64 + key_len as u64 + end_len as u64 + value_len as u64 > b.len() as u64 {
            return malformed("truncated compare");
        }
        let operand = i64_at(b, q + COMPARE_OPERAND_AT);
        let is_value = target == CompareTarget::Value;
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
            target,
            result,
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
