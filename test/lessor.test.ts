/**
 * Leases through the façade (docs/etcd-semantics.md §2.9; §5 item 9) with an injected clock: grant,
 * revoke, keepAlive, timeToLive, list, expiry proposed outside apply, put flags and lease moves.
 * No timing asserts: the clock is fake and the expiry check is called directly.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BatchWriter } from '../ts/codec.js';
import { Lessor, type LeaseClock } from '../ts/lease/lessor.js';
import { MetaStore, type OpenOptions } from '../ts/store.js';
import type { Engine, LeaseInfo, WatchEvent } from '../ts/types.js';
import { ENGINE_KINDS } from './engines.js';
import { b, catchAsync, kv, nkv, show } from './helpers.js';

/** A clock tests move by hand. */
class FakeClock implements LeaseClock {
  constructor(public t = 1_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

const stores: MetaStore[] = [];
async function openStore(engine: (typeof ENGINE_KINDS)[number], options: OpenOptions = {}): Promise<[MetaStore, FakeClock]> {
  const clock = new FakeClock();
  const s = await MetaStore.open({ engine, clock, leaseCheckIntervalMs: 0, ...options });
  stores.push(s);
  return [s, clock];
}
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Lessor (unit, a fake engine)', () => {
  function fake(leases: Map<number, LeaseInfo>) {
    const revoked: number[][] = [];
    const engine = { leaseInfo: (id: number) => leases.get(id), leases: () => [...leases.keys()].sort((a, b) => a - b) } as unknown as Engine;
    const clock = new FakeClock(0);
    const lessor = new Lessor(
      {
        engine: () => engine,
        revokeExpired: async (ids) => {
          revoked.push(ids);
          for (const id of ids) leases.delete(id);
        },
      },
      { clock, checkIntervalMs: 0 },
    );
    return { lessor, clock, revoked };
  }

  it('expires leases in deadline order; renewals move deadlines; stale heap entries are skipped', () => {
    const leases = new Map<number, LeaseInfo>([
      [1, { id: 1, ttl: 5, keys: [] }],
      [2, { id: 2, ttl: 3, keys: [] }],
      [3, { id: 3, ttl: 10, keys: [] }],
    ]);
    const { lessor, clock, revoked } = fake(leases);
    lessor.promote();
    expect(lessor.checkExpired()).toEqual([]);
    clock.advance(2999);
    expect(lessor.checkExpired()).toEqual([]);
    clock.advance(1);
    expect(lessor.checkExpired()).toEqual([2]);
    for (let i = 0; i < 200; i++) expect(lessor.keepAlive(1)).toBe(5); // many stale heap entries
    clock.advance(4999);
    expect(lessor.checkExpired()).toEqual([]);
    expect(lessor.timeToLive(1, false)).toEqual({ id: 1, ttl: 0, grantedTTL: 5 });
    clock.advance(1);
    expect(lessor.checkExpired()).toEqual([1]);
    clock.advance(10_000);
    expect(lessor.checkExpired()).toEqual([3]);
    expect(revoked).toEqual([[2], [1], [3]]);
    expect(lessor.keepAlive(3)).toBe(0);
    expect(lessor.timeToLive(3, true)).toEqual({ id: 3, ttl: -1, grantedTTL: 0, keys: [] });
  });

  it('from the expiry decision until the revoke is applied, keepAlive finds no lease and timeToLive neither gives it time nor a new deadline', async () => {
    const leases = new Map<number, LeaseInfo>([[1, { id: 1, ttl: 5, keys: [] }]]);
    const engine = { leaseInfo: (id: number) => leases.get(id), leases: () => [...leases.keys()] } as unknown as Engine;
    const clock = new FakeClock(0);
    let applyRevoke = (): void => undefined;
    const lessor = new Lessor(
      {
        engine: () => engine,
        // The revoke is applied when the test says so: the lessor's decision and the apply are apart.
        revokeExpired: (ids) =>
          new Promise<void>((resolve) => {
            applyRevoke = () => {
              for (const id of ids) leases.delete(id);
              resolve();
            };
          }),
      },
      { clock, checkIntervalMs: 0 },
    );
    lessor.promote();
    clock.advance(5000);
    expect(lessor.checkExpired()).toEqual([1]);
    expect(lessor.keepAlive(1)).toBe(0);
    expect(lessor.timeToLive(1, true)).toEqual({ id: 1, ttl: 0, grantedTTL: 5, keys: [] });
    lessor.markStale(); // another entry applied meanwhile: reconciling must not give it a deadline either
    clock.advance(60_000);
    expect(lessor.checkExpired()).toEqual([]); // not decided twice
    applyRevoke();
    await lessor.revoking;
    expect(lessor.keepAlive(1)).toBe(0);
    // The id granted again is a new lease, kept alive as any other.
    leases.set(1, { id: 1, ttl: 5, keys: [] });
    lessor.granted(1, 5);
    expect(lessor.keepAlive(1)).toBe(5);
  });

  it('a lease it has not seen (granted behind its back) gets a fresh full TTL', () => {
    const leases = new Map<number, LeaseInfo>();
    const { lessor, clock } = fake(leases);
    lessor.promote();
    leases.set(7, { id: 7, ttl: 4, keys: [] });
    clock.advance(100_000);
    lessor.markStale();
    expect(lessor.checkExpired()).toEqual([]);
    expect(lessor.timeToLive(7, false)).toEqual({ id: 7, ttl: 4, grantedTTL: 4 });
    clock.advance(4000);
    expect(lessor.checkExpired()).toEqual([7]);
  });
});

