//! The writer of the op codec's format, for Rust tests and benchmarks; the twin of
//! ts/codec/writer.ts, the product's writer.

use super::*;

/// Writes batches in the codec's format. Used by tests and benchmarks on the Rust side; the
/// product's writer is the TypeScript `BatchWriter`.
#[derive(Default)]
pub struct BatchBuilder {
    buf: Vec<u8>,
    count: u32,
}

impl BatchBuilder {
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&BATCH_MAGIC);
        buf.push(CODEC_VERSION);
        buf.extend_from_slice(&0u32.to_le_bytes());
        BatchBuilder { buf, count: 0 }
    }

    pub fn put(&mut self, key: &[u8], value: &[u8], lease: i64, flags: u8) -> &mut Self {
        self.buf.extend_from_slice(&[OP_PUT, flags]);
        self.buf.extend_from_slice(&lease.to_le_bytes());
        self.buf.extend_from_slice(&(key.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&(value.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(key);
        self.buf.extend_from_slice(value);
        self.count += 1;
        self
    }

    pub fn delete_range(&mut self, key: &[u8], range_end: &[u8], prev_kv: bool) -> &mut Self {
        self.buf.extend_from_slice(&[OP_DELETE_RANGE, if prev_kv { DELETE_PREV_KV } else { 0 }]);
        self.buf.extend_from_slice(&(key.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&(range_end.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(key);
        self.buf.extend_from_slice(range_end);
        self.count += 1;
        self
    }

    /// A RANGE op; `ints` = [limit, revision, minMod, maxMod, minCreate, maxCreate].
    pub fn range(&mut self, key: &[u8], range_end: &[u8], flags: u8, order: u8, target: u8, ints: [i64; 6]) -> &mut Self {
        self.buf.extend_from_slice(&[OP_RANGE, flags, order, target]);
        for n in ints {
            self.buf.extend_from_slice(&n.to_le_bytes());
        }
        self.buf.extend_from_slice(&(key.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&(range_end.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(key);
        self.buf.extend_from_slice(range_end);
        self.count += 1;
        self
    }

    /// A TXN whose branches are written by `success` and `failure` on this builder.
    pub fn txn(&mut self, compares: &[(u8, u8, i64, &[u8], &[u8], &[u8])], success: impl FnOnce(&mut Self), failure: impl FnOnce(&mut Self)) -> &mut Self {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[OP_TXN, 0]);
        self.buf.extend_from_slice(&(compares.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&[0; 8]);
        for &(target, result, operand, key, end, value) in compares {
            self.buf.extend_from_slice(&[target, result]);
            self.buf.extend_from_slice(&operand.to_le_bytes());
            for part in [key, end, value] {
                self.buf.extend_from_slice(&(part.len() as u32).to_le_bytes());
            }
            self.buf.extend_from_slice(key);
            self.buf.extend_from_slice(end);
            self.buf.extend_from_slice(value);
        }
        let top = self.count;
        success(self);
        let n_success = self.count - top;
        failure(self);
        let n_failure = self.count - top - n_success;
        self.buf[start + TXN_SUCCESS_COUNT_AT..][..4].copy_from_slice(&n_success.to_le_bytes());
        self.buf[start + TXN_FAILURE_COUNT_AT..][..4].copy_from_slice(&n_failure.to_le_bytes());
        self.count = top + 1;
        self
    }

    pub fn lease_grant(&mut self, id: i64, ttl: i64) -> &mut Self {
        self.buf.extend_from_slice(&[OP_LEASE_GRANT, 0]);
        self.buf.extend_from_slice(&id.to_le_bytes());
        self.buf.extend_from_slice(&ttl.to_le_bytes());
        self.count += 1;
        self
    }

    pub fn lease_revoke(&mut self, id: i64) -> &mut Self {
        self.buf.extend_from_slice(&[OP_LEASE_REVOKE, 0]);
        self.buf.extend_from_slice(&id.to_le_bytes());
        self.count += 1;
        self
    }

    pub fn compact(&mut self, revision: i64) -> &mut Self {
        self.buf.extend_from_slice(&[OP_COMPACT, 0]);
        self.buf.extend_from_slice(&revision.to_le_bytes());
        self.count += 1;
        self
    }

    pub fn finish(&mut self) -> Vec<u8> {
        self.buf[BATCH_COUNT_AT..][..4].copy_from_slice(&self.count.to_le_bytes());
        self.buf.clone()
    }
}
