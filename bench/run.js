// Runs every bench suite, each in its own process. `--quick` is a smoke run (asserts nothing
// about speed); the full run is bounded by the suites' own sample limits.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));
const suites = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)));
let failed = 0;
for (const suite of suites) {
  console.log(`\n## ${suite}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, suite), ...args.filter((a) => a.startsWith('--'))], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
