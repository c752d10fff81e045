/**
 * SIGKILL loop against a durable store (native engine): every acknowledged write survives, the
 * revision never goes back, leases and compaction stay consistent. 100 kills here (CRASH_KILLS
 * to change); `node scripts/crash-loop.mjs --kills 1000` for a long run. The child runs the
 * built package (dist/), so build first (`npm run build`).
 */

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { MetaStore } from '../ts/store.js';
// @ts-expect-error plain JS module shared with scripts/crash-loop.mjs
import { crashLoop, STORE_OPTIONS } from './crash/crash-loop.mjs';

const ENTRY = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const KILLS = Number(process.env.CRASH_KILLS ?? 100);
const dir = mkdtempSync(join(tmpdir(), 'metastore-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it(`${KILLS} SIGKILLs under concurrent writes lose no acknowledged write`, async () => {
  expect(existsSync(ENTRY), 'dist/index.js is missing: run `npm run build` first').toBe(true);
  const totals = await crashLoop({
    entry: ENTRY,
    path: join(dir, 'store'),
    open: (path: string) => MetaStore.open({ path, ...STORE_OPTIONS }),
    kills: KILLS,
    seed: Number(process.env.CRASH_SEED ?? 20261127),
  });
  expect(totals.kills).toBe(KILLS);
  // The loop must have exercised something: writes were acknowledged across the kills.
  expect(totals.acked).toBeGreaterThan(KILLS);
}, 600_000);
