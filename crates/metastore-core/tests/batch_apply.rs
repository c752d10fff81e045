//! The seed's seven batch-apply cases, made stronger: every revision and every result checked,
//! on the one-by-one path and the shard-parallel one. Also what a batch leaves for the reads
//! after it: values across the inline boundary, and every new key in the ordered index.

mod common;

use common::{apply, dump, events_at, put, Res};
use metastore_core::{BatchBuilder, Config, Store};

fn store_with(threshold: usize, threads: usize) -> Store {
    Store::new(Config { parallel_threshold: threshold, threads, ..Config::default() })
}

/// Each case runs on the one-by-one path and on the parallel path with 1 and 2 threads.
fn stores() -> Vec<(&'static str, Store)> {
    vec![("serial", Store::default()), ("parallel-1-thread", store_with(2, 1)), ("parallel-2-threads", store_with(2, 2))]
}

#[test]
fn put_batch_stores_every_key_with_its_own_revision() {
    for (name, store) in stores() {
        let mut b = BatchBuilder::new();
        for i in 0..100 {
            put(&mut b, &format!("key-{i}"), &format!("value-{i}"));
        }
        let (rev, results) = apply(&store, &b.finish());
        assert_eq!(rev, 101, "{name}");
        for (i, r) in results.iter().enumerate() {
            assert_eq!(*r, Res::Put { rev: i as i64 + 2, prev: None }, "{name}");
            let kv = store.get(format!("key-{i}").as_bytes()).unwrap();
            assert_eq!(&*kv.value, format!("value-{i}").as_bytes());
            assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (i as i64 + 2, i as i64 + 2, 1), "{name}");
        }
    }
}

#[test]
fn delete_batch_removes_every_key_and_bumps_once_per_deleted_key() {
    for (name, store) in stores() {
        let mut b = BatchBuilder::new();
        for i in 0..100 {
            put(&mut b, &format!("key-{i}"), "v");
        }
        apply(&store, &b.finish());
        let mut d = BatchBuilder::new();
        for i in 0..100 {
            d.delete_range(format!("key-{i}").as_bytes(), &[], i % 2 == 0);
        }
        d.delete_range(b"key-0", &[], false); // already gone: no bump
        let (rev, results) = apply(&store, &d.finish());
        assert_eq!(rev, 201, "{name}");
        for (i, r) in results.iter().take(100).enumerate() {
            let Res::Delete { rev, deleted, prev } = r else { panic!("{r:?}") };
            assert_eq!((*rev, *deleted), (102 + i as i64, 1), "{name}");
            assert_eq!(prev.len(), if i % 2 == 0 { 1 } else { 0 }, "{name}");
        }
        assert_eq!(results[100], Res::Delete { rev: 201, deleted: 0, prev: vec![] }, "{name}");
        assert!(store.is_empty(), "{name}");
    }
}

#[test]
fn mixed_batch_matches_its_ops_applied_one_by_one() {
    let mut b = BatchBuilder::new();
    for i in 0..30 {
        put(&mut b, &format!("k{}", i % 7), &format!("v{i}"));
        if i % 3 == 0 {
            b.delete_range(format!("k{}", (i + 1) % 7).as_bytes(), &[], true);
        }
        if i % 5 == 0 {
            b.range(b"k", &[0], 0, 0, 0, [0; 6]);
            b.delete_range(b"k2", b"k4", true);
        }
    }
    let batch = b.finish();
    for (name, store) in stores() {
        let single = Store::default();
        let mut expected = Vec::new();
        for op in split_ops(&batch) {
            expected.extend(apply(&single, &op).1);
        }
        let (rev, results) = apply(&store, &batch);
        assert_eq!(results, expected, "{name}");
        assert_eq!(rev, single.revision(), "{name}");
        assert_eq!(dump(&store), dump(&single), "{name}");
    }
}

