//! The data model: a key's history of versions (etcd's key_index generations, flattened), each
//! an `mvccpb.KeyValue`.

use compact_bytes::CompactBytesSlice;
use ref_cast::RefCast;
use smallvec::SmallVec;
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use triomphe::ThinArc;

/// Key bytes, shared by the hash shard that owns the entry, the ordered indexes and the lease
/// table. One thin pointer (8 bytes, the length lives in the allocation): at millions of keys
/// every slot that holds a key is paid for many times over (examples/memory.rs).
#[derive(Clone)]
pub struct Key(ThinArc<(), u8>);

impl Key {
    pub fn new(bytes: &[u8]) -> Self {
        Key(ThinArc::from_header_and_slice((), bytes))
    }

    /// Where the key's allocation starts (for a prefetch: reading the bytes needs their length,
    /// which is stored there).
    #[inline]
    pub(crate) fn heap_ptr(&self) -> *const u8 {
        self.0.ptr().cast()
    }
}

impl Deref for Key {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        &self.0.slice
    }
}

impl Borrow<[u8]> for Key {
    #[inline]
    fn borrow(&self) -> &[u8] {
        self
    }
}

/// Key bytes compared the way [`Key`]s are: lookups in the ordered indexes by borrowed bytes
/// go through this instead of `[u8]`, whose order is a `memcmp` call per comparison (a prefix
/// count at 1M keys spent ~30% of its native time in `memcmp` from two rank walks).
#[derive(RefCast, PartialEq, Eq)]
#[repr(transparent)]
pub struct KeyBytes([u8]);

impl KeyBytes {
    #[inline]
    pub fn new(bytes: &[u8]) -> &KeyBytes {
        KeyBytes::ref_cast(bytes)
    }
}

impl Ord for KeyBytes {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        compare_bytes(&self.0, &other.0)
    }
}

impl PartialOrd for KeyBytes {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Borrow<KeyBytes> for Key {
    #[inline]
    fn borrow(&self) -> &KeyBytes {
        KeyBytes::new(self)
    }
}

impl From<&[u8]> for Key {
    fn from(bytes: &[u8]) -> Self {
        Key::new(bytes)
    }
}

// Keys compare, order and hash as their bytes (what `Borrow<[u8]>` lookups require).
impl PartialEq for Key {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        compare_bytes(self, other)
    }
}

/// The first 8 bytes of `b` as a big-endian number, zero-padded when shorter.
#[inline]
fn prefix(b: &[u8]) -> u64 {
    let n = b.len();
    if let Some(head) = b.first_chunk::<8>() {
        return u64::from_be_bytes(*head);
    }
    if n >= 4 {
        // Two 4-byte loads that overlap when n < 8; the tail one shifted to its place.
        let head = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as u64;
        let tail = u32::from_be_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]) as u64;
        return head << 32 | tail << (8 * (8 - n));
    }
    let mut x = 0u64;
    for (i, &byte) in b.iter().enumerate() {
        x |= (byte as u64) << (8 * (7 - i));
    }
    x
}

/// Bytewise order, as `<[u8]>::cmp`. Index inserts and sorts compare keys many times each, and
/// keys often share a long prefix (`k000000000123456`, `w/0001/…`): comparing 8-byte words as
/// numbers answers without a call to `memcmp`. Once one side has fewer than 8 bytes left, zero
/// padding cannot misorder: where padded words differ at a padded byte, the shorter key is a
/// proper prefix of the other, so it is the smaller; where they are equal, every byte of the
/// shorter key matched, so the shorter is the smaller.
#[inline]
pub(crate) fn compare_bytes(mut a: &[u8], mut b: &[u8]) -> Ordering {
    while let (Some(x), Some(y)) = (a.first_chunk::<8>(), b.first_chunk::<8>()) {
        let (x, y) = (u64::from_be_bytes(*x), u64::from_be_bytes(*y));
        if x != y {
            return x.cmp(&y);
        }
        a = &a[8..];
        b = &b[8..];
    }
    match prefix(a).cmp(&prefix(b)) {
        Ordering::Equal => a.len().cmp(&b.len()),
        unequal => unequal,
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({:?})", String::from_utf8_lossy(self))
    }
}

/// A value's bytes: up to 15 inline, longer ones in one exact-size allocation (the size of a
/// `Box<[u8]>`). Small values are common in metadata (flags, ids, counters), and a put of one
/// then allocates nothing for its value.
pub type Value = CompactBytesSlice;

