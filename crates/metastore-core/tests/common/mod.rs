//! Test helpers: a decoder of packed results, a state dump and one-op batches; the snapshot
//! tests' helpers are in snapshot.rs.

#![allow(dead_code)]

use metastore_core::{BatchBuilder, Store};

pub mod snapshot;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kv {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub create: i64,
    pub modr: i64,
    pub version: i64,
    pub lease: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Res {
    Put { rev: i64, prev: Option<Kv> },
    Delete { rev: i64, deleted: i64, prev: Vec<Kv> },
    Range { rev: i64, more: bool, count: i64, kvs: Vec<Kv> },
    Error { rev: i64, number: u16 },
    Txn { rev: i64, succeeded: bool, responses: Vec<Res> },
    LeaseGrant { rev: i64, id: i64, ttl: i64 },
    LeaseRevoke { rev: i64 },
    Compact { rev: i64 },
}

fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

fn i64_at(b: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn kv_at(b: &[u8], at: usize) -> (Kv, usize) {
    let kl = u32_at(b, at);
    let vl = u32_at(b, at + 4);
    let k0 = at + 40;
    let kv = Kv {
        key: b[k0..k0 + kl].to_vec(),
        value: b[k0 + kl..k0 + kl + vl].to_vec(),
        create: i64_at(b, at + 8),
        modr: i64_at(b, at + 16),
        version: i64_at(b, at + 24),
        lease: i64_at(b, at + 32),
    };
    (kv, k0 + kl + vl)
}

fn kvs_at(b: &[u8], mut at: usize, n: usize) -> Vec<Kv> {
    (0..n)
        .map(|_| {
            let (kv, next) = kv_at(b, at);
            at = next;
            kv
        })
        .collect()
}

fn kvs_end(b: &[u8], mut at: usize, n: usize) -> usize {
    for _ in 0..n {
        at = kv_at(b, at).1;
    }
    at
}

/// Decodes the result at `at`; returns it and the offset after it.
pub fn result_span(b: &[u8], at: usize) -> (Res, usize) {
    let (kind, flags, rev) = (b[at], b[at + 1], i64_at(b, at + 2));
    let body = at + 10;
    match kind {
        1 => {
            if flags & 1 != 0 {
                let (kv, end) = kv_at(b, body);
                (Res::Put { rev, prev: Some(kv) }, end)
            } else {
                (Res::Put { rev, prev: None }, body)
            }
        }
        2 => {
            let n = u32_at(b, body + 8);
            (Res::Delete { rev, deleted: i64_at(b, body), prev: kvs_at(b, body + 12, n) }, kvs_end(b, body + 12, n))
        }
        3 => {
            let n = u32_at(b, body + 8);
            (Res::Range { rev, more: flags & 1 != 0, count: i64_at(b, body), kvs: kvs_at(b, body + 12, n) }, kvs_end(b, body + 12, n))
        }
        4 => {
            let n = u32_at(b, body);
            let mut p = body + 4;
            let mut responses = Vec::new();
            for _ in 0..n {
                let (r, next) = result_span(b, p);
                responses.push(r);
                p = next;
            }
            (Res::Txn { rev, succeeded: flags & 1 != 0, responses }, p)
        }
        5 => (Res::LeaseGrant { rev, id: i64_at(b, body), ttl: i64_at(b, body + 8) }, body + 16),
        6 => (Res::LeaseRevoke { rev }, body),
        7 => (Res::Compact { rev }, body),
        255 => (Res::Error { rev, number: u16::from_le_bytes([b[body], b[body + 1]]) }, body + 2),
        k => panic!("unknown result kind {k}"),
    }
}

pub fn result_at(b: &[u8], at: usize) -> Res {
    result_span(b, at).0
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub delete: bool,
    pub sub: u32,
    pub kv: Kv,
    pub prev: Option<Kv>,
}

/// Decodes an events section at `at`.
pub fn events_at(b: &[u8], at: usize) -> Vec<Event> {
    let n = u32_at(b, at);
    let mut p = at + 4;
    (0..n)
        .map(|_| {
            let (delete, has_prev, sub) = (b[p] == 1, b[p + 1] & 1 != 0, u32_at(b, p + 2) as u32);
            let (kv, next) = kv_at(b, p + 6);
            p = next;
            let prev = has_prev.then(|| {
                let (kv, next) = kv_at(b, p);
                p = next;
                kv
            });
            Event { delete, sub, kv, prev }
        })
        .collect()
}

/// The events section of a batch result buffer.
pub fn batch_events(b: &[u8]) -> Vec<Event> {
    match u32_at(b, 16) {
        0 => vec![],
        at => events_at(b, at),
    }
}

/// Decodes a batch result buffer: (revision after, per-op results).
pub fn decode(b: &[u8]) -> (i64, Vec<Res>) {
    assert_eq!(&b[..4], b"MSR\x01");
    let n = u32_at(b, 4);
    let rev = i64_at(b, 8);
    (rev, (0..n).map(|i| result_at(b, u32_at(b, 20 + 4 * i))).collect())
}

/// Applies a batch and decodes its results.
pub fn apply(store: &Store, batch: &[u8]) -> (i64, Vec<Res>) {
    decode(&store.apply_batch(batch).expect("batch accepted"))
}

/// Every key with its metadata, in key order.
pub fn dump(store: &Store) -> Vec<Kv> {
    let req = BatchBuilder::new().range(&[0], &[0], 0, 0, 0, [0; 6]).finish();
    match result_at(&store.range_request(&req, Vec::new()).unwrap(), 0) {
        Res::Range { kvs, .. } => kvs,
        other => panic!("unexpected {other:?}"),
    }
}

pub fn put(b: &mut BatchBuilder, key: &str, value: &str) {
    b.put(key.as_bytes(), value.as_bytes(), 0, 0);
}

/// Applies a batch of the ops `f` writes and returns the first op's result.
pub fn one(store: &Store, f: impl FnOnce(&mut BatchBuilder)) -> Res {
    let mut b = BatchBuilder::new();
    f(&mut b);
    apply(store, &b.finish()).1.remove(0)
}
