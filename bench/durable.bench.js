// W7, the durable path: awaited durable puts at 1, 64 and 256 concurrent writers — ops/s, put
// latency p50/p99, ops per commit (fsync) — for a durable MetaStore (`open({ path })`: group
// commit into the write-ahead log, one fdatasync per group) and for lmdb-js with its default
// durability (each write transaction is committed with an fsync; lmdb-js batches the puts that
// are in flight into one transaction). The pure-TS engine has no durable mode. Then the restart
// of a durable store of 1M keys: newest snapshot + the log after it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BatchWriter, key16, MetaStore, openLmdb, VALUE100 } from './data.js';
import { quick, rng, Suite } from './lib.js';

const suite = new Suite('durable', {
  title: 'W7: awaited durable puts at 1 / 64 / 256 writers; restart of a 1M-key durable store',
  short: 'W7 durable puts',
  about: 'ops = awaited puts acknowledged as durable; each writer awaits its put before the next',
});

const SECONDS = quick ? 0.2 : 3;
const VALUE = Buffer.from(VALUE100);

/**
 * `writers` async loops, each awaiting `put(key, value)` then issuing the next, for `seconds`.
 * `commits()` reads a monotonic commit (fsync) counter, or null.
 */
async function drive(put, commits, writers, seconds, keyOf) {
  const lat = new Float64Array(1 << 21);
  let n = 0;
  let stop = false;
  const c0 = commits();
  const t0 = performance.now();
  const timer = setTimeout(() => (stop = true), seconds * 1000);
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const s = performance.now();
        await put(keyOf(w, i), VALUE);
        lat[n++ & (lat.length - 1)] = performance.now() - s;
      }
    }),
  );
  clearTimeout(timer);
  const secs = (performance.now() - t0) / 1000;
  const c1 = commits();
  const sorted = lat.slice(0, Math.min(n, lat.length)).sort();
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] * 1000; // µs
  const opsPerSec = n / secs;
  const perCommit = c0 === null ? null : n / Math.max(1, c1 - c0);
  return {
    details: `p50 ${q(0.5).toFixed(0)} µs, p99 ${q(0.99).toFixed(0)} µs${perCommit === null ? '' : `, ${perCommit.toFixed(1)} puts/commit`}`,
    opsPerSec,
    nsPerOp: 1e9 / opsPerSec,
    puts: n,
    seconds: +secs.toFixed(2),
    latencyUs: { p50: +q(0.5).toFixed(0), p99: +q(0.99).toFixed(0) },
    ...(c0 === null ? {} : { commits: c1 - c0, opsPerCommit: +(n / Math.max(1, c1 - c0)).toFixed(1) }),
  };
}

const lmdb = await openLmdb({ encoding: 'binary' });
// Same disk as lmdb-js (os.tmpdir() is ext4 here, not tmpfs, so fsyncs are real).
const storeDir = mkdtempSync(join(os.tmpdir(), 'metastore-bench-durable-'));
const store = await MetaStore.open({ path: join(storeDir, 'store'), engine: 'native', leaseCheckIntervalMs: 0 });
const columns = {
  native: { put: (k, v) => store.put(k, v), commits: () => store.writeStats().fsyncs },
  js: 'no durable mode: the pure-TS engine has no write-ahead log',
  lmdb: { put: (k, v) => lmdb.db.put(k, v), commits: () => lmdb.db.getStats().lastTxnId },
};

// Keys: new keys in ascending order (appends: lmdb-js's best case, one B-tree leaf written per
// commit), and updates of random keys among 100,000 existing ones (every put dirties its own
// leaf page). A log-structured durable path costs the same for both.
let next = 0;
const appendKey = () => key16(1e9 + next++);
const pick = rng(100_000);
const randomKey = () => key16(pick(100_000));
lmdb.db.transactionSync(() => {
  for (let i = 0; i < 100_000; i++) lmdb.db.put(key16(i), VALUE);
});
for (let i = 0; i < 100_000; i += 10_000) {
  const w = new BatchWriter(1 << 21);
  for (let j = i; j < i + 10_000; j++) w.put(key16(j), VALUE);
  await store.applyBatch(w.finish());
}
const shapes = [
  { writers: 1, keys: 'append', keyOf: appendKey },
  { writers: 64, keys: 'append', keyOf: appendKey },
  { writers: 256, keys: 'append', keyOf: appendKey },
  { writers: 256, keys: 'random', keyOf: randomKey },
];

