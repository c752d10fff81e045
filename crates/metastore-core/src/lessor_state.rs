//! The lease table as apply keeps it (etcd's lessor, minus the clock): ids, granted TTLs and
//! attached keys. Deadlines live outside the engine; expiry arrives as a LEASE_REVOKE op.

use crate::kv::Key;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Default)]
pub struct Lease {
    /// Granted TTL in seconds.
    pub ttl: i64,
    /// Attached keys, in key order (revoke deletes them in this order).
    pub keys: BTreeSet<Key>,
}

#[derive(Debug)]
pub struct Leases {
    pub(crate) leases: BTreeMap<i64, Lease>,
    /// Next id handed out for a grant with id 0.
    pub(crate) next_id: i64,
}

impl Default for Leases {
    fn default() -> Self {
        Leases { leases: BTreeMap::new(), next_id: 1 }
    }
}

impl Leases {
    pub fn exists(&self, id: i64) -> bool {
        self.leases.contains_key(&id)
    }

    pub fn get(&self, id: i64) -> Option<&Lease> {
        self.leases.get(&id)
    }

    /// Ids, ascending.
    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.leases.keys().copied()
    }

    /// Grants a lease; `id` 0 takes the next free id. Returns the id, or None when it exists.
    pub fn grant(&mut self, id: i64, ttl: i64) -> Option<i64> {
        let id = if id == 0 {
            while self.leases.contains_key(&self.next_id) || self.next_id == 0 {
                self.next_id += 1;
            }
            // Never hand out the same id twice, even after a revoke: a client holding a stale id
            // must not find someone else's lease under it.
            let id = self.next_id;
            self.next_id += 1;
            id
        } else {
            id
        };
        if self.leases.contains_key(&id) {
            return None;
        }
        self.leases.insert(id, Lease { ttl, keys: BTreeSet::new() });
        Some(id)
    }

    pub fn remove(&mut self, id: i64) -> Option<Lease> {
        self.leases.remove(&id)
    }

    /// Moves `key` from lease `from` to lease `to` (0 = none).
    pub fn reattach(&mut self, key: &Key, from: i64, to: i64) {
        if from == to {
            return;
        }
        if from != 0 {
            if let Some(lease) = self.leases.get_mut(&from) {
                lease.keys.remove(key);
            }
        }
        if to != 0 {
            if let Some(lease) = self.leases.get_mut(&to) {
                lease.keys.insert(key.clone());
            }
        }
    }

    pub fn clear(&mut self) {
        *self = Leases::default();
    }
}
