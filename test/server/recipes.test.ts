/**
 * The etcd3 npm client's recipes against `metastore serve`, unchanged: locks under contention,
 * leader election (campaign, observe, resign, a leader whose lease is revoked), software
 * transactions (STM) under contention, namespaces, lease keep-alive and lease loss (revoked by
 * someone else; expired once keep-alives stop).
 */

import { Etcd3, EtcdLockFailedError } from 'etcd3';

/** etcd3's Isolation.SerializableSnapshot (a const enum: not there at run time). */
const SERIALIZABLE_SNAPSHOT = 0;
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Served } from './helpers.js';

let s: Served;
let client: Etcd3;

beforeAll(async () => {
  // Expiry checked every 100 ms so that the lease-loss case does not wait for etcd's 500 ms.
  s = await startServer({ store: { leaseCheckIntervalMs: 100 } });
  client = new Etcd3({ hosts: s.url });
});
afterAll(async () => {
  client.close();
  await s.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('etcd3 recipes against metastore serve', () => {
  it('lock under contention: 6 workers x 8 increments, never two holders at once, no lost update', { timeout: 60_000 }, async () => {
    await client.put('recipes/counter').value('0');
    let holders = 0;
    let maxHolders = 0;
    let conflicts = 0;
    const worker = async (): Promise<void> => {
      for (let i = 0; i < 8; ) {
        const lock = client.lock('recipes/lock').ttl(5);
        try {
          await lock.acquire();
        } catch (e) {
          if (!(e instanceof EtcdLockFailedError)) throw e;
          conflicts++;
          await sleep(2 + Math.random() * 8);
          continue;
        }
        try {
          holders++;
          maxHolders = Math.max(maxHolders, holders);
          const v = Number(await client.get('recipes/counter').string());
          await sleep(1);
          await client.put('recipes/counter').value(String(v + 1));
          holders--;
          i++;
        } finally {
          await lock.release();
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    expect(await client.get('recipes/counter').string()).toBe('48');
    expect(maxHolders).toBe(1);
    expect(conflicts).toBeGreaterThan(0); // there was contention
    expect(await client.getAll().prefix('recipes/lock').count()).toBe(0); // every lock released
  });

  it('election: first campaigner leads, the observer sees changes, resign hands over, a revoked leader is replaced', { timeout: 30_000 }, async () => {
    const election = client.election('recipes-election', 5);
    const a = election.campaign('alice');
    await new Promise<void>((resolve, reject) => {
      a.once('elected', () => resolve());
      a.once('error', reject);
    });
    expect(await election.leader()).toBe('alice');
    const observer = await election.observe();
    const changes: Array<string | undefined> = [];
    observer.on('change', (leader: string | undefined) => changes.push(leader));
    const b = election.campaign('bob');
    let bobElected = false;
    b.once('elected', () => (bobElected = true));
    await sleep(300);
    expect(bobElected).toBe(false); // alice still leads
    await a.resign();
    for (let i = 0; i < 100 && !bobElected; i++) await sleep(50);
    expect(bobElected).toBe(true);
    expect(await election.leader()).toBe('bob');
    for (let i = 0; i < 100 && !changes.includes('bob'); i++) await sleep(50);
    expect(changes).toContain('bob');
    // Carol waits; bob's lease is revoked from outside: carol takes over.
    const c = election.campaign('carol');
    let carolElected = false;
    c.once('elected', () => (carolElected = true));
    c.on('error', () => undefined);
    b.on('error', () => undefined);
    await sleep(200);
    const bobKey = (await client.getAll().prefix('election/recipes-election/').sort('Create', 'Ascend').exec()).kvs[0]!;
    await client.leaseClient.leaseRevoke({ ID: bobKey.lease });
    for (let i = 0; i < 100 && !carolElected; i++) await sleep(50);
    expect(carolElected).toBe(true);
    expect(await election.leader()).toBe('carol');
    await c.resign();
    await observer.cancel();
  });

  it('STM: 5 concurrent transfers between accounts under serializable snapshot isolation keep the total', { timeout: 30_000 }, async () => {
    // One revision for both: etcd3's SerializableSnapshot requires every written key's mod
    // revision to be at most the earliest mod revision it read.
    await client.if('recipes/acct/a', 'Create', '==', 0).then(client.put('recipes/acct/a').value('100'), client.put('recipes/acct/b').value('100')).commit();
    let attempts = 0;
    const transfer = (amount: number) =>
      client.stm({ retries: 50, isolation: SERIALIZABLE_SNAPSHOT }).transact(async (tx) => {
        attempts++;
        const a = Number(await tx.get('recipes/acct/a').string());
        const b = Number(await tx.get('recipes/acct/b').string());
        await sleep(2);
        await tx.put('recipes/acct/a').value(String(a - amount));
        await tx.put('recipes/acct/b').value(String(b + amount));
      });
    await Promise.all([1, 2, 3, 4, 5].map(transfer));
    const a = Number(await client.get('recipes/acct/a').string());
    const b = Number(await client.get('recipes/acct/b').string());
    expect([a, b]).toEqual([85, 115]);
    expect(attempts).toBeGreaterThan(5); // conflicts were detected and retried
  });

  it('namespace: keys, ranges, deletes and watches stay under the prefix', async () => {
    const ns = client.namespace('recipes/ns/');
    const w = await ns.watch().prefix('').create();
    const seen: string[] = [];
    w.on('put', (kv) => seen.push(kv.key.toString()));
    await ns.put('x').value('1');
    await ns.put('y').value('2');
    await client.put('recipes/outside').value('3');
    expect(await client.get('recipes/ns/x').string()).toBe('1');
    expect(await ns.getAll().keys()).toEqual(['x', 'y']);
    expect(await ns.get('outside').string()).toBeNull();
    for (let i = 0; i < 40 && seen.length < 2; i++) await sleep(25);
    expect(seen).toEqual(['x', 'y']);
    await ns.delete().all();
    expect(await client.get('recipes/outside').string()).toBe('3');
    await w.cancel();
  });

  it('lease keep-alive keeps keys past their TTL; lease loss: revoked elsewhere, or expired once keep-alives stop', { timeout: 30_000 }, async () => {
    const lease = client.lease(2);
    await lease.put('recipes/lease/kept').value('1');
    await sleep(2_800); // beyond the 2 s TTL: keep-alives (every ~0.7 s) hold it
    expect(await client.get('recipes/lease/kept').string()).toBe('1');

    // Loss: revoked by another client; the keep-alive answer (TTL 0) reports it.
    const lost = new Promise<Error>((resolve) => lease.once('lost', resolve));
    await client.leaseClient.leaseRevoke({ ID: await lease.grant() });
    const err = await lost;
    expect(err.message).toMatch(/lease|not found/i);
    expect(await client.get('recipes/lease/kept').string()).toBeNull();

    // Expiry: keep-alives stop (release), the server's lease clock revokes it after its TTL.
    const short = client.lease(2);
    await short.put('recipes/lease/short').value('1');
    const id = await short.grant();
    short.release();
    const t0 = Date.now();
    while ((await client.get('recipes/lease/short').string()) !== null && Date.now() - t0 < 5_000) await sleep(100);
    expect(await client.get('recipes/lease/short').string()).toBeNull();
    expect(Date.now() - t0).toBeLessThan(3_500); // TTL + the expiry check period, with slack
    const ttl = await client.leaseClient.leaseTimeToLive({ ID: id, keys: false });
    expect(ttl.TTL).toBe('-1');
  });
});
