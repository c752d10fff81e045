// W1, the seed's workloads, on both engines and (stress shape) lmdb-js:
//  - BenchmarkBatchApplyVsSingle: the same 100 puts (`key-i` = `value`) applied one by one vs as
//    one batch, at engine level (pre-encoded bytes) and through the façade (`await store.put`
//    ×100 vs one `store.batch()…commit()`);
//  - TestBatchApplyStressTest: 10,000 puts over 1,000 keys (`key-(i%1000)` = `value-i`) in one
//    batch, through the façade (encode + apply + results). lmdb-js: the same puts in one
//    transactionSync (one commit, one fsync by default; also shown with noSync).
import { BatchWriter, batchOf, compactor, createEngine, openLmdb, openStores, STRESS_OPS, stressKey, stressValue } from './data.js';
import { keep, quick, Suite, withUpkeep } from './lib.js';

const suite = new Suite('seed', {
  title: 'W1: the seed workloads (batch vs single apply; the 10,000-put stress batch)',
  short: 'W1 seed workloads',
  about: 'ops = puts; engine-level rows apply pre-encoded bytes, façade rows start from strings',
});

const hundred = batchOf(
  100,
  (i) => `key-${i}`,
  () => 'value',
);
const singles = Array.from({ length: 100 }, (_, i) =>
  batchOf(
    1,
    () => `key-${i}`,
    () => 'value',
  ),
);

const stores = await openStores();
// Engine level: the apply itself, synchronous, as the apply loop calls it.
const engines = { native: createEngine('native'), js: createEngine('js') };
// Every timed write workload compacts the history outside the timing (see compactor); a store's
// COMPACT is proposed between runs and applied at the next run's first await.
const compactEngine = { native: compactor(engines.native), js: compactor(engines.js) };
const compact = { native: compactor(stores.native), js: compactor(stores.js) };
const onEngines = (f, every) => Object.fromEntries(Object.entries(engines).map(([k, e]) => [k, withUpkeep(f(e, k), compactEngine[k], every)]));
const each = (f, every) => Object.fromEntries(Object.entries(stores).map(([k, s]) => [k, withUpkeep(f(s, k), compact[k], every)]));

await suite.time(
  { id: 'single-100', w: 1, name: '100 puts one by one (engine.applyBatch ×100, pre-encoded)', ops: 100 },
  onEngines(
    (e) => () => {
      for (const one of singles) keep(e.applyBatch(one));
    },
    100,
  ),
);
await suite.time(
  { id: 'batch-100', w: 1, name: 'the same 100 puts as one batch (engine.applyBatch, pre-encoded)', ops: 100 },
  onEngines((e) => () => keep(e.applyBatch(hundred)), 100),
);
await suite.time(
  { id: 'single-100-api', w: 1, name: '100 × await store.put(key, value)', ops: 100 },
  each(
    (s) => async () => {
      for (let i = 0; i < 100; i++) keep(await s.put(`key-${i}`, 'value'));
    },
    100,
  ),
);
await suite.time(
  { id: 'batch-100-api', w: 1, name: 'store.batch() of the same 100 puts, commit()', ops: 100 },
  each(
    (s) => async () => {
      const b = s.batch();
      for (let i = 0; i < 100; i++) b.put(`key-${i}`, 'value');
      keep(await b.commit());
    },
    100,
  ),
);

// The stress shape. lmdb-js gets the same strings (encoding 'string') in one sync transaction.
const lmdb = await openLmdb({ encoding: 'string' });
const lmdbNoSync = await openLmdb({ encoding: 'string', noSync: true });
const lmdbStress = (db) => () =>
  db.transactionSync(() => {
    for (let i = 0; i < STRESS_OPS; i++) db.put(stressKey(i), stressValue(i));
  });
// Each call meets an empty store, as in the seed's test: between calls, outside the timing, every
// key is deleted and the history compacted (lmdb-js: the database is cleared).
const ALL = Uint8Array.of(0);
// For a store the delete and the COMPACT are proposed between runs and applied at the start of
// the next run, inside its timing: the stress-api row includes deleting the previous run's
// 1,000 keys.
const emptied = (s, k) => () => {
  s.applyBatch(new BatchWriter(64).deleteRange(ALL, ALL).peek());
  compact[k]();
};
const facadeStress = (s) => async () => {
  const b = s.batch();
  for (let i = 0; i < STRESS_OPS; i++) b.put(stressKey(i), stressValue(i));
  keep(await b.commit());
};
await suite.time(
  { id: 'stress-api', w: 1, name: '10,000 puts over 1,000 keys in one batch into an empty store (store.batch; lmdb-js: one transaction)', ops: STRESS_OPS },
  {
    native: withUpkeep(facadeStress(stores.native), emptied(stores.native, 'native')),
    js: withUpkeep(facadeStress(stores.js), emptied(stores.js, 'js')),
    lmdb: withUpkeep(lmdbStress(lmdb.db), () => lmdb.db.clearSync()),
  },
);
await suite.time(
  { id: 'stress-lmdb-nosync', w: 1, name: 'the same, lmdb-js with noSync (no fsync at commit)', ops: STRESS_OPS },
  {
    native: 'in-memory: the row above',
    js: 'in-memory: the row above',
    lmdb: withUpkeep(lmdbStress(lmdbNoSync.db), () => lmdbNoSync.db.clearSync()),
  },
);
await lmdb.close();
await lmdbNoSync.close();

suite.note('The seed (Go, i5-8279U) reported 222 ns/op one by one and 1,375 ns/op batched for 100 puts, and 817K ops/s for the stress batch.');
suite.note('lmdb-js commits its transaction durably (one fsync) unless noSync; these stores are in memory (durable puts: the durable suite, W7).');
suite.note(
  "stress-api: a store is emptied between runs by a proposal that its apply loop runs at the start of the next run, so that row includes deleting the previous run's 1,000 keys.",
);
if (quick) suite.note('quick run');
await stores.native.close();
await stores.js.close();
engines.native.close();
engines.js.close();
await suite.finish();
