// W9, the FFI floor: what one call into the addon costs before any engine work, layer by layer.
//   noop                     the empty napi call (`noop`, in the addon built with the test hooks)
//   binding.engineRevision   an External argument, an i64 back
//   binding.engineGet        raw get: key already in the registered input buffer, KV bytes
//                            written to scratch, nothing decoded in JS
//   engine.get               + copying the key in, decoding the KV into a JS object
//   store.get                + UTF-8 encoding a string key and the façade's checks
//   binding.engineRange      raw range limit 10: request in the input buffer, result in scratch
//   engine.range             + encoding the request, decoding 10 KVs into JS objects
//   binding.engineApplyBatch raw apply of a one-put batch, results left in scratch
//   engine.applyBatch        + copying the results out and wrapping them (lazy)
//   await store.put          + encoding the op, decoding result 0, a promise
// The JS column runs the same call on the pure-TS engine where one exists.
import { BatchWriter, batchOf, compactor, createEngine, key16, loadKeys, MetaStore, nativeBinding, VALUE100 } from './data.js';
import { keep, Suite, withUpkeep } from './lib.js';

const suite = new Suite('ffi', {
  title: 'W9: the FFI floor — per-call overhead, layer by layer',
  short: 'W9 FFI floor',
  about: 'ops = calls; 1,000 keys of 16 bytes with 100-byte values',
  columns: ['native', 'js'],
});

const binding = nativeBinding();
const N = 1000;
const key = key16(123);
const keyBytes = new TextEncoder().encode(key);
const onePut = batchOf(
  1,
  () => key16(7),
  () => VALUE100,
);
const FROM_KEY = Uint8Array.of(0);
const rangeOp = { type: 'range', key: keyBytes, rangeEnd: FROM_KEY, limit: 10 };
const rangeRequest = new BatchWriter(256).range(keyBytes, { rangeEnd: FROM_KEY, limit: 10 }).finish();

const engines = { native: createEngine('native'), js: createEngine('js') };
const stores = { native: await MetaStore.open({ engine: 'native' }), js: await MetaStore.open({ engine: 'js' }) };
for (const t of [...Object.values(engines), ...Object.values(stores)]) await loadKeys(t, N);

// A raw handle with our own registered buffers, as the engine wrapper makes it.
const scratch = new Uint8Array(64 * 1024);
const input = new Uint8Array(64 * 1024);
const handle = binding.engineNew(scratch, input, null);
const NO_EVENTS = 0; // engineApplyBatch's events mode (0 = no watch events); ignored by older bindings
binding.engineApplyBatch(
  handle,
  batchOf(N, key16, () => VALUE100),
  NO_EVENTS,
);
input.set(keyBytes);
if (binding.engineGet(handle, keyBytes.length) <= 0) throw new Error('raw get found nothing');

// Write rows rewrite one key: its history is compacted every EVERY calls, outside the timing.
const EVERY = 10_000;
const compact = { native: compactor(engines.native), js: compactor(engines.js), apiNative: compactor(stores.native), apiJs: compactor(stores.js) };
const rawCompact = compactor(null, { revision: () => binding.engineRevision(handle), apply: (b) => binding.engineApplyBatch(handle, b, NO_EVENTS) });
await suite.time(
  { id: 'noop', w: 9, name: 'empty call: binding.noop()' },
  {
    // noop is a test hook: only the build with them has it (npm run build:native:test, loaded with
    // NAPI_RS_NATIVE_LIBRARY_PATH=native/test-hooks/metastore.<platform>.node).
    native: typeof binding.noop === 'function' ? () => keep(binding.noop()) : 'a test hook: not in the release addon',
    js: 'no FFI in the JS engine',
  },
);
await suite.time(
  { id: 'raw-revision', w: 9, name: 'binding.engineRevision(handle): an External in, an i64 out' },
  {
    native: () => keep(binding.engineRevision(handle)),
    js: 'no FFI in the JS engine',
  },
);
await suite.time(
  { id: 'raw-get', w: 9, name: 'raw get of a 16-byte key: binding.engineGet(handle, len), no decode' },
  {
    native: () => keep(binding.engineGet(handle, keyBytes.length)),
    js: 'no raw layer',
  },
);
await suite.time(
  { id: 'engine-get', w: 9, name: 'engine.get(key bytes) → KeyValue' },
  {
    native: () => keep(engines.native.get(keyBytes)),
    js: () => keep(engines.js.get(keyBytes)),
  },
);
await suite.time(
  { id: 'api-get', w: 9, name: 'store.get(key string) → KeyValue' },
  {
    native: () => keep(stores.native.get(key)),
    js: () => keep(stores.js.get(key)),
  },
);
await suite.time(
  { id: 'raw-range', w: 9, name: 'raw range limit 10: binding.engineRange(handle, len), request in input, no decode' },
  {
    native: () => {
      input.set(rangeRequest);
      keep(binding.engineRange(handle, rangeRequest.length));
    },
    js: 'no raw layer',
  },
);
await suite.time(
  { id: 'engine-range', w: 9, name: 'engine.range({ key, rangeEnd: [0], limit: 10 }) → 10 KeyValues' },
  {
    native: () => keep(engines.native.range(rangeOp)),
    js: () => keep(engines.js.range(rangeOp)),
  },
);
await suite.time(
  { id: 'raw-apply-1', w: 9, name: 'raw applyBatch of one put: binding.engineApplyBatch, results not read' },
  {
    native: withUpkeep(() => keep(binding.engineApplyBatch(handle, onePut, NO_EVENTS)), rawCompact, EVERY),
    js: 'no raw layer',
  },
);
await suite.time(
  { id: 'engine-apply-1', w: 9, name: 'engine.applyBatch(one put) → BatchResult' },
  {
    native: withUpkeep(() => keep(engines.native.applyBatch(onePut)), compact.native, EVERY),
    js: withUpkeep(() => keep(engines.js.applyBatch(onePut)), compact.js, EVERY),
  },
);
await suite.time(
  { id: 'engine-apply-1-decode', w: 9, name: 'engine.applyBatch(one put).result(0)' },
  {
    native: withUpkeep(() => keep(engines.native.applyBatch(onePut).result(0)), compact.native, EVERY),
    js: withUpkeep(() => keep(engines.js.applyBatch(onePut).result(0)), compact.js, EVERY),
  },
);
await suite.time(
  { id: 'api-put', w: 9, name: 'await store.put(key, 100-byte value)' },
  {
    native: withUpkeep(async () => keep(await stores.native.put(key, VALUE100)), compact.apiNative, EVERY),
    js: withUpkeep(async () => keep(await stores.js.put(key, VALUE100)), compact.apiJs, EVERY),
  },
);

suite.note(
  'Read the native column top-down: each row adds one layer to the one above it, so the differences are the cost of each layer (FFI, engine work, JS-side decoding, façade).',
);
binding.engineClose(handle);
for (const e of Object.values(engines)) e.close();
for (const s of Object.values(stores)) await s.close();
await suite.finish();
