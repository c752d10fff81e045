//! Writer of packed result buffers (docs/codec.md, "Results").

use crate::error::ErrorNumber;
use crate::kv::KeyValue;

pub const RESULT_PUT: u8 = 1;
pub const RESULT_DELETE_RANGE: u8 = 2;
pub const RESULT_RANGE: u8 = 3;
pub const RESULT_ERROR: u8 = 255;
pub const RESULT_HEADER_BYTES: usize = 16;

/// Appends results to one buffer; a batch's buffer starts with a header and an offset table.
pub struct ResultWriter {
    pub buf: Vec<u8>,
    batch: bool,
    next: usize,
}

impl ResultWriter {
    /// A writer for a batch of `count` results, reusing `buf`.
    pub fn for_batch(count: usize, mut buf: Vec<u8>) -> Self {
        buf.clear();
        buf.reserve(RESULT_HEADER_BYTES + count * 24);
        buf.extend_from_slice(b"MSR\x01");
        buf.extend_from_slice(&(count as u32).to_le_bytes());
        buf.extend_from_slice(&0i64.to_le_bytes());
        buf.resize(RESULT_HEADER_BYTES + 4 * count, 0);
        ResultWriter { buf, batch: true, next: 0 }
    }

    /// A writer for one bare result at offset 0 (standalone reads), reusing `buf`.
    pub fn bare(mut buf: Vec<u8>) -> Self {
        buf.clear();
        ResultWriter { buf, batch: false, next: 0 }
    }

    /// Records where the next op's result starts.
    #[inline]
    fn begin(&mut self, kind: u8, flags: u8, revision: i64) {
        if self.batch {
            let at = RESULT_HEADER_BYTES + 4 * self.next;
            let offset = self.buf.len() as u32;
            self.buf[at..at + 4].copy_from_slice(&offset.to_le_bytes());
            self.next += 1;
        }
        self.buf.push(kind);
        self.buf.push(flags);
        self.buf.extend_from_slice(&revision.to_le_bytes());
    }

    pub fn put(&mut self, revision: i64, prev: Option<(&[u8], &KeyValue)>) {
        self.begin(RESULT_PUT, prev.is_some() as u8, revision);
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
        self.begin(RESULT_RANGE, more as u8, revision);
        self.buf.extend_from_slice(&count.to_le_bytes());
        self.buf.extend_from_slice(&(n as u32).to_le_bytes());
    }

    pub fn error(&mut self, revision: i64, number: ErrorNumber) {
        self.begin(RESULT_ERROR, 0, revision);
        self.buf.extend_from_slice(&(number as u16).to_le_bytes());
    }

    #[inline]
    pub fn kv(&mut self, key: &[u8], kv: &KeyValue, keys_only: bool) {
        let value: &[u8] = if keys_only { &[] } else { &kv.value };
        self.buf.reserve(40 + key.len() + value.len());
        self.buf.extend_from_slice(&(key.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&(value.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&kv.create_revision.to_le_bytes());
        self.buf.extend_from_slice(&kv.mod_revision.to_le_bytes());
        self.buf.extend_from_slice(&kv.version.to_le_bytes());
        self.buf.extend_from_slice(&kv.lease.to_le_bytes());
        self.buf.extend_from_slice(key);
        self.buf.extend_from_slice(value);
    }

    /// The finished buffer; a batch buffer gets the revision after the batch in its header.
    pub fn finish(mut self, revision: i64) -> Vec<u8> {
        if self.batch {
            self.buf[8..16].copy_from_slice(&revision.to_le_bytes());
        }
        self.buf
    }
}
