//! A store restored from a snapshot is indistinguishable from the original: same counters,
//! same reads at every kept revision, same history replay and lease table, and the same results
//! for whatever is applied next. Malformed snapshots are refused, never a panic.

mod common;

use common::{apply, dump};
use metastore_core::codec::{PUT_IGNORE_LEASE, PUT_IGNORE_VALUE, PUT_PREV_KV, RANGE_COUNT_ONLY, RANGE_KEYS_ONLY};
use metastore_core::layout::snapshot::*;
use metastore_core::{BatchBuilder, Config, EventsMode, SnapshotError, SnapshotInterrupted, SnapshotStreamError, Store, SNAPSHOT_FORMAT_VERSION};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum TestOp {
    Put { key: u8, value: Vec<u8>, flags: u8, lease: i64 },
    Delete { key: u8, end: Option<u8>, prev: bool },
    Range { key: u8, end: u8, revision_back: i64 },
    /// if version(key) > n then put key2 (with a lease) else delete key2
    Txn { key: u8, n: i64, key2: u8, lease: i64 },
    /// id 0 picks the next free id.
    Grant { id: i64, ttl: i64 },
    Revoke { id: i64 },
    /// Compacts at the batch's starting revision minus `back`.
    Compact { back: i64 },
}

fn key(k: u8) -> Vec<u8> {
    vec![b'k', b'a' + k]
}

fn lease_strategy() -> impl Strategy<Value = i64> {
    prop_oneof![4 => Just(0i64), 1 => 1i64..5]
}

fn op_strategy() -> impl Strategy<Value = TestOp> {
    prop_oneof![
        8 => (0u8..12, proptest::collection::vec(any::<u8>(), 0..6), 0u8..8, lease_strategy()).prop_map(|(key, value, flags, lease)| {
            // The codec refuses a value with ignoreValue and a lease with ignoreLease.
            let value = if flags & PUT_IGNORE_VALUE != 0 { vec![] } else { value };
            let lease = if flags & PUT_IGNORE_LEASE != 0 { 0 } else { lease };
            TestOp::Put { key, value, flags: flags & (PUT_PREV_KV | PUT_IGNORE_VALUE | PUT_IGNORE_LEASE), lease }
        }),
        3 => (0u8..12, proptest::option::weighted(0.3, 0u8..13), any::<bool>()).prop_map(|(key, end, prev)| TestOp::Delete { key, end, prev }),
        1 => (0u8..12, 0u8..13, 0i64..4).prop_map(|(key, end, revision_back)| TestOp::Range { key, end, revision_back }),
        1 => (0u8..12, 0i64..3, 0u8..12, lease_strategy()).prop_map(|(key, n, key2, lease)| TestOp::Txn { key, n, key2, lease }),
        2 => (prop_oneof![Just(0i64), 1i64..5], 1i64..100).prop_map(|(id, ttl)| TestOp::Grant { id, ttl }),
        1 => (1i64..5).prop_map(|id| TestOp::Revoke { id }),
        1 => (0i64..6).prop_map(|back| TestOp::Compact { back }),
    ]
}

fn batches_strategy() -> impl Strategy<Value = Vec<Vec<TestOp>>> {
    proptest::collection::vec(proptest::collection::vec(op_strategy(), 0..12), 0..8)
}

