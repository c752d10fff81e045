/**
 * One proposal's share of an applied entry's results: ops `firstOp … firstOp + size − 1` of the
 * entry, renumbered from 0.
 */

import { withOpIndex } from '../errors.js';
import type { BatchResult, OpResult, WatchEvent } from '../types.js';

export class ProposalResult implements BatchResult {
  private cachedRevision: number | undefined;

  constructor(
    private readonly entry: BatchResult,
    private readonly firstOp: number,
    readonly size: number,
    /** Store revision before the entry was applied. */
    private readonly revisionBefore: number,
  ) {}

  result(index: number): OpResult {
    if (!(index >= 0 && index < this.size)) throw new RangeError(`result index ${index} out of 0..${this.size - 1}`);
    const r = this.entry.result(this.firstOp + index);
    return r.type === 'error' ? { type: 'error', revision: r.revision, error: withOpIndex(r.error, index) } : r;
  }

  /** Store revision after this proposal's last op (other proposals in the same entry may follow it). */
  get revision(): number {
    if (this.cachedRevision === undefined) this.cachedRevision = this.revisionAfter(this.firstOp + this.size);
    return this.cachedRevision;
  }

  /** The changes this proposal's ops made (with an events mode on; empty otherwise). */
  events(): WatchEvent[] {
    const from = this.revisionAfter(this.firstOp);
    const to = this.revision;
    if (to <= from) return [];
    return this.entry.events().filter((e) => e.kv.modRevision > from && e.kv.modRevision <= to);
  }

  /** The store revision after the entry's first `ops` ops (every result, failed or not, carries it). */
  private revisionAfter(ops: number): number {
    return ops === 0 ? this.revisionBefore : this.entry.result(ops - 1).revision;
  }
}
