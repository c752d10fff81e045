/**
 * Fan-out of applied events to watchers (etcd's watchableStore / watcherGroup). After every
 * applied batch the store hands the batch's events here, in revision order; each event reaches
 * the watchers whose key, prefix or range holds its key.
 *
 * Matching costs do not grow with the number of watchers of a kind: single keys are one Map
 * lookup; prefixes one Map lookup per distinct prefix length (a key's own prefixes); other ranges
 * a stabbing query on a centered interval tree, O(log n + matches).
 */

import { compareBytes, prefixEnd } from '../codec/bytes.js';
import { latin1 } from '../codec/latin1.js';
import { EventsMode, type WatchEvent } from '../types.js';
import { buildIntervalTree, stabIntervalTree, type Interval, type IntervalNode } from './interval-tree.js';
import { closeGroup, openGroup, type Watcher } from './watcher.js';

/** The watchers of one key or prefix: a lone watcher as is (the common case), more in a Set. */
type Bucket = Watcher | Set<Watcher>;

/** How a watcher's interval is indexed. */
type Shape = { kind: 'single'; key: string } | { kind: 'prefix'; prefix: string } | { kind: 'range'; start: string; end: string | undefined };

/** Prefixes up to this length are made by latin1's fromCharCode path, without a native call. */
const SHORT_PREFIX = 12;

function str(b: Uint8Array): string {
  return latin1(b, 0, b.length);
}

/** Classifies a watcher's (key, rangeEnd) as etcd reads it. */
function shapeOf(key: Uint8Array, rangeEnd: Uint8Array): Shape {
  if (rangeEnd.length === 0) return { kind: 'single', key: str(key) };
  const fromKey = rangeEnd.length === 1 && rangeEnd[0] === 0;
  // [0x00, "from key"): every key, the empty prefix.
  if (fromKey && key.length === 1 && key[0] === 0) return { kind: 'prefix', prefix: '' };
  if (!fromKey && compareBytes(prefixEnd(key), rangeEnd) === 0) return { kind: 'prefix', prefix: str(key) };
  return { kind: 'range', start: str(key), end: fromKey ? undefined : str(rangeEnd) };
}

/** The watchers of one store, indexed by what they watch. */
export class WatchableStore {
  private readonly shapes = new Map<Watcher, Shape>();
  private readonly singles = new Map<string, Bucket>();
  /** Prefix watchers by prefix length, then by prefix. */
  private readonly prefixes = new Map<number, Map<string, Bucket>>();
  /** Distinct prefix lengths in use, ascending, and the `prefixes` entry of each. */
  private prefixLengths: number[] = [];
  private prefixMaps: Map<string, Bucket>[] = [];
  private readonly ranges = new Set<Watcher>();
  private tree: IntervalNode<Watcher> | undefined;
  private treeStale = false;
  private withPrevKv = 0;
  private readonly deliver = (w: Watcher): void => w.push(this.current!);
  private current: WatchEvent | undefined;

  /** Number of watchers. */
  get size(): number {
    return this.shapes.size;
  }

  /** The events mode apply must run with: none without watchers, previous KVs only when asked for. */
  get eventsMode(): EventsMode {
    if (this.shapes.size === 0) return EventsMode.NONE;
    return this.withPrevKv > 0 ? EventsMode.EVENTS_WITH_PREV : EventsMode.EVENTS;
  }

  /** Starts routing events to `w` (by its key, prefix or range). */
  add(w: Watcher): void {
    if (this.shapes.has(w)) return;
    const shape = shapeOf(w.key, w.rangeEnd);
    this.shapes.set(w, shape);
    if (w.prevKv) this.withPrevKv++;
    switch (shape.kind) {
      case 'single':
        addTo(this.singles, shape.key, w);
        break;
      case 'prefix': {
        const len = shape.prefix.length;
        let byPrefix = this.prefixes.get(len);
        if (byPrefix === undefined) {
          byPrefix = new Map();
          this.prefixes.set(len, byPrefix);
          this.indexLengths();
        }
        addTo(byPrefix, shape.prefix, w);
        break;
      }
      case 'range':
        this.ranges.add(w);
        this.treeStale = true;
    }
  }

