// Summarises V8 CPU profiles (`node --cpu-prof`, or `node bench/run.js --cpu-prof <suite>`):
//   node bench/profile.js <file.cpuprofile | dir> [--top=25]
// Prints the functions with the most self time (where the time is spent, native code included as
// "(program)" / "(garbage collector)"), and the same grouped by script.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

const args = process.argv.slice(2);
const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 25);
let target = args.find((a) => !a.startsWith('--'));
if (!target) {
  console.error('usage: node bench/profile.js <file.cpuprofile | dir> [--top=N]');
  process.exit(2);
}
if (statSync(target).isDirectory()) {
  const files = readdirSync(target).filter((f) => f.endsWith('.cpuprofile'));
  files.sort((a, b) => statSync(join(target, b)).mtimeMs - statSync(join(target, a)).mtimeMs);
  if (!files.length) throw new Error(`no .cpuprofile in ${target}`);
  target = join(target, files[0]);
}

const profile = JSON.parse(readFileSync(target, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
// Sample time: timeDeltas[i] is the time before sample i.
const deltas = profile.timeDeltas;
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = deltas[i + 1] ?? 0;
  total += dt;
  const id = profile.samples[i];
  self.set(id, (self.get(id) ?? 0) + dt);
}

const fns = new Map();
const scripts = new Map();
for (const [id, t] of self) {
  const { callFrame: f } = byId.get(id);
  const where = f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : '';
  const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
  fns.set(key, (fns.get(key) ?? 0) + t);
  const script = f.url ? basename(f.url) : f.functionName;
  scripts.set(script, (scripts.get(script) ?? 0) + t);
}

const pct = (t) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
console.log(`${basename(target)}: ${(total / 1e6).toFixed(2)} s sampled\n\nself time by function:`);
for (const [k, t] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(t)}  ${k}`);
console.log('\nself time by script:');
for (const [k, t] of [...scripts].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${pct(t)}  ${k}`);
