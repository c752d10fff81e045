/**
 * Fan-out of applied events to watchers (etcd's watchableStore / watcherGroup). After every
 * applied batch the store hands the batch's events here, in revision order; each event reaches
 * the watchers whose key, prefix or range holds its key.
 *
 * Matching costs do not grow with the number of watchers of a kind: single keys are one Map
 * lookup; prefixes one Map lookup per distinct prefix length (a key's own prefixes); other ranges
 * a stabbing query on a centered interval tree, O(log n + matches).
 */

import { compareBytes, prefixEnd } from '../bytes.js';
import { latin1 } from '../js-engine/latin1.js';
import { EventsMode, type WatchEvent } from '../types.js';
import type { Watcher } from './watcher.js';

/** How a watcher's interval is indexed. */
type Shape = { kind: 'single'; key: string } | { kind: 'prefix'; prefix: string } | { kind: 'range'; start: string; end: string | undefined };

interface Interval {
  start: string;
  /** Exclusive; undefined = no end. */
  end: string | undefined;
  watcher: Watcher;
}

/** A centered interval tree node: the intervals holding `center`, sorted both ways, and the rest below. */
interface Node {
  center: string;
  byStart: Interval[];
  byEnd: Interval[];
  left: Node | undefined;
  right: Node | undefined;
}

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

function endAfter(end: string | undefined, q: string): boolean {
  return end === undefined || end > q;
}

function build(intervals: Interval[]): Node | undefined {
  if (intervals.length === 0) return undefined;
  const starts = intervals.map((i) => i.start).sort();
  const center = starts[starts.length >> 1]!;
  const left: Interval[] = [];
  const right: Interval[] = [];
  const here: Interval[] = [];
  for (const i of intervals) {
    if (!endAfter(i.end, center)) left.push(i);
    else if (i.start > center) right.push(i);
    else here.push(i);
  }
  const byStart = [...here].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const byEnd = [...here].sort((a, b) => (a.end === b.end ? 0 : a.end === undefined ? -1 : b.end === undefined ? 1 : a.end > b.end ? -1 : 1));
  return { center, byStart, byEnd, left: build(left), right: build(right) };
}

/** Calls `fn` for each interval of the tree holding `q`. */
function stab(node: Node | undefined, q: string, fn: (w: Watcher) => void): void {
  while (node !== undefined) {
    if (q < node.center) {
      for (const i of node.byStart) {
        if (i.start > q) break;
        fn(i.watcher);
      }
      node = node.left;
    } else {
      for (const i of node.byEnd) {
        if (!endAfter(i.end, q)) break;
        fn(i.watcher);
      }
      node = q === node.center ? undefined : node.right;
    }
  }
}

/** The watchers of one store, indexed by what they watch. */
export class WatchableStore {
  private readonly shapes = new Map<Watcher, Shape>();
  private readonly singles = new Map<string, Set<Watcher>>();
  /** Prefix watchers by prefix length, then by prefix. */
  private readonly prefixes = new Map<number, Map<string, Set<Watcher>>>();
  /** Distinct prefix lengths in use, ascending. */
  private prefixLengths: number[] = [];
  private readonly ranges = new Set<Watcher>();
  private tree: Node | undefined;
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
        setOf(this.singles, shape.key).add(w);
        break;
      case 'prefix': {
        const len = shape.prefix.length;
        let byPrefix = this.prefixes.get(len);
        if (byPrefix === undefined) {
          byPrefix = new Map();
          this.prefixes.set(len, byPrefix);
          this.prefixLengths = [...this.prefixes.keys()].sort((a, b) => a - b);
        }
        setOf(byPrefix, shape.prefix).add(w);
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
          this.prefixLengths = this.prefixLengths.filter((l) => l !== len);
        }
        break;
      }
      case 'range':
        this.ranges.delete(w);
        this.treeStale = true;
    }
  }

  /** Every watcher (for closing). */
  watchers(): Watcher[] {
    return [...this.shapes.keys()];
  }

  /** Hands each event, in order, to every watcher whose interval holds its key. */
  notify(events: readonly WatchEvent[]): void {
    if (this.shapes.size === 0 || events.length === 0) return;
    if (this.treeStale) {
      const intervals: Interval[] = [];
      for (const w of this.ranges) {
        const s = this.shapes.get(w) as Extract<Shape, { kind: 'range' }>;
        intervals.push({ start: s.start, end: s.end, watcher: w });
      }
      this.tree = build(intervals);
      this.treeStale = false;
    }
    const deliver = this.deliver;
    const hasPrefixes = this.prefixLengths.length > 0;
    const hasRanges = this.ranges.size > 0;
    for (const ev of events) {
      this.current = ev;
      const k = str(ev.kv.key);
      this.singles.get(k)?.forEach(deliver);
      if (hasPrefixes) {
        for (const len of this.prefixLengths) {
          if (len > k.length) break;
          this.prefixes.get(len)?.get(len === k.length ? k : k.slice(0, len))?.forEach(deliver);
        }
      }
      if (hasRanges) stab(this.tree, k, deliver);
    }
    this.current = undefined;
  }
}

function setOf<K>(map: Map<K, Set<Watcher>>, key: K): Set<Watcher> {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}

function removeFrom<K>(map: Map<K, Set<Watcher>>, key: K, w: Watcher): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(w);
  if (set.size === 0) map.delete(key);
}
