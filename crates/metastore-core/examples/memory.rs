//! Memory per key of the core at scale, without Node: loads N keys (16-byte keys in order,
//! 100-byte values) in batches of 10,000 and prints the growth of the resident set per key.
//! `cargo run --release -p metastore-core --example memory -- 10000000`
//! Runs on the binding's allocator with the binding's setting (mimalloc, freed memory back to the
//! OS after a second idle), so the figure is the addon's minus Node's own.

use metastore_core::{BatchBuilder, Store};
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|n| n.parse::<u64>().ok());
    kb.unwrap_or(0) * 1024
}

fn main() {
    // mi_option_purge_delay, as crates/metastore-napi sets it.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: a process-wide allocator option, set before the store allocates.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 1000) };
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let value = [b'v'; 100];
    let store = Store::default();
    let before = rss();
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        let mut b = BatchBuilder::new();
        let end = (i + 10_000).min(n);
        for k in i..end {
            b.put(format!("k{k:015}").as_bytes(), &value, 0, 0);
        }
        store.apply_batch(&b.finish()).unwrap();
        i = end;
    }
    let load = t.elapsed();
    let grown = rss() - before;
    println!(
        "{n} keys: rss +{:.1} MiB, {:.0} B/key; load {:.2} s ({:.0} ns/key)",
        grown as f64 / 1048576.0,
        grown as f64 / n as f64,
        load.as_secs_f64(),
        load.as_nanos() as f64 / n as f64
    );
    std::hint::black_box(&store);
}
