// W4, reads at 1K, 100K and 1M keys (16-byte keys, 100-byte values), through the public API
// (store.get / store.range, strings in) and at engine level (engine.get / engine.range, bytes in),
// with lmdb-js (binary values, string keys, reads outside any explicit transaction) on the same data:
//  - get of an existing key (a different random key each call);
//  - range limit 10 from a random existing key (etcd's fromKey; lmdb: getRange({ start, limit: 10 })
//    materialised with keys and values);
//  - prefix count: countOnly over a prefix holding 1% of the keys and over all keys
//    (lmdb: getKeysCount over the same bounds).
import { createEngine, key16, loadKeys, MetaStore, openLmdb, VALUE100 } from './data.js';
import { cycle, keep, quick, rng, Suite } from './lib.js';

const suite = new Suite('reads', {
  title: 'W4: reads — get, range limit 10, prefix count at 1K / 100K / 1M keys',
  short: 'W4 reads',
  about: 'ops = reads; "api" rows go through MetaStore (string keys), "engine" rows through Engine (Uint8Array keys)',
});

const sizes = quick ? [1_000, 10_000] : [1_000, 100_000, 1_000_000];
const utf8 = new TextEncoder();
const FROM_KEY = Uint8Array.of(0);
const VALUE_BUF = Buffer.from(VALUE100);
const tag = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}K` : String(n));

for (const n of sizes) {
  const t0 = performance.now();
  const stores = { native: await MetaStore.open({ engine: 'native' }), js: await MetaStore.open({ engine: 'js' }) };
  const engines = { native: createEngine('native'), js: createEngine('js') };
  for (const s of [...Object.values(stores), ...Object.values(engines)]) await loadKeys(s, n);
  const lmdb = await openLmdb({ encoding: 'binary', noSync: true });
  const db = lmdb.db;
  for (let i = 0; i < n; i += 100_000) {
    db.transactionSync(() => {
      for (let j = i; j < Math.min(n, i + 100_000); j++) db.put(key16(j), VALUE_BUF);
    });
  }
  console.log(`  (loaded ${n.toLocaleString('en')} keys into native, JS and lmdb-js in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  const pick = rng(n);
  const idx = Array.from({ length: 1024 }, () => pick(n));
  const keyStrings = idx.map(key16);
  const keyBytes = keyStrings.map((k) => utf8.encode(k));
  const rangeOps = keyBytes.map((key) => ({ type: 'range', key, rangeEnd: FROM_KEY, limit: 10 }));

  const api = (f) => ({ native: f(stores.native), js: f(stores.js) });
  const eng = (f) => ({ native: f(engines.native), js: f(engines.js) });
  const T = tag(n);

  await suite.time(
    { id: `get-api-${T}`, w: 4, name: `get, ${T} keys: store.get(key)` },
    {
      ...api((s) => {
        const next = cycle(keyStrings);
        return () => keep(s.get(next()));
      }),
      lmdb: (() => {
        const next = cycle(keyStrings);
        return () => keep(db.get(next()));
      })(),
    },
  );
  await suite.time(
    { id: `get-engine-${T}`, w: 4, name: `get, ${T} keys: engine.get(bytes)` },
    eng((e) => {
      const next = cycle(keyBytes);
      return () => keep(e.get(next()));
    }),
  );
  await suite.time(
    { id: `range10-api-${T}`, w: 4, name: `range limit 10, ${T} keys: store.range({ fromKey, limit: 10 })` },
    {
      ...api((s) => {
        const next = cycle(keyStrings);
        return () => keep(s.range({ fromKey: next(), limit: 10 }));
      }),
      lmdb: (() => {
        const next = cycle(keyStrings);
        return () => keep(db.getRange({ start: next(), limit: 10 }).asArray);
      })(),
    },
  );
  await suite.time(
    { id: `range10-engine-${T}`, w: 4, name: `range limit 10, ${T} keys: engine.range(request)` },
    eng((e) => {
      const next = cycle(rangeOps);
      return () => keep(e.range(next()));
    }),
  );

  // A prefix holding 1% of the keys: key16 pads to 15 digits, so indices below 10^d share
  // 'k' + (15 − d) zeros.
  const d = Math.round(Math.log10(n)) - 2;
  const prefix = `k${'0'.repeat(15 - d)}`;
  const prefixEnd = `k${'0'.repeat(14 - d)}1`;
  await suite.time(
    { id: `count-1pct-${T}`, w: 4, name: `prefix count (1% = ${(n / 100).toLocaleString('en')} keys), ${T} keys` },
    {
      ...api((s) => () => keep(s.range({ prefix, countOnly: true }))),
      lmdb: () => keep(db.getKeysCount({ start: prefix, end: prefixEnd })),
    },
  );
  await suite.time(
    { id: `count-all-${T}`, w: 4, name: `prefix count (all keys), ${T} keys` },
    {
      ...api((s) => () => keep(s.range({ prefix: 'k', countOnly: true }))),
      lmdb: () => keep(db.getKeysCount()),
    },
  );

  // Sanity: every engine holds the same data.
  for (const s of Object.values(stores)) if (s.range({ prefix, countOnly: true }).count !== n / 100 || s.size !== n) throw new Error('dataset mismatch');
  if (db.getKeysCount({ start: prefix, end: prefixEnd }) !== n / 100) throw new Error('lmdb dataset mismatch');

  for (const s of Object.values(stores)) await s.close();
  for (const e of Object.values(engines)) e.close();
  await lmdb.close();
}

suite.note('Ratios > 1: native is that many times faster. lmdb-js reads copy the value out of the memory map (encoding "binary").');
suite.note("The native count is O(log n) (order-statistic index) and so is the JS engine's; lmdb-js counts by walking the keys.");
await suite.finish();
