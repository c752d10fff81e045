// W8, scale: memory after loading 1M and 10M keys (16-byte keys, 100-byte values) per engine,
// each load in its own process (scale-child.js), plus apply throughput and read latency at that
// size. The JS engine's limits are measured, not assumed: its key index is a JS Map, and the
// `map-limit` child fills a bare Map until V8 refuses. A child that dies (out of memory, a limit)
// is recorded as a failure of that cell; the run goes on.
// The quick run loads 10,000 keys per engine and skips the Map probe.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmtBytes, here, quick, Suite } from './lib.js';

const suite = new Suite('scale', {
  title: 'W8: scale — memory after loading 1M and 10M keys (16-byte keys, 100-byte values)',
  short: 'W8 scale',
  about: 'one process per (engine, size); RSS after two full GCs; B/key = (RSS after − RSS of the empty engine) / keys',
  columns: ['native', 'js'],
});

const sizes = quick ? [10_000] : [1_000_000, 10_000_000];
const JS_HEAP_MB = 16_384;
const TIMEOUT_MS = 240_000;

function availableBytes() {
  const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : Infinity;
}

function child(args, nodeFlags = []) {
  const r = spawnSync(process.execPath, ['--expose-gc', ...nodeFlags, join(here, 'scale-child.js'), ...args], {
    encoding: 'utf8',
    timeout: TIMEOUT_MS,
    maxBuffer: 1 << 20,
  });
  const last = r.stdout.trim().split('\n').at(-1);
  if (r.status === 0 && last?.startsWith('{')) return JSON.parse(last);
  const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
  const tail = r.stderr.trim().split('\n').slice(-6).join('\n');
  return { error: `${why}${tail ? `: ${tail}` : ''}` };
}

const tag = (n) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}K`);
let mapLimit = null;
if (!quick) {
  mapLimit = child(['map-limit']);
  console.log(`  a JS Map holds at most ${mapLimit.entries?.toLocaleString('en')} entries (${mapLimit.error})`);
  suite.note(
    `JS engine limit: its key index is a JS Map, and a Map holds at most ${mapLimit.entries?.toLocaleString('en')} entries (2^${mapLimit.log2}; V8: "${mapLimit.error}"), so the JS engine cannot hold more keys than that, whatever the heap size. The native engine has no such limit (memory only).`,
  );
}

for (const n of sizes) {
  const mem = {};
  const reads = { get: {}, range: {}, apply: {} };
  for (const kind of ['native', 'js']) {
    // ~400 B a key in either engine at these sizes, plus headroom; skip rather than swap.
    const need = n * 450;
    if (availableBytes() < need * 1.2) {
      mem[kind] = { na: `skipped: ${fmtBytes(availableBytes())} available, ~${fmtBytes(need)} needed` };
      continue;
    }
    const flags = kind === 'js' ? [`--max-old-space-size=${JS_HEAP_MB}`] : [];
    const r = child([kind, String(n)], flags);
    if (r.error) {
      mem[kind] = { error: r.error };
      continue;
    }
    mem[kind] = {
      bytes: r.after.rss,
      bytesPerKey: (r.after.rss - r.base.rss) / n,
      peakRss: r.peakRss,
      heapUsed: r.after.heapUsed,
      external: r.after.external,
      baseRss: r.base.rss,
      loadSeconds: +r.loadSeconds.toFixed(2),
      encodeSeconds: +r.encodeSeconds.toFixed(2),
      applySeconds: +r.applySeconds.toFixed(2),
    };
    reads.apply[kind] = {
      nsPerOp: (r.applySeconds * 1e9) / n,
      opsPerSec: n / r.applySeconds,
      details: `encode ${r.encodeSeconds.toFixed(1)} s + apply ${r.applySeconds.toFixed(1)} s`,
    };
    reads.get[kind] = { nsPerOp: r.getNs, opsPerSec: 1e9 / r.getNs };
    reads.range[kind] = { nsPerOp: r.range10Ns, opsPerSec: 1e9 / r.range10Ns };
    console.log(
      `    ${kind} ${tag(n)}: RSS ${fmtBytes(r.after.rss)} (peak ${fmtBytes(r.peakRss)}), JS heap ${fmtBytes(r.after.heapUsed)}, load ${r.loadSeconds.toFixed(1)} s`,
    );
  }
  suite.record({ id: `load-${tag(n)}`, w: 8, name: `memory after loading ${tag(n)} keys (RSS)`, metric: 'bytes' }, mem);
  suite.record({ id: `apply-${tag(n)}`, w: 8, name: `apply while loading ${tag(n)} keys (batches of 10,000 new keys; encoding excluded)` }, reads.apply);
  suite.record({ id: `get-${tag(n)}`, w: 8, name: `engine.get at ${tag(n)} keys (plain loop)` }, reads.get);
  suite.record({ id: `range10-${tag(n)}`, w: 8, name: `engine.range limit 10 at ${tag(n)} keys (plain loop)` }, reads.range);
}
if (mapLimit) suite.data.mapLimit = mapLimit;
suite.note(
  'Payload is 116 B a key (16 + 100). The JS engine runs with --max-old-space-size=16384; its keys and values are V8 one-byte strings on the JS heap.',
);
await suite.finish();