/// Encodes ops against `store`'s current revision (for the relative ones).
fn encode(store: &Store, ops: &[TestOp]) -> Vec<u8> {
    let rev = store.revision();
    let mut b = BatchBuilder::new();
    for op in ops {
        match op {
            TestOp::Put { key: k, value, flags, lease } => b.put(&key(*k), value, *lease, *flags),
            TestOp::Delete { key: k, end, prev } => b.delete_range(&key(*k), &end.map(key).unwrap_or_default(), *prev),
            TestOp::Range { key: k, end, revision_back } => b.range(&key(*k), &key(*end), 0, 0, 0, [0, (rev - revision_back).max(0), 0, 0, 0, 0]),
            TestOp::Txn { key: k, n, key2, lease } => b.txn(
                &[(0, 1, *n, &key(*k), &[], &[])],
                |w| {
                    w.put(&key(*key2), b"t", *lease, 0);
                },
                |w| {
                    w.delete_range(&key(*key2), &[], true);
                },
            ),
            TestOp::Grant { id, ttl } => b.lease_grant(*id, *ttl),
            TestOp::Revoke { id } => b.lease_revoke(*id),
            TestOp::Compact { back } => b.compact((rev - back).max(0)),
        };
    }
    b.finish()
}

fn snapshot(store: &Store) -> Vec<u8> {
    let mut out = Vec::new();
    store.snapshot_into(&mut out);
    out
}

fn restore(store: &Store) -> Store {
    Store::from_snapshot(Config::default(), &snapshot(store)).expect("a snapshot restores")
}

fn range_bytes(store: &Store, flags: u8, order: u8, target: u8, limit: i64, revision: i64) -> Result<Vec<u8>, String> {
    let req = BatchBuilder::new().range(&[0], &[0], flags, order, target, [limit, revision, 0, 0, 0, 0]).finish();
    store.range_request(&req, Vec::new()).map_err(|e| e.to_string())
}

/// Every observable read of two stores agrees.
fn assert_same_reads(a: &Store, b: &Store) {
    assert_eq!((a.revision(), a.compact_revision(), a.len(), a.is_poisoned()), (b.revision(), b.compact_revision(), b.len(), b.is_poisoned()));
    let (rev, compact) = (a.revision(), a.compact_revision());
    // Revision 0 is the latest; below the compact revision both refuse alike.
    let revisions = std::iter::once(0).chain((compact - 1).max(1)..=rev + 1);
    for revision in revisions {
        for (flags, order, target, limit) in [(0, 0, 0, 0), (RANGE_KEYS_ONLY, 2, 0, 3), (RANGE_COUNT_ONLY, 0, 0, 0), (0, 1, 3, 2), (0, 2, 2, 0)] {
            assert_eq!(range_bytes(a, flags, order, target, limit, revision), range_bytes(b, flags, order, target, limit, revision), "range at {revision}");
        }
    }
    for from in compact - 1..=rev + 1 {
        assert_eq!(a.changes(from, b"", &[0], true), b.changes(from, b"", &[0], true), "changes from {from}");
        assert_eq!(a.changes(from, &key(3), &key(7), false), b.changes(from, &key(3), &key(7), false), "changes from {from}");
    }
    assert_eq!(a.lease_ids(), b.lease_ids());
    for id in a.lease_ids() {
        assert_eq!(a.lease_info(id), b.lease_info(id), "lease {id}");
    }
}

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

fn no_compaction_batches() -> impl Strategy<Value = Vec<Vec<TestOp>>> {
    let op = op_strategy().prop_filter("no compaction", |op| !matches!(op, TestOp::Compact { .. }));
    proptest::collection::vec(proptest::collection::vec(op, 0..12), 1..8)
}