/// A key's value and metadata at one revision. A deletion is recorded as a tombstone: version 0,
/// `mod_revision` = the deletion's revision, everything else empty — the shape etcd gives a
/// DELETE event's key-value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub value: Value,
    /// Revision of the put that created the key in its current generation.
    pub create_revision: i64,
    /// Revision of the last change.
    pub mod_revision: i64,
    /// 1 on create, +1 per put; 0 for a tombstone.
    pub version: i64,
    /// Attached lease, 0 for none.
    pub lease: i64,
}

impl KeyValue {
    pub fn tombstone(revision: i64) -> Self {
        KeyValue { value: Value::default(), create_revision: 0, mod_revision: revision, version: 0, lease: 0 }
    }

    pub fn is_tombstone(&self) -> bool {
        self.version == 0
    }
}

/// One entry of a key's history: the key-value and its sub-revision within `mod_revision`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub kv: KeyValue,
    pub sub: u32,
}

/// A key's versions, oldest first, ordered by (mod_revision, sub). Most keys hold one version,
/// kept inline.
pub type History = SmallVec<[Version; 1]>;

/// Everything the store keeps for one key. The history is boxed so that a hash-shard slot is two
/// pointers: the tables are sized for growth (~60% full at scale), so each byte of a slot costs
/// about two bytes per key.
#[derive(Debug)]
pub struct KeyEntry {
    pub key: Key,
    pub history: Box<History>,
}

impl KeyEntry {
    pub fn new(key: Key, first: Version) -> Self {
        let mut history = History::new();
        history.push(first);
        KeyEntry { key, history: Box::new(history) }
    }
}

impl KeyEntry {
    /// The latest version if the key is live.
    #[inline]
    pub fn live(&self) -> Option<&KeyValue> {
        self.history.last().map(|v| &v.kv).filter(|kv| !kv.is_tombstone())
    }

    /// The key as it was at `revision`, if it was live then.
    pub fn at(&self, revision: i64) -> Option<&KeyValue> {
        let i = self.history.partition_point(|v| v.kv.mod_revision <= revision);
        (i > 0).then(|| &self.history[i - 1].kv).filter(|kv| !kv.is_tombstone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_order_as_their_bytes_across_8_byte_words() {
        // Proper prefixes, zero bytes where padding would be, 0xff, and lengths across 8.
        let cases: &[&[u8]] = &[
            b"",
            b"\0",
            b"\0\0",
            b"a",
            b"a\0",
            b"a\x01",
            b"abcdefg",
            b"abcdefg\0",
            b"abcdefgh",
            b"abcdefgh\0",
            b"abcdefgh\x01",
            b"abcdefgi",
            b"abcdefg\xff",
            b"\xff\xff\xff\xff\xff\xff\xff\xff",
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xff",
            b"key-1",
            b"key-10",
            b"key-100",
            b"key-2",
            b"k000000000123456",
            b"k000000000123457",
            b"k000000000123456\0",
            b"k00000000012345",
            b"w/0001/0000001",
            b"w/0001/0000001/a",
            b"w/0001/0000001/a\0",
            b"w/0001/0000001/b",
            b"w/0001/0000001\xff\xff\xff",
        ];
        for a in cases {
            for b in cases {
                assert_eq!(Key::new(a).cmp(&Key::new(b)), a.cmp(b), "{a:?} vs {b:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn key_order_matches_byte_order(a in proptest::collection::vec(prop_oneof![Just(0u8), Just(1), Just(0xff), any::<u8>()], 0..40),
                                        b in proptest::collection::vec(prop_oneof![Just(0u8), Just(1), Just(0xff), any::<u8>()], 0..40)) {
            prop_assert_eq!(Key::new(&a).cmp(&Key::new(&b)), a.cmp(&b));
            // Lookups by borrowed bytes order the same way (what `Borrow<KeyBytes>` requires).
            prop_assert_eq!(KeyBytes::new(&a).cmp(KeyBytes::new(&b)), a.cmp(&b));
            prop_assert_eq!(KeyBytes::new(&a) == KeyBytes::new(&b), a == b);
            let shared: Vec<u8> = a.iter().chain(&b).copied().collect();
            prop_assert_eq!(Key::new(&a).cmp(&Key::new(&shared)), a.as_slice().cmp(shared.as_slice()));
            // Keys that share `a` as a prefix of any length, then differ (or not) in what follows.
            let other: Vec<u8> = a.iter().chain(b.iter().rev()).copied().collect();
            prop_assert_eq!(Key::new(&shared).cmp(&Key::new(&other)), shared.as_slice().cmp(other.as_slice()));
        }
    }
}
