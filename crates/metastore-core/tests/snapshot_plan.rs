//! Snapshot plans (`Store::begin_snapshot`, `SnapshotPlan::write_into` / `write_to`): a plan
//! written later, beside applies and from another thread, gives exactly the snapshot at its
//! revision; a compaction after the plan interrupts the pass and nothing is written.

mod common;

use common::apply;
use common::snapshot::{apply_all, assert_same_reads, batches_strategy, key, no_compaction_batches, snapshot};
use metastore_core::{BatchBuilder, Config, SnapshotInterrupted, SnapshotStreamError, Store};
use proptest::prelude::*;

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
