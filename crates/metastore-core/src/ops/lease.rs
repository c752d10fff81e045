//! LEASE_GRANT and LEASE_REVOKE requests (etcd's lessor Grant and Revoke as apply runs them):
//! the lease table is lessor_state.rs; a revoke deletes the attached keys.

use crate::errors::ErrorNumber;
use crate::kvstore_txn::Apply;
use crate::results::ResultWriter;

impl Apply<'_> {
    /// One LEASE_GRANT request: no revision change.
    pub(crate) fn lease_grant(&mut self, id: i64, ttl: i64, out: &mut ResultWriter) {
        let ttl = ttl.max(self.store.config().min_lease_ttl);
        match self.leases.grant(id, ttl) {
            Some(id) => out.lease_grant(self.rev, id, ttl),
            None => out.error(self.rev, ErrorNumber::LeaseExists),
        }
    }

    /// One LEASE_REVOKE request: the attached keys go in key order under one revision.
    pub(crate) fn lease_revoke(&mut self, id: i64, out: &mut ResultWriter) {
        let Some(lease) = self.leases.remove(id) else {
            out.error(self.rev, ErrorNumber::LeaseNotFound);
            return;
        };
        if !lease.keys.is_empty() {
            self.rev += 1;
            let rev = self.rev;
            for (sub, key) in lease.keys.iter().enumerate() {
                self.delete_at(key, rev, sub as u32);
            }
        }
        out.lease_revoke(self.rev);
    }
}
