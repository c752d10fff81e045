//! Decoding and static checks of TXN ops (etcd's `checkTxnRequest` and `checkIntervals`):
//! op budget, compares, branch ops, then duplicate keys. Runs before anything is applied.

use crate::codec::{
    check_key, check_safe, decode_op, i64_at, u32_at, CompareRef, CompareResult, CompareTarget, Limits, OpRef, TxnRef, COMPARE_END_LEN_AT,
    COMPARE_FIXED, COMPARE_KEY_LEN_AT, COMPARE_OPERAND_AT, COMPARE_RESULT_AT, COMPARE_TARGET_AT, COMPARE_VALUE_LEN_AT, TXN_COMPARE_COUNT_AT,
    TXN_FAILURE_COUNT_AT, TXN_FIXED, TXN_SUCCESS_COUNT_AT,
};
use crate::error::{BatchError, ErrorNumber};
use std::collections::HashSet;

/// Decodes the TXN at `*pos` (its fixed part is known to be in bounds) with its checks. `level`:
/// 1 for a top-level TXN, its parent's level + 1 for a nested one.
///
/// Refusing a TXN past the nesting limit here, before its branches are decoded, bounds this
/// recursion, and with it every later walk of the decoded tree (the duplicate check, the drop of
/// the tree, apply's path evaluation, checks and execution): all of them recurse once per level.
/// A log may hold a batch nested deeper than the limit (written under a higher one, or by a
/// version without it); replaying it must refuse it, never overflow the stack.
pub(crate) fn decode_txn<'a>(b: &'a [u8], pos: &mut usize, index: i64, limits: &Limits, budget: usize, level: usize) -> Result<OpRef<'a>, BatchError> {
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
