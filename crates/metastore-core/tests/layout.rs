//! The layouts declared in formats/ (generated into `metastore_core::layout`) against the bytes
//! the code writes: `BatchBuilder` appends its fields one after another without looking at the
//! declared offsets, so reading them back at those offsets checks the declaration; the engine
//! reads batches at the declared offsets, so it must get back what was written. (Results and
//! snapshots: every test decoding them reads at the declared offsets, see common/mod.rs and
//! tests/snapshot.rs.)

mod common;

use metastore_core::codec::*;
use metastore_core::layout::entry::*;
use metastore_core::{BatchBuilder, Config, Store};

fn u8_at(b: &[u8], at: usize) -> u8 {
    b[at]
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn i64_at(b: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

#[test]
fn a_batch_has_its_fields_at_the_declared_offsets() {
    let mut b = BatchBuilder::new();
    b.put(b"key", b"value!", 77, PUT_PREV_KV | PUT_IGNORE_LEASE);
    b.delete_range(b"from", b"to", true);
    b.range(b"r", b"rz", RANGE_KEYS_ONLY, SortOrder::Descend as u8, SortTarget::Mod as u8, [1, 2, 3, 4, 5, 6]);
    b.txn(
        &[(CompareTarget::Value as u8, CompareResult::NotEqual as u8, 0, b"ck", b"", b"cv")],
        |s| {
            s.compact(0);
        },
        |f| {
            f.lease_revoke(0);
        },
    );
    b.lease_grant(5, 60);
    b.lease_revoke(5);
    b.compact(9);
    let bytes = b.finish();

    assert_eq!(bytes[BATCH_MAGIC_AT..][..BATCH_MAGIC.len()], BATCH_MAGIC);
    assert_eq!(u8_at(&bytes, BATCH_VERSION_AT), CODEC_VERSION);
    assert_eq!(u32_at(&bytes, BATCH_COUNT_AT), 7);
    let mut p = BATCH_OPS_AT;

    assert_eq!((u8_at(&bytes, p + PUT_TYPE_AT), u8_at(&bytes, p + PUT_FLAGS_AT)), (OP_PUT, PUT_PREV_KV | PUT_IGNORE_LEASE));
    assert_eq!((i64_at(&bytes, p + PUT_LEASE_AT), u32_at(&bytes, p + PUT_KEY_LEN_AT), u32_at(&bytes, p + PUT_VALUE_LEN_AT)), (77, 3, 6));
    assert_eq!(&bytes[p + PUT_KEY_AT..][..9], b"keyvalue!");
    p += PUT_FIXED + 9;

    assert_eq!((u8_at(&bytes, p + DELETE_TYPE_AT), u8_at(&bytes, p + DELETE_FLAGS_AT)), (OP_DELETE_RANGE, DELETE_PREV_KV));
    assert_eq!((u32_at(&bytes, p + DELETE_KEY_LEN_AT), u32_at(&bytes, p + DELETE_END_LEN_AT)), (4, 2));
    assert_eq!(&bytes[p + DELETE_KEY_AT..][..6], b"fromto");
    p += DELETE_FIXED + 6;

    assert_eq!((u8_at(&bytes, p + RANGE_TYPE_AT), u8_at(&bytes, p + RANGE_FLAGS_AT)), (OP_RANGE, RANGE_KEYS_ONLY));
    assert_eq!((u8_at(&bytes, p + RANGE_SORT_ORDER_AT), u8_at(&bytes, p + RANGE_SORT_TARGET_AT)), (SortOrder::Descend as u8, SortTarget::Mod as u8));
    let ints =
        [RANGE_LIMIT_AT, RANGE_REVISION_AT, RANGE_MIN_MOD_REVISION_AT, RANGE_MAX_MOD_REVISION_AT, RANGE_MIN_CREATE_REVISION_AT, RANGE_MAX_CREATE_REVISION_AT];
    assert_eq!(ints.map(|at| i64_at(&bytes, p + at)), [1, 2, 3, 4, 5, 6]);
    assert_eq!((u32_at(&bytes, p + RANGE_KEY_LEN_AT), u32_at(&bytes, p + RANGE_END_LEN_AT)), (1, 2));
    assert_eq!(&bytes[p + RANGE_KEY_AT..][..3], b"rrz");
    p += RANGE_FIXED + 3;

    assert_eq!((u8_at(&bytes, p + TXN_TYPE_AT), u8_at(&bytes, p + TXN_FLAGS_AT)), (OP_TXN, 0));
    let counts = [TXN_COMPARE_COUNT_AT, TXN_SUCCESS_COUNT_AT, TXN_FAILURE_COUNT_AT];
    assert_eq!(counts.map(|at| u32_at(&bytes, p + at)), [1, 1, 1]);
    let q = p + TXN_COMPARES_AT;
    assert_eq!((u8_at(&bytes, q + COMPARE_TARGET_AT), u8_at(&bytes, q + COMPARE_RESULT_AT)), (CompareTarget::Value as u8, CompareResult::NotEqual as u8));
    assert_eq!(i64_at(&bytes, q + COMPARE_OPERAND_AT), 0);
    let lens = [COMPARE_KEY_LEN_AT, COMPARE_END_LEN_AT, COMPARE_VALUE_LEN_AT];
    assert_eq!(lens.map(|at| u32_at(&bytes, q + at)), [2, 0, 2]);
    assert_eq!(&bytes[q + COMPARE_KEY_AT..][..4], b"ckcv");
    // The branches: a COMPACT and a LEASE_REVOKE (malformed in a TXN, but written all the same).
    let branches = q + COMPARE_FIXED + 4;
    assert_eq!(u8_at(&bytes, branches + OP_TYPE_AT), OP_COMPACT);
    assert_eq!(u8_at(&bytes, branches + COMPACT_FIXED + OP_TYPE_AT), OP_LEASE_REVOKE);
    p = branches + COMPACT_FIXED + LEASE_REVOKE_FIXED;

    assert_eq!(u8_at(&bytes, p + LEASE_GRANT_TYPE_AT), OP_LEASE_GRANT);
    assert_eq!((i64_at(&bytes, p + LEASE_GRANT_ID_AT), i64_at(&bytes, p + LEASE_GRANT_TTL_AT)), (5, 60));
    p += LEASE_GRANT_FIXED;
    assert_eq!((u8_at(&bytes, p + LEASE_REVOKE_TYPE_AT), i64_at(&bytes, p + LEASE_REVOKE_ID_AT)), (OP_LEASE_REVOKE, 5));
    p += LEASE_REVOKE_FIXED;
    assert_eq!((u8_at(&bytes, p + COMPACT_TYPE_AT), i64_at(&bytes, p + COMPACT_REVISION_AT)), (OP_COMPACT, 9));
    assert_eq!(p + COMPACT_FIXED, bytes.len());
}

#[test]
fn the_engine_reads_a_batch_laid_out_by_the_declaration() {
    // A PUT and a RANGE written field by field at the declared offsets, not by BatchBuilder.
    let mut put = vec![0u8; PUT_FIXED];
    put[PUT_TYPE_AT] = OP_PUT;
    put[PUT_LEASE_AT..][..8].copy_from_slice(&0i64.to_le_bytes());
    put[PUT_KEY_LEN_AT..][..4].copy_from_slice(&1u32.to_le_bytes());
    put[PUT_VALUE_LEN_AT..][..4].copy_from_slice(&2u32.to_le_bytes());
    put.extend_from_slice(b"kv!");
    let mut range = vec![0u8; RANGE_FIXED];
    range[RANGE_TYPE_AT] = OP_RANGE;
    range[RANGE_FLAGS_AT] = RANGE_COUNT_ONLY;
    range[RANGE_LIMIT_AT..][..8].copy_from_slice(&1i64.to_le_bytes());
    range[RANGE_KEY_LEN_AT..][..4].copy_from_slice(&1u32.to_le_bytes());
    range.push(b'k');
    let mut batch = vec![0u8; BATCH_HEADER_BYTES];
    batch[BATCH_MAGIC_AT..][..BATCH_MAGIC.len()].copy_from_slice(&BATCH_MAGIC);
    batch[BATCH_VERSION_AT] = CODEC_VERSION;
    batch[BATCH_COUNT_AT..][..4].copy_from_slice(&2u32.to_le_bytes());
    batch.extend_from_slice(&put);
    batch.extend_from_slice(&range);

    let store = Store::new(Config::default());
    let (revision, results) = common::apply(&store, &batch);
    assert_eq!(revision, 2);
    assert_eq!(results[0], common::Res::Put { rev: 2, prev: None });
    assert_eq!(results[1], common::Res::Range { rev: 2, more: false, count: 1, kvs: vec![] });
    assert_eq!(common::dump(&store)[0].value, b"v!");
}

#[test]
fn a_log_entry_starts_where_the_binding_reads_it() {
    // The entry framing is written and read in TypeScript (ts/log/entry.ts, tested there), but
    // crates/metastore-napi/src/durable.rs reads the magic and the proposal count (bytes 4..8) of
    // replayed entries by hand: until it uses these constants, this pins what it assumes.
    assert_eq!(ENTRY_MAGIC, *b"MSE");
    assert_eq!((ENTRY_PROPOSAL_COUNT_AT, ENTRY_PROPOSALS_AT), (4, ENTRY_HEADER_BYTES));
    assert_eq!(PROPOSAL_BYTES, 20);
}
