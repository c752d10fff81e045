//! Times the seed's stress shape (10,000 puts over 1,000 keys, one batch) and a 100-put batch
//! straight on the core, without the FFI: `cargo run --release --example apply_timing`.
//! Prints ns/op per configuration; the mitata suites in bench/ are the reported figures.
//! `INTO_EMPTY_ONLY=1`: only W2's shape into an emptied store (`THREADS=n`: its pool size);
//! `EVENTS_ONLY=1`: only W6's stream (`NO_EVENTS=1`: the same without events).

use metastore_core::{BatchBuilder, Config, EventsMode, Store};

// The binding's allocator, so the figures match the addon's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::Instant;

fn batch(n: usize, keys: usize) -> Vec<u8> {
    let mut b = BatchBuilder::new();
    for i in 0..n {
        b.put(format!("key-{}", i % keys).as_bytes(), format!("value-{i}").as_bytes(), 0, 0);
    }
    b.finish()
}

/// History grows with every put until compacted; between timed runs the store is compacted
/// to its current revision, as a store under steady writes with auto-compaction would be.
fn compact(store: &Store) {
    let mut b = BatchBuilder::new();
    b.compact(store.revision());
    store.apply_batch(&b.finish()).unwrap();
}

fn time(label: &str, store: &Store, batch: &[u8], ops: usize, rounds: usize) {
    for _ in 0..rounds / 10 + 1 {
        store.apply_batch(batch).unwrap();
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        compact(store);
        let t = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(store.apply_batch(batch).unwrap());
        }
        best = best.min(t.elapsed().as_nanos() as f64 / (rounds * ops) as f64);
    }
    println!("{label:<40} {best:>8.1} ns/op (best of 5)");
}

/// The bench's headline shape (W2): every run meets an emptied store (keys deleted and history
/// compacted away outside the timing), so each run creates the 1,000 keys again.
fn time_into_empty(label: &str, store: &Store, batch: &[u8], ops: usize, rounds: usize) {
    let mut clear = BatchBuilder::new();
    clear.delete_range(&[0], &[0], false);
    let clear = clear.finish();
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut spent = std::time::Duration::ZERO;
        for _ in 0..rounds {
            store.apply_batch(&clear).unwrap();
            compact(store);
            let t = Instant::now();
            std::hint::black_box(store.apply_batch(batch).unwrap());
            spent += t.elapsed();
        }
        best = best.min(spent.as_nanos() as f64 / (rounds * ops) as f64);
    }
    println!("{label:<40} {best:>8.1} ns/op (best of 5)");
}

/// W6's stream: 100 batches of 1,000 puts of new keys (100-byte values) with events, as the
/// store applies them when watchers exist; a fresh store per run.
fn time_new_keys_with_events() {
    let value = [b'v'; 100];
    let batches: Vec<Vec<u8>> = (0..100)
        .map(|b| {
            let mut w = BatchBuilder::new();
            for j in b * 1000..(b + 1) * 1000 {
                w.put(format!("w/{:04}/{j:07}", j % 1000).as_bytes(), &value, 0, 0);
            }
            w.finish()
        })
        .collect();
    // NO_EVENTS=1: the same stream without events, for what the events add.
    let (mode, label) = match std::env::var_os("NO_EVENTS") {
        Some(_) => (EventsMode::None, "100K new keys without events, 1K/batch"),
        None => (EventsMode::Events, "100K new keys with events, 1K/batch"),
    };
    let mut best = f64::MAX;
    for _ in 0..5 {
        let store = Store::default();
        let mut buf = Vec::new();
        let t = Instant::now();
        for batch in &batches {
            buf = store.apply_batch_into(batch, buf, mode).unwrap();
        }
        best = best.min(t.elapsed().as_nanos() as f64 / 100_000.0);
    }
    println!("{label:<40} {best:>8.1} ns/op (best of 5)");
}

fn main() {
    if std::env::var_os("EVENTS_ONLY").is_some() {
        time_new_keys_with_events();
        return;
    }
    let stress = batch(10_000, 1000);
    if std::env::var_os("INTO_EMPTY_ONLY").is_some() {
        let store = Store::new(Config { parallel_threshold: usize::MAX, ..Config::default() });
        time_into_empty("stress into an emptied store, serial", &store, &stress, 10_000, 50);
        let threads = std::env::var("THREADS").map_or(0, |t| t.parse().expect("threads"));
        time_into_empty("stress into an emptied store, parallel", &Store::new(Config { threads, ..Config::default() }), &stress, 10_000, 50);
        return;
    }
    let hundred = batch(100, 100);
    let one = batch(1, 1);
    for (label, threshold, threads) in [("serial", usize::MAX, 0), ("parallel, 1 thread", 2, 1), ("parallel, 2 threads", 2, 2)] {
        let store = Store::new(Config { parallel_threshold: threshold, threads, ..Config::default() });
        time(&format!("stress 10k/1k keys, {label}"), &store, &stress, 10_000, 5);
        time_into_empty(&format!("stress into an emptied store, {label}"), &store, &stress, 10_000, 20);
        time(&format!("batch of 100, {label}"), &store, &hundred, 100, 200);
    }
    time("batch of 1", &Store::default(), &one, 1, 20_000);
    time_new_keys_with_events();
}
