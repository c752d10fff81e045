//! The ordered key indexes beside the hash shards (etcd's `mvcc/index.go` plays this part):
//! live keys in bytewise order with O(log n) rank, so a latest range's count never scans the
//! range; and the keys whose latest version is a deletion but whose history is still kept, which
//! reads at past revisions walk together with the live ones.

use crate::kv::{Key, KeyBytes};
use std::collections::BTreeSet;
use std::iter::Peekable;
use std::ops::Bound;

/// Where a range ends (docs/codec.md, "Key ranges").
#[derive(Clone, Copy, Debug)]
pub enum RangeEnd<'a> {
    /// Only the start key.
    Single,
    /// Every key from the start key on (`rangeEnd = [0x00]`).
    FromKey,
    /// Keys below this one.
    Before(&'a [u8]),
}

impl<'a> RangeEnd<'a> {
    pub fn parse(range_end: &'a [u8]) -> Self {
        match range_end {
            [] => RangeEnd::Single,
            [0] => RangeEnd::FromKey,
            end => RangeEnd::Before(end),
        }
    }
}

#[derive(Default)]
pub struct KeyIndex {
    pub(crate) keys: indexset::BTreeSet<Key>,
    pub(crate) dead: BTreeSet<Key>,
}

impl KeyIndex {
    /// Number of live keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// A key became live (created, or re-created after a deletion).
    pub fn insert(&mut self, key: Key) {
        self.dead.remove(KeyBytes::new(&key));
        self.keys.insert(key);
    }

    /// Keys that became live (in op order, or shard by shard after a parallel run: only the
    /// tree's shape depends on the order, not its keys). Many of them next to the index go in in
    /// key order: each lands at or near the end of its node instead of shifting half a node (the
    /// stress batch into an emptied store: ~70 instead of ~125 ns a key). Not a few keys into a
    /// large index: a load in key order would then always insert at the right end, and nodes
    /// split in half whose left half is never filled again (10M keys loaded in order: +45 MB).
    pub fn insert_all(&mut self, mut keys: Vec<Key>) {
        if keys.len() * 8 >= self.keys.len() {
            keys.sort_unstable();
        }
        for key in keys {
            self.insert(key);
        }
    }

    /// A key was deleted; its history stays until compaction.
    pub fn remove(&mut self, key: &Key) {
        self.keys.remove(KeyBytes::new(key));
        self.dead.insert(key.clone());
    }

    /// Compaction dropped the whole history of a deleted key.
    pub fn forget(&mut self, key: &[u8]) {
        self.dead.remove(KeyBytes::new(key));
    }

    pub fn clear(&mut self) {
        self.keys.clear();
        self.dead.clear();
    }

    /// Every key with history in the range, live or not, ascending.
    pub fn all_in_range(&self, key: &[u8], end: RangeEnd<'_>) -> Vec<Key> {
        let (from, to) = self.span(key, end);
        let live = self.keys.range_idx(from..to);
        let upper = match end {
            RangeEnd::Single => Bound::Included(KeyBytes::new(key)),
            RangeEnd::FromKey => Bound::Unbounded,
            RangeEnd::Before(end) if end <= key => return Vec::new(),
            RangeEnd::Before(end) => Bound::Excluded(KeyBytes::new(end)),
        };
        let dead = self.dead.range::<KeyBytes, _>((Bound::Included(KeyBytes::new(key)), upper));
        let mut out = Vec::with_capacity(to - from);
        let (mut a, mut b) = (live.peekable(), dead.peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => {
                    if x <= y {
                        a.next()
                    } else {
                        b.next()
                    }
                }
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next(),
                (None, None) => break,
            };
            out.extend(next.cloned());
        }
        out
    }

    /// Positions [from, to) of the keys in the range; empty when the range is.
    pub fn span(&self, key: &[u8], end: RangeEnd<'_>) -> (usize, usize) {
        let from = self.keys.rank(KeyBytes::new(key));
        let to = match end {
            RangeEnd::Single => {
                if self.keys.get_index(from).is_some_and(|k| &**k == key) {
                    from + 1
                } else {
                    from
                }
            }
            RangeEnd::FromKey => self.keys.len(),
            RangeEnd::Before(end) if end <= key => from,
            RangeEnd::Before(end) => self.keys.rank(KeyBytes::new(end)),
        };
        (from, to.max(from))
    }

    /// Keys at positions [from, to), ascending.
    pub fn iter_span(&self, from: usize, to: usize) -> impl DoubleEndedIterator<Item = &Key> + '_ {
        self.keys.range_idx(from..to)
    }

    /// Keys in [start, end) by bound, ascending (used by range deletes).
    pub fn collect_range(&self, key: &[u8], end: RangeEnd<'_>) -> Vec<Key> {
        let (from, to) = self.span(key, end);
        self.iter_span(from, to).cloned().collect()
    }

    /// How many keys have history: live ones and deleted ones not yet compacted away.
    pub(crate) fn with_history(&self) -> usize {
        self.keys.len() + self.dead.len()
    }

    /// Up to `n` keys with history, live or not, that sort after `after` (from the first when
    /// `None`), ascending.
    pub(crate) fn with_history_after(&self, after: Option<&[u8]>, n: usize) -> Vec<Key> {
        let from = after.map_or(0, |k| {
            let rank = self.keys.rank(KeyBytes::new(k));
            rank + usize::from(self.keys.get_index(rank).is_some_and(|x| &**x == k))
        });
        let lower = after.map_or(Bound::Unbounded, |k| Bound::Excluded(KeyBytes::new(k)));
        let live = self.keys.range_idx(from..self.keys.len());
        let dead = self.dead.range::<KeyBytes, _>((lower, Bound::Unbounded));
        KeyOrder { live: live.peekable(), dead: dead.peekable() }.take(n).cloned().collect()
    }

    /// Every key with history, ascending.
    pub(crate) fn all_with_history(&self) -> Vec<Key> {
        KeyOrder { live: self.keys.iter().peekable(), dead: self.dead.iter().peekable() }.cloned().collect()
    }
}

/// Live and dead keys merged into one ascending walk (the two sets never share a key).
struct KeyOrder<A: Iterator, B: Iterator> {
    live: Peekable<A>,
    dead: Peekable<B>,
}

impl<'a, A: Iterator<Item = &'a Key>, B: Iterator<Item = &'a Key>> Iterator for KeyOrder<A, B> {
    type Item = &'a Key;

    fn next(&mut self) -> Option<&'a Key> {
        match (self.live.peek(), self.dead.peek()) {
            (Some(a), Some(b)) if b < a => self.dead.next(),
            (Some(_), _) => self.live.next(),
            _ => self.dead.next(),
        }
    }
}
