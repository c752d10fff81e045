// The crash loop: a child writes to a durable store and reports each acknowledged write; the
// loop SIGKILLs it at a random moment (also during open and replay), reopens the store and
// checks that every acknowledged write is there, the revision never went back, and leases and
// compaction are consistent. Used by test/crash.test.ts (bounded) and scripts/crash-loop.mjs.
// The store options both sides open with (small segments and snapshots, so that crashes land
// in snapshot writes, segment cuts and purges too).
export const STORE_OPTIONS = { engine: 'native', leaseCheckIntervalMs: 0, snapshotEveryBytes: 128 * 1024, walSegmentBytes: 256 * 1024 };
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WRITER = fileURLToPath(new URL('./writer.mjs', import.meta.url));

/** A small seeded PRNG (mulberry32): the kill schedule of a seed is reproducible. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs the child once and kills it `delayMs` after it started — or, with `afterReady`, after it
 * reported its store open (so that a growing store, slower to open, is still killed under load
 * and not only during recovery). Resolves with the lines it reported.
 */
function runChild({ entry, path, run, writers, delayMs, afterReady }) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, entry, path, String(run), String(writers)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const kill = () => child.kill('SIGKILL');
    let timer = setTimeout(kill, afterReady ? 60_000 : delayMs);
    child.stdout.on('data', (d) => {
      const first = out.length === 0;
      out += d;
      if (afterReady && first) {
        clearTimeout(timer);
        timer = setTimeout(kill, delayMs);
      }
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    // 'close', not 'exit': the reports still in the pipe are read first.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited by itself (code ${code}, signal ${signal}): ${err || out.slice(-500)}`));
      else resolve(out.split('\n').filter((l) => l.length > 0));
    });
  });
}

/**
 * `kills` rounds against the store in `path`. `open(path)` opens the store in this process.
 * Returns totals; throws on the first broken guarantee.
 */
export async function crashLoop({ entry, path, open, kills, seed = 1, writers = 16, maxDelayMs = 400, log = () => {} }) {
  const random = prng(seed);
  const acked = new Map(); // key → { value, lease }
  let lastRevision = 1;
  let maxCompact = -1;
  const totals = { kills: 0, acked: 0, maxRevision: 0 };
  for (let run = 0; run < kills; run++) {
    const delayMs = Math.floor(random() * maxDelayMs);
    // A quarter of the kills count from the start, so they also land in open and replay.
    const afterReady = random() < 0.75;
    const lines = await runChild({ entry, path, run, writers, delayMs, afterReady });
    let ackedRevision = 0;
    for (const line of lines) {
      const [kind, a, b, c] = line.split(' ');
      if (kind === 'P') {
        const i = a.lastIndexOf('/');
        acked.set(a, { value: `v${a.slice(i + 1)}`, lease: Number(c), revision: Number(b) });
        ackedRevision = Math.max(ackedRevision, Number(b));
      } else if (kind === 'C') maxCompact = Math.max(maxCompact, Number(a));
    }
    const store = await open(path);
    try {
      const problems = [];
      if (store.revision < lastRevision) problems.push(`revision went back from ${lastRevision} to ${store.revision}`);
      if (store.revision < ackedRevision) problems.push(`revision ${store.revision} is below an acknowledged revision ${ackedRevision}`);
      if (store.compactRevision < maxCompact) problems.push(`compacted revision ${store.compactRevision} is below an acknowledged compaction to ${maxCompact}`);
      if (store.compactRevision > store.revision) problems.push(`compacted revision ${store.compactRevision} is above the revision ${store.revision}`);
      for (const [key, want] of acked) {
        const kv = store.get(key);
        if (kv === undefined) problems.push(`acknowledged ${key} is missing`);
        else if (Buffer.from(kv.value).toString() !== want.value) problems.push(`${key} has the wrong value`);
        else if (kv.lease !== want.lease) problems.push(`${key} has lease ${kv.lease}, acknowledged with ${want.lease}`);
        // Every key is written once: an entry applied twice or out of order shows here.
        else if (kv.modRevision !== want.revision || kv.createRevision !== want.revision || kv.version !== 1) {
          problems.push(`${key} is at revision ${kv.modRevision} (created ${kv.createRevision}, version ${kv.version}), acknowledged at ${want.revision}`);
        }
        if (problems.length > 5) break;
      }
      const leases = new Set(store.lease.list());
      for (const [key, want] of acked) if (want.lease !== 0 && !leases.has(want.lease)) problems.push(`lease ${want.lease} of ${key} is missing`);
      for (const id of leases) {
        const info = store.lease.timeToLive(id, { keys: true });
        for (const k of info.keys ?? []) if (store.get(k)?.lease !== id) problems.push(`lease ${id} lists a key that is not attached to it`);
      }
      if (problems.length > 0) {
        throw new Error(`after kill ${run + 1} (seed ${seed}, delay ${delayMs} ms${afterReady ? ' after open' : ''}): ${problems.slice(0, 5).join('; ')}`);
      }
      lastRevision = store.revision;
      totals.maxRevision = store.revision;
    } finally {
      await store.close();
    }
    totals.kills++;
    totals.acked = acked.size;
    log(`kill ${run + 1}: ${lines.length} reports, revision ${lastRevision}`);
  }
  return totals;
}
