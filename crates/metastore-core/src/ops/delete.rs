//! DELETE_RANGE requests (etcd's applyDeleteRange): every live key of the range under one
//! revision.

use crate::codec::DeleteRangeRef;
use crate::kvstore_txn::Apply;
use crate::results::ResultWriter;

impl Apply<'_> {
    /// One delete request (a key or a range): one revision for all of it.
    pub(crate) fn delete_range(&mut self, op: &DeleteRangeRef<'_>, out: &mut ResultWriter) {
        let keys = self.doomed(op);
        if keys.is_empty() {
            out.delete_range(self.rev, 0, std::iter::empty());
            return;
        }
        self.rev += 1;
        let rev = self.rev;
        let mut prevs = Vec::with_capacity(if op.prev_kv { keys.len() } else { 0 });
        for (sub, key) in keys.iter().enumerate() {
            let prev = self.delete_at(key, rev, sub as u32);
            if let (true, Some(prev)) = (op.prev_kv, prev) {
                prevs.push(prev);
            }
        }
        out.delete_range(rev, keys.len() as i64, keys.iter().zip(prevs.iter()).map(|(k, kv)| (&**k, kv)));
    }
}
