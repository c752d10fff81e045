//! Writer of packed result buffers (docs/codec.md, "Results").

use crate::errors::ErrorNumber;
use crate::kv::KeyValue;

// The layout (header, result kinds and flags, KVs, events) is declared in formats/results.mjs.
pub use crate::layout::results::*;

/// Appends results to one buffer; a batch's buffer starts with a header and an offset table.
pub struct ResultWriter {
    pub buf: Vec<u8>,
    batch: bool,
    next: usize,
    /// > 0 while writing the results nested in a TXN result.
    depth: usize,
}

impl ResultWriter {
    /// A writer for a batch of `count` results, reusing `buf`.
    pub fn for_batch(count: usize, mut buf: Vec<u8>) -> Self {
        buf.clear();
        buf.reserve(RESULT_HEADER_BYTES + count * 24);
        buf.extend_from_slice(&RESULTS_MAGIC);
        buf.push(RESULTS_VERSION);
        buf.extend_from_slice(&(count as u32).to_le_bytes());
        buf.extend_from_slice(&0i64.to_le_bytes());
        buf.extend_from_slice(&0u32.to_le_bytes());
        buf.resize(RESULT_HEADER_BYTES + 4 * count, 0);
        ResultWriter { buf, batch: true, next: 0, depth: 0 }
    }

    /// A writer for one bare result at offset 0 (standalone reads), reusing `buf`.
    pub fn bare(mut buf: Vec<u8>) -> Self {
        buf.clear();
        ResultWriter { buf, batch: false, next: 0, depth: 0 }
    }

    /// Records where the next op's result starts. Results nested in a TXN result are not
    /// top-level ops: write them with `self.batch` off (see [`ResultWriter::nested`]).
    #[inline]
    fn begin(&mut self, kind: u8, flags: u8, revision: i64) {
        if self.batch && self.depth == 0 {
            let at = RESULTS_RESULT_OFFSETS_AT + 4 * self.next;
            let offset = self.buf.len() as u32;
            self.buf[at..at + 4].copy_from_slice(&offset.to_le_bytes());
            self.next += 1;
        }
        self.buf.push(kind);
        self.buf.push(flags);
        self.buf.extend_from_slice(&revision.to_le_bytes());
    }

    pub fn put(&mut self, revision: i64, prev: Option<(&[u8], &KeyValue)>) {
        self.begin(RESULT_PUT, if prev.is_some() { PUT_RESULT_HAS_PREV } else { 0 }, revision);
        if let Some((key, kv)) = prev {
            self.kv(key, kv, false);
        }
    }

