// W5, transactions: compare-and-put on one key, and a multi-key transaction of 8 puts behind a
// compare, through the façade (store.txn()) and at engine level (pre-encoded TXN ops).
//  - compare-and-put: `if mod(key) == last seen mod then put(key)`; each call uses the revision
//    the previous one returned, so every transaction succeeds (a real CAS loop);
//  - 8 ops: `if version(txn/0) > 0 then put txn/0 … txn/7` (8 keys, one revision).
import { BatchWriter, compactor, createEngine, MetaStore, VALUE100 } from './data.js';
import { keep, quick, Suite, withUpkeep } from './lib.js';

const { op, CompareTarget, CompareResult } = await import('../dist/index.js');

const suite = new Suite('txn', {
  title: 'W5: transactions — compare-and-put on one key; a multi-key transaction of 8 puts',
  short: 'W5 transactions',
  about: 'ops = transactions (one revision each); engine rows apply pre-encoded TXN ops',
  columns: ['native', 'js'],
});

const kinds = ['native', 'js'];
const stores = {};
for (const kind of kinds) {
  try {
    stores[kind] = await MetaStore.open({ engine: kind });
  } catch (e) {
    stores[kind] = e;
  }
}
const compact = Object.fromEntries(kinds.map((k) => [k, stores[k] instanceof MetaStore ? compactor(stores[k]) : () => {}]));
const keys8 = Array.from({ length: 8 }, (_, i) => `txn/${i}`);

// Each variant is built lazily so that a store that failed to open is one failed cell.
function each(make, every) {
  return Object.fromEntries(
    kinds.map((k) => {
      const s = stores[k];
      if (!(s instanceof MetaStore)) return [k, () => Promise.reject(s)];
      return [k, withUpkeep(make(s, k), compact[k], every)];
    }),
  );
}

for (const s of Object.values(stores)) {
  if (!(s instanceof MetaStore)) continue;
  await s.put('cas', VALUE100);
  for (const k of keys8) await s.put(k, VALUE100);
}

await suite.time(
  { id: 'cas-api', w: 5, name: 'compare-and-put on one key: store.txn().if(mod ==).then(put).commit()' },
  each((s) => {
    let mod = s.get('cas').modRevision;
    return async () => {
      const r = await s.txn().if('cas', 'mod', '==', mod).then(op.put('cas', VALUE100)).commit();
      if (!r.succeeded) throw new Error('compare-and-put failed');
      mod = r.revision;
    };
  }, 10_000),
);

await suite.time(
  { id: 'txn8-api', w: 5, name: 'transaction of 8 puts on 8 keys behind one compare (store.txn)' },
  each((s) => {
    const puts = keys8.map((k) => op.put(k, VALUE100));
    return async () =>
      keep(
        await s
          .txn()
          .if('txn/0', 'version', '>', 0)
          .then(...puts)
          .commit(),
      );
  }, 2_500),
);

// Engine level: the same transactions as codec bytes, encoded once (the compare is on the
// version, > 0, so the same bytes succeed every time).
const casBytes = new BatchWriter(256)
  .txn(
    [{ key: 'cas', target: CompareTarget.VERSION, result: CompareResult.GREATER, operand: 0 }],
    (w) => w.put('cas', VALUE100),
    () => {},
  )
  .finish();
const txn8Bytes = new BatchWriter(2048)
  .txn(
    [{ key: 'txn/0', target: CompareTarget.VERSION, result: CompareResult.GREATER, operand: 0 }],
    (w) => keys8.forEach((k) => w.put(k, VALUE100)),
    () => {},
  )
  .finish();
// On engines: the apply itself, synchronous, as the apply loop calls it.
const engines = Object.fromEntries(kinds.map((k) => [k, createEngine(k)]));
for (const e of Object.values(engines)) e.applyBatch(new BatchWriter(4096).put('cas', VALUE100).put('txn/0', VALUE100).finish());
const onEngines = (make, every) => Object.fromEntries(kinds.map((k) => [k, withUpkeep(make(engines[k]), compactor(engines[k]), every)]));
await suite.time(
  { id: 'cas-engine', w: 5, name: 'compare-and-put, pre-encoded: engine.applyBatch(TXN(version > 0 → put))' },
  onEngines((e) => () => keep(e.applyBatch(casBytes)), 10_000),
);
await suite.time(
  { id: 'txn8-engine', w: 5, name: 'transaction of 8 puts, pre-encoded: engine.applyBatch(TXN(… → 8 puts))' },
  onEngines((e) => () => keep(e.applyBatch(txn8Bytes)), 2_500),
);
for (const e of Object.values(engines)) e.close();

suite.note('History is compacted every ~10,000 written versions, outside the timing (see bench/README.md, Method).');
if (quick) suite.note('quick run');
for (const s of Object.values(stores)) if (s instanceof MetaStore) await s.close();
await suite.finish();
