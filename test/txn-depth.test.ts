/**
 * Transaction nesting depth (`maxTxnDepth`, default 64; ERR_TXN_TOO_DEEP): refused before
 * anything is logged or applied, on both engines, and a batch nested far deeper — given to an
 * engine directly, or already in a durable log — is refused, never a stack overflow. The
 * scenarios that overflowed the stack before (a SIGSEGV of the native engine kills the process)
 * run in a child process on the built package (dist/), so build first (`npm run build`).
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import type { MetaStore } from '../ts/store.js';
import { op, type TxnRequest } from '../ts/facade/txn.js';
import { DEFAULT_MAX_TXN_DEPTH, TXN_DEPTH_CEILING } from '../ts/types.js';
import { ENGINE_KINDS, engineFactory, storeFactory } from './engines.js';
import { catchAsync, catchSync } from './helpers.js';

const ENTRY = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const CHILD = fileURLToPath(new URL('./txn-depth/deep-batches.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'metastore-txn-depth-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const openStore = storeFactory();
const newEngine = engineFactory();

/** A chain of `depth` nested transactions around a put of k = v, written without recursion. */
function nestedRequest(depth: number): TxnRequest {
  let request: TxnRequest = { success: [op.put('k', 'v')] };
  for (let level = 1; level < depth; level++) request = { success: [op.txn(request)] };
  return request;
}

/**
 * The same chain as codec bytes; levels where `inFailure(level)` hold the next level in their
 * failure branch.
 */
function nestedBatch(depth: number, inFailure: (level: number) => boolean = () => false): Uint8Array {
  const put = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0x6b, 0x76];
  const bytes = new Uint8Array(8 + depth * 14 + put.length);
  bytes.set([0x4d, 0x53, 0x42, 1, 1, 0, 0, 0]);
  for (let level = 1; level <= depth; level++) {
    const [success, failure] = inFailure(level) ? [0, 1] : [1, 0];
    bytes.set([4, 0, 0, 0, 0, 0, success, 0, 0, 0, failure, 0, 0, 0], 8 + (level - 1) * 14);
  }
  bytes.set(put, 8 + depth * 14);
  return bytes;
}

/** What a refused write must leave as it was: nothing proposed, logged or applied. */
function untouched(s: MetaStore) {
  return { revision: s.revision, k: s.getString('k'), proposals: s.writeStats().proposals, appliedIndex: s.appliedIndex };
}

describe.each(ENGINE_KINDS)('transaction nesting depth (%s engine)', (kind) => {
  it('store.txn() at maxTxnDepth (default 64) applies; one level deeper is refused before it is logged', async () => {
    const s = await openStore(kind);
    const before = untouched(s);
    const tooDeep = await catchAsync(() => s.txn(nestedRequest(DEFAULT_MAX_TXN_DEPTH + 1)));
    expect([tooDeep.code, tooDeep.category, tooDeep.opIndex]).toEqual(['ERR_TXN_TOO_DEEP', 'InvalidArgument', 0]);
    // The builder form, one level too deep inside .then().
    const viaBuilder = await catchAsync(() =>
      s
        .txn()
        .then(op.txn(nestedRequest(DEFAULT_MAX_TXN_DEPTH)))
        .commit(),
    );
    expect(viaBuilder.code).toBe('ERR_TXN_TOO_DEEP');
    // The same bytes proposed raw are refused by the façade's validator.
    expect((await catchAsync(() => s.applyBatch(nestedBatch(DEFAULT_MAX_TXN_DEPTH + 1)))).code).toBe('ERR_TXN_TOO_DEEP');
    expect(untouched(s)).toEqual(before);

    const atLimit = await s
      .txn()
      .then(op.txn(nestedRequest(DEFAULT_MAX_TXN_DEPTH - 1)))
      .commit();
    expect(atLimit.succeeded).toBe(true);
    expect(s.getString('k')).toBe('v');
    let response = atLimit;
    for (let level = 1; level < DEFAULT_MAX_TXN_DEPTH; level++) response = response.responses[0] as typeof response;
    expect(response.responses).toEqual([{ type: 'put', revision: 2 }]);
  });

  it('maxTxnDepth sets the limit, in 1..TXN_DEPTH_CEILING', async () => {
    const s = await openStore(kind, { maxTxnDepth: 3 });
    expect((await catchAsync(() => s.txn(nestedRequest(4)))).code).toBe('ERR_TXN_TOO_DEEP');
    expect((await catchAsync(() => s.applyBatch(nestedBatch(4)))).code).toBe('ERR_TXN_TOO_DEEP');
    expect(s.revision).toBe(1);
    await s.txn(nestedRequest(3));
    expect(s.getString('k')).toBe('v');
    for (const bad of [0, TXN_DEPTH_CEILING + 1, 2.5, Number.NaN]) {
      expect((await catchAsync(() => openStore(kind, { maxTxnDepth: bad }))).code, String(bad)).toBe('ERR_INVALID_OPTION');
    }
  });

  it('the engine refuses a batch one level too deep (through success or failure branches); nothing applied', () => {
    const e = newEngine(kind, { maxTxnDepth: 5 });
    for (const inFailure of [() => false, (level: number) => level % 2 === 0, () => true]) {
      const err = catchSync(() => e.applyBatch(nestedBatch(6, inFailure)));
      expect([err.code, err.opIndex]).toEqual(['ERR_TXN_TOO_DEEP', 0]);
    }
    expect(e.revision).toBe(1);
    e.applyBatch(nestedBatch(5, (level) => level % 2 === 0));
    e.applyBatch(nestedBatch(5));
    expect(e.revision).toBe(2);
  });
});

