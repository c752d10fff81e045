//! Transactions (etcd's txn.go): compares on the state before the transaction fix the path of
//! branches taken; the ops of that path are checked, then executed in order under one revision.

use crate::codec::{CompareRef, CompareResult, CompareTarget, OpRef, TxnRef, PUT_IGNORE_LEASE, PUT_IGNORE_VALUE};
use crate::errors::ErrorNumber;
use crate::key_index::RangeEnd;
use crate::kv::KeyValue;
use crate::kvstore_txn::Apply;
use crate::results::ResultWriter;
use std::cmp::Ordering;

/// Revision bookkeeping while a transaction executes.
struct Exec {
    /// Revision before the transaction.
    base: i64,
    changed: bool,
    sub: u32,
}

impl Exec {
    fn current(&self) -> i64 {
        if self.changed {
            self.base + 1
        } else {
            self.base
        }
    }

    /// Revision and sub-revision for the next change.
    fn next_change(&mut self) -> (i64, u32) {
        self.changed = true;
        let sub = self.sub;
        self.sub += 1;
        (self.base + 1, sub)
    }
}

impl Apply<'_> {
    /// One TXN request. `eval_path`, `check_path` and `exec` recurse once per level of nesting,
    /// which decoding capped (`Limits::txn_depth`).
    pub(crate) fn txn(&mut self, t: &TxnRef<'_>, out: &mut ResultWriter) {
        let mut path = Vec::new();
        self.eval_path(t, &mut path);
        if let Err(number) = self.check_path(t, &path, &mut 0, &mut Vec::new()) {
            out.error(self.rev, number);
            return;
        }
        let mut exec = Exec { base: self.rev, changed: false, sub: 0 };
        self.exec(t, &path, &mut 0, &mut exec, out);
        self.rev = exec.current();
    }

    /// Evaluates every compare on the current state, depth first along the branches taken.
    fn eval_path(&self, t: &TxnRef<'_>, path: &mut Vec<bool>) {
        let ok = t.compare.iter().all(|c| self.compare(c));
        path.push(ok);
        for op in if ok { &t.success } else { &t.failure } {
            if let OpRef::Txn(nested) = op {
                self.eval_path(nested, path);
            }
        }
    }

    fn compare(&self, c: &CompareRef<'_>) -> bool {
        let kvs: Vec<KeyValue> = match RangeEnd::parse(c.range_end) {
            RangeEnd::Single => self.store.get(c.key).into_iter().collect(),
            end => self.index.collect_range(c.key, end).iter().filter_map(|k| self.store.get(k)).collect(),
        };
        if kvs.is_empty() {
            // A missing key compares as a zero KeyValue, except that VALUE is always false.
            return c.target != CompareTarget::Value && compare_kv(c, &zero_kv());
        }
        kvs.iter().all(|kv| compare_kv(c, kv))
    }

    /// The taken path's checks against the state before the transaction. `deletes`: the
    /// deletes met so far on the path; a key one of them covers is gone by the time a later put
    /// with IGNORE_VALUE / IGNORE_LEASE runs (puts before it cannot bring it back: that would be
    /// a duplicate key).
    fn check_path<'b>(&self, t: &'b TxnRef<'b>, path: &[bool], at: &mut usize, deletes: &mut Vec<(&'b [u8], &'b [u8])>) -> Result<(), ErrorNumber> {
        let ok = path[*at];
        *at += 1;
        for op in if ok { &t.success } else { &t.failure } {
            match op {
                OpRef::DeleteRange(d) => deletes.push((d.key, d.range_end)),
                OpRef::Put(p) => {
                    let gone = || deletes.iter().any(|&(key, end)| covers(key, end, p.key));
                    if p.flags & (PUT_IGNORE_VALUE | PUT_IGNORE_LEASE) != 0 && (!self.exists(p.key) || gone()) {
                        return Err(ErrorNumber::KeyNotFound);
                    }
                    if p.lease != 0 && !self.leases.exists(p.lease) {
                        return Err(ErrorNumber::LeaseNotFound);
                    }
                }
                // etcd's checkRequestRange: any non-zero revision is checked, so a negative one
                // below the compacted revision fails here although a plain range reads it as
                // "latest".
                OpRef::Range(r) if r.revision != 0 => {
                    if r.revision > self.rev {
                        return Err(ErrorNumber::FutureRev);
                    }
                    if r.revision < self.compact_rev {
                        return Err(ErrorNumber::Compacted);
                    }
                }
                OpRef::Txn(nested) => self.check_path(nested, path, at, deletes)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Executes the branch `path[*at]` chose, writing one TXN result.
    fn exec(&mut self, t: &TxnRef<'_>, path: &[bool], at: &mut usize, exec: &mut Exec, out: &mut ResultWriter) {
        let ok = path[*at];
        *at += 1;
        let start = out.begin_txn();
        let ops = if ok { &t.success } else { &t.failure };
        for op in ops {
            match op {
                OpRef::Put(p) => {
                    let (rev, sub) = exec.next_change();
                    let prev = self.put_at(p, rev, sub);
                    out.put(rev, prev.as_ref().map(|kv| (p.key, kv)));
                }
                OpRef::DeleteRange(d) => {
                    let keys = self.doomed(d);
                    if keys.is_empty() {
                        out.delete_range(exec.current(), 0, std::iter::empty());
                        continue;
                    }
                    let mut prevs = Vec::new();
                    let mut rev = exec.current();
                    for key in &keys {
                        let (r, sub) = exec.next_change();
                        rev = r;
                        let prev = self.delete_at(key, r, sub);
                        if let (true, Some(prev)) = (d.prev_kv, prev) {
                            prevs.push(prev);
                        }
                    }
                    out.delete_range(rev, keys.len() as i64, keys.iter().zip(prevs.iter()).map(|(k, kv)| (&**k, kv)));
                }
                OpRef::Range(r) => {
                    let index = &*self.index;
                    // Checked above: the range cannot fail here.
                    let _ = self.store.range_into(index, r, exec.current(), self.compact_rev, out);
                }
                OpRef::Txn(nested) => self.exec(nested, path, at, exec, out),
                _ => unreachable!("validation keeps other ops out of a txn"),
            }
        }
        out.end_txn(start, ok, exec.current(), ops.len());
    }
}

/// Whether a delete of (key, rangeEnd) removes `k` (range rules of docs/codec.md).
fn covers(key: &[u8], end: &[u8], k: &[u8]) -> bool {
    match RangeEnd::parse(end) {
        RangeEnd::Single => key == k,
        RangeEnd::FromKey => key <= k,
        RangeEnd::Before(end) => key <= k && k < end,
    }
}

fn zero_kv() -> KeyValue {
    KeyValue { value: crate::kv::Value::default(), create_revision: 0, mod_revision: 0, version: 0, lease: 0 }
}

fn compare_kv(c: &CompareRef<'_>, kv: &KeyValue) -> bool {
    let ord: Ordering = match c.target {
        CompareTarget::Value => kv.value.as_slice().cmp(c.value),
        CompareTarget::Version => kv.version.cmp(&c.operand),
        CompareTarget::Create => kv.create_revision.cmp(&c.operand),
        CompareTarget::Mod => kv.mod_revision.cmp(&c.operand),
        CompareTarget::Lease => kv.lease.cmp(&c.operand),
    };
    match c.result {
        CompareResult::Equal => ord == Ordering::Equal,
        CompareResult::Greater => ord == Ordering::Greater,
        CompareResult::Less => ord == Ordering::Less,
        CompareResult::NotEqual => ord != Ordering::Equal,
    }
}
