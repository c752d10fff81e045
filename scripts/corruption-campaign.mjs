#!/usr/bin/env node
// Corruption campaign on demand: node scripts/corruption-campaign.mjs [--trials 2000] [--seed N] [--json]
// Needs a build (npm run build). Exits non-zero when any trial opened with less than was
// acknowledged, failed with anything but ERR_CORRUPT, or when verify disagreed with open.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildStore, runCampaign } from '../test/corruption/campaign.mjs';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '2000' },
    seed: { type: 'string', default: String(Date.now() % 1e9) },
    json: { type: 'boolean', default: false },
  },
});
const { MetaStore } = await import(fileURLToPath(new URL('../dist/index.js', import.meta.url)));
const binding = createRequire(import.meta.url)('../native/index.cjs');
const work = mkdtempSync(join(tmpdir(), 'metastore-corruption-'));
try {
  const pristine = join(work, 'pristine');
  const { expected, revision } = await buildStore(MetaStore, pristine);
  const result = await runCampaign({ MetaStore, binding, pristine, expected, revision, work, seed: Number(values.seed), trials: Number(values.trials) });
  if (values.json) {
    process.stdout.write(JSON.stringify({ seed: Number(values.seed), ...result }) + '\n');
  } else {
    console.table(result.table);
    for (const f of result.failures) console.log(`FAIL ${f}`);
    console.log(`${result.failures.length === 0 ? 'ok' : 'NOT OK'}: ${values.trials} trials, seed ${values.seed}`);
  }
  process.exitCode = result.failures.length === 0 ? 0 : 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