  /** Stops routing events to `w`. Safe during {@link notify}. */
  remove(w: Watcher): void {
    const shape = this.shapes.get(w);
    if (shape === undefined) return;
    this.shapes.delete(w);
    if (w.prevKv) this.withPrevKv--;
    switch (shape.kind) {
      case 'single':
        removeFrom(this.singles, shape.key, w);
        break;
      case 'prefix': {
        const len = shape.prefix.length;
        const byPrefix = this.prefixes.get(len)!;
        removeFrom(byPrefix, shape.prefix, w);
        if (byPrefix.size === 0) {
          this.prefixes.delete(len);
          this.indexLengths();
        }
        break;
      }
      case 'range':
        this.ranges.delete(w);
        this.treeStale = true;
    }
  }

  /** New arrays (notify may be iterating the old ones). */
  private indexLengths(): void {
    this.prefixLengths = [...this.prefixes.keys()].sort((a, b) => a - b);
    this.prefixMaps = this.prefixLengths.map((l) => this.prefixes.get(l)!);
  }

  /** Every watcher (for closing). */
  watchers(): Watcher[] {
    return [...this.shapes.keys()];
  }

  /** Hands each event, in order, to every watcher whose interval holds its key. */
  notify(events: readonly WatchEvent[]): void {
    if (this.shapes.size === 0 || events.length === 0) return;
    if (this.treeStale) {
      const intervals: Interval<Watcher>[] = [];
      for (const w of this.ranges) {
        const s = this.shapes.get(w) as Extract<Shape, { kind: 'range' }>;
        intervals.push({ start: s.start, end: s.end, value: w });
      }
      this.tree = buildIntervalTree(intervals);
      this.treeStale = false;
    }
    const deliver = this.deliver;
    const hasPrefixes = this.prefixLengths.length > 0;
    const hasRanges = this.ranges.size > 0;
    const needKey = hasRanges || this.singles.size > 0; // neither can grow during notify
    const previous = openGroup();
    try {
      for (const ev of events) {
        this.current = ev;
        const key = ev.kv.key;
        // The whole key as a string only when needed: a short prefix is cheaper made from the bytes.
        let k = needKey ? str(key) : undefined;
        const single = k === undefined ? undefined : this.singles.get(k);
        if (single !== undefined) pushTo(single, ev);
        if (hasPrefixes) {
          const lengths = this.prefixLengths;
          const maps = this.prefixMaps;
          for (let i = 0; i < lengths.length; i++) {
            const len = lengths[i]!;
            if (len > key.length) break;
            let p: string;
            if (k === undefined && len <= SHORT_PREFIX) p = latin1(key, 0, len);
            else {
              k ??= str(key);
              p = len === k.length ? k : k.slice(0, len);
            }
            const bucket = maps[i]!.get(p);
            if (bucket !== undefined) pushTo(bucket, ev);
          }
        }
        if (hasRanges) stabIntervalTree(this.tree, k!, deliver);
      }
    } finally {
      this.current = undefined;
      closeGroup(previous);
    }
  }
}

function addTo<K>(map: Map<K, Bucket>, key: K, w: Watcher): void {
  const b = map.get(key);
  if (b === undefined) map.set(key, w);
  else if (b instanceof Set) b.add(w);
  else if (b !== w) map.set(key, new Set([b, w]));
}

function removeFrom<K>(map: Map<K, Bucket>, key: K, w: Watcher): void {
  const b = map.get(key);
  if (b instanceof Set) {
    b.delete(w); // stays a Set even with one left: notify may be iterating it
    if (b.size === 0) map.delete(key);
  } else if (b === w) {
    map.delete(key);
  }
}

/** for-of, not forEach: no callback per watcher. During notify a watcher only removes itself. */
function pushTo(b: Bucket, ev: WatchEvent): void {
  if (b instanceof Set) for (const w of b) w.push(ev);
  else b.push(ev);
}