/** Runs the child scenario; it prints one JSON line per outcome. */
function runChild(...args: string[]): unknown[] {
  expect(existsSync(ENTRY), 'dist/index.js is missing: run `npm run build` first').toBe(true);
  const child = spawnSync(process.execPath, [CHILD, ENTRY, ...args], { encoding: 'utf8', timeout: 60_000 });
  expect({ status: child.status, signal: child.signal, stderr: child.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  return child.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);
}

describe('transactions nested 10,000 levels deep (child process)', () => {
  it('are refused with ERR_TXN_TOO_DEEP by engine.applyBatch, store.applyBatch and store.txn on both engines; the process and stores live on', () => {
    const expected = ENGINE_KINDS.flatMap((kind) => [
      { kind, call: 'engine.applyBatch', code: 'ERR_TXN_TOO_DEEP', revision: 1 },
      { kind, call: 'store.applyBatch', code: 'ERR_TXN_TOO_DEEP' },
      { kind, call: 'store.txn', code: 'ERR_TXN_TOO_DEEP' },
      { kind, call: 'store.put after', revision: 2, proposals: 1 },
    ]);
    expect(runChild('engines')).toEqual(expected);
  });

  it('a durable store refuses one before logging it, and one its log already holds is refused on apply and on every replay', () => {
    expect(runChild('durable', join(root, 'durable'))).toEqual([
      { call: 'store.applyBatch', code: 'ERR_TXN_TOO_DEEP', appliedIndex: 0 },
      { call: 'logged deep entry', appliedIndex: 2, revision: 2 },
      { call: 'reopen 1', replayed: 2, revision: 2, after: '1', k: null },
      { call: 'reopen 2', replayed: 3, revision: 3, after: '1', k: null },
    ]);
  });

  it('with maxTxnDepth at TXN_DEPTH_CEILING, that many levels apply on both engines in a thread with half the stack of a Node worker; one more is refused', async () => {
    expect(existsSync(ENTRY), 'dist/index.js is missing: run `npm run build` first').toBe(true);
    const script = `
      const { workerData, parentPort } = require('node:worker_threads');
      (async () => {
        const { MetaStore, op } = await import(workerData.entry);
        const nested = (depth) => {
          let request = { success: [op.put('k', 'v')] };
          for (let level = 1; level < depth; level++) request = { success: [op.txn(request)] };
          return request;
        };
        const out = [];
        for (const engine of ['native', 'js']) {
          const s = await MetaStore.open({ engine, leaseCheckIntervalMs: 0, maxTxnOps: 1e6, maxTxnDepth: workerData.depth });
          const tooDeep = await s.txn(nested(workerData.depth + 1)).then(() => null, (e) => e.code);
          out.push({ engine, tooDeep, revision: (await s.txn(nested(workerData.depth))).revision });
          await s.close();
        }
        parentPort.postMessage(out);
      })().catch((e) => parentPort.postMessage(String(e)));
    `;
    const worker = new Worker(script, { eval: true, workerData: { entry: ENTRY, depth: TXN_DEPTH_CEILING }, resourceLimits: { stackSizeMb: 2 } });
    const result = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(result).toEqual([
      { engine: 'native', tooDeep: 'ERR_TXN_TOO_DEEP', revision: 2 },
      { engine: 'js', tooDeep: 'ERR_TXN_TOO_DEEP', revision: 2 },
    ]);
  });
});
