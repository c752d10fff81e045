//! Latency of a get of a random existing key at 1M keys, straight on the core:
//! `cargo run --release -p metastore-core --example get_timing`.
use metastore_core::{BatchBuilder, Store};
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let n = 1_000_000u64;
    let store = Store::default();
    let value = [b'v'; 100];
    for start in (0..n).step_by(10_000) {
        let mut b = BatchBuilder::new();
        for k in start..start + 10_000 {
            b.put(format!("k{k:015}").as_bytes(), &value, 0, 0);
        }
        store.apply_batch(&b.finish()).unwrap();
    }
    // A fixed pseudo-random order (xorshift), the same every run.
    let mut x = 0x9E3779B97F4A7C15u64;
    let keys: Vec<Vec<u8>> = (0..1 << 16)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("k{:015}", x % n).into_bytes()
        })
        .collect();
    let mut rounds = Vec::new();
    for _ in 0..9 {
        let t = Instant::now();
        let mut sum = 0i64;
        for key in &keys {
            sum += store.with_kv(key, |kv| kv.map_or(0, |(_, kv)| kv.version + kv.value.len() as i64));
        }
        std::hint::black_box(sum);
        rounds.push(t.elapsed().as_nanos() as f64 / keys.len() as f64);
    }
    rounds.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("get of a random key at 1M keys: {:.1} ns (median of 9)", rounds[4]);
}
