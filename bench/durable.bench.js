// W7, the durable path: awaited durable puts at 1, 64 and 256 concurrent writers — ops/s, put
// latency p50/p99, ops per commit (fsync). Our durable log comes with #4; until then this suite
// measures the peer figure it will be compared with: lmdb-js with its default durability (each
// write transaction is committed with an fsync; lmdb-js batches the puts that are in flight into
// one transaction). When #4 lands, give `columns.native` / `columns.js` a `put` and a commit
// counter below; nothing else changes.
import { key16, openLmdb, VALUE100 } from './data.js';
import { quick, rng, Suite } from './lib.js';

const suite = new Suite('durable', {
  title: 'W7: awaited durable puts at 1 / 64 / 256 writers (lmdb-js peer figure; our durable path: #4)',
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
const columns = {
  lmdb: { put: (k, v) => lmdb.db.put(k, v), commits: () => lmdb.db.getStats().lastTxnId },
  native: 'durable path not built yet (#4)',
  js: 'durable path not built yet (#4)',
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
  suite.record({ id: `durable-${writers}${keys === 'append' ? '' : `-${keys}`}`, w: 7, name: `awaited durable puts, ${writers} writer${writers === 1 ? '' : 's'}, ${what}`, metric: 'rate' }, results);
}

suite.note('lmdb-js default durability: a commit fsyncs; in-flight puts share a transaction. The figure at 256 writers is the one the W7 target compares against (goal ≥ 400K/s and ≥ 2× lmdb-js).');
suite.note('Ops per commit = puts / lmdb-js transactions committed (its lastTxnId). Each put: a 16-byte key, a 100-byte value.');
suite.note('The machine\'s fdatasync of a small append takes 0.7–2 ms (DESIGN.md) and varies with the other work on the shared disk; the 256-writer figure moves with it.');
await lmdb.close();
await suite.finish();
