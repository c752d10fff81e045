//! Reads of history beside batches: the replay a watch with a start revision needs (etcd's
//! watchable store syncing unsynced watchers). A batch's own events are written as it applies
//! (`EventWriter`, results.rs).

use crate::errors::ErrorNumber;
use crate::key_index::RangeEnd;
use crate::kv::KeyValue;
use crate::kvstore::Store;
use crate::results::EventWriter;

impl Store {
    /// Events with revision ≥ `from` for keys in [key, range_end), in revision then sub-revision
    /// order, as an events section (`u32 count | events`).
    pub fn changes(&self, from: i64, key: &[u8], range_end: &[u8], prev_kv: bool) -> Result<Vec<u8>, ErrorNumber> {
        let index = self.index_read();
        if from < self.compact_revision() {
            return Err(ErrorNumber::Compacted);
        }
        let mut found: Vec<(i64, u32, usize, usize)> = Vec::new();
        let keys = index.all_in_range(key, RangeEnd::parse(range_end));
        let mut histories: Vec<Vec<(KeyValue, u32)>> = Vec::with_capacity(keys.len());
        for (k, key) in keys.iter().enumerate() {
            let history: Vec<(KeyValue, u32)> =
                self.shards.with_entry(key, |e| e.map(|e| e.history.iter().map(|v| (v.kv.clone(), v.sub)).collect()).unwrap_or_default());
            for (i, (kv, sub)) in history.iter().enumerate() {
                if kv.mod_revision >= from {
                    found.push((kv.mod_revision, *sub, k, i));
                }
            }
            histories.push(history);
        }
        found.sort_unstable_by_key(|&(rev, sub, k, _)| (rev, sub, k));
        let mut events = EventWriter::new(prev_kv);
        for (_, sub, k, i) in found {
            let history = &histories[k];
            let kv = &history[i].0;
            // The key as it was at revision - 1 (etcd's prev_kv), when history still has it.
            let before = history[..i].iter().rev().find(|(v, _)| v.mod_revision < kv.mod_revision).map(|(v, _)| v);
            events.event(&keys[k], kv, sub, before);
        }
        Ok(events.into_section())
    }
}