#[test]
fn batch_equals_one_by_one_for_every_key_and_result() {
    let mut b = BatchBuilder::new();
    for k in ["k1", "k2", "k3"] {
        put(&mut b, k, &format!("{k}-v"));
    }
    b.delete_range(b"k1", &[], true);
    b.put(b"k1", b"new-value1", 0, 1);
    let batch = b.finish();
    for (name, store) in stores() {
        let single = Store::default();
        let mut expected = Vec::new();
        for op in split_ops(&batch) {
            expected.extend(apply(&single, &op).1);
        }
        let (rev, results) = apply(&store, &batch);
        assert_eq!((rev, single.revision()), (6, 6), "{name}");
        assert_eq!(results, expected, "{name}");
        assert_eq!(dump(&store), dump(&single), "{name}");
        let k1 = store.get(b"k1").unwrap();
        assert_eq!((k1.create_revision, k1.mod_revision, k1.version), (6, 6, 1), "{name}");
    }
}

#[test]
fn empty_batch_changes_nothing() {
    let store = Store::default();
    let (rev, results) = apply(&store, &BatchBuilder::new().finish());
    assert_eq!((rev, results.len(), store.revision()), (1, 0, 1));
}

#[test]
fn single_op_batch_applies() {
    let store = Store::default();
    let mut b = BatchBuilder::new();
    put(&mut b, "key1", "value1");
    let (rev, results) = apply(&store, &b.finish());
    assert_eq!((rev, results), (2, vec![Res::Put { rev: 2, prev: None }]));
    assert_eq!(&*store.get(b"key1").unwrap().value, b"value1");
}

#[test]
fn stress_ten_thousand_puts_over_a_thousand_keys() {
    let mut b = BatchBuilder::new();
    for i in 0..10_000 {
        put(&mut b, &format!("key-{}", i % 1000), &format!("value-{i}"));
    }
    let batch = b.finish();
    for (name, store) in stores() {
        let (rev, results) = apply(&store, &batch);
        assert_eq!(rev, 1 + 10_000, "{name}");
        assert_eq!(results.len(), 10_000);
        assert_eq!(store.len(), 1000);
        for k in 0..1000 {
            let kv = store.get(format!("key-{k}").as_bytes()).unwrap();
            assert_eq!(kv.version, 10, "{name}");
            assert_eq!(kv.create_revision, k as i64 + 2, "{name}");
            assert_eq!(kv.mod_revision, 9000 + k as i64 + 2, "{name}");
            assert_eq!(&*kv.value, format!("value-{}", 9000 + k).as_bytes(), "{name}");
        }
    }
}

/// Splits a batch into one-op batches (re-encoding each op from the decoded form).
pub fn split_ops(batch: &[u8]) -> Vec<Vec<u8>> {
    use metastore_core::codec::{decode_batch, OpRef};
    decode_batch(batch, &Default::default())
        .unwrap()
        .into_iter()
        .map(|op| {
            let mut b = BatchBuilder::new();
            match op {
                OpRef::Put(p) => b.put(p.key, p.value, p.lease, p.flags),
                OpRef::DeleteRange(d) => b.delete_range(d.key, d.range_end, d.prev_kv),
                OpRef::Range(r) => b.range(
                    r.key,
                    r.range_end,
                    (r.keys_only as u8) | ((r.count_only as u8) << 1),
                    r.sort_order as u8,
                    r.sort_target as u8,
                    [r.limit, r.revision, r.min_mod_revision, r.max_mod_revision, r.min_create_revision, r.max_create_revision],
                ),
                other => unimplemented!("these tests split only puts, deletes and ranges: {other:?}"),
            };
            b.finish()
        })
        .collect()
}

