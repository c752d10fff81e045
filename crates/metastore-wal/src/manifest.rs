//! `MANIFEST`: what the log must hold, so that a log ending short of what it acknowledged is
//! refused instead of opened at an older state. 48 bytes (`Manifest` in formats/wal.mjs: magic,
//! version, flags, newestSeq, closedAt, epoch, zeros, crc), replaced atomically (written as
//! `MANIFEST.tmp`, synced, renamed, directory synced).
//!
//! - `newestSeq`: the newest segment made. It is raised after a new segment is durable, so the
//!   newest segment on disk is never older than it; a missing newest segment (or all of them)
//!   shows as a newest segment older than this.
//! - `closedAt`, when the log was closed cleanly: its last index then. Opening marks the log
//!   open again before anything is appended, so after a clean close the log must end exactly
//!   there: a tail zeroed or cut off while the store was closed is refused.
//! - `epoch`: a boot counter, one more on each open (part of the store's proposal ids).

use crate::fsio::sync_dir;
use crate::layout::*;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

pub(crate) const MANIFEST_FILE: &str = "MANIFEST";

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub newest_seq: u64,
    pub epoch: u32,
    /// The last index at a clean close; `None` while the log is open (or after a crash).
    pub closed_at: Option<u64>,
}

impl Manifest {
    fn encode(&self) -> [u8; MANIFEST_BYTES] {
        let mut m = [0u8; MANIFEST_BYTES];
        let flags = if self.closed_at.is_some() { MANIFEST_CLOSED_CLEANLY } else { 0 };
        m[MANIFEST_MAGIC_AT..][..8].copy_from_slice(&MANIFEST_MAGIC);
        m[MANIFEST_VERSION_AT..][..4].copy_from_slice(&MANIFEST_VERSION.to_le_bytes());
        m[MANIFEST_FLAGS_AT..][..4].copy_from_slice(&flags.to_le_bytes());
        m[MANIFEST_NEWEST_SEQ_AT..][..8].copy_from_slice(&self.newest_seq.to_le_bytes());
        m[MANIFEST_CLOSED_AT_AT..][..8].copy_from_slice(&self.closed_at.unwrap_or(0).to_le_bytes());
        m[MANIFEST_EPOCH_AT..][..4].copy_from_slice(&self.epoch.to_le_bytes());
        let crc = crc32c::crc32c(&m[..MANIFEST_CRC_AT]);
        m[MANIFEST_CRC_AT..][..4].copy_from_slice(&crc.to_le_bytes());
        m
    }

    fn decode(m: &[u8]) -> Result<Manifest, &'static str> {
        let u32_at = |at: usize| u32::from_le_bytes(m[at..at + 4].try_into().expect("4 bytes"));
        let u64_at = |at: usize| u64::from_le_bytes(m[at..at + 8].try_into().expect("8 bytes"));
        if m.len() != MANIFEST_BYTES || !m.starts_with(&MANIFEST_MAGIC) || u32_at(MANIFEST_CRC_AT) != crc32c::crc32c(&m[..MANIFEST_CRC_AT]) {
            return Err("MANIFEST is damaged");
        }
        if u32_at(MANIFEST_VERSION_AT) != MANIFEST_VERSION {
            return Err("MANIFEST has an unknown version");
        }
        let flags = u32_at(MANIFEST_FLAGS_AT);
        Ok(Manifest {
            newest_seq: u64_at(MANIFEST_NEWEST_SEQ_AT),
            epoch: u32_at(MANIFEST_EPOCH_AT),
            closed_at: (flags & MANIFEST_CLOSED_CLEANLY != 0).then(|| u64_at(MANIFEST_CLOSED_AT_AT)),
        })
    }

    /// The manifest of the log in `dir`: `Ok(None)` when there is none, `Err(reason)` when it is
    /// damaged.
    pub fn load(dir: &Path) -> io::Result<Result<Option<Manifest>, &'static str>> {
        match std::fs::read(dir.join(MANIFEST_FILE)) {
            Ok(bytes) => Ok(Manifest::decode(&bytes).map(Some)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Ok(None)),
            Err(e) => Err(e),
        }
    }

    /// Replaces the manifest in `dir` atomically and durably.
    pub fn store(&self, dir: &Path) -> io::Result<()> {
        let tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
        let mut f = File::create(&tmp)?;
        f.write_all(&self.encode())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, dir.join(MANIFEST_FILE))?;
        sync_dir(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The MANIFEST as written before, field by field (formats/wal.mjs may not drift from it).
    #[test]
    fn a_manifest_is_laid_out_as_declared_and_as_written_before() {
        let m = Manifest { newest_seq: 3, epoch: 9, closed_at: Some(41) };
        let mut written_before = b"MSWALMAN".to_vec();
        for n in [1u32, 1] {
            written_before.extend_from_slice(&n.to_le_bytes()); // version, flags: closed cleanly
        }
        for n in [3u64, 41] {
            written_before.extend_from_slice(&n.to_le_bytes());
        }
        written_before.extend_from_slice(&9u32.to_le_bytes());
        written_before.extend_from_slice(&[0; 8]);
        written_before.extend_from_slice(&crc32c::crc32c(&written_before).to_le_bytes());
        assert_eq!(m.encode().to_vec(), written_before);
        assert_eq!(Manifest::decode(&written_before), Ok(m));
        assert_eq!((MANIFEST_BYTES, MANIFEST_CRC_AT), (48, 44));
    }

    #[test]
    fn a_manifest_round_trips_and_any_flipped_byte_is_refused() {
        for m in [Manifest { newest_seq: 3, epoch: 9, closed_at: Some(41) }, Manifest { newest_seq: 1, epoch: 1, closed_at: None }] {
            let bytes = m.encode();
            assert_eq!(Manifest::decode(&bytes), Ok(m.clone()));
            for at in 0..MANIFEST_BYTES {
                let mut damaged = bytes;
                damaged[at] ^= 4;
                assert!(Manifest::decode(&damaged).is_err(), "flip at {at}");
            }
        }
        assert!(Manifest::decode(&[0; 12]).is_err());
    }
}
