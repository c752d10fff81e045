//! Test helpers: a decoder of packed results, by the offsets declared in formats/results.mjs (so
//! every test that decodes results checks the writer against the declaration), a state dump and
//! one-op batches; the snapshot tests' helpers are in snapshot.rs.

#![allow(dead_code)]

use metastore_core::layout::results::*;
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
    let kl = u32_at(b, at + KV_KEY_LEN_AT);
    let vl = u32_at(b, at + KV_VALUE_LEN_AT);
    let k0 = at + KV_KEY_AT;
    let kv = Kv {
        key: b[k0..k0 + kl].to_vec(),
        value: b[k0 + kl..k0 + kl + vl].to_vec(),
        create: i64_at(b, at + KV_CREATE_REVISION_AT),
        modr: i64_at(b, at + KV_MOD_REVISION_AT),
        version: i64_at(b, at + KV_VERSION_AT),
        lease: i64_at(b, at + KV_LEASE_AT),
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

/// Decodes the result at `at` by the layout declared in formats/results.mjs; returns it and the
/// offset after it.
pub fn result_span(b: &[u8], at: usize) -> (Res, usize) {
    let (kind, flags, rev) = (b[at + OP_RESULT_KIND_AT], b[at + OP_RESULT_FLAGS_AT], i64_at(b, at + OP_RESULT_REVISION_AT));
    match kind {
        RESULT_PUT => {
            if flags & PUT_RESULT_HAS_PREV != 0 {
                let (kv, end) = kv_at(b, at + PUT_RESULT_PREV_KV_AT);
                (Res::Put { rev, prev: Some(kv) }, end)
            } else {
                (Res::Put { rev, prev: None }, at + PUT_RESULT_FIXED)
            }
        }
        RESULT_DELETE_RANGE => {
            let (n, kvs) = (u32_at(b, at + DELETE_RESULT_PREV_COUNT_AT), at + DELETE_RESULT_PREV_KVS_AT);
            (Res::Delete { rev, deleted: i64_at(b, at + DELETE_RESULT_DELETED_AT), prev: kvs_at(b, kvs, n) }, kvs_end(b, kvs, n))
        }
        RESULT_RANGE => {
            let (n, kvs) = (u32_at(b, at + RANGE_RESULT_KV_COUNT_AT), at + RANGE_RESULT_KVS_AT);
            let more = flags & RANGE_RESULT_MORE != 0;
            (Res::Range { rev, more, count: i64_at(b, at + RANGE_RESULT_COUNT_AT), kvs: kvs_at(b, kvs, n) }, kvs_end(b, kvs, n))
        }
        RESULT_TXN => {
            let n = u32_at(b, at + TXN_RESULT_RESPONSE_COUNT_AT);
            let mut p = at + TXN_RESULT_RESPONSES_AT;
            let mut responses = Vec::new();
            for _ in 0..n {
                let (r, next) = result_span(b, p);
                responses.push(r);
                p = next;
            }
            (Res::Txn { rev, succeeded: flags & TXN_RESULT_SUCCEEDED != 0, responses }, p)
        }
        RESULT_LEASE_GRANT => {
            let (id, ttl) = (i64_at(b, at + LEASE_GRANT_RESULT_ID_AT), i64_at(b, at + LEASE_GRANT_RESULT_TTL_AT));
            (Res::LeaseGrant { rev, id, ttl }, at + LEASE_GRANT_RESULT_BYTES)
        }
        RESULT_LEASE_REVOKE => (Res::LeaseRevoke { rev }, at + LEASE_REVOKE_RESULT_BYTES),
        RESULT_COMPACT => (Res::Compact { rev }, at + COMPACT_RESULT_BYTES),
        RESULT_ERROR => {
            let number = u16::from_le_bytes(b[at + ERROR_RESULT_ERROR_AT..][..2].try_into().unwrap());
            (Res::Error { rev, number }, at + ERROR_RESULT_BYTES)
        }
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
    let n = u32_at(b, at + EVENTS_COUNT_AT);
    let mut p = at + EVENTS_EVENTS_AT;
    (0..n)
        .map(|_| {
            let delete = match b[p + EVENT_TYPE_AT] {
                EVENT_PUT => false,
                EVENT_DELETE => true,
                t => panic!("unknown event type {t}"),
            };
            let (has_prev, sub) = (b[p + EVENT_FLAGS_AT] & EVENT_HAS_PREV != 0, u32_at(b, p + EVENT_SUB_REVISION_AT) as u32);
            let (kv, next) = kv_at(b, p + EVENT_KV_AT);
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
    match u32_at(b, RESULTS_EVENTS_OFFSET_AT) {
        0 => vec![],
        at => events_at(b, at),
    }
}

/// Decodes a batch result buffer: (revision after, per-op results).
pub fn decode(b: &[u8]) -> (i64, Vec<Res>) {
    assert_eq!(b[RESULTS_MAGIC_AT..][..3], RESULTS_MAGIC);
    assert_eq!(b[RESULTS_VERSION_AT], RESULTS_VERSION);
    let n = u32_at(b, RESULTS_COUNT_AT);
    let rev = i64_at(b, RESULTS_REVISION_AT);
    (rev, (0..n).map(|i| result_at(b, u32_at(b, RESULTS_RESULT_OFFSETS_AT + 4 * i))).collect())
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
