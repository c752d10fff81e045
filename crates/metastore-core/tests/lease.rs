//! Leases at engine level (LEASE_GRANT, LEASE_REVOKE): grants with the minimum TTL and refused
//! duplicate ids; a revoke deletes the attached keys in key order under one revision.

mod common;

use common::{batch_events, one, Res};
use metastore_core::{BatchBuilder, ErrorNumber, EventsMode, Store};

#[test]
fn lease_revoke_deletes_attached_keys_in_key_order_in_one_revision() {
    let s = Store::default();
    assert_eq!(
        one(&s, |b| {
            b.lease_grant(0, 1);
        }),
        Res::LeaseGrant { rev: 1, id: 1, ttl: 2 }
    );
    assert_eq!(
        one(&s, |b| {
            b.lease_grant(1, 30);
        }),
        Res::Error { rev: 1, number: ErrorNumber::LeaseExists as u16 }
    );
    one(&s, |b| {
        b.put(b"lb", b"1", 1, 0);
        b.put(b"la", b"2", 1, 0);
        b.put(b"moved", b"3", 1, 0);
        b.put(b"moved", b"4", 0, 0); // a put without lease detaches
    });
    let (ttl, keys) = s.lease_info(1).unwrap();
    assert_eq!((ttl, keys.iter().map(|k| k.to_vec()).collect::<Vec<_>>()), (2, vec![b"la".to_vec(), b"lb".to_vec()]));
    let mut b = BatchBuilder::new();
    b.lease_revoke(1);
    let out = s.apply_batch_into(&b.finish(), Vec::new(), EventsMode::Events).unwrap();
    let (rev, results) = common::decode(&out);
    assert_eq!((rev, &results[0]), (6, &Res::LeaseRevoke { rev: 6 }));
    let events = batch_events(&out);
    assert_eq!(
        events.iter().map(|e| (e.delete, e.kv.key.clone(), e.kv.modr, e.sub)).collect::<Vec<_>>(),
        vec![(true, b"la".to_vec(), 6, 0), (true, b"lb".to_vec(), 6, 1)]
    );
    assert!(s.lease_info(1).is_none());
    assert_eq!(
        one(&s, |b| {
            b.lease_revoke(1);
        }),
        Res::Error { rev: 6, number: ErrorNumber::LeaseNotFound as u16 }
    );
}
