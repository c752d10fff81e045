/**
 * The BatchProposer: every proposal made while the previous append is in flight goes into the
 * next log entry; when the log is idle the pending proposals are flushed at the end of the
 * current tick (a microtask, never a timer). Entries are capped by ops and bytes; the entries
 * sealed meanwhile go to the log together as one append (one fsync for the file log).
 *
 * Waiting callers are resolved by proposal id when the apply loop applies the entry that carries
 * their proposal ({@link BatchProposer.settle}), so a write resolves after it is applied.
 */

import { BATCH_HEADER_BYTES } from '../codec/constants.js';
import { MetaStoreError, withOpIndex } from '../errors.js';
import type { ResolvedProposerOptions } from '../facade/open-options.js';
import type { BatchResult, OpResult } from '../types.js';
import { EntryBuilder, type EntryView } from './entry.js';
import type { Log } from './log.js';
import { ProposalResult } from './proposal-result.js';

export type { ProposerOptions } from '../types.js';

/** Counters of a {@link BatchProposer} since open. */
export interface ProposerStats {
  /** Proposals made (one per write call). */
  proposals: number;
  /** Ops in them. */
  ops: number;
  /** Log entries they were coalesced into. */
  entries: number;
  /** Log appends (group writes; for the file log each is one fdatasync). */
  appends: number;
  /** ops / entries. */
  averageOpsPerEntry: number;
  /** ops / appends. */
  averageOpsPerAppend: number;
}

/** Turns a one-op proposal's result into what its caller resolves with (throwing rejects instead). */
export type ResultShape<T> = (result: OpResult) => T;

type Resolve = (value: unknown) => void;
type Reject = (error: unknown) => void;
const RESOLVED = Promise.resolve();

/** The result of op `firstOp` of an entry, as op 0 of its own proposal. */
function firstResult(result: BatchResult, firstOp: number): OpResult {
  const r = result.result(firstOp);
  return r.type === 'error' ? { type: 'error', revision: r.revision, error: withOpIndex(r.error, 0) } : r;
}

/**
 * The callers waiting for their proposals, by counter. Counters are consecutive and proposals
 * are settled in counter order (entries are applied in the order they were sealed), so a ring
 * indexed by counter replaces a map, with no object per waiter.
 */
class Waiters {
  private resolves: Array<Resolve | undefined> = new Array(256).fill(undefined);
  private rejects: Array<Reject | undefined> = new Array(256).fill(undefined);
  private shapes: Array<ResultShape<unknown> | undefined> = new Array(256).fill(undefined);
  private mask = 255;
  /** Counters `oldest … newest` may still be waiting (settled ones inside are cleared slots). */
  oldest = 1;
  newest = 0;
  /** Waiters not yet settled. */
  size = 0;

  add(counter: number, resolve: Resolve, reject: Reject, shape: ResultShape<unknown> | undefined): void {
    if (this.size === 0) this.oldest = counter;
    while (counter - this.oldest > this.mask) this.grow();
    const slot = counter & this.mask;
    this.resolves[slot] = resolve;
    this.rejects[slot] = reject;
    this.shapes[slot] = shape;
    this.newest = counter;
    this.size++;
  }

  /** Slot of a counter still waiting, or −1. */
  slotOf(counter: number): number {
    if (counter < this.oldest || counter > this.newest) return -1;
    const slot = counter & this.mask;
    return this.resolves[slot] === undefined ? -1 : slot;
  }

  resolveOf(slot: number): Resolve {
    return this.resolves[slot]!;
  }

  rejectOf(slot: number): Reject {
    return this.rejects[slot]!;
  }

  shapeOf(slot: number): ResultShape<unknown> | undefined {
    return this.shapes[slot];
  }

  /** Forgets the waiter of `counter` (settled). */
  clear(counter: number, slot: number): void {
    this.resolves[slot] = undefined;
    this.rejects[slot] = undefined;
    this.shapes[slot] = undefined;
    this.size--;
    if (counter === this.oldest) {
      // Skip slots already settled (rejected when the log failed) so `oldest` stays the oldest waiting.
      do this.oldest++;
      while (this.oldest <= this.newest && this.resolves[this.oldest & this.mask] === undefined);
    }
  }

  private grow(): void {
    const size = (this.mask + 1) * 2;
    const mask = size - 1;
    const resolves: Array<Resolve | undefined> = new Array(size).fill(undefined);
    const rejects: Array<Reject | undefined> = new Array(size).fill(undefined);
    const shapes: Array<ResultShape<unknown> | undefined> = new Array(size).fill(undefined);
    for (let c = this.oldest; c <= this.newest; c++) {
      resolves[c & mask] = this.resolves[c & this.mask];
      rejects[c & mask] = this.rejects[c & this.mask];
      shapes[c & mask] = this.shapes[c & this.mask];
    }
    this.resolves = resolves;
    this.rejects = rejects;
    this.shapes = shapes;
    this.mask = mask;
  }
}