/// Values up to 15 bytes are kept inline and longer ones on the heap; both kinds, and the
/// switch between them on one key, read back byte for byte (latest, past revision, snapshot).
#[test]
fn values_read_back_across_the_inline_boundary() {
    let lengths = [0usize, 1, 14, 15, 16, 17, 100, 4096];
    let value = |n: usize, salt: u8| (0..n).map(|i| (i as u8).wrapping_mul(31) ^ salt).collect::<Vec<u8>>();
    for (name, store) in stores() {
        let mut b = BatchBuilder::new();
        for (i, &n) in lengths.iter().enumerate() {
            b.put(format!("k{i}").as_bytes(), &value(n, 1), 0, 0);
            b.put(b"switch", &value(n, 2), 0, 0);
        }
        store.apply_batch(&b.finish()).unwrap();
        for (i, &n) in lengths.iter().enumerate() {
            assert_eq!(&*store.get(format!("k{i}").as_bytes()).unwrap().value, &value(n, 1)[..], "{name} k{i}");
        }
        assert_eq!(&*store.get(b"switch").unwrap().value, &value(4096, 2)[..], "{name}");
        let history: Vec<Vec<u8>> = events_at(&store.changes(1, b"switch", &[], false).unwrap(), 0).into_iter().map(|e| e.kv.value).collect();
        assert_eq!(history, lengths.iter().map(|&n| value(n, 2)).collect::<Vec<_>>(), "{name}: every version of the switching key");
        let mut snapshot = Vec::new();
        store.snapshot_into(&mut snapshot);
        let restored = Store::from_snapshot(Config::default(), &snapshot).unwrap();
        assert_eq!(dump(&restored), dump(&store), "{name}: snapshot round trip");
    }
}

/// A batch that makes many keys live leaves them to a pool thread for the ordered index; reads
/// of the index right after apply and the next batch wait for it, and a store can be dropped
/// while it runs (the job holds the index by itself).
#[test]
fn keys_a_large_batch_makes_live_are_in_the_index_for_every_read_after_apply() {
    for (name, store) in stores() {
        for round in 0..20 {
            let mut b = BatchBuilder::new();
            for i in 0..2000 {
                put(&mut b, &format!("r{round:02}/{:04}", (i * 7919) % 2000), "v");
            }
            apply(&store, &b.finish());
            // Read at once, on this thread: the count, and a range that needs every key in order.
            assert_eq!(store.len(), 2000 * (round + 1), "{name} round {round}");
            let keys: Vec<Vec<u8>> = dump(&store).into_iter().map(|kv| kv.key).collect();
            assert_eq!(keys.len(), 2000 * (round + 1), "{name} round {round}");
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "{name} round {round}: keys out of order");
        }
        // A batch that puts new keys, then deletes a range over them: the delete sees the keys
        // the puts before it made live.
        let mut b = BatchBuilder::new();
        for i in 0..1000 {
            put(&mut b, &format!("s/{i:04}"), "v");
        }
        b.delete_range(b"s/0500", b"s/9", false);
        let (_, results) = apply(&store, &b.finish());
        assert_eq!(results[1000], Res::Delete { rev: 1 + 40_000 + 1000 + 1, deleted: 500, prev: vec![] }, "{name}");
        assert_eq!(store.len(), 40_000 + 500, "{name}");
        // A run of puts, then a run of single-key deletes of some of them (shard-parallel on the
        // parallel stores): each delete finds its key, and the index loses exactly those keys.
        let mut b = BatchBuilder::new();
        for i in 0..1000 {
            put(&mut b, &format!("t/{i:04}"), "v");
        }
        for i in 0..300 {
            b.delete_range(format!("t/{i:04}").as_bytes(), &[], false);
        }
        let (rev, results) = apply(&store, &b.finish());
        assert_eq!(rev, 1 + 40_000 + 1001 + 1000 + 300, "{name}");
        assert!(results[1000..].iter().all(|r| matches!(r, Res::Delete { deleted: 1, .. })), "{name}");
        assert_eq!(store.len(), 40_000 + 500 + 700, "{name}");
        let t_keys: Vec<Vec<u8>> = dump(&store).into_iter().map(|kv| kv.key).filter(|k| k.starts_with(b"t/")).collect();
        assert_eq!(t_keys, (300..1000).map(|i| format!("t/{i:04}").into_bytes()).collect::<Vec<_>>(), "{name}");
    }
    // Dropped with index inserts in flight.
    for _ in 0..20 {
        let store = Store::default();
        let mut b = BatchBuilder::new();
        for i in 0..5000 {
            put(&mut b, &format!("d/{i}"), "v");
        }
        apply(&store, &b.finish());
        drop(store);
    }
}
