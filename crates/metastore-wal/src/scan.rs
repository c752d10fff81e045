//! Reading and checking a log directory without changing anything: the one pass behind `open`,
//! `repair` and `inspect`. It stops at the first damage that matters and says whether it is a
//! torn tail or corruption; what to do about it is the caller's business.
//!
//! The rules (docs/wal.md, "Opening"):
//! - Damage is **covered** when every entry it could have held is at or below `after_index`
//!   (the snapshot the caller restored): the first index known to follow it — from the next
//!   whole record, or the next segment's header — is at most `after_index + 1`. It is reported
//!   and read past; the purge after the next snapshot removes it.
//! - Otherwise, in the last segment, it is a **torn tail** when no COMMIT record follows it: a
//!   COMMIT is written after each sync and before any append is acknowledged, so a record
//!   without one after it was never acknowledged. It can be cut off without losing anything.
//! - Anything else is **corruption**: the log refuses to open, naming segment and offset.

use crate::record::{commit_index, decode_entries, entries_span, find_next, read, Read, Record, TYPE_COMMIT, TYPE_ENTRIES};
use crate::segment::{list_segments, parse_segment_name, HeaderError, SegmentHeader, SEGMENT_HEADER};
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
    pub records: u64,
    pub entries: u64,
}

/// Damage that loses nothing: everything it could have held is in the snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoveredDamage {
    pub segment: PathBuf,
    pub offset: u64,
    pub reason: &'static str,
}

