//! The ordered key index beside the hash shards (etcd's `mvcc/index.go` plays this part): live
//! keys in bytewise order, with O(log n) rank so a range's count never scans the range.

use crate::kv::Key;

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
    keys: indexset::BTreeSet<Key>,
}

impl KeyIndex {
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn insert(&mut self, key: Key) {
        self.keys.insert(key);
    }

    pub fn remove(&mut self, key: &[u8]) {
        self.keys.remove(key);
    }

    pub fn clear(&mut self) {
        self.keys.clear();
    }

    /// Positions [from, to) of the keys in the range; empty when the range is.
    pub fn span(&self, key: &[u8], end: RangeEnd<'_>) -> (usize, usize) {
        let from = self.keys.rank(key);
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
            RangeEnd::Before(end) => self.keys.rank(end),
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
}
