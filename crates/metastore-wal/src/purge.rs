//! Purging: once a snapshot covers a prefix of the log, the segments holding only that prefix
//! are deleted, oldest first, so a crash part way leaves a log that still starts cleanly (the
//! first remaining segment is seeded by its header's `prevCrc`).

use crate::fsio::sync_dir;
use crate::segment::remove_if_present;
use crate::{Wal, WalError};

impl Wal {
    /// Deletes, oldest first, every segment all of whose entries have an index `<= index`
    /// (never the active, last segment), then syncs the directory. Returns how many were
    /// deleted. Entries above `index` that share a segment with older ones stay.
    pub fn purge_through(&mut self, index: u64) -> Result<usize, WalError> {
        // Segment k holds [first_k, first_{k+1} - 1]: it can go when first_{k+1} <= index + 1.
        let limit = index.saturating_add(1);
        let count = self.segments.windows(2).take_while(|pair| pair[1].first_index <= limit).count();
        for removed in 0..count {
            if let Err(e) = remove_if_present(&self.segments[removed].path) {
                self.segments.drain(..removed);
                return Err(e.into());
            }
        }
        self.segments.drain(..count);
        if count > 0 {
            sync_dir(&self.dir)?;
        }
        Ok(count)
    }
}