describe.each(ENGINE_KINDS)('leases (%s engine)', (kind) => {
  it('grant picks ids 1, 2…, raises a short TTL to the minimum, refuses a too large one and a taken id', async () => {
    const [s] = await openStore(kind);
    expect(await s.lease.grant(10)).toEqual({ id: 1, ttl: 10, revision: 1 });
    expect(await s.lease.grant(1)).toEqual({ id: 2, ttl: 2, revision: 1 });
    expect((await s.lease.grant(0)).ttl).toBe(2);
    expect((await s.lease.grant(-5)).ttl).toBe(2);
    expect(await s.lease.grant(30, { id: -7 })).toEqual({ id: -7, ttl: 30, revision: 1 });
    expect((await catchAsync(() => s.lease.grant(5, { id: -7 }))).code).toBe('ERR_LEASE_EXISTS');
    expect((await catchAsync(() => s.lease.grant(9_000_000_001))).code).toBe('ERR_LEASE_TTL_TOO_LARGE');
    expect((await s.lease.grant(9_000_000_000)).ttl).toBe(9_000_000_000);
    expect((await catchAsync(() => s.lease.grant(1.5))).code).toBe('ERR_INVALID_OPTION');
    expect(s.lease.list()).toEqual([-7, 1, 2, 3, 4, 5]);
    expect(s.revision).toBe(1);
  });

  it('the minimum TTL is configurable', async () => {
    const [s] = await openStore(kind, { minLeaseTtl: 5 });
    expect((await s.lease.grant(1)).ttl).toBe(5);
  });

  it('put with a missing lease fails; ignoreLease keeps it; overwriting moves the key off its old lease', async () => {
    const [s] = await openStore(kind);
    expect((await catchAsync(() => s.put('a', '1', { lease: 42 }))).code).toBe('ERR_LEASE_NOT_FOUND');
    const { id: l1 } = await s.lease.grant(10);
    const { id: l2 } = await s.lease.grant(10);
    await s.put('a', '1', { lease: l1 });
    await s.put('b', '1', { lease: l1 });
    expect(nkv(s.get('a')!)).toEqual(kv('a', '1', 2, 2, 1, l1));
    await s.put('a', '2', { ignoreLease: true });
    expect(s.get('a')!.lease).toBe(l1);
    await s.put('a', '', { ignoreValue: true, lease: l2 });
    expect(nkv(s.get('a')!)).toEqual(kv('a', '2', 2, 5, 3, l2));
    await s.put('b', '3');
    expect(s.get('b')!.lease).toBe(0);
    expect(s.lease.timeToLive(l1, { keys: true }).keys).toEqual([]);
    expect(s.lease.timeToLive(l2, { keys: true }).keys!.map(show)).toEqual(['a']);
  });

  it('revoke deletes the attached keys in key order in ONE revision with DELETE events', async () => {
    const [s] = await openStore(kind);
    const { id } = await s.lease.grant(10);
    await s.put('k/c', '1', { lease: id });
    await s.put('k/a', '1', { lease: id });
    await s.put('k/b', '1', { lease: id });
    await s.put('other', '1');
    const w = s.watch({ prefix: '' });
    const seen: WatchEvent[][] = [];
    w.on('data', (r) => seen.push(r.events));
    expect(await s.lease.revoke(id)).toEqual({ revision: 6 });
    await tick();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.map((e) => [e.type, show(e.kv.key), e.kv.modRevision])).toEqual([
      ['delete', 'k/a', 6],
      ['delete', 'k/b', 6],
      ['delete', 'k/c', 6],
    ]);
    expect(s.size).toBe(1);
    expect(s.lease.list()).toEqual([]);
    expect((await catchAsync(() => s.lease.revoke(id))).code).toBe('ERR_LEASE_NOT_FOUND');
    const { id: empty } = await s.lease.grant(10);
    expect(await s.lease.revoke(empty)).toEqual({ revision: 6 }); // no keys: no bump
  });

  it('timeToLive: remaining whole seconds truncated, granted TTL, keys; unknown lease → −1', async () => {
    const [s, clock] = await openStore(kind);
    const { id } = await s.lease.grant(10);
    await s.put('x', '1', { lease: id });
    expect(s.lease.timeToLive(id)).toEqual({ id, ttl: 10, grantedTTL: 10 });
    clock.advance(3500);
    expect(s.lease.timeToLive(id)).toEqual({ id, ttl: 6, grantedTTL: 10 });
    expect(s.lease.timeToLive(id, { keys: true }).keys!.map(show)).toEqual(['x']);
    expect(s.lease.timeToLive(12345)).toEqual({ id: 12345, ttl: -1, grantedTTL: 0 });
  });

  it('keepAlive resets the deadline to now + granted TTL; unknown lease → ERR_LEASE_NOT_FOUND', async () => {
    const [s, clock] = await openStore(kind);
    const { id } = await s.lease.grant(10);
    clock.advance(9000);
    expect(await s.lease.keepAlive(id)).toEqual({ id, ttl: 10 });
    clock.advance(9000);
    expect(await s.lease.checkExpired()).toEqual([]);
    expect(s.lease.timeToLive(id).ttl).toBe(1);
    const unknown = await catchAsync(() => s.lease.keepAlive(999));
    expect([unknown.code, unknown.category]).toEqual(['ERR_LEASE_NOT_FOUND', 'NotFound']);
  });

  it('expiry: the clock decides, the check proposes a revoke through the write path (watchers see it)', async () => {
    const [s, clock] = await openStore(kind);
    const { id: short } = await s.lease.grant(5);
    const { id: long } = await s.lease.grant(60);
    await s.put('s/1', 'v', { lease: short });
    await s.put('s/2', 'v', { lease: short });
    await s.put('l/1', 'v', { lease: long });
    const deletes: string[] = [];
    const w = s.watch({ prefix: '' });
    w.on('delete', (k) => deletes.push(`${show(k.key)}@${k.modRevision}`));
    clock.advance(4999);
    expect(await s.lease.checkExpired()).toEqual([]);
    expect(s.size).toBe(3);
    clock.advance(1);
    expect(await s.lease.checkExpired()).toEqual([short]);
    expect(s.revision).toBe(5);
    expect(s.lease.list()).toEqual([long]);
    expect(s.lease.timeToLive(short).ttl).toBe(-1);
    await tick();
    expect(deletes).toEqual(['s/1@5', 's/2@5']);
    expect(await s.lease.checkExpired()).toEqual([]); // nothing twice
  });

  it('a lease granted by a raw batch gets a full TTL from when the store first sees it', async () => {
    const [s, clock] = await openStore(kind);
    await s.applyBatch(new BatchWriter().leaseGrant(77, 3).finish());
    clock.advance(60_000);
    expect(await s.lease.checkExpired()).toEqual([]);
    expect(s.lease.timeToLive(77)).toEqual({ id: 77, ttl: 3, grantedTTL: 3 });
    clock.advance(3000);
    expect(await s.lease.checkExpired()).toEqual([77]);
  });

  it("the expiry timer runs by itself (unref'd) when an interval is set", async () => {
    const [s, clock] = await openStore(kind, { leaseCheckIntervalMs: 1 });
    const { id } = await s.lease.grant(2);
    const gone = new Promise<void>((resolve) => s.watch({ key: 'k' }).on('delete', () => resolve()));
    await s.put('k', 'v', { lease: id });
    clock.advance(2000);
    await gone; // the timer's check revoked it
    expect(s.lease.list()).toEqual([]);
  });
});

