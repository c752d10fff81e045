// Workload data shared by the suites: the seed's batches, the read datasets, lmdb-js stores.
// `npm run build` first: everything is imported from dist/.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { BatchWriter, MetaStore, createEngine } from '../dist/index.js';

export { BatchWriter, MetaStore, createEngine };

/** The raw addon (native/index.cjs): for the FFI floor, below the engine wrapper. */
export function nativeBinding() {
  return createRequire(import.meta.url)('../native/index.cjs');
}

/** A batch of `n` puts, encoded once. */
export function batchOf(n, keyOf, valueAt) {
  const w = new BatchWriter(64 * n + 64);
  for (let i = 0; i < n; i++) w.put(keyOf(i), valueAt(i));
  return w.finish();
}

/** The seed's TestBatchApplyStressTest: 10,000 puts over 1,000 keys, `key-(i%1000)` = `value-i`. */
export const STRESS_OPS = 10_000;
export const stressKey = (i) => `key-${i % 1000}`;
export const stressValue = (i) => `value-${i}`;
export const stressBatch = () => batchOf(STRESS_OPS, stressKey, stressValue);

/** 16-byte keys in key order: `k` + 15 digits. */
export const key16 = (i) => `k${String(i).padStart(15, '0')}`;
/** A 100-byte value. */
export const VALUE100 = 'v'.repeat(90) + '0123456789';

/**
 * Loads keys 0..n-1 (`key16`, `VALUE100`) into a store or engine with `applyBatch` (a store's
 * is awaited), in batches of 10,000 encoded into one reused writer. Resolves with the seconds
 * spent encoding and applying.
 */
export async function loadKeys(target, n, { keyOf = key16, value = VALUE100, batch = 10_000 } = {}) {
  const w = new BatchWriter(batch * (keyOf(0).length + value.length + 32));
  let encode = 0;
  let apply = 0;
  for (let i = 0; i < n; ) {
    const t0 = performance.now();
    w.reset();
    const end = Math.min(n, i + batch);
    for (; i < end; i++) w.put(keyOf(i), value);
    const bytes = w.peek();
    const t1 = performance.now();
    const applied = target.applyBatch(bytes);
    if (applied instanceof Promise) await applied;
    apply += performance.now() - t1;
    encode += t1 - t0;
  }
  return { encodeSeconds: encode / 1000, applySeconds: apply / 1000 };
}

/**
 * Compacts the history of `target` (an Engine or a MetaStore) at its current revision, outside
 * any timing. Engines keep MVCC history, so a workload that rewrites the same keys millions of
 * times would otherwise measure an ever-growing history (and run out of memory); etcd compacts
 * periodically too. A no-op for builds or engines without compaction (no history kept).
 * `revision` and `apply` let it drive a raw binding handle. For a store the COMPACT is proposed
 * and applied by the store's apply loop at its next await.
 */
export function compactor(target, { revision = () => target.revision, apply = (b) => target.applyBatch(b) } = {}) {
  const w = new BatchWriter(64);
  if (typeof w.compact !== 'function') return () => {};
  let supported = true;
  return () => {
    if (!supported) return;
    try {
      apply(w.reset().compact(revision()).peek());
    } catch (e) {
      // An engine that predates compaction refuses the op type as malformed.
      if (String(e?.code ?? e?.message).includes('MALFORMED') || String(e?.message).startsWith('MSERR:1:')) supported = false;
      else throw e;
    }
  };
}

/** Opens a store per engine kind (`'native'`, `'js'`). */
export async function openStores(options = {}) {
  return {
    native: await MetaStore.open({ engine: 'native', ...options }),
    js: await MetaStore.open({ engine: 'js', ...options }),
  };
}

/**
 * An lmdb-js database in a fresh temporary directory on the same disk as the rest (os.tmpdir()
 * is ext4 here, not tmpfs, so its fsyncs are real). `close()` removes it.
 */
export async function openLmdb(options = {}) {
  const { open } = await import('lmdb');
  const dir = mkdtempSync(join(os.tmpdir(), 'metastore-bench-lmdb-'));
  const db = open({ path: join(dir, 'db'), ...options });
  return {
    db,
    dir,
    async close() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
