/**
 * Watch events (docs/codec.md, "Events" and "Engine reads beside batches"): the changes of a
 * batch, taken from the history rows it appended, and the history replay a watch with a start
 * revision needs.
 */

import { EventsMode, type WatchEvent } from '../../types.js';
import type { History } from './history.js';
import type { KeyIndex, KeyRecord } from './key-index.js';
import { bytesOf } from '../../codec/latin1.js';
import { inRange } from './range.js';

const EMPTY = new Uint8Array(0);

/**
 * The event of history row `row`: a PUT with the key-value after it, or a DELETE with the key and
 * the deletion's revision only. With `withPrev`, etcd's previous key-value: the key as it was at
 * the revision before the event's (etcd reads it at modRevision − 1), when it was live then and
 * history still has it; none for a PUT that creates the key. (The version before the event in the
 * key's chain is that one, unless one txn touched the key twice.)
 */
export function eventOf(h: History<KeyRecord>, row: number, withPrev: boolean): WatchEvent {
  const subRevision = h.sub(row);
  const main = h.main(row);
  let event: WatchEvent;
  if (h.isTombstone(row)) {
    const kv = { key: bytesOf(h.owner(row).key), value: EMPTY, createRevision: 0, modRevision: main, version: 0, lease: 0 };
    event = { type: 'delete', kv, subRevision };
  } else {
    event = { type: 'put', kv: h.keyValue(row, false), subRevision };
    if (h.ver(row) === 1) return event; // a create: etcd sends no prevKv
  }
  if (withPrev) {
    let prev = h.prev(row);
    while (prev >= 0 && h.main(prev) >= main) prev = h.prev(prev);
    // Field by field: a spread followed by another property is V8's slow path on Node 20.
    if (prev >= 0 && !h.isTombstone(prev)) return { type: event.type, kv: event.kv, subRevision: event.subRevision, prevKv: h.keyValue(prev, false) };
  }
  return event;
}

/**
 * The changes of one batch: the history rows it appends, in revision order. Compaction renumbers
 * rows and cuts links, so the batch turns the rows so far into events before each COMPACT op
 * ({@link EventCapture.take}) and once more at its end. Without events asked for there is no
 * capture at all.
 */
export class EventCapture {
  private readonly taken: WatchEvent[] = [];
  private from: number;

  constructor(
    private readonly index: KeyIndex,
    private readonly mode: EventsMode,
  ) {
    this.from = index.history.length;
  }

  /** Turns the rows appended since the last take into events. */
  take(): void {
    const h = this.index.history;
    const withPrev = this.mode === EventsMode.EVENTS_WITH_PREV;
    for (let row = this.from; row < h.length; row++) this.taken.push(eventOf(h, row, withPrev));
    this.from = h.length;
  }

  /** After compaction renumbered the rows: continue from the new end. */
  resync(): void {
    this.from = this.index.history.length;
  }

  events(): WatchEvent[] {
    return this.taken.slice();
  }
}

/**
 * The retained history with revision ≥ `from` of the keys in [key, end), in revision then
 * sub-revision order. The caller has checked `from` against the compacted revision.
 */
export function changes(index: KeyIndex, from: number, key: string, end: string, withPrev: boolean): WatchEvent[] {
  const h = index.history;
  const out: WatchEvent[] = [];
  if (end === '') {
    // One key: its own chain, newest first.
    const rec = index.records.get(key);
    for (let row = rec === undefined ? -1 : rec.head; row >= 0 && h.main(row) >= from; row = h.prev(row)) out.push(eventOf(h, row, withPrev));
    return out.reverse();
  }
  for (let row = h.firstFrom(from); row < h.length; row++) {
    if (inRange(h.owner(row).key, key, end)) out.push(eventOf(h, row, withPrev));
  }
  return out;
}
