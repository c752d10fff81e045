// The corruption campaign (issue: recovery never loses an acknowledged write silently): a durable
// store with known acknowledged writes is damaged at random — bit flips, zeroed ranges,
// truncation, deleted or swapped segments, snapshots and MANIFEST — and every trial must either
// open with every acknowledged write, or refuse with ERR_CORRUPT, with `verify` agreeing. Opening
// with less is the one outcome never allowed.
//
// Shared by test/corruption.test.ts (a fixed seed set, in a child process) and
// scripts/corruption-campaign.mjs (as many trials as asked).
import { copyFileSync, cpSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_ALIGNMENT, RECORD_HEADER, RecordOffsets, SEGMENT_HEADER } from '../wal-layout.mjs';

/** Options of the store under test: small segments and snapshots, so a few hundred writes span several of each. */
export const STORE_OPTIONS = { engine: 'native', leaseCheckIntervalMs: 0, walSegmentBytes: 64 << 10, snapshotEveryBytes: 24 << 10 };

export const DAMAGE_KINDS = [
  'flip-bit',
  'zero-range',
  'zero-record-header',
  'truncate-file',
  'delete-segment',
  'delete-newest-segment',
  'delete-all-segments',
  'delete-manifest',
  'delete-snapshot',
  'delete-all-snapshots',
  'swap-segments',
  'swap-snapshots',
  'copy-segment',
];

/** xorshift32: the trials are a function of their seed. */
function rng(seed) {
  let x = seed >>> 0 || 0x9e3779b9;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

const files = (dir, suffix) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => join(dir, f));

/** Offset just past the last non-zero byte. */
function written(bytes) {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return end;
}

/** Record offsets of a segment (formats/wal.mjs, docs/formats.md). */
function recordOffsets(bytes) {
  const out = [];
  let at = SEGMENT_HEADER;
  while (at + RECORD_HEADER <= bytes.length && bytes.subarray(at, at + RECORD_HEADER).some((b) => b !== 0)) {
    out.push(at);
    at += Math.ceil((RECORD_HEADER + bytes.readUInt32LE(at + RecordOffsets.len)) / RECORD_ALIGNMENT) * RECORD_ALIGNMENT;
  }
  return out;
}

/** Applies one damage of `kind` to the store in `dir`; returns a description, or undefined if this store offers nothing to damage that way. */
export function damage(dir, kind, pick) {
  const wal = join(dir, 'wal');
  const snap = join(dir, 'snap');
  const segments = files(wal, '.wal');
  const snapshots = files(snap, '.snap');
  const all = [...segments, ...snapshots, join(wal, 'MANIFEST')];
  const one = (list) => list[pick(list.length)];
  switch (kind) {
    case 'flip-bit': {
      const file = one(all);
      const bytes = readFileSync(file);
      const end = Math.max(1, written(bytes));
      const at = pick(end);
      bytes[at] ^= 1 << pick(8);
      writeFileSync(file, bytes);
      return `${file} byte ${at}`;
    }
    case 'zero-range': {
      const file = one(segments);
      const bytes = readFileSync(file);
      const end = Math.max(1, written(bytes));
      const at = pick(end);
      const len = 1 + pick(4096);
      bytes.fill(0, at, Math.min(end, at + len));
      writeFileSync(file, bytes);
      return `${file} [${at}, +${len})`;
    }
    case 'zero-record-header': {
      const file = one(segments);
      const bytes = readFileSync(file);
      const offsets = recordOffsets(bytes);
      if (offsets.length === 0) return undefined;
      const at = one(offsets);
      bytes.fill(0, at, at + RECORD_HEADER);
      writeFileSync(file, bytes);
      return `${file} record at ${at}`;
    }
    case 'truncate-file': {
      const file = one([...segments, ...snapshots]);
      const len = pick(Math.max(1, statSync(file).size));
      truncateSync(file, len);
      return `${file} to ${len} bytes`;
    }
    case 'delete-segment': {
      const file = one(segments);
      rmSync(file);
      return file;
    }
    case 'delete-newest-segment':
      rmSync(segments[segments.length - 1]);
      return segments[segments.length - 1];
    case 'delete-all-segments':
      for (const f of segments) rmSync(f);
      return `${segments.length} segments`;
    case 'delete-manifest':
      rmSync(join(wal, 'MANIFEST'));
      return 'MANIFEST';
    case 'delete-snapshot': {
      if (snapshots.length === 0) return undefined;
      const file = one(snapshots);
      rmSync(file);
      return file;
    }
    case 'delete-all-snapshots':
      if (snapshots.length === 0) return undefined;
      for (const f of snapshots) rmSync(f);
      return `${snapshots.length} snapshots`;
    case 'swap-segments':
    case 'swap-snapshots': {
      const list = kind === 'swap-segments' ? segments : snapshots;
      if (list.length < 2) return undefined;
      const a = pick(list.length);
      const b = (a + 1 + pick(list.length - 1)) % list.length;
      const tmp = `${list[a]}.swap`;
      renameSync(list[a], tmp);
      renameSync(list[b], list[a]);
      renameSync(tmp, list[b]);
      return `${list[a]} <-> ${list[b]}`;
    }
    case 'copy-segment': {
      // A copy of a segment under another segment's name: beside it, or as a new newest one.
      const file = one(segments);
      const last = segments[segments.length - 1].split('/').pop();
      const seq = parseInt(last.slice(0, 16), 16) + pick(2);
      const first = parseInt(last.slice(17, 33), 16) + 1 + pick(50);
      const name = join(wal, `${seq.toString(16).padStart(16, '0')}-${first.toString(16).padStart(16, '0')}.wal`);
      copyFileSync(file, name);
      return `${file} copied as ${name}`;
    }
    default:
      throw new Error(`unknown damage ${kind}`);
  }
}

