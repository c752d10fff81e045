//! Record framing (docs/wal.md), 24-byte header then payload, padded to 8 bytes:
//! `u32 len | u8 type | u8 flags | u16 reserved | u32 prevCrc | u32 crc | u32 headerCrc | u32 0`.
//!
//! `crc` is the CRC-32C of the header's first 12 bytes and the payload; `prevCrc` is the
//! previous record's `crc` (the segment header's `prevCrc` for a segment's first record), so a
//! record vouches for the one before it and none can be moved, dropped or replayed unnoticed.
//! `headerCrc` covers the header's first 16 bytes on its own, so a reader can trust a record's
//! length even when its payload is damaged, and can recognise a whole, valid record anywhere
//! after damage without knowing what came before it.
//!
//! Two types: ENTRIES, one group commit; COMMIT, written after each sync to vouch that every
//! record before it was synced (acknowledged), which is what tells damage from a torn write.

use crate::Entry;

pub const RECORD_HEADER: usize = 24;
/// A group of entries: `u64 firstIndex | u64 term | u32 count | count × (u32 len | bytes)`.
pub const TYPE_ENTRIES: u8 = 1;
/// Written after a sync: `u64 lastIndex`, the last entry index synced before it.
pub const TYPE_COMMIT: u8 = 2;
/// Bytes a COMMIT record takes.
pub const COMMIT_LEN: usize = RECORD_HEADER + 8;

/// Encodes a group of entries as an ENTRIES payload into `out` (cleared first).
pub fn encode_entries(out: &mut Vec<u8>, first_index: u64, term: u64, group: &[&[u8]]) {
    out.clear();
    out.reserve(20 + group.iter().map(|d| 4 + d.len()).sum::<usize>());
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
    let first = u64::from_le_bytes(p.get(0..8)?.try_into().ok()?);
    let count = u32::from_le_bytes(p.get(16..20)?.try_into().ok()?) as u64;
    Some((first, count))
}

/// Checks an ENTRIES payload and pushes the entries with an index above `after_index` to `out`
/// (the others are checked, not kept). Returns `(firstIndex, count)`, or `None` if malformed.
pub fn decode_entries(p: &[u8], after_index: u64, out: &mut Vec<Entry>) -> Option<(u64, u64)> {
    let (first, count) = entries_span(p)?;
    let term = u64::from_le_bytes(p.get(8..16)?.try_into().ok()?);
    first.checked_add(count)?;
    let mut at = 20;
    for i in 0..count {
        let len = u32::from_le_bytes(p.get(at..at + 4)?.try_into().ok()?) as usize;
        let data = p.get(at + 4..at + 4 + len)?;
        if first + i > after_index {
            out.push(Entry { index: first + i, term, data: data.to_vec() });
        }
        at += 4 + len;
    }
    (at == p.len()).then_some((first, count))
}

/// The index a COMMIT payload says was synced last.
pub fn commit_index(p: &[u8]) -> Option<u64> {
    (p.len() == 8).then(|| u64::from_le_bytes(p.try_into().expect("8 bytes")))
}

/// Bytes a record takes on disk, padding included.
pub fn framed_len(payload_len: usize) -> usize {
    (RECORD_HEADER + payload_len).next_multiple_of(8)
}

/// Appends one framed record to `out`; returns its CRC (the next record's `prevCrc`).
pub fn frame(out: &mut Vec<u8>, record_type: u8, payload: &[u8], prev_crc: u32) -> u32 {
    let start = out.len();
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&[record_type, 0, 0, 0]);
    out.extend_from_slice(&prev_crc.to_le_bytes());
    let crc = crc32c::crc32c_append(crc32c::crc32c(&out[start..start + 12]), payload);
    out.extend_from_slice(&crc.to_le_bytes());
    let header_crc = crc32c::crc32c(&out[start..start + 16]);
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
    BadPayload { len: usize, reason: &'static str },
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
    if le_u32(&header[16..20]) != crc32c::crc32c(&header[..16]) || header[5..8] != [0, 0, 0] || header[20..24] != [0; 4] {
        return Read::BadHeader;
    }
    let record_type = header[4];
    if record_type != TYPE_ENTRIES && record_type != TYPE_COMMIT {
        return Read::BadHeader;
    }
    let payload_len = le_u32(&header[..4]) as usize;
    let len = framed_len(payload_len);
    if len > data.len() {
        return Read::BadPayload { len, reason: "record runs past the end of the segment" };
    }
    let payload = &data[RECORD_HEADER..RECORD_HEADER + payload_len];
    let crc = le_u32(&header[12..16]);
    if crc32c::crc32c_append(crc32c::crc32c(&header[..12]), payload) != crc {
        return Read::BadPayload { len, reason: "record fails its checksum" };
    }
    Read::Record(Record { record_type, prev_crc: le_u32(&header[8..12]), crc, payload, len })
}

/// The first whole, valid record at an 8-aligned offset `>= from` of `data` (offsets are
/// relative to `data`, which starts 8-aligned): how a reader finds its footing after damage.
/// A false find needs both CRCs to match by chance (2^-64 per offset).
pub fn find_next(data: &[u8], from: usize) -> Option<(usize, Record<'_>)> {
    let mut at = from.next_multiple_of(8);
    while at + RECORD_HEADER <= data.len() {
        let t = data[at + 4];
        if (t == TYPE_ENTRIES || t == TYPE_COMMIT) && data[at + 5..at + 8] == [0, 0, 0] {
            if let Read::Record(r) = read(&data[at..]) {
                return Some((at, r));
            }
        }
        at += 8;
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
