// One scale measurement in its own process (spawned by scale.bench.js):
//   node --expose-gc bench/scale-child.js <native|js> <keys>
// Loads <keys> keys (16-byte keys, 100-byte values) through engine.applyBatch in batches of
// 10,000, then reports memory (RSS, JS heap, external), load time split into encoding and apply,
// and a short timing of get and range limit 10 at that size, as one JSON line on stdout.
//   node bench/scale-child.js map-limit
// fills a bare JS Map until V8 refuses and reports the entry count (the JS engine's key index is
// a Map, so this is the most keys the JS engine can hold).
import { readFileSync } from 'node:fs';
import { createEngine, key16, loadKeys } from './data.js';
import { rng } from './lib.js';

const [kind, nArg] = process.argv.slice(2);

function peakRss() {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : null;
}

function memory() {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

if (kind === 'map-limit') {
  const map = new Map();
  let i = 0;
  try {
    for (; ; i++) map.set(i, i);
  } catch (e) {
    console.log(JSON.stringify({ entries: i, error: `${e.constructor.name}: ${e.message}`, log2: Math.log2(i) }));
  }
  process.exit(0);
}

const n = Number(nArg);
const engine = createEngine(kind);
const base = memory();
const t0 = performance.now();
const { encodeSeconds, applySeconds } = await loadKeys(engine, n);
const loadSeconds = (performance.now() - t0) / 1000;
if (engine.size !== n) throw new Error(`size ${engine.size} after loading ${n} keys`);
const after = memory();

// Reads at this size: random existing keys, a plain timed loop (not mitata: one shot per size).
const pick = rng(n);
const utf8 = new TextEncoder();
const keys = Array.from({ length: 4096 }, () => utf8.encode(key16(pick(n))));
const FROM_KEY = Uint8Array.of(0);
const ranges = keys.map((key) => ({ type: 'range', key, rangeEnd: FROM_KEY, limit: 10 }));
// The median of 7 rounds: the machine is shared, and one disturbed round should not decide.
function timeLoop(reps, f) {
  for (let i = 0; i < 10_000; i++) f(i & 4095); // warm up
  const rounds = [];
  for (let r = 0; r < 7; r++) {
    const s = performance.now();
    for (let i = 0; i < reps / 7; i++) f(i & 4095);
    rounds.push(((performance.now() - s) * 1e6) / Math.floor(reps / 7));
  }
  return rounds.sort((a, b) => a - b)[3];
}
let sink = 0;
const getNs = timeLoop(200_000, (i) => (sink += engine.get(keys[i]).version));
const range10Ns = timeLoop(50_000, (i) => (sink += engine.range(ranges[i]).kvs.length));

console.log(
  JSON.stringify({
    kind,
    keys: n,
    base,
    after,
    peakRss: peakRss(),
    loadSeconds,
    encodeSeconds,
    applySeconds,
    getNs,
    range10Ns,
    sink: sink > 0,
  }),
);
engine.close();
