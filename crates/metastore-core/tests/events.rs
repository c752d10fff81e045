//! A batch's events (docs/codec.md, "Events"): with their previous key-values in mode two.

mod common;

use common::{batch_events, one, put};
use metastore_core::{BatchBuilder, EventsMode, Store};

#[test]
fn events_carry_prev_kv_in_mode_two() {
    let s = Store::default();
    one(&s, |b| put(b, "k", "old"));
    let mut b = BatchBuilder::new();
    put(&mut b, "k", "new");
    b.delete_range(b"k", b"", false);
    let out = s.apply_batch_into(&b.finish(), Vec::new(), EventsMode::EventsWithPrev).unwrap();
    let events = batch_events(&out);
    assert_eq!(events.len(), 2);
    assert_eq!((events[0].kv.value.as_slice(), events[0].prev.as_ref().unwrap().value.as_slice()), (&b"new"[..], &b"old"[..]));
    assert!(events[1].delete);
    assert_eq!((events[1].kv.version, events[1].kv.modr), (0, 4));
    assert_eq!(events[1].prev.as_ref().unwrap().value, b"new".to_vec());
}
