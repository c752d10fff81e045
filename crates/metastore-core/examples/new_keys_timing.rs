//! Times puts of new keys in key order (16-byte keys, 100-byte values) in batches of 128, the
//! shape of W7's awaited durable puts and of W8's load, straight on the core:
//! `cargo run --release --example new_keys_timing [keys]`.

use metastore_core::{BatchBuilder, Store};
use std::time::Instant;

// The binding's allocator, so the figures match the addon's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let keys: usize = std::env::args().nth(1).map_or(1_000_000, |s| s.parse().expect("a key count"));
    let value = [b'v'; 100];
    let batches: Vec<Vec<u8>> = (0..keys.div_ceil(128))
        .map(|b| {
            let mut w = BatchBuilder::new();
            for i in b * 128..((b + 1) * 128).min(keys) {
                w.put(format!("k{:015}", 1_000_000_000 + i).as_bytes(), &value, 0, 0);
            }
            w.finish()
        })
        .collect();
    let rounds: usize = std::env::var("ROUNDS").map_or(3, |s| s.parse().expect("a round count"));
    for _ in 0..rounds {
        let store = Store::default();
        let t = Instant::now();
        for batch in &batches {
            std::hint::black_box(store.apply_batch(batch).unwrap());
        }
        println!("{keys} new keys in order, 128 per batch: {:.1} ns/op", t.elapsed().as_nanos() as f64 / keys as f64);
    }
}
