// W3, batch-size sweep: per-op cost of applying a batch of 1, 10, 100, 1k and 10k puts (updates
// of existing keys, 16-byte keys, 100-byte values, pre-encoded), and the effect of the rayon
// threshold: the native engine as configured by default (parallel from 4,096 ops, the calling
// thread and a pool of one thread per core but one), always serial, and always parallel
// (threshold 2) with pools of 1 and of 2 threads (the calling thread takes its share too).
import { batchOf, compactor, createEngine, key16, loadKeys, VALUE100 } from './data.js';
import { cycle, keep, quick, Suite, withUpkeep } from './lib.js';

const suite = new Suite('sweep', {
  title: 'W3: batch-size sweep, per-op cost; rayon threshold and pool threads (1 vs 2)',
  short: 'W3 batch-size sweep',
  about:
    'ops = puts; default = parallel from 4,096 ops, the calling thread and a pool of cores − 1 threads; serial = never parallel; ∥ = parallel from 2 ops, pool of 1 or 2 threads besides the calling thread',
  columns: ['native', 'native-serial', 'native-par1', 'native-par2', 'js'],
});

const KEYS = 10_000;
const sizes = quick ? [1, 10, 100] : [1, 10, 100, 1_000, 10_000];
const engines = {
  native: createEngine('native'),
  'native-serial': createEngine('native', { parallelThreshold: 0xffff_ffff }),
  'native-par1': createEngine('native', { parallelThreshold: 2, threads: 1 }),
  'native-par2': createEngine('native', { parallelThreshold: 2, threads: 2 }),
  js: createEngine('js'),
};
for (const e of Object.values(engines)) await loadKeys(e, KEYS);
const compact = Object.fromEntries(Object.entries(engines).map(([col, e]) => [col, compactor(e)]));

for (const n of sizes) {
  // A few different batches of n distinct keys each, spread over the key space by a prime stride.
  const batches = Array.from({ length: 8 }, (_, j) =>
    batchOf(
      n,
      (i) => key16(((j * n + i) * 7919) % KEYS),
      () => VALUE100,
    ),
  );
  const variants = {};
  for (const [col, e] of Object.entries(engines)) {
    const next = cycle(batches);
    // History compacted every ~20,000 puts, outside the timing.
    variants[col] = withUpkeep(() => keep(e.applyBatch(next())), compact[col], Math.max(1, Math.round(20_000 / n)));
  }
  await suite.time({ id: `batch-${n}`, w: 3, name: `batch of ${n.toLocaleString('en')} put${n === 1 ? '' : 's'}`, ops: n }, variants);
}

suite.note(
  `Each batch updates ${KEYS.toLocaleString('en')} pre-loaded keys; per-op = per-call time / batch size. Ratios compare against the native default configuration.`,
);
for (const e of Object.values(engines)) e.close();
await suite.finish();
