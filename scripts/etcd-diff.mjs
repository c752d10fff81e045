#!/usr/bin/env node
// Runs the seeded etcd differential test (test/etcd/differential.test.ts) on many seeds, on demand.
//
//   node scripts/etcd-diff.mjs                      # 1000 seeds from 1, 60 steps each
//   node scripts/etcd-diff.mjs --seeds 5000 --from 20000 --steps 120
//   node scripts/etcd-diff.mjs --seed-list 3,17,42  # replay given seeds
//   node scripts/etcd-diff.mjs --no-shrink          # report failures without shrinking the first one
//
// Needs Debian's etcd on PATH (bash scripts/install-etcd.sh). A failing seed prints its script, the
// differing step and (for the first failing seed) a shrunk minimal script. Exit code = vitest's.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: node scripts/etcd-diff.mjs [--seeds N] [--from S] [--steps K] [--seed-list a,b,c] [--no-shrink]');
  process.exit(0);
}

const env = { ...process.env, ETCD_REQUIRED: '1' };
const list = opt('seed-list');
if (list) env.ETCD_DIFF_SEED_LIST = list;
else {
  env.ETCD_DIFF_SEEDS = opt('seeds', '1000');
  env.ETCD_DIFF_FROM = opt('from', '1');
}
env.ETCD_DIFF_STEPS = opt('steps', '60');
if (args.includes('--no-shrink')) env.ETCD_DIFF_SHRINK = '0';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const child = spawn(process.execPath, [vitest, 'run', 'test/etcd/differential.test.ts', '--reporter', 'dot', '--testTimeout', '600000'], {
  cwd: root,
  env,
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