export const DEFAULT_MAX_ENTRY_OPS = 4096;
export const DEFAULT_MAX_ENTRY_BYTES = 4 << 20;
export const DEFAULT_MAX_APPENDS_IN_FLIGHT = 2;
export const DEFAULT_FLUSH_AT_OPS = 128;

export class BatchProposer {
  private readonly builder: EntryBuilder;
  private sealed: Uint8Array[] = [];
  private counter = 0;
  /** Highest counter whose entry the log committed. */
  private committedThrough = 0;
  /** Highest counter handed to the log. */
  private appendedThrough = 0;
  private readonly waiters = new Waiters();
  /** Set by {@link BatchProposer.capture} while a proposal's promise is made. */
  private capturedResolve: Resolve | undefined;
  private capturedReject: Reject | undefined;
  /** One promise executor for every proposal (no closure per proposal). */
  private readonly capture = (resolve: Resolve, reject: Reject): void => {
    this.capturedResolve = resolve;
    this.capturedReject = reject;
  };
  /** Appends issued and not yet complete. */
  private inFlight = 0;
  private scheduled = false;
  private failure: MetaStoreError | undefined;
  private idleWaiters: Array<() => void> = [];
  private readonly maxOps: number;
  private readonly maxBytes: number;
  private readonly maxInFlight: number;
  private readonly flushAtOps: number;
  private readonly counts = { proposals: 0, ops: 0, entries: 0, appends: 0 };
  /** Highest counter of each append in flight, oldest first (appends complete in the order they were made). */
  private readonly appendsThrough: number[] = [];
  private readonly appended = (): void => {
    this.inFlight--;
    this.committedThrough = Math.max(this.committedThrough, this.appendsThrough.shift()!);
    // What arrived during the append goes now: it has waited one append already.
    if (this.failure === undefined && (this.builder.proposals > 0 || this.sealed.length > 0)) this.flush();
    else this.checkIdle();
  };
  private readonly appendFailed = (e: unknown): void => {
    this.inFlight--;
    this.appendsThrough.shift();
    this.fail(e);
  };
  private readonly flushTask = (): void => {
    this.scheduled = false;
    this.flush();
  };

  constructor(
    private readonly log: Log,
    /** Node id and boot epoch: with the counter they make every proposal id unique. */
    readonly node: number,
    readonly epoch: number,
    /** Static validation of a proposal's batch (throws a MetaStoreError, nothing proposed). */
    private readonly validate: (batch: Uint8Array) => void,
    options: ResolvedProposerOptions,
  ) {
    this.builder = new EntryBuilder(node, epoch);
    this.maxOps = options.maxEntryOps;
    this.maxBytes = options.maxEntryBytes;
    this.maxInFlight = options.maxAppendsInFlight;
    this.flushAtOps = options.flushAtOps;
  }

  /** The error that stopped the log, if it failed. */
  get failed(): MetaStoreError | undefined {
    return this.failure;
  }

  /**
   * Proposes an encoded batch; resolves with its results once the entry carrying it is applied.
   * Throws at once (nothing proposed) when the batch fails validation or the log has failed.
   */
  propose(batch: Uint8Array): Promise<BatchResult> {
    return this.enqueue(batch, undefined) as Promise<BatchResult>;
  }

  /**
   * Proposes a batch of one op and resolves with `shape` of that op's result (the result
   * {@link propose}'s `.result(0)` would give), or rejects with what `shape` throws: the
   * caller's promise is settled by the apply loop itself, without a result object or a hop.
   */
  proposeOne<T>(batch: Uint8Array, shape: ResultShape<T>): Promise<T> {
    return this.enqueue(batch, shape) as Promise<T>;
  }

