/**
 * kill -9 of `metastore serve` under load, then a restart on the same --data-dir: no
 * acknowledged write is lost. Each round starts the server (the CLI, a durable store), checks
 * everything acknowledged so far through the wire, then 16 clients write (puts of unique keys,
 * compare-and-swap increments of one counter, keys attached to a lease) while the server is
 * SIGKILLed at a seeded random moment. A write counts as acknowledged when its response
 * arrived; writes cut off by the kill may or may not be there (etcd's "request timed out").
 * SERVER_CRASH_KILLS (default 8) and SERVER_CRASH_SEED choose the run.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, expect, it } from 'vitest';
// @ts-expect-error plain JS module shared with test/crash.test.ts and scripts/crash-loop.mjs
import { prng as seeded } from '../crash/crash-loop.mjs';
import { b, RawClient, ServeProcess, tempDir } from './helpers.js';

const KILLS = Number(process.env.SERVER_CRASH_KILLS ?? 8);
const SEED = Number(process.env.SERVER_CRASH_SEED ?? 20261208);
const dir = tempDir('metastore-serve-crash-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it(`${KILLS} SIGKILLs of metastore serve under load lose no acknowledged write`, { timeout: 300_000 }, async () => {
  const random = (seeded as (seed: number) => () => number)(SEED);
  const data = path.join(dir, 'data');
  const acked = new Map<string, string>(); // key -> value last acknowledged
  let maxAckedRevision = 1;
  let counterAcked = 0; // the highest counter value a successful CAS acknowledged
  const leaseKeys = new Map<string, string>(); // key -> lease id, acknowledged
  let totalAcked = 0;
  let lastRevision = 0;

  const verify = async (c: RawClient, round: number): Promise<void> => {
    const all = await c.call('KV', 'Range', { key: b('\0'), range_end: b('\0') }, 30_000);
    const revision = Number(all.header.revision);
    expect(revision, `round ${round}: the revision went back`).toBeGreaterThanOrEqual(Math.max(maxAckedRevision, lastRevision));
    lastRevision = revision;
    const now = new Map<string, string>(all.kvs.map((kv: { key: Buffer; value: Buffer }) => [kv.key.toString(), kv.value.toString()]));
    for (const [k, v] of acked) {
      const got = now.get(k);
      // A later, unacknowledged write to the same key may have landed: only unique keys are strict.
      if (!k.startsWith('counter')) expect(got, `round ${round}: acknowledged ${k}=${v} lost`).toBe(v);
    }
    expect(Number(now.get('counter') ?? 0), `round ${round}: acknowledged counter value lost`).toBeGreaterThanOrEqual(counterAcked);
    const leases = new Set((await c.call('Lease', 'LeaseLeases', {})).leases.map((l: { ID: string }) => l.ID));
    for (const [k, id] of leaseKeys) {
      expect(leases.has(id), `round ${round}: lease ${id} of ${k} lost`).toBe(true);
      const kv = all.kvs.find((x: { key: Buffer }) => x.key.toString() === k);
      expect(kv?.lease, `round ${round}: ${k} lost its lease`).toBe(id);
    }
  };

  for (let round = 0; round <= KILLS; round++) {
    const { proc, endpoint } = await ServeProcess.start(['--data-dir', data, '--listen-client-urls', 'http://127.0.0.1:0']);
    const c = new RawClient(endpoint, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    try {
      await verify(c, round);
      if (round === KILLS) break;
      let stop = false;
      const worker = async (w: number): Promise<void> => {
        for (let seq = 0; !stop; seq++) {
          const key = `w/${round}/${w}/${seq}`;
          try {
            if (w === 0) {
              // Compare-and-swap increments of one counter.
              const cur = await c.call('KV', 'Range', { key: b('counter') });
              const v = Number(cur.kvs[0]?.value.toString() ?? 0);
              const t = await c.call('KV', 'Txn', {
                compare: [{ key: b('counter'), target: 2, result: 0, mod_revision: cur.kvs[0]?.mod_revision ?? 0 }],
                success: [{ request_put: { key: b('counter'), value: b(String(v + 1)) } }],
              });
              if (t.succeeded) {
                counterAcked = Math.max(counterAcked, v + 1);
                maxAckedRevision = Math.max(maxAckedRevision, Number(t.header.revision));
                totalAcked++;
              }
            } else if (w === 1 && seq % 10 === 0) {
              // A lease with a key on it (long TTL: it must survive restarts).
              const g = await c.call('Lease', 'LeaseGrant', { TTL: 3600, ID: 0 });
              const r = await c.call('KV', 'Put', { key: b(key), value: b('leased'), lease: g.ID });
              acked.set(key, 'leased');
              leaseKeys.set(key, g.ID);
              maxAckedRevision = Math.max(maxAckedRevision, Number(r.header.revision));
              totalAcked += 2;
            } else {
              const r = await c.call('KV', 'Put', { key: b(key), value: b(String(seq)) });
              acked.set(key, String(seq));
              maxAckedRevision = Math.max(maxAckedRevision, Number(r.header.revision));
              totalAcked++;
            }
          } catch {
            return; // the server is gone: this write's outcome is unknown
          }
        }
      };
      const workers = Array.from({ length: 16 }, (_, w) => worker(w));
      await new Promise((r) => setTimeout(r, 100 + Math.floor(random() * 400)));
      await proc.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
    } finally {
      c.close();
      await proc.kill('SIGKILL');
    }
  }
  console.log(
    `[serve crash] ${KILLS} kills, ${totalAcked} acknowledged writes (counter at ${counterAcked}, ${leaseKeys.size} leased keys), all there after each restart`,
  );
  expect(totalAcked).toBeGreaterThan(KILLS * 50);
});