fn apply_all(store: &Store, batches: &[Vec<TestOp>]) {
    for ops in batches {
        store.apply_batch(&encode(store, ops)).expect("batch accepted");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn a_plan_written_after_more_batches_is_the_snapshot_at_its_revision(batches in batches_strategy(), later in no_compaction_batches()) {
        let (original, twin) = (Store::default(), Store::default());
        apply_all(&original, &batches);
        apply_all(&twin, &batches);
        let plan = original.begin_snapshot();
        prop_assert_eq!(plan.revision(), twin.revision());
        apply_all(&original, &later);
        let mut bytes = b"before".to_vec();
        prop_assert_eq!(plan.write_into(&original, &mut bytes), Ok(()));
        let mut expected = b"before".to_vec();
        twin.snapshot_into(&mut expected);
        prop_assert_eq!(&bytes, &expected);
        // Streamed to a sink section by section: the same bytes.
        let mut streamed = b"before".to_vec();
        prop_assert!(plan.write_to(&original, &mut streamed).is_ok());
        prop_assert_eq!(&streamed, &expected);

        // Restored and brought forward by the same later batches, it is the original again.
        let restored = Store::from_snapshot(Config::default(), &bytes[6..]).expect("a snapshot restores");
        assert_same_reads(&twin, &restored);
        apply_all(&restored, &later);
        assert_same_reads(&original, &restored);
    }

    #[test]
    fn a_compaction_after_the_plan_interrupts_the_pass(batches in batches_strategy(), later in batches_strategy()) {
        let (original, twin) = (Store::default(), Store::default());
        apply_all(&original, &batches);
        apply_all(&twin, &batches);
        let plan = original.begin_snapshot();
        let compacted_at = original.compact_revision();
        apply_all(&original, &later);
        let mut bytes = b"before".to_vec();
        let written = plan.write_into(&original, &mut bytes);
        let streamed = plan.write_to(&original, &mut Vec::new());
        prop_assert_eq!(streamed.is_ok(), written.is_ok());
        prop_assert!(matches!(streamed, Ok(()) | Err(SnapshotStreamError::Interrupted(SnapshotInterrupted))));
        if original.compact_revision() == compacted_at {
            prop_assert_eq!(written, Ok(()));
            prop_assert_eq!(bytes[6..].to_vec(), snapshot(&twin));
        } else {
            // History at or below the plan's revision may be gone: nothing is written.
            prop_assert_eq!(written, Err(SnapshotInterrupted));
            prop_assert_eq!(&bytes, b"before");
        }
        // A plan taken now succeeds, and restores to the original.
        let mut now = Vec::new();
        prop_assert_eq!(original.begin_snapshot().write_into(&original, &mut now), Ok(()));
        prop_assert_eq!(&now, &snapshot(&original));
        assert_same_reads(&original, &Store::from_snapshot(Config::default(), &now).expect("a snapshot restores"));
    }
}

/// Why a pass that met a compaction writes nothing: the key below lost its whole history to the
/// compaction, so a snapshot at the plan's revision read now would lack it, and replaying the
/// delete on a store without the key would not count its revision.
#[test]
fn a_compaction_that_drops_a_whole_key_interrupts_the_pass() {
    let store = Store::default();
    apply(&store, &BatchBuilder::new().put(&key(1), b"a", 0, 0).put(&key(2), b"b", 0, 0).finish());
    let plan = store.begin_snapshot();
    apply(&store, &BatchBuilder::new().delete_range(&key(1), &[], false).finish());
    let rev = store.revision();
    apply(&store, &BatchBuilder::new().compact(rev).finish());
    let mut bytes = Vec::new();
    assert_eq!(plan.write_into(&store, &mut bytes), Err(SnapshotInterrupted));
    assert!(bytes.is_empty());
    assert!(matches!(plan.write_to(&store, &mut Vec::new()), Err(SnapshotStreamError::Interrupted(_))));
}

/// A sink that fails part way: the error comes back as I/O, not as an interruption.
#[test]
fn a_failing_sink_stops_the_stream_with_its_error() {
    struct Full(usize);
    impl std::io::Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0 < buf.len() {
                return Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "no space"));
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let store = Store::default();
    apply(&store, &BatchBuilder::new().put(&key(1), b"a", 0, 0).finish());
    match store.begin_snapshot().write_to(&store, &mut Full(10)) {
        Err(SnapshotStreamError::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::StorageFull),
        other => panic!("expected the sink's error, got {other:?}"),
    }
}

