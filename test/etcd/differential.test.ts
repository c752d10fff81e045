/**
 * Seeded differential fuzz (docs/etcd-semantics.md §5 item 12): random op scripts on a 10-key space run op by
 * op on Debian's etcd (fresh server per seed) and on both engines (one op per batch); every step's
 * normalized result must be identical. A failing seed is shrunk to a minimal script, printed in the
 * failure message.
 *
 * CI runs a fixed seed set. More on demand:
 *   node scripts/etcd-diff.mjs --seeds 1000            (or ETCD_DIFF_SEEDS=1000 npx vitest run test/etcd/differential.test.ts)
 * Env: ETCD_DIFF_SEEDS (count), ETCD_DIFF_FROM (first seed, default 1), ETCD_DIFF_SEED_LIST ("3,17,42"),
 * ETCD_DIFF_STEPS (steps per script, default 60), ETCD_DIFF_SHRINK=0 (report without shrinking).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_KINDS } from '../engines.js';
import { firstMismatch, KNOWN_ETCD_BUGS, report, runAll, runOnEngine, shrink, whitelistHits, type Outcome } from './diff.js';
import { generateScript } from './gen.js';
import { describeEtcd, etcdInfo, EtcdPool } from './harness.js';

/** The CI seed set: fixed, so a CI failure always reproduces. */
const CI_SEEDS = Array.from({ length: 48 }, (_, i) => i + 1);

function seedsFromEnv(): number[] {
  const list = process.env.ETCD_DIFF_SEED_LIST;
  if (list)
    return list
      .split(',')
      .map((s) => Number(s.trim()))
      .filter(Number.isInteger);
  const count = Number(process.env.ETCD_DIFF_SEEDS ?? '');
  if (Number.isInteger(count) && count > 0) {
    const from = Number(process.env.ETCD_DIFF_FROM ?? '1');
    return Array.from({ length: count }, (_, i) => from + i);
  }
  return CI_SEEDS;
}

const SEEDS = seedsFromEnv();
const STEPS = Number(process.env.ETCD_DIFF_STEPS ?? '60');
const SHRINK = process.env.ETCD_DIFF_SHRINK !== '0';

/** Shrinking only the first failing seed keeps a bad CI run bounded; the rest are reported as found. */
let shrunkOne = false;
const stats = { seeds: 0, steps: 0, failed: [] as number[] };

describe('differential scripts: native vs js (no etcd needed)', () => {
  it(`${SEEDS.length} seeds x ${STEPS} steps give identical results on both engines`, () => {
    for (const seed of SEEDS) {
      const steps = generateScript(seed, { steps: STEPS });
      const out: Outcome = { native: runOnEngine('native', steps), js: runOnEngine('js', steps) };
      const m = firstMismatch(steps, out);
      if (m) expect.fail(report(`seed ${seed}: engines differ`, steps, m));
    }
    expect(ENGINE_KINDS).toEqual(['native', 'js']);
  });
});

// Without etcd the wire run still compares \`metastore serve\` with the engine it serves.
describe.skipIf(etcdInfo().available)('differential scripts through the wire (no etcd here): metastore serve vs native', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}`, { timeout: 120_000 }, async () => {
      const steps = generateScript(seed, { steps: STEPS });
      const out = await runAll(undefined, steps, ['native', 'server']);
      const m = firstMismatch(steps, out);
      if (m) expect.fail(report(`seed ${seed}: server and engine differ`, steps, m));
    });
  }
});

describeEtcd('differential scripts: Debian etcd vs native vs js vs metastore serve', () => {
  let pool: EtcdPool;
  beforeAll(() => {
    pool = new EtcdPool(3);
  });
  afterAll(async () => {
    await pool.close();
    console.log(
      `[etcd diff] ${stats.seeds} seeds, ${stats.steps} steps compared; failed seeds: ${stats.failed.length ? stats.failed.join(', ') : 'none'}; ` +
        `whitelist hits: ${Object.entries(whitelistHits)
          .map(([k, v]) => `#${k} x${v}`)
          .join(', ')} (${Object.keys(KNOWN_ETCD_BUGS).length} known Debian 3.4.23 bugs whitelisted)`,
    );
  });

  for (const seed of SEEDS) {
    it(`seed ${seed}`, { timeout: 240_000 }, async () => {
      const steps = generateScript(seed, { steps: STEPS });
      // The third run goes through the wire: \`metastore serve\` answers as etcd and as the engine.
      const out = await runAll(pool, steps, ['etcd', 'native', 'js', 'server']);
      stats.seeds++;
      stats.steps += steps.length;
      const m = firstMismatch(steps, out);
      if (!m) return;
      stats.failed.push(seed);
      let message = report(`seed ${seed}: results differ`, steps, m);
      if (SHRINK && !shrunkOne) {
        shrunkOne = true;
        const s = await shrink(pool, steps, m);
        message += `\n\n${report(`minimal script (${s.steps.length} steps, ${s.runs} shrink runs)`, s.steps, s.mismatch)}`;
      }
      expect.fail(message);
    });
  }
});
