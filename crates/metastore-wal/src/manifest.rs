//! `MANIFEST`: what the log must hold, so that a log ending short of what it acknowledged is
//! refused instead of opened at an older state. 48 bytes, replaced atomically (written as
//! `MANIFEST.tmp`, synced, renamed, directory synced):
//! `"MSWALMAN" | u32 version | u32 flags | u64 newestSeq | u64 closedAt | u32 epoch | u32 0 |
//! u32 0 | u32 crc` (CRC-32C of the 44 bytes before it; flags bit 0: closed cleanly).
//!
//! - `newestSeq`: the newest segment made. It is raised after a new segment is durable, so the
//!   newest segment on disk is never older than it; a missing newest segment (or all of them)
//!   shows as a newest segment older than this.
//! - `closedAt`, when the log was closed cleanly: its last index then. Opening marks the log
//!   open again before anything is appended, so after a clean close the log must end exactly
//!   there: a tail zeroed or cut off while the store was closed is refused.
//! - `epoch`: a boot counter, one more on each open (part of the store's proposal ids).

use crate::fsio::sync_dir;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

pub(crate) const MANIFEST_FILE: &str = "MANIFEST";
const MAGIC: &[u8; 8] = b"MSWALMAN";
const VERSION: u32 = 1;
const LEN: usize = 48;
const CLEAN: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub newest_seq: u64,
    pub epoch: u32,
    /// The last index at a clean close; `None` while the log is open (or after a crash).
    pub closed_at: Option<u64>,
}

impl Manifest {
    fn encode(&self) -> [u8; LEN] {
        let mut m = [0u8; LEN];
        m[..8].copy_from_slice(MAGIC);
        m[8..12].copy_from_slice(&VERSION.to_le_bytes());
        m[12..16].copy_from_slice(&(if self.closed_at.is_some() { CLEAN } else { 0 }).to_le_bytes());
        m[16..24].copy_from_slice(&self.newest_seq.to_le_bytes());
        m[24..32].copy_from_slice(&self.closed_at.unwrap_or(0).to_le_bytes());
        m[32..36].copy_from_slice(&self.epoch.to_le_bytes());
        let crc = crc32c::crc32c(&m[..44]);
        m[44..48].copy_from_slice(&crc.to_le_bytes());
        m
    }

    fn decode(m: &[u8]) -> Result<Manifest, &'static str> {
        let u32_at = |at: usize| u32::from_le_bytes(m[at..at + 4].try_into().expect("4 bytes"));
        let u64_at = |at: usize| u64::from_le_bytes(m[at..at + 8].try_into().expect("8 bytes"));
        if m.len() != LEN || &m[..8] != MAGIC || u32_at(44) != crc32c::crc32c(&m[..44]) {
            return Err("MANIFEST is damaged");
        }
        if u32_at(8) != VERSION {
            return Err("MANIFEST has an unknown version");
        }
        let flags = u32_at(12);
        Ok(Manifest { newest_seq: u64_at(16), epoch: u32_at(32), closed_at: (flags & CLEAN != 0).then(|| u64_at(24)) })
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

    #[test]
    fn a_manifest_round_trips_and_any_flipped_byte_is_refused() {
        for m in [Manifest { newest_seq: 3, epoch: 9, closed_at: Some(41) }, Manifest { newest_seq: 1, epoch: 1, closed_at: None }] {
            let bytes = m.encode();
            assert_eq!(Manifest::decode(&bytes), Ok(m.clone()));
            for at in 0..LEN {
                let mut damaged = bytes;
                damaged[at] ^= 4;
                assert!(Manifest::decode(&damaged).is_err(), "flip at {at}");
            }
        }
        assert!(Manifest::decode(&[0; 12]).is_err());
    }
}