    /// `prev` holds the deleted key-values when they were asked for.
    pub fn delete_range<'a>(&mut self, revision: i64, deleted: i64, prev: impl ExactSizeIterator<Item = (&'a [u8], &'a KeyValue)>) {
        self.begin(RESULT_DELETE_RANGE, 0, revision);
        self.buf.extend_from_slice(&deleted.to_le_bytes());
        self.buf.extend_from_slice(&(prev.len() as u32).to_le_bytes());
        for (key, kv) in prev {
            self.kv(key, kv, false);
        }
    }

    /// Starts a range result; the caller then writes `n` KVs with [`ResultWriter::kv`].
    pub fn range_header(&mut self, revision: i64, more: bool, count: i64, n: usize) {
        self.begin(RESULT_RANGE, if more { RANGE_RESULT_MORE } else { 0 }, revision);
        self.buf.extend_from_slice(&count.to_le_bytes());
        self.buf.extend_from_slice(&(n as u32).to_le_bytes());
    }

    /// Starts a TXN result; returns the position of its flags and count, for [`ResultWriter::end_txn`].
    pub fn begin_txn(&mut self) -> usize {
        self.begin(RESULT_TXN, 0, 0);
        let at = self.buf.len() - OP_RESULT_HEADER_BYTES;
        self.buf.extend_from_slice(&0u32.to_le_bytes());
        self.depth += 1;
        at
    }

    /// Completes the TXN result started at `at`.
    pub fn end_txn(&mut self, at: usize, succeeded: bool, revision: i64, n: usize) {
        self.depth -= 1;
        self.buf[at + OP_RESULT_FLAGS_AT] = if succeeded { TXN_RESULT_SUCCEEDED } else { 0 };
        self.buf[at + OP_RESULT_REVISION_AT..][..8].copy_from_slice(&revision.to_le_bytes());
        self.buf[at + TXN_RESULT_RESPONSE_COUNT_AT..][..4].copy_from_slice(&(n as u32).to_le_bytes());
    }

    /// Drops everything written since `len` (a TXN that failed its checks midway).
    pub fn truncate(&mut self, len: usize, depth: usize) {
        self.buf.truncate(len);
        self.depth = depth;
    }

    pub fn depth(&self) -> usize {
        self.depth
    }

    pub fn lease_grant(&mut self, revision: i64, id: i64, ttl: i64) {
        self.begin(RESULT_LEASE_GRANT, 0, revision);
        self.buf.extend_from_slice(&id.to_le_bytes());
        self.buf.extend_from_slice(&ttl.to_le_bytes());
    }

    pub fn lease_revoke(&mut self, revision: i64) {
        self.begin(RESULT_LEASE_REVOKE, 0, revision);
    }

    pub fn compact(&mut self, revision: i64) {
        self.begin(RESULT_COMPACT, 0, revision);
    }

    pub fn error(&mut self, revision: i64, number: ErrorNumber) {
        self.begin(RESULT_ERROR, 0, revision);
        self.buf.extend_from_slice(&(number as u16).to_le_bytes());
    }

    #[inline]
    pub fn kv(&mut self, key: &[u8], kv: &KeyValue, keys_only: bool) {
        write_kv(&mut self.buf, key, kv, keys_only);
    }

    /// The finished buffer; a batch buffer gets the revision after the batch in its header and,
    /// when events were asked for, the events section after the results.
    pub fn finish(mut self, revision: i64) -> Vec<u8> {
        if self.batch {
            self.buf[RESULTS_REVISION_AT..][..8].copy_from_slice(&revision.to_le_bytes());
        }
        self.buf
    }

    /// [`ResultWriter::finish`] with an events section (docs/codec.md, "Events").
    pub fn finish_with_events(mut self, revision: i64, events: Option<&EventWriter>) -> Vec<u8> {
        if let (true, Some(events)) = (self.batch, events) {
            let at = self.buf.len() as u32;
            self.buf[RESULTS_EVENTS_OFFSET_AT..][..4].copy_from_slice(&at.to_le_bytes());
            self.buf.extend_from_slice(&events.count.to_le_bytes());
            self.buf.extend_from_slice(&events.buf);
        }
        self.finish(revision)
    }
}

/// Collects the events of a batch, in the order the changes happen (revision, then sub-revision).
pub struct EventWriter {
    buf: Vec<u8>,
    count: u32,
    /// Whether each event carries the key's previous key-value.
    pub with_prev: bool,
}

impl EventWriter {
    pub fn new(with_prev: bool) -> Self {
        EventWriter { buf: Vec::new(), count: 0, with_prev }
    }

    /// Writes one event. `kv` is the key after the change (a tombstone for a delete).
    pub fn event(&mut self, key: &[u8], kv: &KeyValue, sub: u32, prev: Option<&KeyValue>) {
        // etcd sends no previous key-value with a create (a put whose create revision is its
        // mod revision), whatever the key was before.
        let is_create = !kv.is_tombstone() && kv.create_revision == kv.mod_revision;
        let prev = if self.with_prev && !is_create { prev.filter(|p| !p.is_tombstone()) } else { None };
        self.buf.push(if kv.is_tombstone() { EVENT_DELETE } else { EVENT_PUT });
        self.buf.push(if prev.is_some() { EVENT_HAS_PREV } else { 0 });
        self.buf.extend_from_slice(&sub.to_le_bytes());
        write_kv(&mut self.buf, key, kv, false);
        if let Some(prev) = prev {
            write_kv(&mut self.buf, key, prev, false);
        }
        self.count += 1;
    }

    /// The events as a bare section: `u32 count | events`.
    pub fn into_section(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.buf.len());
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.buf);
        out
    }
}

#[inline]
fn write_kv(buf: &mut Vec<u8>, key: &[u8], kv: &KeyValue, keys_only: bool) {
    let value: &[u8] = if keys_only { &[] } else { &kv.value };
    buf.reserve(KV_FIXED + key.len() + value.len());
    buf.extend_from_slice(&(key.len() as u32).to_le_bytes());
    buf.extend_from_slice(&(value.len() as u32).to_le_bytes());
    buf.extend_from_slice(&kv.create_revision.to_le_bytes());
    buf.extend_from_slice(&kv.mod_revision.to_le_bytes());
    buf.extend_from_slice(&kv.version.to_le_bytes());
    buf.extend_from_slice(&kv.lease.to_le_bytes());
    buf.extend_from_slice(key);
    buf.extend_from_slice(value);
}
