//! Record framing (docs/wal.md): `u32 len | u8 type | u8 flags | u16 reserved | u32 crc |
//! payload | zero padding to 8 bytes`. The CRC-32C covers the first 8 header bytes and the
//! payload and is chained: it starts from the previous record's CRC, so a record cannot be moved,
//! dropped or replayed from stale bytes without breaking every CRC after it.

use crate::Entry;

pub const RECORD_HEADER: usize = 12;
/// A record holding a group of entries: `u64 firstIndex | u64 term | u32 count | count × (u32 len | bytes)`.
pub const TYPE_ENTRIES: u8 = 1;

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

/// Checks an ENTRIES payload and pushes the entries with an index above `after_index` to `out`
/// (the others are checked, not kept). Returns `(firstIndex, count)`, or `None` if malformed.
pub fn decode_entries(p: &[u8], after_index: u64, out: &mut Vec<Entry>) -> Option<(u64, u64)> {
    let first = u64::from_le_bytes(p.get(0..8)?.try_into().ok()?);
    let term = u64::from_le_bytes(p.get(8..16)?.try_into().ok()?);
    let count = u32::from_le_bytes(p.get(16..20)?.try_into().ok()?) as u64;
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

/// Bytes a record takes on disk, padding included.
pub fn framed_len(payload_len: usize) -> usize {
    (RECORD_HEADER + payload_len).next_multiple_of(8)
}

/// Appends one framed record to `out`; returns its CRC (the next record's seed).
pub fn frame(out: &mut Vec<u8>, record_type: u8, payload: &[u8], prev_crc: u32) -> u32 {
    let start = out.len();
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&[record_type, 0, 0, 0]);
    let crc = crc32c::crc32c_append(crc32c::crc32c_append(prev_crc, &out[start..start + 8]), payload);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(payload);
    out.resize(start + framed_len(payload.len()), 0);
    crc
}

/// What reading a record at some offset found.
#[derive(Debug, PartialEq, Eq)]
pub enum Read<'a> {
    /// A valid record: its type, payload, CRC and framed length.
    Record { record_type: u8, payload: &'a [u8], crc: u32, len: usize },
    /// Zeros where a header would be: the end of written data (preallocated tail).
    End,
    /// A record that does not check out: truncated, bad CRC, or a nonsensical header.
    Bad { reason: &'static str, claimed_end: usize },
}

/// Reads the record at the start of `data`, chained from `prev_crc`.
pub fn read(data: &[u8], prev_crc: u32) -> Read<'_> {
    if data.len() < RECORD_HEADER {
        return if data.iter().all(|&b| b == 0) { Read::End } else { Read::Bad { reason: "truncated header", claimed_end: data.len() } };
    }
    let header = &data[..RECORD_HEADER];
    if header.iter().all(|&b| b == 0) {
        return Read::End;
    }
    let len = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
    let record_type = data[4];
    if record_type != TYPE_ENTRIES || data[5..8] != [0, 0, 0] {
        // A header never straddles a sector (8-aligned, 12 bytes), so it is never torn: trust
        // nothing it says.
        return Read::Bad { reason: "unknown record type or flags", claimed_end: RECORD_HEADER };
    }
    let framed = framed_len(len);
    if framed > data.len() {
        return Read::Bad { reason: "record runs past the end of the segment", claimed_end: data.len() };
    }
    let payload = &data[RECORD_HEADER..RECORD_HEADER + len];
    let stored = u32::from_le_bytes([data[8], data[9], data[10], data[11]]);
    let crc = crc32c::crc32c_append(crc32c::crc32c_append(prev_crc, &data[..8]), payload);
    if crc != stored {
        return Read::Bad { reason: "CRC mismatch", claimed_end: framed };
    }
    Read::Record { record_type, payload, crc, len: framed }
}
