//! Record framing (docs/wal.md; the layout, declared in formats/wal.mjs, in docs/formats.md): a
//! 24-byte header (`len`, `type`, `prevCrc`, `crc`, `headerCrc`) then the payload, padded to 8
//! bytes.
//!
//! `crc` is the CRC-32C of the header bytes before it and the payload; `prevCrc` is the
//! previous record's `crc` (the segment header's `prevCrc` for a segment's first record), so a
//! record vouches for the one before it and none can be moved, dropped or replayed unnoticed.
//! `headerCrc` covers the header bytes before it on their own, so a reader can trust a record's
//! length even when its payload is damaged, and can recognise a whole, valid record anywhere
//! after damage without knowing what came before it.
//!
//! Two types: ENTRIES, one group commit; COMMIT, written after each sync to vouch that every
//! record before it was synced (acknowledged), which is what tells damage from a torn write.

use crate::layout::*;
use crate::Entry;

pub use crate::layout::{RECORD_HEADER, TYPE_COMMIT, TYPE_ENTRIES};

/// Bytes a COMMIT record takes.
pub const COMMIT_LEN: usize = RECORD_HEADER + COMMIT_PAYLOAD_BYTES;
// A COMMIT needs no padding: the space a segment keeps for one is exactly COMMIT_LEN.
const _: () = assert!(COMMIT_LEN.is_multiple_of(RECORD_ALIGNMENT));

/// Encodes a group of entries as an ENTRIES payload into `out` (cleared first).
pub fn encode_entries(out: &mut Vec<u8>, first_index: u64, term: u64, group: &[&[u8]]) {
    out.clear();
    out.reserve(ENTRIES_HEADER_BYTES + group.iter().map(|d| LOG_ENTRY_FIXED + d.len()).sum::<usize>());
    out.extend_from_slice(&first_index.to_le_bytes());
    out.extend_from_slice(&term.to_le_bytes());
    out.extend_from_slice(&(group.len() as u32).to_le_bytes());
    for data in group {
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
    }
}

/// `(firstIndex, count)` of an ENTRIES payload, without checking its entries.
pub fn entries_span(p: &[u8]) -> Option<(u64, u64)> {
    let first = u64::from_le_bytes(p.get(ENTRIES_FIRST_INDEX_AT..)?.get(..8)?.try_into().ok()?);
    let count = u32::from_le_bytes(p.get(ENTRIES_COUNT_AT..)?.get(..4)?.try_into().ok()?) as u64;
    Some((first, count))
}

/// Checks an ENTRIES payload and pushes the entries with an index above `after_index` to `out`
/// (the others are checked, not kept). Returns `(firstIndex, count)`, or `None` if malformed.
pub fn decode_entries(p: &[u8], after_index: u64, out: &mut Vec<Entry>) -> Option<(u64, u64)> {
    let (first, count) = entries_span(p)?;
    let term = u64::from_le_bytes(p.get(ENTRIES_TERM_AT..)?.get(..8)?.try_into().ok()?);
    first.checked_add(count)?;
    let mut at = ENTRIES_ENTRIES_AT;
    for i in 0..count {
        let len = u32::from_le_bytes(p.get(at + LOG_ENTRY_LEN_AT..)?.get(..4)?.try_into().ok()?) as usize;
        let data = p.get(at + LOG_ENTRY_DATA_AT..)?.get(..len)?;
        if first + i > after_index {
            out.push(Entry { index: first + i, term, data: data.to_vec() });
        }
        at += LOG_ENTRY_FIXED + len;
    }
    (at == p.len()).then_some((first, count))
}

/// The index a COMMIT payload says was synced last.
pub fn commit_index(p: &[u8]) -> Option<u64> {
    (p.len() == COMMIT_PAYLOAD_BYTES).then(|| u64::from_le_bytes(p[COMMIT_LAST_INDEX_AT..][..8].try_into().expect("8 bytes")))
}

/// Bytes a record takes on disk, padding included.
pub fn framed_len(payload_len: usize) -> usize {
    (RECORD_HEADER + payload_len).next_multiple_of(RECORD_ALIGNMENT)
}

