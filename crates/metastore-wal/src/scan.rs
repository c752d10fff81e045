//! Reading and checking a log directory without changing anything: the one pass behind `open`,
//! `repair` and `inspect`. It stops at the first record that does not check out and says whether
//! that is a torn tail or corruption; what to do about it is the caller's business.

use crate::record::{decode_entries, read, Read};
use crate::segment::{list_segments, SegmentHeader, SEGMENT_HEADER};
use crate::Entry;
use std::fs::File;
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};

/// A segment read up to its end or up to where the scan stopped.
pub(crate) struct ScannedSegment {
    pub path: PathBuf,
    pub header: SegmentHeader,
    /// Offset after the last good record: where the next record goes.
    pub end: u64,
    pub file_len: u64,
    pub records: u64,
    pub entries: u64,
}

pub(crate) enum Stop {
    /// Every segment read to its end.
    Clean,
    /// A torn record at this offset of the last segment, nothing but zeros after it.
    Torn { offset: u64 },
    /// Damage in `Scan::paths[segment]` at `offset`.
    Corrupt { segment: usize, offset: u64, reason: &'static str },
}

pub(crate) struct Scan {
    /// Every segment file, in order.
    pub paths: Vec<PathBuf>,
    /// The segments that check out, in order; a segment damaged past its header is included up
    /// to the damage.
    pub segments: Vec<ScannedSegment>,
    /// CRC of the last good record: the seed of the next one.
    pub last_crc: u32,
    /// Index after the last good entry (1 when there are no segments).
    pub next_index: u64,
    pub stop: Stop,
}

/// Reads every segment of `dir` in order, checking headers, the CRC chain and entry indexes,
/// and pushes the entries above `after_index` to `entries`. `segment_size` tells whether a
/// segment was cut short (see `is_torn`). Only I/O failures are errors; damage is in `stop`.
pub(crate) fn scan(dir: &Path, segment_size: u64, after_index: u64, entries: &mut Vec<Entry>) -> io::Result<Scan> {
    let paths = list_segments(dir)?;
    let mut out = Scan { paths, segments: Vec::new(), last_crc: 0, next_index: 1, stop: Stop::Clean };
    let count = out.paths.len();
    let mut data = Vec::new();
    for i in 0..count {
        let path = out.paths[i].clone();
        let last = i + 1 == count;
        data.clear();
        File::open(&path)?.read_to_end(&mut data)?;
        let corrupt = |offset: usize, reason| Stop::Corrupt { segment: i, offset: offset as u64, reason };
        let Some(header) = SegmentHeader::decode(&data).filter(|h| h.first_index > 0) else {
            out.stop = corrupt(0, "bad segment header");
            return Ok(out);
        };
        if i > 0 && header.prev_crc != out.last_crc {
            out.stop = corrupt(0, "segment does not chain from the previous one");
            return Ok(out);
        }
        if i > 0 && header.first_index != out.next_index {
            out.stop = corrupt(0, "segment's first index does not follow the previous segment");
            return Ok(out);
        }
        // The first segment left after a purge is seeded by its header like any other.
        out.last_crc = header.prev_crc;
        out.next_index = header.first_index;
        let mut seg = ScannedSegment { path, header, end: SEGMENT_HEADER as u64, file_len: data.len() as u64, records: 0, entries: 0 };
        let mut at = SEGMENT_HEADER;
        loop {
            match read(&data[at..], out.last_crc) {
                Read::End => break,
                Read::Record { payload, crc, len, .. } => {
                    let Some((first, n)) = decode_entries(payload, after_index, entries) else {
                        out.stop = corrupt(at, "malformed entries record");
                        break;
                    };
                    if first != out.next_index {
                        out.stop = corrupt(at, "entry index out of sequence");
                        break;
                    }
                    out.next_index = first + n;
                    out.last_crc = crc;
                    at += len;
                    seg.records += 1;
                    seg.entries += n;
                }
                Read::Bad { reason, claimed_end } => {
                    out.stop = if last && is_torn(&data[at..], claimed_end, at, (data.len() as u64) < segment_size) {
                        Stop::Torn { offset: at as u64 }
                    } else {
                        corrupt(at, reason)
                    };
                    break;
                }
            }
        }
        seg.end = at as u64;
        out.segments.push(seg);
        if !matches!(out.stop, Stop::Clean) {
            break;
        }
    }
    Ok(out)
}

const SECTOR: usize = 512;

/// A bad last record is a torn write when nothing was written after it and either it runs past
/// the end of the file, or its part in some disk sector is all zeros: writes reach the disk a
/// whole sector at a time, so a record can be torn only at a sector boundary. Anything else — a
/// flipped bit in a complete record, or bytes after it — is corruption. `at`: the record's
/// offset in its file; `cut_short`: the file is shorter than its preallocated size, so it was
/// truncated and a record running past its end is believable.
fn is_torn(rest: &[u8], claimed_end: usize, at: usize, cut_short: bool) -> bool {
    let end = claimed_end.min(rest.len());
    if rest[end..].iter().any(|&b| b != 0) {
        return false;
    }
    if claimed_end >= rest.len() {
        return cut_short;
    }
    let mut from = 0;
    while from < end {
        let to = ((at + from) / SECTOR + 1) * SECTOR - at;
        let to = to.min(end);
        if from > 0 && rest[from..to].iter().all(|&b| b == 0) {
            return true;
        }
        from = to;
    }
    false
}