  private enqueue(batch: Uint8Array, shape: ResultShape<unknown> | undefined): Promise<unknown> {
    if (this.failure !== undefined) throw this.failure;
    this.validate(batch);
    const ops = batch[4]! | (batch[5]! << 8) | (batch[6]! << 16) | (batch[7]! << 24);
    const b = this.builder;
    if (b.proposals > 0 && (b.opCount + ops > this.maxOps || b.bytes + batch.length - BATCH_HEADER_BYTES > this.maxBytes)) {
      this.sealEntry();
    }
    const counter = ++this.counter;
    b.add(counter, batch, ops);
    this.counts.proposals++;
    this.counts.ops += ops;
    const promise = new Promise(this.capture);
    this.waiters.add(counter, this.capturedResolve!, this.capturedReject!, shape);
    this.capturedResolve = undefined;
    this.capturedReject = undefined;
    if (this.inFlight < this.maxInFlight) {
      if (b.opCount >= this.flushAtOps) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        // A promise job rather than queueMicrotask, which wraps every task in an AsyncResource.
        void RESOLVED.then(this.flushTask);
      }
    }
    return promise;
  }

  /**
   * Resolves the waiters of an applied entry's proposals (those made here, in this boot) with
   * their share of `result`, or rejects them with `error` when the whole entry was refused.
   * `refused` says which of the two `result` is (the caller knows; `instanceof` is a call here).
   */
  settle(entry: EntryView, result: BatchResult | MetaStoreError, revisionBefore: number, refused = result instanceof MetaStoreError): void {
    const waiters = this.waiters;
    if (waiters.size > 0) {
      const applied = result as BatchResult; // read only when not refused
      const node = this.node;
      const epoch = this.epoch;
      for (let i = 0, nextOp = 0; i < entry.proposals; i++) {
        const firstOp = nextOp;
        const opCount = entry.opCountAt(i);
        nextOp += opCount;
        if (entry.nodeAt(i) !== node || entry.epochAt(i) !== epoch) continue;
        const counter = entry.counterAt(i);
        const slot = waiters.slotOf(counter);
        if (slot < 0) continue;
        const resolve = waiters.resolveOf(slot);
        const reject = waiters.rejectOf(slot);
        const shape = waiters.shapeOf(slot);
        waiters.clear(counter, slot);
        if (refused) {
          reject(result);
          continue;
        }
        if (shape === undefined) {
          resolve(new ProposalResult(applied, firstOp, opCount, revisionBefore));
          continue;
        }
        let shaped: unknown;
        try {
          shaped = shape(opCount === 1 ? firstResult(applied, firstOp) : new ProposalResult(applied, firstOp, opCount, revisionBefore).result(0));
        } catch (e) {
          reject(e);
          continue;
        }
        resolve(shaped);
      }
    }
    this.checkIdle();
  }

  /** Resolves once nothing is pending, in flight or waiting to be applied. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    if (this.inFlight < this.maxInFlight && !this.scheduled) this.flush();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stats(): ProposerStats {
    const { proposals, ops, entries, appends } = this.counts;
    return {
      proposals,
      ops,
      entries,
      appends,
      averageOpsPerEntry: entries === 0 ? 0 : ops / entries,
      averageOpsPerAppend: appends === 0 ? 0 : ops / appends,
    };
  }

  private isIdle(): boolean {
    return this.waiters.size === 0 && this.inFlight === 0 && this.builder.proposals === 0 && this.sealed.length === 0;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length > 0 && this.isIdle()) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private sealEntry(): void {
    this.sealed.push(this.builder.seal());
    this.counts.entries++;
  }

  private flush(): void {
    if (this.inFlight >= this.maxInFlight || this.failure !== undefined) return;
    if (this.builder.proposals > 0) this.sealEntry();
    if (this.sealed.length === 0) return;
    const entries = this.sealed;
    this.sealed = [];
    const through = this.counter;
    this.appendedThrough = through;
    this.inFlight++;
    this.counts.appends++;
    this.appendsThrough.push(through);
    this.log.append(entries).then(this.appended, this.appendFailed);
  }

  /** The state can no longer follow the log: every waiting proposal fails, and later ones too. */
  abort(cause: MetaStoreError): void {
    this.committedThrough = 0;
    this.appendedThrough = Number.POSITIVE_INFINITY;
    this.fail(cause);
  }

  /**
   * The log failed: proposals of the failed append have an unknown outcome; the ones not yet
   * appended were not applied. Either way the caller decides whether to retry.
   */
  private fail(cause: unknown): void {
    if (this.failure !== undefined) {
      // A later append of the same failure: its waiters were rejected with the first one.
      this.checkIdle();
      return;
    }
    const detail = cause instanceof Error ? cause.message : String(cause);
    this.failure = new MetaStoreError('ERR_LOG_FAILED', `the log failed and stopped taking writes; reopen the store: ${detail}`, { cause });
    const unknown = new MetaStoreError(
      'ERR_OUTCOME_UNKNOWN',
      `the log failed while this write was being appended; it may or may not be applied after a restart: ${detail}`,
      {
        cause,
      },
    );
    const waiters = this.waiters;
    for (let counter = Math.max(waiters.oldest, this.committedThrough + 1); counter <= waiters.newest && waiters.size > 0; counter++) {
      // Committed entries still queued for apply settle normally.
      const slot = waiters.slotOf(counter);
      if (slot < 0) continue;
      const reject = waiters.rejectOf(slot);
      waiters.clear(counter, slot);
      reject(counter <= this.appendedThrough ? unknown : this.failure);
    }
    this.builder.seal();
    this.sealed = [];
    this.checkIdle();
  }
}