/// Appends one framed record to `out`; returns its CRC (the next record's `prevCrc`).
pub fn frame(out: &mut Vec<u8>, record_type: u8, payload: &[u8], prev_crc: u32) -> u32 {
    let start = out.len();
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&[record_type, 0, 0, 0]);
    out.extend_from_slice(&prev_crc.to_le_bytes());
    // Each CRC covers the header up to itself; `crc` the payload too.
    let crc = crc32c::crc32c_append(crc32c::crc32c(&out[start..start + RECORD_CRC_AT]), payload);
    out.extend_from_slice(&crc.to_le_bytes());
    let header_crc = crc32c::crc32c(&out[start..start + RECORD_HEADER_CRC_AT]);
    out.extend_from_slice(&header_crc.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(payload);
    out.resize(start + framed_len(payload.len()), 0);
    crc
}

/// A record whose header and payload check out on their own (its link to the record before it
/// is the caller's to check, against `prev_crc`).
#[derive(Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub record_type: u8,
    pub prev_crc: u32,
    pub crc: u32,
    pub payload: &'a [u8],
    /// Framed length.
    pub len: usize,
}

/// What reading a record at some offset found.
#[derive(Debug, PartialEq, Eq)]
pub enum Read<'a> {
    Record(Record<'a>),
    /// A header of zeros: the end of what was written, if nothing follows.
    Zero,
    /// A header that fails its own CRC (or names an unknown type): its length cannot be trusted.
    BadHeader,
    /// A sound header whose payload fails its CRC or runs past the end of the segment: the record
    /// is known to take `len` bytes.
    BadPayload {
        len: usize,
        reason: &'static str,
    },
}

fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes(b.try_into().expect("4 bytes"))
}

/// Reads the record at the start of `data`.
pub fn read(data: &[u8]) -> Read<'_> {
    let Some(header) = data.get(..RECORD_HEADER) else {
        return if data.iter().all(|&b| b == 0) { Read::Zero } else { Read::BadHeader };
    };
    if header.iter().all(|&b| b == 0) {
        return Read::Zero;
    }
    if le_u32(&header[RECORD_HEADER_CRC_AT..][..4]) != crc32c::crc32c(&header[..RECORD_HEADER_CRC_AT])
        || header[RECORD_FLAGS_AT..RECORD_PREV_CRC_AT] != [0; 3]
        || header[RECORD_ZERO_AT..RECORD_HEADER] != [0; 4]
    {
        return Read::BadHeader;
    }
    let record_type = header[RECORD_TYPE_AT];
    if record_type != TYPE_ENTRIES && record_type != TYPE_COMMIT {
        return Read::BadHeader;
    }
    let payload_len = le_u32(&header[RECORD_LEN_AT..][..4]) as usize;
    let len = framed_len(payload_len);
    if len > data.len() {
        return Read::BadPayload { len, reason: "record runs past the end of the segment" };
    }
    let payload = &data[RECORD_HEADER..RECORD_HEADER + payload_len];
    let crc = le_u32(&header[RECORD_CRC_AT..][..4]);
    if crc32c::crc32c_append(crc32c::crc32c(&header[..RECORD_CRC_AT]), payload) != crc {
        return Read::BadPayload { len, reason: "record fails its checksum" };
    }
    Read::Record(Record { record_type, prev_crc: le_u32(&header[RECORD_PREV_CRC_AT..][..4]), crc, payload, len })
}