/// The pass reads the index a few thousand keys at a time, as it is then: keys created after the
/// plan between the ones it had (passed over), keys deleted (they move to the deleted set) and
/// re-created, all through the key space and so on both sides of every chunk boundary, leave
/// the snapshot at the plan's revision. (Changes during the pass: the test after this one.)
#[test]
fn an_index_changed_after_the_plan_still_gives_the_snapshot_at_the_plan() {
    let name = |i: u32| format!("key/{i:06}").into_bytes();
    let (store, twin) = (Store::default(), Store::default());
    for target in [&store, &twin] {
        let mut b = BatchBuilder::new();
        for i in (0..30_000).step_by(2) {
            b.put(&name(i), b"even", 0, 0);
        }
        apply(target, &b.finish());
        let mut b = BatchBuilder::new();
        for i in (0..30_000).step_by(10) {
            b.delete_range(&name(i), &[], false);
        }
        apply(target, &b.finish());
    }
    let plan = store.begin_snapshot();
    let mut b = BatchBuilder::new();
    for i in (1..30_000).step_by(2) {
        b.put(&name(i), b"odd, after the plan", 0, 0);
    }
    apply(&store, &b.finish());
    let mut b = BatchBuilder::new();
    for i in (0..30_000).step_by(6) {
        // Multiples of 10 among them were deleted before the plan: re-created now.
        b.put(&name(i), b"again", 0, 0);
    }
    for i in (2..30_000).step_by(4) {
        if i % 6 != 0 {
            b.delete_range(&name(i), &[], false);
        }
    }
    apply(&store, &b.finish());
    let mut streamed = Vec::new();
    assert!(plan.write_to(&store, &mut streamed).is_ok());
    let mut bytes = Vec::new();
    assert_eq!(plan.write_into(&store, &mut bytes), Ok(()));
    assert_eq!(streamed, snapshot(&twin));
    assert_eq!(bytes, streamed);
}

