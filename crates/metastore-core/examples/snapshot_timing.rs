//! Times snapshots of a 1M-key store and restores from one (16-byte keys, 100-byte values,
//! loaded through apply): `cargo run --release -p metastore-core --example snapshot_timing`.

use metastore_core::{BatchBuilder, Config, EventsMode, Store};
use std::time::Instant;

// The binding's allocator, so the figures match the addon's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const KEYS: usize = 1_000_000;
const PER_BATCH: usize = 10_000;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn main() {
    let store = Store::new(Config::default());
    let value = [b'v'; 100];
    let t = Instant::now();
    let mut buf = Vec::new();
    for start in (0..KEYS).step_by(PER_BATCH) {
        let mut b = BatchBuilder::new();
        for i in start..(start + PER_BATCH).min(KEYS) {
            b.put(format!("key-{i:012}").as_bytes(), &value, 0, 0);
        }
        buf = store.apply_batch_into(&b.finish(), buf, EventsMode::None).expect("batch accepted");
    }
    println!("load {:.1} ms: {} keys, revision {}", ms(t), store.len(), store.revision());

    let mut snapshot = Vec::new();
    for round in 1..=3 {
        snapshot = Vec::new();
        let t = Instant::now();
        store.snapshot_into(&mut snapshot);
        println!("snapshot {round}: {:>6.1} ms, {:.1} MB", ms(t), snapshot.len() as f64 / 1e6);
    }
    for round in 1..=3 {
        let t = Instant::now();
        let restored = Store::from_snapshot(Config::default(), &snapshot).expect("snapshot restores");
        let restore_ms = ms(t);
        assert_eq!((restored.len(), restored.revision()), (store.len(), store.revision()));
        let t = Instant::now();
        drop(restored);
        println!("restore  {round}: {restore_ms:>6.1} ms (then dropping it: {:.1} ms)", ms(t));
    }
}
