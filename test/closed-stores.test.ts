// A closed store holds nothing: the garbage collector reclaims it and its engine, and memory does
// not grow with the number of stores opened and closed. Measured in a child process started with
// --expose-gc (closed-stores.child.mjs), on the built package (dist/).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'metastore-closed-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Cycles {
  cycles: number;
  stores: number;
  engines: number;
  rssPerCycle: number;
}

interface Measured {
  durable: Cycles;
  memory: Cycles;
  sameTurn: { cycles: number; arrayBuffersPerCycle: number };
  stillHeld: { stores: number; arrayBuffersPerStore: number };
}

function measure(): Measured {
  // --single-threaded-gc: freed buffers are swept before gc() returns, so memoryUsage() no longer
  // counts them; --max-semi-space-size: the young generation does not grow during the run (RSS
  // would count that).
  const child = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--single-threaded-gc',
      '--max-semi-space-size=1',
      fileURLToPath(new URL('./closed-stores.child.mjs', import.meta.url)),
      new URL('../dist/index.js', import.meta.url).href,
      root,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  expect({ status: child.status, signal: child.signal, stderr: child.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  return JSON.parse(child.stdout);
}

describe('closed stores', () => {
  it('are collected with their engines, durable and in memory, and leave no memory behind; one still referenced keeps little', () => {
    const { durable, memory, sameTurn, stillHeld } = measure();
    for (const run of [durable, memory]) {
      // The last one or two may still be referenced from the loop's last iteration.
      expect(run.stores).toBeGreaterThanOrEqual(run.cycles - 2);
      expect(run.engines).toBeGreaterThanOrEqual(run.cycles - 2);
      // A store's engine alone registers 128 KiB of buffers; the allocators warm up meanwhile.
      expect(run.rssPerCycle).toBeLessThan(64 * 1024);
    }
    // Released at close(), not by a finalizer, which Node runs only on a later turn of the event loop.
    expect(sameTurn.arrayBuffersPerCycle).toBeLessThan(4 * 1024);
    // A closed store the program still references keeps little: its engine's 128 KiB of
    // buffers went at close (what is left is mostly the write path's 16 KiB entry buffer).
    expect(stillHeld.arrayBuffersPerStore).toBeLessThan(32 * 1024);
  });
});