/// A pass on another thread while this one applies batches (spread over several sections, with
/// leases, deletes and re-created keys) writes exactly the state at the plan's revision.
#[test]
fn a_pass_beside_applies_writes_the_state_at_the_plan() {
    let store = Store::default();
    let name = |i: u32| format!("key/{:06}", i * 7919 % 60_000).into_bytes();
    let mut b = BatchBuilder::new();
    b.lease_grant(5, 60);
    apply(&store, &b.finish());
    for chunk in 0..6u32 {
        let mut b = BatchBuilder::new();
        for i in chunk * 10_000..(chunk + 1) * 10_000 {
            b.put(&name(i), &i.to_le_bytes(), if i % 10 == 0 { 5 } else { 0 }, 0);
        }
        apply(&store, &b.finish());
    }
    let mut b = BatchBuilder::new();
    for i in (0..60_000).step_by(3) {
        b.delete_range(&name(i), &[], false);
    }
    apply(&store, &b.finish());
    let mut expected = Vec::new();
    store.snapshot_into(&mut expected);
    let plan = store.begin_snapshot();

    let bytes = std::thread::scope(|scope| {
        // Both ways of writing a plan: streamed section by section, and into one buffer.
        let writer = scope.spawn(|| {
            let mut streamed = Vec::new();
            plan.write_to(&store, &mut streamed).map_err(|e| format!("{e:?}"))?;
            let mut bytes = Vec::new();
            plan.write_into(&store, &mut bytes).map_err(|e| format!("{e:?}"))?;
            Ok::<_, String>((streamed, bytes))
        });
        for round in 0..40u32 {
            let mut b = BatchBuilder::new();
            for i in 0..1_500u32 {
                let i = (round * 1_500 + i) % 60_000;
                match i % 4 {
                    0 => b.delete_range(&name(i), &[], false),
                    1 => b.put(&name(i), b"later", 0, 0),
                    2 => b.put(&format!("new/{round}/{i}").into_bytes(), b"n", 0, 0),
                    _ => b.put(&name(i), b"leased", 5, 0),
                };
            }
            if round == 20 {
                b.lease_revoke(5);
                b.lease_grant(6, 30);
            }
            apply(&store, &b.finish());
        }
        writer.join().unwrap()
    });
    let (streamed, bytes) = bytes.expect("no compaction ran");
    assert_eq!(bytes, expected);
    assert_eq!(streamed, expected);
    // It restores, to a store that snapshots the same again.
    assert_eq!(snapshot(&Store::from_snapshot(Config::default(), &bytes).unwrap()), expected);
    assert!(store.revision() > plan.revision());
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
    assert_eq!(out[6..][..SNAPSHOT_MAGIC.len()], SNAPSHOT_MAGIC);
    assert_eq!(u16::from_le_bytes([out[6 + SNAPSHOT_VERSION_AT], out[7 + SNAPSHOT_VERSION_AT]]), SNAPSHOT_FORMAT_VERSION);
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
fn every_truncation_is_refused() {
    let bytes = snapshot(&small_store());
    for len in 0..bytes.len() {
        assert!(Store::from_snapshot(Config::default(), &bytes[..len]).is_err(), "prefix of {len} bytes accepted");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Store::from_snapshot(Config::default(), &longer).is_err());
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

#[test]
fn wrong_magic_or_version_is_refused() {
    let bytes = snapshot(&small_store());
    let mut magic = bytes.clone();
    magic[0] = b'X';
    assert_eq!(Store::from_snapshot(Config::default(), &magic).err().map(|e| e.offset), Some(0));
    let mut version = bytes.clone();
    version[SNAPSHOT_VERSION_AT..][..2].copy_from_slice(&(SNAPSHOT_FORMAT_VERSION + 1).to_le_bytes());
    let err = Store::from_snapshot(Config::default(), &version).err().expect("refused");
    assert_eq!(err.offset, SNAPSHOT_VERSION_AT);
    assert!(err.to_string().contains("version"), "{err}");
    assert!(Store::from_snapshot(Config::default(), b"").is_err());
    let _: &dyn std::error::Error = &SnapshotError { reason: "x", offset: 1 };
}

#[test]
fn inconsistent_entries_are_refused() {
    // One key, one version, no leases: the section count right after the lease count, then one
    // section, whose one entry is key "k" and one version (offsets of formats/snapshot.mjs).
    let store = Store::default();
    store.apply_batch(&BatchBuilder::new().put(b"k", b"v", 0, 0).finish()).unwrap();
    let bytes = snapshot(&store);
    assert_eq!(u32::from_le_bytes(bytes[SNAPSHOT_LEASE_COUNT_AT..][..4].try_into().unwrap()), 0);
    let section_at = SNAPSHOT_LEASES_AT + 4;
    let entry_at = section_at + SECTION_ENTRIES_AT;
    assert_eq!(bytes[entry_at + KEY_ENTRY_KEY_AT], b'k');
    let version_at = entry_at + KEY_ENTRY_KEY_AT + 1 + 4;
    let corrupt = |at: usize, value: i64| {
        let mut b = bytes.clone();
        b[at..at + 8].copy_from_slice(&value.to_le_bytes());
        Store::from_snapshot(Config::default(), &b).err().map(|e| e.reason)
    };
    assert_eq!(corrupt(version_at + KEY_VERSION_MOD_REVISION_AT, 5), Some("inconsistent version"), "mod revision beyond the store's");
    assert_eq!(corrupt(version_at + KEY_VERSION_CREATE_REVISION_AT, 3), Some("inconsistent version"), "created after its change");
    assert_eq!(corrupt(version_at + KEY_VERSION_LEASE_AT, 9), Some("live key attached to a lease that does not exist"));
    assert_eq!(corrupt(SNAPSHOT_REVISION_AT, 0), Some("revision out of range"));
    assert!(corrupt(version_at + KEY_VERSION_VERSION_AT, 1).is_none(), "an untouched field restores");
}
