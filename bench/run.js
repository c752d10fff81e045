// Runs the bench suites, each in its own process, then renders the report (bench/report.js):
//   node bench/run.js [--quick] [--out=DIR] [--cpu-prof] [suite…]
// `suite…` picks suites by name prefix (e.g. `reads ffi`); default: all, in the order below, then
// any other *.bench.js (new suites slot in by existing). `--quick` is the CI smoke run: small
// data, a few calls per workload, nothing about speed asserted, results to a temp dir.
// `--cpu-prof` writes a V8 CPU profile per suite into <out>/profiles (bench/profile.js summarises).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { here, outDir } from './lib.js';
import { writeReport } from './report.js';

const ORDER = ['ffi', 'seed', 'apply', 'sweep', 'reads', 'txn', 'watch', 'durable', 'scale', 'server'];
const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
const only = args.filter((a) => !a.startsWith('--'));
const rank = (f) => {
  const i = ORDER.indexOf(f.replace(/\.bench\.js$/, ''));
  return i < 0 ? ORDER.length : i;
};
const suites = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));

const out = outDir();
const suiteFlags = flags.filter((f) => f !== '--cpu-prof');
const nodeFlags = ['--expose-gc'];
if (flags.includes('--cpu-prof')) {
  const dir = join(out, 'profiles');
  mkdirSync(dir, { recursive: true });
  nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
}
if (!suiteFlags.some((f) => f.startsWith('--out='))) suiteFlags.push(`--out=${out}`);

const t0 = performance.now();
const failed = [];
for (const suite of suites) {
  console.log(`\n## ${suite}\n`);
  const s = performance.now();
  const r = spawnSync(process.execPath, [...nodeFlags, join(here, suite), ...suiteFlags], { stdio: 'inherit' });
  if (r.status !== 0) failed.push(`${suite} (${r.signal ?? `exit ${r.status}`})`);
  console.log(`(${suite}: ${((performance.now() - s) / 1000).toFixed(1)} s)`);
}
const seconds = (performance.now() - t0) / 1000;
const report = writeReport(out);
console.log(`\n${suites.length} suites in ${seconds.toFixed(1)} s; report: ${report.md}, chart: ${report.svg}`);
if (failed.length) console.log(`failed: ${failed.join(', ')}`);
process.exit(failed.length === 0 ? 0 : 1);
