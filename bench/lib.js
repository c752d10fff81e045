// Shared bench plumbing. In `--quick` mode each workload runs a few times as a smoke test
// (nothing about speed is measured or asserted); otherwise mitata measures it.
import * as mitata from 'mitata';

export const quick = process.argv.includes('--quick');
const smoke = [];

export function bench(name, fn) {
  if (quick) smoke.push([name, fn]);
  else mitata.bench(name, fn);
}

export function group(name, body) {
  if (quick) body();
  else mitata.summary(() => mitata.group(name, body));
}

export const keep = mitata.do_not_optimize;

export async function runAll() {
  if (!quick) {
    await mitata.run({ throw: true });
    return;
  }
  for (const [name, fn] of smoke) {
    for (let i = 0; i < 3; i++) await fn();
    console.log(`ok  ${name}`);
  }
}