for (const { writers, keys, keyOf } of shapes) {
  const results = {};
  for (const [col, c] of Object.entries(columns)) {
    if (typeof c === 'string') {
      results[col] = { na: c };
      continue;
    }
    try {
      results[col] = await drive(c.put, c.commits, writers, SECONDS, keyOf);
    } catch (e) {
      results[col] = { error: String(e?.stack ?? e) };
    }
  }
  const what = keys === 'append' ? 'new keys in order' : 'updates of random keys among 100K';
  suite.record(
    {
      id: `durable-${writers}${keys === 'append' ? '' : `-${keys}`}`,
      w: 7,
      name: `awaited durable puts, ${writers} writer${writers === 1 ? '' : 's'}, ${what}`,
      metric: 'rate',
    },
    results,
  );
}

await store.close();
await lmdb.close();

// Restart: a durable store of 1M keys (16-byte keys, 100-byte values) written in batches of
// 10K (snapshots are taken along the way), then a tail of 50K single puts after the newest
// snapshot; closed, and timed from `MetaStore.open({ path })` until it resolves (snapshot
// loaded, tail replayed, ready to read).
{
  const keys = quick ? 20_000 : 1_000_000;
  const tail = quick ? 1_000 : 50_000;
  const path = join(storeDir, 'restart');
  let s = await MetaStore.open({ path, engine: 'native', leaseCheckIntervalMs: 0 });
  for (let i = 0; i < keys; i += 10_000) {
    const w = new BatchWriter(1 << 21);
    for (let j = i; j < i + 10_000; j++) w.put(key16(j), VALUE);
    await s.applyBatch(w.finish());
  }
  for (let i = 0; i < tail; i += 256) await Promise.all(Array.from({ length: 256 }, (_, j) => s.put(key16(i + j), VALUE)));
  const revision = s.revision;
  await s.close();
  const runs = [];
  for (let round = 0; round < (quick ? 1 : 3); round++) {
    const t0 = performance.now();
    s = await MetaStore.open({ path, engine: 'native', leaseCheckIntervalMs: 0 });
    const ms = performance.now() - t0;
    if (s.revision !== revision || s.size !== keys) throw new Error(`restart lost state: revision ${s.revision} (want ${revision}), ${s.size} keys`);
    runs.push({ ms, replayed: s.appliedIndex });
    await s.close();
  }
  const best = runs.reduce((a, b) => (a.ms <= b.ms ? a : b));
  suite.record(
    { id: 'restart-1m', w: 7, name: `restart of a durable store of ${keys / 1e6}M keys + a ${tail / 1e3}K-put tail (open until ready)`, metric: 'time' },
    {
      native: {
        opsPerSec: 1000 / best.ms,
        nsPerOp: best.ms * 1e6,
        seconds: +(best.ms / 1000).toFixed(3),
        details: `best of ${runs.length}: ${runs.map((r) => (r.ms / 1000).toFixed(2)).join(' / ')} s`,
      },
      js: { na: 'no durable mode' },
      lmdb: { na: 'lmdb-js opens its file without replay' },
    },
  );
}
rmSync(storeDir, { recursive: true, force: true });

suite.note(
  "A durable MetaStore acknowledges a put once the group holding it is fdatasynced to its write-ahead log and applied; groups form while the previous append is in flight, split at 128 ops, two appends in flight; the log's writer thread syncs appends that queued meanwhile together.",
);
suite.note(
  'lmdb-js default durability: a commit fsyncs; in-flight puts share a transaction. Ops per commit = puts / fsyncs (MetaStore: writeStats().fsyncs; lmdb-js: its lastTxnId). Each put: a 16-byte key, a 100-byte value.',
);
suite.note(
  "The machine's fdatasync of a small append takes ~0.15–2 ms and varies with the other work on the shared disk; the 256-writer figures move with it.",
);
await suite.finish();
