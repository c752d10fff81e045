// W2, apply from committed log bytes: the seed's stress batch (10,000 puts over 1,000 keys),
// encoded once, applied by each engine. This is the real apply path: the log hands over bytes;
// the JS engine must validate and decode them, the native one reads them in place.
import { BatchWriter, compactor, createEngine, STRESS_OPS, stressBatch, stressKey, stressValue } from './data.js';
import { keep, Suite, withUpkeep } from './lib.js';

const suite = new Suite('apply', {
  title: 'W2: apply from committed log bytes (the stress batch, encoded once)',
  short: 'W2 apply from log bytes',
  about: 'ops = puts; engine.applyBatch(bytes); result objects not decoded',
});

const bytes = stressBatch();
const engines = { native: createEngine('native'), js: createEngine('js') };
const compact = { native: compactor(engines.native), js: compactor(engines.js) };
const ALL = Uint8Array.of(0); // as key and range end: every key
const clearAll = new BatchWriter(64).deleteRange(ALL, ALL).finish();

// The headline: the batch into an empty store (1,000 creates, 9,000 updates), as the seed's test
// applies it. Between calls, outside the timing, every key is deleted and the history compacted,
// so each call meets an empty store that is otherwise warm (allocations, the native thread pool).
// The native engine puts a batch's new keys into its ordered index on a pool thread after
// applyBatch returns; reading `size` waits for that, so the timing holds the whole apply.
const intoEmpty = (kind) =>
  withUpkeep(
    () => {
      keep(engines[kind].applyBatch(bytes));
      return engines[kind].size;
    },
    () => {
      engines[kind].applyBatch(clearAll);
      compact[kind]();
    },
  );
await suite.time(
  { id: 'stress-bytes', w: 2, name: 'stress batch from bytes into an empty store (1,000 creates + 9,000 updates)', ops: STRESS_OPS },
  { native: intoEmpty('native'), js: intoEmpty('js') },
);

// Steady state: the same batch again and again over the same 1,000 keys (all updates), the
// history compacted before each call (outside the timing).
for (const e of Object.values(engines)) e.applyBatch(bytes);
await suite.time(
  { id: 'stress-bytes-steady', w: 2, name: 'the same batch over the existing 1,000 keys (all updates), history compacted between calls', ops: STRESS_OPS },
  {
    native: withUpkeep(() => keep(engines.native.applyBatch(bytes)), compact.native),
    js: withUpkeep(() => keep(engines.js.applyBatch(bytes)), compact.js),
  },
);

// Where the JS engine's time goes: its validation pass alone, and a plain Map doing the same
// 10,000 sets from already-decoded strings (the floor any JS engine pays).
const { validateBatch } = await import('../dist/index.js');
await suite.time(
  { id: 'js-validate', w: 2, name: 'part of the JS apply: validateBatch(bytes) alone', ops: STRESS_OPS },
  {
    js: () => keep(validateBatch(bytes)),
  },
);
const keys = Array.from({ length: STRESS_OPS }, (_, i) => stressKey(i));
const values = Array.from({ length: STRESS_OPS }, (_, i) => stressValue(i));
const map = new Map();
await suite.time(
  { id: 'js-map-floor', w: 2, name: 'floor: plain JS Map.set of the 10,000 decoded pairs', ops: STRESS_OPS },
  {
    js: () => {
      for (let i = 0; i < STRESS_OPS; i++) map.set(keys[i], values[i]);
      keep(map);
    },
  },
);

// The same puts built by the caller (encode + apply), for the cost of encoding.
const w = new BatchWriter(1 << 20);
await suite.time(
  { id: 'stress-encode', w: 2, name: 'encode the stress batch (BatchWriter, strings)', ops: STRESS_OPS },
  {
    js: () => {
      w.reset();
      for (let i = 0; i < STRESS_OPS; i++) w.put(stressKey(i), stressValue(i));
      keep(w.peek());
    },
  },
);

suite.note('Goal: native ≥ 15M ops/s and ≥ 2× JS. References on this machine: a Rust loop over 512 std HashMaps ≈ 35 ns/op, a plain JS Map loop ≈ 45 ns/op.');
suite.note(
  'The 10,000-put batch is above the default parallel threshold (4,096), so the native engine applies it shard-parallel: the calling thread and the pool (by default one thread per core but one, here 1); see the sweep suite for pools of 1 and 2.',
);
for (const e of Object.values(engines)) e.close();
await suite.finish();