const durableRoot = mkdtempSync(join(tmpdir(), 'metastore-lessor-'));
afterAll(() => rmSync(durableRoot, { recursive: true, force: true }));
let durableStores = 0;

describe.each(['native', 'js', 'durable'] as const)('keepAlive racing expiry (%s store)', (where) => {
  it('50 trials: a keepAlive before expiry is decided keeps the lease and its keys; one between the decision and the revoke is refused, and the revoke goes through', async () => {
    const [s, clock] = where === 'durable' ? await openStore('native', { path: join(durableRoot, `s${durableStores++}`) }) : await openStore(where);
    for (let trial = 0; trial < 50; trial++) {
      const prefix = `t${trial}/`;
      const { id } = await s.lease.grant(10);
      await s.put(`${prefix}a`, 'v', { lease: id });
      await s.put(`${prefix}b`, 'v', { lease: id });
      // Past the deadline, but no expiry check has run: nothing is decided, this keepAlive wins.
      clock.advance(10_000 + trial);
      expect(await s.lease.keepAlive(id)).toEqual({ id, ttl: 10 });
      expect(await s.lease.checkExpired()).toEqual([]);
      expect(s.lease.timeToLive(id, { keys: true })).toEqual({ id, ttl: 10, grantedTTL: 10, keys: [b(`${prefix}a`), b(`${prefix}b`)] });

      clock.advance(10_000);
      const expiry = s.lease.checkExpired(); // decides, and proposes the revoke
      expect(s.lease.list()).toContain(id); // not applied yet: the keepAlive below lands in between
      const late = await catchAsync(() => s.lease.keepAlive(id));
      expect([late.code, late.category]).toEqual(['ERR_LEASE_NOT_FOUND', 'NotFound']);
      expect(await expiry).toEqual([id]);
      expect(s.lease.list()).not.toContain(id);
      expect(s.range({ prefix }).count).toBe(0);
      expect((await catchAsync(() => s.lease.keepAlive(id))).code).toBe('ERR_LEASE_NOT_FOUND');
    }
    expect(s.size).toBe(0);
  });
});
