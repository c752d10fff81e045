//! A store restored from a snapshot is indistinguishable from the original: same counters,
//! same reads at every kept revision, same history replay and lease table, and the same results
//! for whatever is applied next. Damaged snapshots are refused or restore something usable,
//! never a panic. (Restore's checks of malformed bytes, one by one: the unit tests in
//! src/snapshot/restore.rs.)

mod common;

use common::snapshot::{assert_same_reads, batches_strategy, encode, op_strategy, range_bytes, restore, snapshot, TestOp};
use common::{apply, dump};
use metastore_core::codec::{PUT_IGNORE_LEASE, PUT_PREV_KV};
use metastore_core::{BatchBuilder, Config, EventsMode, Store, SNAPSHOT_FORMAT_VERSION};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn restored_store_reads_and_applies_like_the_original(batches in batches_strategy(), next in proptest::collection::vec(op_strategy(), 0..16)) {
        let original = Store::default();
        for ops in &batches {
            original.apply_batch(&encode(&original, ops)).expect("batch accepted");
        }
        let restored = restore(&original);
        assert_same_reads(&original, &restored);

        // The next batch (ending in an automatic lease grant) gives the same results, events
        // included, and leaves the same state.
        let mut next = next;
        next.push(TestOp::Grant { id: 0, ttl: 10 });
        let batch = encode(&original, &next);
        let a = original.apply_batch_into(&batch, Vec::new(), EventsMode::EventsWithPrev);
        let b = restored.apply_batch_into(&batch, Vec::new(), EventsMode::EventsWithPrev);
        prop_assert_eq!(a, b);
        assert_same_reads(&original, &restored);
    }

    #[test]
    fn a_restored_store_snapshots_to_an_equivalent_store(batches in batches_strategy()) {
        let original = Store::default();
        for ops in &batches {
            original.apply_batch(&encode(&original, ops)).expect("batch accepted");
        }
        let once = restore(&original);
        let twice = restore(&once);
        assert_same_reads(&original, &twice);
        // Key order makes the encoding itself deterministic.
        prop_assert_eq!(snapshot(&original), snapshot(&twice));
    }
}

#[test]
fn an_empty_store_restores_empty_with_fresh_counters() {
    let restored = restore(&Store::default());
    assert_eq!((restored.revision(), restored.compact_revision(), restored.len()), (1, -1, 0));
    assert!(restored.lease_ids().is_empty());
    let grant = BatchBuilder::new().lease_grant(0, 10).finish();
    assert_eq!(apply(&restored, &grant).1, apply(&Store::default(), &grant).1);
}

#[test]
fn snapshot_appends_after_existing_bytes() {
    let store = Store::default();
    store.apply_batch(&BatchBuilder::new().put(b"a", b"1", 0, 0).finish()).unwrap();
    let mut out = b"prefix".to_vec();
    store.snapshot_into(&mut out);
    assert_eq!(&out[..6], b"prefix");
    assert_eq!(&out[6..12], b"MSSNAP");
    assert_eq!(u16::from_le_bytes([out[12], out[13]]), SNAPSHOT_FORMAT_VERSION);
    assert_eq!(dump(&Store::from_snapshot(Config::default(), &out[6..]).unwrap()), dump(&store));
}

#[test]
fn many_keys_across_sections_restore_in_order() {
    let store = Store::default();
    let mut b = BatchBuilder::new();
    b.lease_grant(7, 30);
    for i in 0..40_000u32 {
        b.put(format!("key/{:06}", (i * 7919) % 40_000).as_bytes(), &i.to_le_bytes(), if i % 5 == 0 { 7 } else { 0 }, 0);
    }
    store.apply_batch(&b.finish()).unwrap();
    let mut b = BatchBuilder::new();
    for i in (0..40_000u32).step_by(3) {
        b.delete_range(format!("key/{i:06}").as_bytes(), &[], false);
    }
    b.compact(30_000);
    store.apply_batch(&b.finish()).unwrap();
    let restored = restore(&store);
    assert_eq!(dump(&restored), dump(&store));
    assert_eq!(restored.lease_info(7), store.lease_info(7));
    for revision in [0, 30_000, 40_002, 45_000, store.revision()] {
        assert_eq!(range_bytes(&restored, 0, 0, 0, 0, revision), range_bytes(&store, 0, 0, 0, 0, revision));
    }
    assert_eq!(restored.changes(30_000, b"", &[0], true), store.changes(30_000, b"", &[0], true));
    // Sections swapped: every section is in order, the whole is not.
    let bytes = snapshot(&store);
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let sections_at = 33 + 4 + 16 * u32_at(33) + 4;
    assert!(u32_at(sections_at - 4) >= 2, "the store spans several sections");
    let section_end = |at: usize| at + 12 + u64::from_le_bytes(bytes[at + 4..at + 12].try_into().unwrap()) as usize;
    let (second, third) = (section_end(sections_at), section_end(section_end(sections_at)));
    let swapped = [&bytes[..sections_at], &bytes[second..third], &bytes[sections_at..second], &bytes[third..]].concat();
    assert_eq!(Store::from_snapshot(Config::default(), &swapped).err().map(|e| e.reason), Some("keys out of order"));

    let revoke = BatchBuilder::new().lease_revoke(7).lease_grant(0, 5).finish();
    assert_eq!(restored.apply_batch(&revoke), store.apply_batch(&revoke));
    assert_eq!(dump(&restored), dump(&store));
}

/// A small store with every kind of state: history, tombstones, leases, a compaction.
fn small_store() -> Store {
    let store = Store::default();
    let mut b = BatchBuilder::new();
    b.lease_grant(0, 10).lease_grant(5, 20);
    b.put(b"a", b"1", 1, 0).put(b"b", b"2", 0, 0).put(b"c", b"3", 5, 0).put(b"a", b"4", 0, PUT_IGNORE_LEASE);
    b.delete_range(b"b", &[], false).put(b"d", b"", 0, 0).compact(3).put(b"b", b"5", 5, 0).delete_range(b"d", &[], false);
    store.apply_batch(&b.finish()).unwrap();
    store
}

/// Exercises a store restored from damaged bytes: it may hold odd data but must not panic.
fn exercise(store: &Store) {
    dump(store);
    // A damaged revision counter may be huge: read around the start and the end.
    let rev = store.revision();
    for revision in (0..=20).chain(rev.saturating_sub(20)..=rev + 1) {
        let _ = range_bytes(store, 0, 2, 4, 0, revision);
    }
    let _ = store.changes(store.compact_revision().max(0), b"", &[0], true);
    let mut b = BatchBuilder::new();
    b.put(b"a", b"x", 0, PUT_IGNORE_LEASE).put(b"c", b"y", 0, PUT_PREV_KV).lease_revoke(1).lease_revoke(5).lease_grant(0, 3);
    b.delete_range(b"a", &[0], true).compact(store.revision());
    let _ = store.apply_batch_into(&b.finish(), Vec::new(), EventsMode::EventsWithPrev);
}

#[test]
fn flipped_bytes_are_refused_or_restore_something_usable() {
    let bytes = snapshot(&small_store());
    for at in 0..bytes.len() {
        for mask in [0x01u8, 0x10, 0x80, 0xff] {
            let mut damaged = bytes.clone();
            damaged[at] ^= mask;
            if let Ok(store) = Store::from_snapshot(Config::default(), &damaged) {
                exercise(&store);
            }
        }
    }
}
