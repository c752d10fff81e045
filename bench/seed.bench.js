// The seed's two workloads, native vs pure-TS engine, at engine level (codec bytes in, packed
// results out):
//  - BenchmarkBatchApplyVsSingle: the same 100 puts applied one by one vs as one batch;
//  - TestBatchApplyStressTest: 10,000 puts over 1,000 keys (`key-i%1000` = `value-i`), one batch.
// `npm run build` first; then `node bench/seed.bench.js [--quick]`.
import { BatchWriter, createEngine } from '../dist/index.js';
import { bench, group, keep, runAll } from './lib.js';

const kinds = ['native', 'js'];

function batchOf(n, keyOf, valueOf) {
  const w = new BatchWriter(64 * n);
  for (let i = 0; i < n; i++) w.put(keyOf(i), valueOf(i));
  return w.finish();
}

const hundred = batchOf(100, (i) => `key-${i}`, () => 'value');
const singles = Array.from({ length: 100 }, (_, i) => batchOf(1, () => `key-${i}`, () => 'value'));
const stress = batchOf(10_000, (i) => `key-${i % 1000}`, (i) => `value-${i}`);

for (const kind of kinds) {
  const engine = createEngine(kind);
  group(`${kind}: the same 100 puts, one by one vs one batch (seed BenchmarkBatchApplyVsSingle)`, () => {
    bench(`${kind} single x100`, () => {
      for (const one of singles) keep(engine.applyBatch(one));
    });
    bench(`${kind} batch of 100`, () => keep(engine.applyBatch(hundred)));
  });
}

group('10,000 puts over 1,000 keys in one batch (seed TestBatchApplyStressTest)', () => {
  for (const kind of kinds) {
    const engine = createEngine(kind);
    bench(`${kind} stress batch`, () => keep(engine.applyBatch(stress)));
  }
});

await runAll();
