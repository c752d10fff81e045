#!/usr/bin/env node
// A small load run of `metastore serve` over the wire, beside a real etcd when one is installed:
// unary puts and ranges from a grpc-js client (the etcd3 package's protos) at a given concurrency,
// ops/s and latency percentiles. Nothing is asserted; it prints a table.
//
//   node scripts/serve-bench.mjs [--ops 20000] [--concurrency 64] [--value-bytes 100] [--no-etcd]
//
// Targets: metastore serve in memory and durable (a process each, the built CLI: run `npm run
// build` first) and Debian's etcd (a fresh single member on free loopback ports, data on /dev/shm
// when writable), each stopped by PID at the end.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? def : Number(process.argv[i + 1]);
};
const OPS = arg('ops', 20000);
const CONCURRENCY = arg('concurrency', 64);
const VALUE = Buffer.alloc(arg('value-bytes', 100), 'v');
const withEtcd = !process.argv.includes('--no-etcd');

const protoDir = join(dirname(require.resolve('etcd3/package.json')), 'proto');
const pkg = grpc.loadPackageDefinition(
  protoLoader.loadSync(join(protoDir, 'rpc.proto'), { keepCase: true, longs: String, enums: Number, defaults: true, oneofs: true, includeDirs: [protoDir] }),
).etcdserverpb;

const tmpRoot = (() => {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
})();
const children = new Set();
process.on('exit', () => {
  for (const c of children)
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {}
});

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function waitReady(endpoint) {
  const kv = new pkg.KV(endpoint, grpc.credentials.createInsecure());
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((r) => kv.Range({ key: Buffer.from('x') }, { deadline: Date.now() + 500 }, (e) => r(!e)));
    if (ok) return kv.close();
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${endpoint} not ready`);
}

async function startMetastore(durable) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpRoot, 'serve-bench-'));
  const args = [join(root, 'dist/cli.js'), 'serve', '--listen-client-urls', `http://127.0.0.1:${port}`, '--log-level', 'warn'];
  if (durable) args.push('--data-dir', join(dir, 'data'));
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  children.add(child);
  await waitReady(`127.0.0.1:${port}`);
  return { endpoint: `127.0.0.1:${port}`, stop: () => stop(child, dir) };
}

async function startEtcd() {
  const [cp, pp] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpRoot, 'serve-bench-etcd-'));
  const c = `http://127.0.0.1:${cp}`;
  const p = `http://127.0.0.1:${pp}`;
  const child = spawn(
    'etcd',
    [
      '--name',
      's1',
      '--data-dir',
      join(dir, 'data'),
      '--listen-client-urls',
      c,
      '--advertise-client-urls',
      c,
      '--listen-peer-urls',
      p,
      '--initial-advertise-peer-urls',
      p,
      '--initial-cluster',
      `s1=${p}`,
    ],
    { stdio: 'ignore' },
  );
  children.add(child);
  await waitReady(`127.0.0.1:${cp}`);
  return { endpoint: `127.0.0.1:${cp}`, stop: () => stop(child, dir) };
}

async function stop(child, dir) {
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {}
  children.delete(child);
  rmSync(dir, { recursive: true, force: true });
}

async function load(endpoint, name, call) {
  const kv = new pkg.KV(endpoint, grpc.credentials.createInsecure());
  const lat = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < OPS) {
        const i = next++;
        const s = performance.now();
        await new Promise((resolve, reject) => call(kv, i, (e) => (e ? reject(e) : resolve())));
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  kv.close();
  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2);
  return { name, opsPerSec: Math.round(OPS / secs), p50: pct(0.5), p99: pct(0.99) };
}

const put = (kv, i, cb) => kv.Put({ key: Buffer.from(`bench/${i % 10000}`), value: VALUE }, cb);
const get = (kv, i, cb) => kv.Range({ key: Buffer.from(`bench/${i % 10000}`) }, cb);

if (!existsSync(join(root, 'dist/cli.js'))) {
  console.error('serve-bench: dist/cli.js is missing; run `npm run build` first');
  process.exit(1);
}
const targets = [
  ['metastore serve (memory)', () => startMetastore(false)],
  ['metastore serve (--data-dir)', () => startMetastore(true)],
];
if (withEtcd && spawnSync('etcd', ['--version']).status === 0)
  targets.push([spawnSync('etcd', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0], startEtcd]);
console.log(`${OPS} ops per row, ${CONCURRENCY} concurrent unary calls from one grpc-js channel, ${VALUE.length}-byte values, 10,000 keys`);
const rows = [];
for (const [label, start] of targets) {
  const t = await start();
  try {
    await load(t.endpoint, 'warm-up', put);
    rows.push({ target: label, ...(await load(t.endpoint, 'put', put)) });
    rows.push({ target: label, ...(await load(t.endpoint, 'range (one key)', get)) });
  } finally {
    await t.stop();
  }
}
console.table(rows.map((r) => ({ target: r.target, op: r.name, 'ops/s': r.opsPerSec, 'p50 ms': r.p50, 'p99 ms': r.p99 })));