pub(crate) enum Stop {
    /// Every segment read to its end.
    Clean,
    /// A torn write at this offset of the last segment: no COMMIT follows it.
    Torn { offset: u64 },
    /// Damage in `Scan::paths[segment]` at `offset`.
    Corrupt { segment: usize, offset: u64, reason: &'static str },
}

pub(crate) struct Scan {
    /// Every segment file, in order.
    pub paths: Vec<PathBuf>,
    /// The segments read, in order; a segment damaged past its header is included up to the
    /// damage. Segments whose header is damaged are left out.
    pub segments: Vec<ScannedSegment>,
    /// CRC of the last good record: the next record's `prevCrc`.
    pub last_crc: u32,
    /// Index after the last good entry (1 when there are no segments).
    pub next_index: u64,
    pub stop: Stop,
    pub covered: Vec<CoveredDamage>,
    /// Whether the last good record is a COMMIT (or there is none): otherwise its last records
    /// were synced by a process that died before it wrote their COMMIT.
    pub ends_with_commit: bool,
}

/// How the records of one segment ended.
enum SegmentEnd {
    /// Read to the end; the next segment must chain from this one.
    Chained,
    /// Covered damage with nothing whole after it in this segment: the next segment is read
    /// from its own header.
    Unchained,
    Stopped,
}

/// Reads every segment of `dir` in order, checking headers, the CRC chain and entry indexes,
/// and pushes the entries above `after_index` to `entries`. Only I/O failures are errors; damage
/// is in `stop` and `covered`.
pub(crate) fn scan(dir: &Path, after_index: u64, entries: &mut Vec<Entry>) -> io::Result<Scan> {
    let paths = list_segments(dir)?;
    let names: Vec<(u64, u64)> = paths.iter().map(|p| parse_segment_name(p).expect("listed segments have parseable names")).collect();
    let mut out = Scan { paths, segments: Vec::new(), last_crc: 0, next_index: 1, stop: Stop::Clean, covered: Vec::new(), ends_with_commit: true };
    let mut chained = false;
    let mut data = Vec::new();
    for i in 0..out.paths.len() {
        data.clear();
        File::open(&out.paths[i])?.read_to_end(&mut data)?;
        let next_first = names.get(i + 1).map(|n| n.1);
        let Some(header) = check_header(&mut out, i, &data, &names, chained, after_index) else {
            if matches!(out.stop, Stop::Clean) {
                chained = false;
                continue;
            }
            return Ok(out);
        };
        out.last_crc = header.prev_crc;
        out.next_index = header.first_index;
        let path = out.paths[i].clone();
        let mut seg = ScannedSegment { path, header, end: SEGMENT_HEADER as u64, records: 0, entries: 0 };
        let end = read_records(&mut out, i, &data, &mut seg, next_first, after_index, entries);
        out.segments.push(seg);
        match end {
            SegmentEnd::Chained => chained = true,
            SegmentEnd::Unchained => chained = false,
            SegmentEnd::Stopped => return Ok(out),
        }
    }
    Ok(out)
}

/// Checks segment `i`'s header, its name and its link to the segment before. `None` when the
/// segment cannot be read: `out.stop` says why, unless the damage is covered (then the scan goes
/// on with the next segment).
fn check_header(out: &mut Scan, i: usize, data: &[u8], names: &[(u64, u64)], chained: bool, after_index: u64) -> Option<SegmentHeader> {
    let (seq, first) = names[i];
    // The first index after this segment's own entries, as far as the names tell.
    let after_segment = names.get(i + 1).map_or(u64::MAX, |n| n.1);
    let covered = |follows: u64| follows <= after_index.saturating_add(1);
    let header = match SegmentHeader::decode(data) {
        Ok(h) => h,
        Err(e) => {
            let reason = match e {
                HeaderError::OldFormat => "segment written by an older log format (MSWAL001), which this version does not read",
                HeaderError::Damaged => "bad segment header",
            };
            if e == HeaderError::Damaged && covered(after_segment) {
                out.covered.push(CoveredDamage { segment: out.paths[i].clone(), offset: 0, reason });
            } else {
                out.stop = Stop::Corrupt { segment: i, offset: 0, reason };
            }
            return None;
        }
    };
    if (data.len() as u64) < header.size {
        let reason = "segment file is shorter than it was made (cut off)";
        if covered(after_segment) {
            out.covered.push(CoveredDamage { segment: out.paths[i].clone(), offset: data.len() as u64, reason });
        } else {
            out.stop = Stop::Corrupt { segment: i, offset: data.len() as u64, reason };
        }
        return None;
    }
    if (header.seq, header.first_index) != (seq, first) || header.first_index == 0 {
        // A file under another segment's name (a copy, a swap): its records are never read in
        // a place that is not theirs. Covered only if every entry it stands for is.
        let reason = "segment header does not match its file name";
        if covered(after_segment) {
            out.covered.push(CoveredDamage { segment: out.paths[i].clone(), offset: 0, reason });
        } else {
            out.stop = Stop::Corrupt { segment: i, offset: 0, reason };
        }
        return None;
    }
    // The rest says something before this segment is missing; the segment itself is sound and
    // starts at its header's first index. Indexes may only move forward.
    let reason = if i > 0 && names[i - 1].0.checked_add(1) != Some(seq) {
        "the segment before this one is missing"
    } else if chained && header.first_index != out.next_index {
        "segment's first index does not follow the previous segment"
    } else if chained && header.prev_crc != out.last_crc {
        "segment does not chain from the previous one"
    } else {
        return Some(header);
    };
    if covered(header.first_index) && header.first_index >= out.next_index {
        out.covered.push(CoveredDamage { segment: out.paths[i].clone(), offset: 0, reason });
        Some(header)
    } else {
        out.stop = Stop::Corrupt { segment: i, offset: 0, reason };
        None
    }
}

/// Reads the records of segment `i` (header already checked), extending the chain in `out`.
fn read_records(
    out: &mut Scan,
    i: usize,
    data: &[u8],
    seg: &mut ScannedSegment,
    next_first: Option<u64>,
    after_index: u64,
    entries: &mut Vec<Entry>,
) -> SegmentEnd {
    let last = next_first.is_none();
    let mut at = SEGMENT_HEADER;
    loop {
        let (known_len, reason) = match read(&data[at..]) {
            Read::Zero if data[at..].iter().all(|&b| b == 0) => break,
            Read::Zero => (None, "a zeroed record header with written data after it"),
            Read::BadHeader => (None, "record header fails its checksum"),
            Read::BadPayload { len, reason } => (Some(len), reason),
            Read::Record(r) => match check_record(&r, out.last_crc, out.next_index) {
                Err(reason) => (Some(r.len), reason),
                Ok(n) => {
                    if r.record_type == TYPE_ENTRIES {
                        decode_entries(r.payload, after_index, entries).expect("checked by check_record");
                    }
                    out.next_index += n;
                    out.last_crc = r.crc;
                    out.ends_with_commit = r.record_type == TYPE_COMMIT;
                    at += r.len;
                    seg.records += 1;
                    seg.entries += n;
                    seg.end = at as u64;
                    continue;
                }
            },
        };
        let resume = find_next(data, known_len.map_or(at + 8, |len| at + len));
        let follows = match &resume {
            Some((_, r)) => first_index_after(r),
            None => next_first,
        };
        if follows.is_some_and(|f| f >= out.next_index && f <= after_index.saturating_add(1)) {
            out.covered.push(CoveredDamage { segment: seg.path.clone(), offset: at as u64, reason });
            let Some((p, r)) = resume else { return SegmentEnd::Unchained };
            out.last_crc = r.prev_crc;
            out.next_index = follows.expect("known");
            at = p;
            continue;
        }
        out.stop =
            if last && !commit_follows(data, resume) { Stop::Torn { offset: at as u64 } } else { Stop::Corrupt { segment: i, offset: at as u64, reason } };
        return SegmentEnd::Stopped;
    }
    SegmentEnd::Chained
}

/// Checks a whole record against the chain: its link, and for ENTRIES that its payload is well
/// formed and continues the indexes; for COMMIT that it names the last index before it. Returns
/// the number of entries it adds.
fn check_record(r: &Record<'_>, last_crc: u32, next_index: u64) -> Result<u64, &'static str> {
    if r.prev_crc != last_crc {
        return Err("record does not chain from the one before");
    }
    if r.record_type == TYPE_COMMIT {
        return match commit_index(r.payload) {
            Some(k) if k.wrapping_add(1) == next_index => Ok(0),
            _ => Err("commit record disagrees with the entries before it"),
        };
    }
    match entries_span(r.payload) {
        Some((first, _)) if first != next_index => Err("entry index out of sequence"),
        Some(_) => decode_entries(r.payload, u64::MAX, &mut Vec::new()).map(|(_, n)| n).ok_or("malformed entries record"),
        None => Err("malformed entries record"),
    }
}

/// The index of the first entry after everything before a whole record.
fn first_index_after(r: &Record<'_>) -> Option<u64> {
    if r.record_type == TYPE_COMMIT {
        commit_index(r.payload).map(|k| k.saturating_add(1))
    } else {
        entries_span(r.payload).map(|(first, _)| first)
    }
}

/// Whether a COMMIT record is among the whole records from `from` on: then what came before it
/// was synced and acknowledged, and damage before it is not a torn write.
fn commit_follows<'a>(data: &'a [u8], mut from: Option<(usize, Record<'a>)>) -> bool {
    while let Some((at, r)) = from {
        if r.record_type == TYPE_COMMIT {
            return true;
        }
        from = find_next(data, at + r.len);
    }
    false
}
