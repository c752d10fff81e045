/**
 * Op scripts that run unchanged on etcd and on our engines, and the two runners. A script is a list of
 * steps; each top-level step is ONE etcd request, and on our side ONE batch with one op
 * (`engine.applyBatch(BatchWriter...)`), or one engine read for the lease/watch queries. Every step's
 * outcome comes back in the normalized form of ./normalize.ts.
 *
 * Keys and values are latin-1 strings (one char = one byte, so "\xff" is the byte 0xff). Lease ids are
 * literal numbers, or the name of a `grant` step with id 0 (the id that grant got on that target).
 */

import { BatchWriter } from '../../ts/codec.js';
import { MetaStoreError } from '../../ts/errors.js';
import type { CompareResult, CompareTarget, Engine, SortOrder, SortTarget } from '../../ts/types.js';
import { EtcdError, type EtcdServer, type PbCompare, type PbRangeRequest, type PbRequestOp, type PbTxnRequest } from './harness.js';
import {
  bytes,
  EtcdNormalizer,
  LeaseBook,
  normEtcdError,
  OurNormalizer,
  RevisionMap,
  show,
  type LeaseRef,
  type NEvent,
  type NRes,
  type SortSpec,
  type TxnSpecs,
} from './normalize.js';

export interface PutStep {
  op: 'put';
  key: string;
  value: string;
  lease?: LeaseRef;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

export interface DeleteStep {
  op: 'delete';
  key: string;
  /** Empty/absent: the single key. */
  end?: string;
  prevKv?: boolean;
}

export interface RangeStep {
  op: 'range';
  key: string;
  end?: string;
  limit?: number;
  revision?: number;
  /** 0 NONE, 1 ASCEND, 2 DESCEND (anything else: see the invalid-sort golden case). */
  sortOrder?: number;
  /** 0 KEY, 1 VERSION, 2 CREATE, 3 MOD, 4 VALUE. */
  sortTarget?: number;
  keysOnly?: boolean;
  countOnly?: boolean;
  serializable?: boolean;
  minMod?: number;
  maxMod?: number;
  minCreate?: number;
  maxCreate?: number;
}

/**
 * A compare. `operand` is a number for VERSION/CREATE/MOD, a latin-1 string for VALUE, a lease ref
 * for LEASE; absent = etcd's `target_union` left unset (compares against 0 / empty, which our codec
 * writes as operand 0 / empty value).
 */
export interface CompareStep {
  key: string;
  end?: string;
  /** 0 VERSION, 1 CREATE, 2 MOD, 3 VALUE, 4 LEASE. */
  target: number;
  /** 0 EQUAL, 1 GREATER, 2 LESS, 3 NOT_EQUAL. */
  result: number;
  operand?: number | string;
}

/** etcd's empty RequestOp (no request set). Not expressible in our codec: etcd-only cases. */
export interface EmptyOpStep {
  op: 'emptyOp';
}

export type TxnOpStep = PutStep | DeleteStep | RangeStep | TxnStep | EmptyOpStep;

export interface TxnStep {
  op: 'txn';
  compare: CompareStep[];
  success: TxnOpStep[];
  failure: TxnOpStep[];
}

export interface GrantStep {
  op: 'grant';
  /** 0: the server/engine picks (then give it a `name` to refer to it). */
  id: number;
  ttl: number;
  name?: string;
}

export interface RevokeStep {
  op: 'revoke';
  id: LeaseRef;
}

export interface CompactStep {
  op: 'compact';
  revision: number;
  physical?: boolean;
}

export interface TimeToLiveStep {
  op: 'timeToLive';
  id: LeaseRef;
  keys?: boolean;
}

export interface LeasesStep {
  op: 'leases';
}

/** etcd: a Watch from `start` (flattened replay); ours: `engine.changes(start, ...)`. */
export interface WatchStep {
  op: 'watch';
  key: string;
  end?: string;
  start: number;
  prevKv?: boolean;
}

export type Step = TxnOpStep | GrantStep | RevokeStep | CompactStep | TimeToLiveStep | LeasesStep | WatchStep;

// ---------------------------------------------------------------------------------------------
// Request-side specs the normalizers need (sort options of ranges inside txns).

export function specOf(step: TxnOpStep): SortSpec | TxnSpecs | undefined {
  if (step.op === 'range') return { sortOrder: step.sortOrder ?? 0, sortTarget: step.sortTarget ?? 0, keysOnly: step.keysOnly ?? false };
  if (step.op === 'txn') return { success: step.success.map(specOf), failure: step.failure.map(specOf) };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Our engines.

function writeTxnOp(w: BatchWriter, step: TxnOpStep, book: LeaseBook): void {
  switch (step.op) {
    case 'put':
      w.put(bytes(step.key), bytes(step.value), {
        lease: Number(book.resolve(step.lease)),
        prevKv: step.prevKv,
        ignoreValue: step.ignoreValue,
        ignoreLease: step.ignoreLease,
      });
      return;
    case 'delete':
      w.deleteRange(bytes(step.key), bytes(step.end ?? ''), step.prevKv ?? false);
      return;
    case 'range':
      w.range(bytes(step.key), {
        rangeEnd: bytes(step.end ?? ''),
        limit: step.limit,
        revision: step.revision,
        sortOrder: step.sortOrder as SortOrder | undefined,
        sortTarget: step.sortTarget as SortTarget | undefined,
        keysOnly: step.keysOnly,
        countOnly: step.countOnly,
        serializable: step.serializable,
        minModRevision: step.minMod,
        maxModRevision: step.maxMod,
        minCreateRevision: step.minCreate,
        maxCreateRevision: step.maxCreate,
      });
      return;
    case 'txn':
      w.txn(
        step.compare.map((c) => ({
          key: bytes(c.key),
          rangeEnd: bytes(c.end ?? ''),
          target: c.target as CompareTarget,
          result: c.result as CompareResult,
          operand: c.operand === undefined || c.target === 3 ? 0 : c.target === 4 ? Number(book.resolve(c.operand)) : Number(c.operand),
          value: c.target === 3 && c.operand !== undefined ? bytes(String(c.operand)) : undefined,
        })),
        (s) => step.success.forEach((o) => writeTxnOp(s, o, book)),
        (f) => step.failure.forEach((o) => writeTxnOp(f, o, book)),
      );
      return;
    case 'emptyOp':
      throw new NotExpressible('the op codec has no empty RequestOp');
  }
}

/** A step our codec cannot carry (etcd-only golden cases). */
export class NotExpressible extends Error {}

/** Runs steps on one engine, one op per batch. */
export class EngineRunner {
  readonly leases = new LeaseBook();
  readonly norm = new OurNormalizer(this.leases);
  private readonly w = new BatchWriter();

  constructor(readonly engine: Engine) {
    if (engine.revision !== 1) throw new Error(`expected a fresh engine at revision 1, got ${engine.revision}`);
  }

  run(step: Step): NRes {
    const e = this.engine;
    switch (step.op) {
      case 'timeToLive': {
        const info = e.leaseInfo(Number(this.leases.resolve(step.id)));
        if (!info) return { type: 'timeToLive', found: false, grantedTtl: 0, keys: [] };
        return { type: 'timeToLive', found: true, grantedTtl: info.ttl, keys: step.keys ? info.keys.map((k) => show(k)).sort() : [] };
      }
      case 'leases':
        return { type: 'leases', ids: sortLabels(e.leases().map((id) => this.leases.label(id))) };
      case 'watch': {
        try {
          const events = e.changes(step.start, bytes(step.key), bytes(step.end ?? ''), step.prevKv ?? false);
          return { type: 'watch', canceled: false, compactRevision: 0, events: events.map((ev) => this.norm.event(ev)) };
        } catch (err) {
          if (err instanceof MetaStoreError && err.code === 'ERR_COMPACTED') {
            return { type: 'watch', canceled: true, compactRevision: e.compactRevision, events: [] };
          }
          throw err;
        }
      }
      default:
        break;
    }
    const w = this.w.reset();
    try {
      switch (step.op) {
        case 'grant':
          w.leaseGrant(step.id, step.ttl);
          break;
        case 'revoke':
          w.leaseRevoke(Number(this.leases.resolve(step.id)));
          break;
        case 'compact':
          w.compact(step.revision, step.physical ?? false);
          break;
        case 'range':
          if ((step.sortOrder ?? 0) > 2 || (step.sortTarget ?? 0) > 4) return this.runBadSort(step);
          writeTxnOp(w, step, this.leases);
          break;
        default:
          writeTxnOp(w, step, this.leases);
      }
      const batch = e.applyBatch(w.peek());
      if (batch.size !== 1) throw new Error(`a one-op batch gave ${batch.size} results`);
      const r = batch.result(0);
      if (step.op === 'grant' && r.type === 'leaseGrant') this.leases.granted(r.id, step.name);
      return this.norm.result(r, step.op === 'range' || step.op === 'txn' ? specOf(step) : undefined);
    } catch (err) {
      if (err instanceof MetaStoreError) return this.norm.error(err);
      throw err;
    }
  }

  /**
   * A top-level range with an out-of-range sort enum: the BatchWriter refuses to write one, so write a
   * valid range and patch the two enum bytes (RANGE op: type, flags, sortOrder, sortTarget) to hand
   * the engine the bad bytes.
   */
  private runBadSort(step: RangeStep): NRes {
    const w = this.w.reset();
    writeTxnOp(w, { ...step, sortOrder: 0, sortTarget: 0 }, this.leases);
    const batch = w.finish();
    batch[8 + 2] = step.sortOrder ?? 0;
    batch[8 + 3] = step.sortTarget ?? 0;
    try {
      return this.norm.result(this.engine.applyBatch(batch).result(0));
    } catch (err) {
      if (err instanceof MetaStoreError) return this.norm.error(err);
      throw err;
    }
  }

  runAll(steps: readonly Step[]): NRes[] {
    return steps.map((s) => this.run(s));
  }
}

function sortLabels(ids: Array<0 | string>): Array<0 | string> {
  return ids.map(String).sort() as Array<0 | string>;
}

// ---------------------------------------------------------------------------------------------
// etcd.

/**
 * A bytes field of a request: absent when empty. protobufjs writes an explicitly set empty Buffer on the
 * wire, Go then sees a non-nil empty slice, and etcd 3.4.23's index treats a non-nil empty range_end
 * as "no upper bound" (a from-key range). Go clients never send empty bytes fields; neither do we.
 */
function pbBytes(s: string | undefined): Buffer | undefined {
  return s ? bytes(s) : undefined;
}

export class EtcdRunner {
  readonly leases = new LeaseBook();
  readonly revisions: RevisionMap;
  readonly norm: EtcdNormalizer;

  constructor(readonly server: EtcdServer) {
    this.revisions = new RevisionMap(server.freshRevision);
    this.norm = new EtcdNormalizer(this.revisions, this.leases);
  }

  private rangeReq(s: RangeStep): PbRangeRequest {
    const rv = (n: number | undefined) => this.revisions.in(n ?? 0);
    return {
      key: pbBytes(s.key) as Buffer,
      range_end: pbBytes(s.end),
      limit: s.limit ?? 0,
      revision: rv(s.revision),
      sort_order: s.sortOrder ?? 0,
      sort_target: s.sortTarget ?? 0,
      serializable: s.serializable ?? false,
      keys_only: s.keysOnly ?? false,
      count_only: s.countOnly ?? false,
      min_mod_revision: rv(s.minMod),
      max_mod_revision: rv(s.maxMod),
      min_create_revision: rv(s.minCreate),
      max_create_revision: rv(s.maxCreate),
    };
  }

  private compare(c: CompareStep): PbCompare {
    const pb: PbCompare = { result: c.result, target: c.target, key: pbBytes(c.key) as Buffer, range_end: pbBytes(c.end) };
    if (c.operand !== undefined) {
      switch (c.target) {
        case 0:
          pb.version = Number(c.operand);
          break;
        case 1:
          pb.create_revision = this.revisions.in(Number(c.operand));
          break;
        case 2:
          pb.mod_revision = this.revisions.in(Number(c.operand));
          break;
        case 3:
          pb.value = bytes(String(c.operand));
          break;
        case 4:
          pb.lease = this.leases.resolve(c.operand);
          break;
      }
    }
    return pb;
  }

  private requestOp(s: TxnOpStep): PbRequestOp {
    switch (s.op) {
      case 'put':
        return { request_put: this.putReq(s) };
      case 'delete':
        return { request_delete_range: { key: pbBytes(s.key) as Buffer, range_end: pbBytes(s.end), prev_kv: s.prevKv ?? false } };
      case 'range':
        return { request_range: this.rangeReq(s) };
      case 'txn':
        return { request_txn: this.txnReq(s) };
      case 'emptyOp':
        return {};
    }
  }

  private txnReq(s: TxnStep): PbTxnRequest {
    return {
      compare: s.compare.map((c) => this.compare(c)),
      success: s.success.map((o) => this.requestOp(o)),
      failure: s.failure.map((o) => this.requestOp(o)),
    };
  }

  private putReq(s: PutStep) {
    return {
      key: pbBytes(s.key) as Buffer,
      value: pbBytes(s.value),
      lease: this.leases.resolve(s.lease),
      prev_kv: s.prevKv ?? false,
      ignore_value: s.ignoreValue ?? false,
      ignore_lease: s.ignoreLease ?? false,
    };
  }

  async run(step: Step): Promise<NRes> {
    if (step.op === 'range' && ((step.sortOrder ?? 0) > 2 || (step.sortTarget ?? 0) > 4)) {
      // etcd 3.4.23 dereferences nil on a bad sort target (#13554) and takes the whole server down.
      throw new NotExpressible('bad sort enums are never sent to etcd 3.4.23 (etcd issue #13554)');
    }
    const c = this.server.client;
    const n = this.norm;
    try {
      switch (step.op) {
        case 'put': {
          const r = await c.put(this.putReq(step));
          return { type: 'put', revision: n.headerRevision(r.header), prevKv: r.prev_kv ? n.kv(r.prev_kv) : null };
        }
        case 'delete': {
          const r = await c.deleteRange({ key: pbBytes(step.key) as Buffer, range_end: pbBytes(step.end), prev_kv: step.prevKv ?? false });
          return { type: 'deleteRange', revision: n.headerRevision(r.header), deleted: Number(r.deleted), prevKvs: r.prev_kvs.map((kv) => n.kv(kv)) };
        }
        case 'range':
          return n.range(await c.range(this.rangeReq(step)), specOf(step) as SortSpec);
        case 'txn':
          return n.txn(await c.txn(this.txnReq(step)), specOf(step) as TxnSpecs);
        case 'emptyOp':
          throw new Error('emptyOp only exists inside a txn branch');
        case 'grant': {
          const r = await c.leaseGrant(step.ttl, step.id);
          this.leases.granted(r.ID, step.name);
          return { type: 'leaseGrant', revision: n.headerRevision(r.header), id: this.leases.label(r.ID), ttl: Number(r.TTL) };
        }
        case 'revoke': {
          const r = await c.leaseRevoke(this.leases.resolve(step.id));
          return { type: 'leaseRevoke', revision: n.headerRevision(r.header) };
        }
        case 'compact': {
          const r = await c.compact(this.revisions.in(step.revision), step.physical ?? false);
          return { type: 'compact', revision: n.headerRevision(r.header) };
        }
        case 'timeToLive': {
          const r = await c.leaseTimeToLive(this.leases.resolve(step.id), step.keys ?? false);
          const ttl = Number(r.TTL);
          if (ttl === -1) return { type: 'timeToLive', found: false, grantedTtl: Number(r.grantedTTL), keys: [] };
          const granted = Number(r.grantedTTL);
          if (!(ttl >= 0 && ttl <= granted)) throw new Error(`etcd TimeToLive: remaining TTL ${ttl} outside 0..${granted}`);
          return { type: 'timeToLive', found: true, grantedTtl: granted, keys: r.keys.map((k) => show(k)).sort() };
        }
        case 'leases': {
          const r = await c.leaseLeases();
          return { type: 'leases', ids: sortLabels(r.leases.map((l) => this.leases.label(l.ID))) };
        }
        case 'watch':
          return await this.watch(step);
      }
    } catch (e) {
      if (e instanceof EtcdError) {
        const norm = normEtcdError(e);
        if (norm) return norm;
        throw new Error(`etcd failed on ${JSON.stringify(step)}: ${e.message}\n--- etcd log ---\n${this.server.logTail()}`, { cause: e });
      }
      throw e;
    }
  }

  /**
   * A Watch from `start`, flattened. etcd replays history asynchronously (its sync loop runs every
   * 100 ms) and sends nothing when there is nothing to replay, so "no events" needs a signal: a second
   * watcher on the same stream over ALL keys from the current revision C always has the event(s) of
   * revision C to replay, and is served in the same sync pass as ours (or a later one). Done when our
   * watcher got a response stamped >= C, or was cancelled (compacted start), or 150 ms after the
   * sentinel answered. Without any answer (C's only events dropped by #18089) give up after 3 s.
   */
  private async watch(step: WatchStep): Promise<NRes> {
    const c = this.server.client;
    const current = this.revisions.out((await c.range({ key: bytes('\0'), range_end: bytes('\0'), count_only: true })).header!.revision);
    const ws = c.watch();
    try {
      ws.create({
        key: pbBytes(step.key) as Buffer,
        range_end: pbBytes(step.end),
        start_revision: this.revisions.in(step.start),
        prev_kv: step.prevKv ?? false,
      });
      const created = await ws.next(10_000);
      if (!created?.created) throw new Error(`no created response for ${JSON.stringify(step)}: ${JSON.stringify(created)}`);
      if (created.canceled) throw new Error(`watch refused: ${created.cancel_reason}`);
      const ours = created.watch_id;
      let sentinel: string | undefined;
      // Our watcher may already be replaying: responses that arrive before the sentinel's
      // "created" are kept, in order, for the loop below.
      const early: Array<NonNullable<Awaited<ReturnType<typeof ws.next>>>> = [];
      if (current >= 2) {
        ws.create({ key: bytes('\0'), range_end: bytes('\0'), start_revision: this.revisions.in(current) });
        for (;;) {
          const made = await ws.next(10_000);
          if (!made) throw new Error('sentinel watch not created: no response within 10 s');
          if (made.created) {
            if (made.canceled) throw new Error(`sentinel watch refused: ${JSON.stringify(made)}`);
            sentinel = made.watch_id;
            break;
          }
          early.push(made);
        }
      }
      const events: NEvent[] = [];
      if (sentinel === undefined) return { type: 'watch', canceled: false, compactRevision: 0, events }; // fresh store: no history
      let graceUntil = Infinity;
      const giveUp = Date.now() + 3_000;
      for (;;) {
        const wait = Math.max(0, Math.min(graceUntil, giveUp) - Date.now());
        const r = early.shift() ?? (await ws.next(wait));
        if (!r) break;
        if (r.watch_id === sentinel) {
          if (graceUntil === Infinity) graceUntil = Date.now() + 150;
          continue;
        }
        if (r.watch_id !== ours) continue; // progress notifications (-1)
        if (r.canceled) return { type: 'watch', canceled: true, compactRevision: this.revisions.out(r.compact_revision), events };
        events.push(...r.events.map((ev) => this.norm.event(ev)));
        if (r.events.length > 0 && this.revisions.out(r.header?.revision ?? 0) >= current) break;
      }
      return { type: 'watch', canceled: false, compactRevision: 0, events };
    } finally {
      ws.close();
    }
  }

  async runAll(steps: readonly Step[]): Promise<NRes[]> {
    const out: NRes[] = [];
    for (const s of steps) out.push(await this.run(s));
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Printing scripts (for failure reports).

/** A step as one line of JSON (latin-1 bytes outside printable ASCII as \u00xx). */
export function formatStep(step: Step): string {
  return JSON.stringify(step, (_k, v: unknown) => v).replace(/[\u007f-\u00ff]/g, (ch) => `\\u00${ch.charCodeAt(0).toString(16)}`);
}

export function formatScript(steps: readonly Step[]): string {
  return steps.map((s, i) => `  ${String(i).padStart(3)}: ${formatStep(s)}`).join('\n');
}