/** Writes a known history into a new store at `path` and closes it; returns the expected final contents. */
export async function buildStore(MetaStore, path) {
  const store = await MetaStore.open({ path, ...STORE_OPTIONS });
  const expected = new Map();
  for (let i = 0; i < 600; i++) {
    const key = `key/${String(i % 150).padStart(4, '0')}`;
    const value = i % 7 === 0 ? '\0'.repeat(600) : `value-${i}-${'x'.repeat(i % 90)}`;
    if (i % 37 === 36) {
      await store.delete(key);
      expected.delete(key);
    } else {
      await store.put(key, value);
      expected.set(key, value);
    }
  }
  const revision = store.revision;
  await store.close();
  return { expected, revision };
}

/**
 * Runs `trials` trials from `seed` on copies of the store at `pristine` (built by buildStore).
 * Returns the outcome table and the failures (each a description).
 */
export async function runCampaign({ MetaStore, binding, pristine, expected, revision, work, seed, trials }) {
  const table = {};
  const failures = [];
  for (let t = 0; t < trials; t++) {
    const trialSeed = (seed + t * 7919) >>> 0;
    const pick = rng(trialSeed);
    const kind = DAMAGE_KINDS[t % DAMAGE_KINDS.length];
    const dir = join(work, `t${t}`);
    cpSync(pristine, dir, { recursive: true });
    const what = damage(dir, kind, pick);
    const row = (table[kind] ??= { trials: 0, intact: 0, refused: 0, less: 0, verifyDisagrees: 0, skipped: 0 });
    if (what === undefined) {
      row.skipped++;
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    row.trials++;
    let verifyOk;
    try {
      verifyOk = binding.durableVerify(dir).ok;
    } catch (_e) {
      verifyOk = false;
    }
    let outcome;
    try {
      const store = await MetaStore.open({ path: dir, ...STORE_OPTIONS });
      const missing = [];
      for (const [key, value] of expected) if (store.getString(key) !== value) missing.push(key);
      const extra = store.size !== expected.size || store.revision !== revision;
      await store.close();
      outcome = missing.length === 0 && !extra ? 'intact' : 'less';
      if (outcome === 'less')
        failures.push(
          `seed ${trialSeed} ${kind} (${what}): opened with ${missing.length} acknowledged keys missing or wrong, revision ${store.revision} of ${revision}`,
        );
    } catch (e) {
      if (e?.code === 'ERR_CORRUPT') outcome = 'refused';
      else {
        outcome = 'less';
        failures.push(`seed ${trialSeed} ${kind} (${what}): open failed with ${e?.code ?? ''} ${e?.message ?? e} instead of ERR_CORRUPT`);
      }
    }
    row[outcome]++;
    if ((outcome === 'intact') !== verifyOk) {
      row.verifyDisagrees++;
      failures.push(`seed ${trialSeed} ${kind} (${what}): open ${outcome}, verify says ${verifyOk ? 'ok' : 'not ok'}`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return { table, failures };
}
