/**
 * The corruption campaign (test/corruption/campaign.mjs) on a fixed seed set: every damaged copy
 * of a store with known acknowledged writes opens with all of them or refuses with ERR_CORRUPT,
 * and `verify` agrees with open. Runs in a child process, so a crash fails the test instead of
 * the runner. More trials on demand: `node scripts/corruption-campaign.mjs --trials 5000`.
 */

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../scripts/corruption-campaign.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));

interface Row {
  trials: number;
  intact: number;
  refused: number;
  less: number;
  verifyDisagrees: number;
}

describe('corruption campaign (native, durable)', () => {
  it.each([1, 2])(
    'seed set %i: every damaged store opens whole or refuses with ERR_CORRUPT, and verify agrees',
    (seed) => {
      expect(existsSync(DIST), 'dist/ is missing: run `npm run build` first').toBe(true);
      const run = spawnSync(process.execPath, [SCRIPT, '--trials', '144', '--seed', String(seed), '--json'], { encoding: 'utf8', timeout: 240_000 });
      expect(run.status, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout) as { table: Record<string, Row>; failures: string[] };
      expect(result.failures).toEqual([]);
      const rows = Object.values(result.table);
      expect(rows.reduce((n, r) => n + r.trials, 0)).toBeGreaterThan(120);
      // Both outcomes occur: the campaign damages what matters and what the store can read past.
      expect(rows.reduce((n, r) => n + r.refused, 0)).toBeGreaterThan(0);
      expect(rows.reduce((n, r) => n + r.intact, 0)).toBeGreaterThan(0);
    },
    300_000,
  );
});