/// The first whole, valid record at an 8-aligned offset `>= from` of `data` (offsets are
/// relative to `data`, which starts 8-aligned): how a reader finds its footing after damage.
/// A false find needs both CRCs to match by chance (2^-64 per offset).
pub fn find_next(data: &[u8], from: usize) -> Option<(usize, Record<'_>)> {
    let mut at = from.next_multiple_of(RECORD_ALIGNMENT);
    while at + RECORD_HEADER <= data.len() {
        let t = data[at + RECORD_TYPE_AT];
        if (t == TYPE_ENTRIES || t == TYPE_COMMIT) && data[at + RECORD_FLAGS_AT..at + RECORD_PREV_CRC_AT] == [0; 3] {
            if let Read::Record(r) = read(&data[at..]) {
                return Some((at, r));
            }
        }
        at += RECORD_ALIGNMENT;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(record_type: u8, payload: &[u8], prev: u32) -> (Vec<u8>, u32) {
        let mut out = Vec::new();
        let crc = frame(&mut out, record_type, payload, prev);
        (out, crc)
    }

    #[test]
    fn a_framed_record_reads_back_with_its_link_and_length() {
        let (bytes, crc) = framed(TYPE_ENTRIES, b"hello", 7);
        assert_eq!(bytes.len(), 32);
        assert_eq!(read(&bytes), Read::Record(Record { record_type: TYPE_ENTRIES, prev_crc: 7, crc, payload: b"hello", len: 32 }));
    }

    /// The bytes format 2 puts on disk, field by field: neither the declaration in formats/wal.mjs
    /// nor this code may drift from them (files written before the change would no longer read).
    #[test]
    fn records_are_laid_out_as_declared_and_as_written_before() {
        let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());

        let (bytes, crc) = framed(TYPE_COMMIT, &41u64.to_le_bytes(), 0xdead_beef);
        assert_eq!(bytes[..12], [8, 0, 0, 0, 2, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde]);
        assert_eq!(crc, crc32c::crc32c_append(crc32c::crc32c(&bytes[..12]), &41u64.to_le_bytes()));
        assert_eq!(bytes[12..16], crc.to_le_bytes());
        assert_eq!(bytes[16..20], crc32c::crc32c(&bytes[..16]).to_le_bytes());
        assert_eq!((&bytes[20..24], &bytes[24..32], bytes.len()), (&[0u8; 4][..], &41u64.to_le_bytes()[..], 32));
        // The same, by the declared names.
        assert_eq!((u32_at(&bytes, RECORD_LEN_AT), bytes[RECORD_TYPE_AT], u32_at(&bytes, RECORD_PREV_CRC_AT)), (8, TYPE_COMMIT, 0xdead_beef));
        assert_eq!((u32_at(&bytes, RECORD_CRC_AT), RECORD_PAYLOAD_AT, COMMIT_LEN), (crc, RECORD_HEADER, bytes.len()));
        assert_eq!(commit_index(&bytes[RECORD_PAYLOAD_AT..]), Some(u64_at(&bytes, RECORD_PAYLOAD_AT + COMMIT_LAST_INDEX_AT)));

        let mut p = Vec::new();
        encode_entries(&mut p, 7, 3, &[b"ab", b"c"]);
        let mut written_before = Vec::new();
        for part in [&7u64.to_le_bytes()[..], &3u64.to_le_bytes(), &2u32.to_le_bytes(), &2u32.to_le_bytes(), b"ab", &1u32.to_le_bytes(), b"c"] {
            written_before.extend_from_slice(part);
        }
        assert_eq!(p, written_before);
        assert_eq!((u64_at(&p, ENTRIES_FIRST_INDEX_AT), u64_at(&p, ENTRIES_TERM_AT), u32_at(&p, ENTRIES_COUNT_AT)), (7, 3, 2));
        let first = ENTRIES_ENTRIES_AT;
        assert_eq!((u32_at(&p, first + LOG_ENTRY_LEN_AT), &p[first + LOG_ENTRY_DATA_AT..][..2]), (2, &b"ab"[..]));
        assert_eq!(p.len(), ENTRIES_HEADER_BYTES + 2 * LOG_ENTRY_FIXED + 3);
    }

    #[test]
    fn every_flipped_bit_is_caught_and_payload_damage_keeps_the_length() {
        let payload = vec![0u8; 600]; // zeros in the payload look like nothing special
        let (bytes, _) = framed(TYPE_ENTRIES, &payload, 1);
        for at in 0..bytes.len() {
            for bit in 0..8 {
                let mut damaged = bytes.clone();
                damaged[at] ^= 1 << bit;
                match read(&damaged) {
                    Read::Record(_) if at >= RECORD_HEADER + payload.len() => {} // padding is not covered
                    Read::Record(_) => panic!("flip at {at} bit {bit} passed"),
                    Read::BadPayload { len, .. } => assert!(at >= RECORD_HEADER && len == bytes.len(), "flip at {at}"),
                    Read::BadHeader | Read::Zero => assert!(at < RECORD_HEADER, "flip at {at}"),
                }
            }
        }
    }

    #[test]
    fn find_next_skips_damage_and_finds_the_next_whole_record() {
        let (mut bytes, crc) = framed(TYPE_ENTRIES, &[9; 40], 0);
        let second = bytes.len();
        let (more, _) = framed(TYPE_COMMIT, &5u64.to_le_bytes(), crc);
        bytes.extend_from_slice(&more);
        bytes[3] ^= 0xff; // the first header's length
        assert_eq!(read(&bytes), Read::BadHeader);
        let (at, r) = find_next(&bytes, 8).unwrap();
        assert_eq!((at, r.record_type, r.prev_crc, commit_index(r.payload)), (second, TYPE_COMMIT, crc, Some(5)));
        assert_eq!(find_next(&bytes, second + 8), None);
    }
}
