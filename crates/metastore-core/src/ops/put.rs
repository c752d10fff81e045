//! PUT requests (etcd's applyPut): the checks and the write under one shard lock and one probe.

use crate::codec::{PutRef, PUT_PREV_KV};
use crate::kvstore_txn::{put_existing, put_new, Apply};
use crate::results::ResultWriter;
use crate::shards::{hash_key, shard_of};
use hashbrown::hash_table::Entry;

impl Apply<'_> {
    /// One put request: one shard lock and one probe for the checks and the write.
    pub(crate) fn put(&mut self, op: &PutRef<'_>, out: &mut ResultWriter) {
        let hash = hash_key(op.key);
        let store = self.store;
        let mut shard = store.shards.shard(shard_of(hash)).write();
        let want_prev = op.flags & PUT_PREV_KV != 0;
        let mut effect = match shard.slot(hash, op.key) {
            Entry::Occupied(mut o) => {
                if let Err(number) = self.check_put(op, o.get().live().is_some()) {
                    out.error(self.rev, number);
                    return;
                }
                self.rev += 1;
                put_existing(o.get_mut(), op, self.rev, 0, want_prev, self.events.as_mut())
            }
            Entry::Vacant(v) => {
                if let Err(number) = self.check_put(op, false) {
                    out.error(self.rev, number);
                    return;
                }
                self.rev += 1;
                put_new(v, op, self.rev, 0, self.events.as_mut())
            }
        };
        drop(shard);
        self.settle_put_deferred(&mut effect);
        out.put(self.rev, effect.prev.as_ref().map(|kv| (op.key, kv)));
    }
}
