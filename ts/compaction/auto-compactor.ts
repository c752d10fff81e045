/**
 * Auto-compaction (etcd's v3compactor), driven outside apply: it decides when and to which
 * revision to compact, then proposes a COMPACT op through the store's normal write path.
 *
 * - `{ mode: 'revision', retention: N }`: keep the last N revisions. Checked after every applied
 *   write; compacts to `revision − N` once that is at least max(⌈N/10⌉, live keys) revisions
 *   past the compacted revision. Reads at the last N revisions always work; history beyond them
 *   stays below that step, so memory is bounded under steady writes, and since a compaction
 *   visits every key (O(keys)), spacing them by at least the number of keys keeps its cost O(1)
 *   per write, amortised. (etcd instead compacts every 5 minutes in this mode.)
 * - `{ mode: 'periodic', periodMs }`: keep `periodMs` of history. Samples the revision every
 *   tenth of the period (at most every 6 minutes, as etcd's 1 h cap) and compacts to the newest
 *   sample at least `periodMs` old. Time comes from the store's clock, so tests drive it.
 */

import type { LeaseClock } from '../lease/lessor.js';

import type { AutoCompactionOptions } from '../types.js';
export type { AutoCompactionOptions } from '../types.js';

/** What the compactor needs from the store. */
export interface CompactorHost {
  /** Current revision, compacted revision (−1 when never compacted) and number of live keys. */
  revisions(): { revision: number; compactRevision: number; size: number };
  /** Proposes a COMPACT to `revision` through the write path; resolves once applied. */
  compact(revision: number): Promise<void>;
}

const MAX_SAMPLE_INTERVAL_MS = 360_000;

/** Runs one auto-compaction policy. */
export class AutoCompactor {
  private readonly samples: Array<{ at: number; revision: number }> = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private busy = false;
  /** Settles once the compaction in flight (if any) is applied. */
  running: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: CompactorHost,
    readonly options: AutoCompactionOptions,
    private readonly clock: LeaseClock,
  ) {
    if (options.mode === 'periodic') {
      const every = Math.max(1, Math.min(options.periodMs / 10, MAX_SAMPLE_INTERVAL_MS));
      this.timer = setInterval(() => {
        try {
          this.check();
        } catch {
          // Closed under the timer; nothing to do.
        }
      }, every);
      this.timer.unref();
    }
  }

  /** Called by the store after every applied write (revision mode acts here). */
  afterWrite(revision: number): void {
    if (this.options.mode !== 'revision' || this.busy) return;
    const { retention } = this.options;
    const target = revision - retention;
    if (target <= 0) return;
    const { compactRevision, size } = this.host.revisions();
    if (target - Math.max(compactRevision, 0) >= Math.max(1, Math.ceil(retention / 10), size)) this.run(target);
  }

  /**
   * One check now: revision mode compacts when due (as after a write); periodic mode records a
   * sample and compacts to the newest sample older than the period. Returns the revision
   * compacted to, or undefined. The timer calls it; tests call it after moving a fake clock.
   */
  check(): number | undefined {
    const { revision, compactRevision } = this.host.revisions();
    if (this.options.mode === 'revision') {
      const target = revision - this.options.retention;
      if (target > 0 && target > compactRevision) return this.run(target);
      return undefined;
    }
    const now = this.clock.now();
    this.samples.push({ at: now, revision });
    const cutoff = now - this.options.periodMs;
    let target: number | undefined;
    while (this.samples.length > 0 && this.samples[0]!.at <= cutoff) target = this.samples.shift()!.revision;
    if (target === undefined || target <= compactRevision) return undefined;
    return this.run(target);
  }

  /** Stops the timer. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private run(target: number): number | undefined {
    if (this.busy) return undefined;
    this.busy = true;
    // A compaction that fails (the store closed, or a race with a manual compact) is retried by a later check.
    this.running = this.host.compact(target).then(
      () => void (this.busy = false),
      () => void (this.busy = false),
    );
    return target;
  }
}
