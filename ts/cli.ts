#!/usr/bin/env node
/**
 * `metastore`: the package's command line, for a look before writing code.
 *
 *   metastore info              version, platform, which engine loads here and why
 *   metastore bench [--quick]   put / get / range throughput, native vs pure-TS engine
 *   metastore inspect <path>    snapshots and log segments of a durable store (read-only)
 *   metastore verify <path>     checks a durable store; exit 3 when it would not open
 *   metastore repair <path>     truncates a corrupt log at the damage (with --yes)
 *   metastore serve [flags]     an etcd v3 API server over a store (ts/server/)
 *
 * The bench is self-contained (the repository's mitata suites in bench/ are not shipped): it
 * times the public API on both engines, in this process, with progress on stderr.
 */

import { createRequire } from 'node:module';
import os from 'node:os';
import { loadNative, nativePlatform, type NativeBinding } from './load-native.js';
import { translateBindingError } from './engines/binding-error.js';
import { MetaStore, MetaStoreError } from './index.js';

const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

const USAGE = `metastore ${VERSION}: embedded etcd-semantics KV store for Node.js (@metastore/core)

usage:
  metastore info                       version, platform, engine that loads here (and why not)
  metastore bench [options]            put / get / range throughput, native vs pure-TS engine
      --quick                          a smoke run of a second or so (small n, one round, no warm-up)
      --n <count>                      keys per workload (default 100000; --quick: 2000)
      --rounds <count>                 timed rounds per engine, median reported (default 3)
      --engine native|js|both          default both (native is skipped when it cannot load)
      --json                           print the results as JSON on stdout
  metastore inspect <path>             snapshots (revision, keys) and log segments of a durable store; read-only
  metastore verify <path>              check a durable store: the newest snapshot, every log record it
                                       needs, that the log reaches what was acknowledged
  metastore repair <path> --yes        make a store that refuses to open open again, keeping every record
                                       the snapshot and the rest of the log hold; says what it dropped
                                       (without --yes: say what is wrong)
  metastore serve [flags]              an etcd v3 API server (gRPC) over a store: etcdctl and etcd clients
                                       work against it; etcd's flags (metastore serve --help lists them)
  metastore help | --help | --version

exit codes: 0 ok, 1 error or bad usage, 2 command not available here (no native addon),
            3 verify/repair found a store that does not open,
            4 verify: the store is open in another process (what it read may change meanwhile)`;

class UsageError extends Error {}

// ---------------------------------------------------------------------------------------------
// progress

const tty = process.stderr.isTTY === true;

/** Progress of one long task on stderr: a live line on a terminal; when piped, a line when done. */
class Progress {
  private lastDraw = 0;
  private readonly started = performance.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {}

  update(done: number): void {
    if (!tty) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const pct = Math.floor((100 * done) / this.total);
    process.stderr.write(`\r\x1b[2K${this.label}  ${pct}% (${done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')})`);
  }

  end(note: string): void {
    const seconds = ((performance.now() - this.started) / 1000).toFixed(2);
    if (tty) process.stderr.write(`\r\x1b[2K`);
    process.stderr.write(`${this.label}  done in ${seconds} s  ${note}\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// bench

interface Workload {
  readonly name: string;
  /** Operations per run, for a store holding `n` keys. */
  ops(n: number): number;
  /** Runs the workload; calls `tick(done)` now and then. */
  run(store: MetaStore, n: number, tick: (done: number) => void): Promise<void> | void;
}

const VALUE = 'v'.repeat(64);
const BATCH = 1000;
const RANGE_LIMIT = 100;
const key = (i: number): string => `bench/${String(i).padStart(8, '0')}`;

const WORKLOADS: readonly Workload[] = [
  {
    name: 'put, one at a time (awaited)',
    ops: (n) => n,
    async run(store, n, tick) {
      for (let i = 0; i < n; i++) {
        await store.put(key(i), VALUE);
        if ((i & 1023) === 0) tick(i);
      }
    },
  },
  {
    name: `put, WriteBatch of ${BATCH}`,
    ops: (n) => n,
    async run(store, n, tick) {
      for (let i = 0; i < n; ) {
        const batch = store.batch();
        for (const end = Math.min(n, i + BATCH); i < end; i++) batch.put(key(i), VALUE);
        await batch.commit();
        tick(i);
      }
    },
  },
  {
    name: 'get (sync)',
    ops: (n) => n,
    run(store, n, tick) {
      let step = 7919 % n || 1; // visits keys out of order
      while (gcd(step, n) !== 1) step++;
      for (let i = 0, j = 0; i < n; i++, j = (j + step) % n) {
        if (store.get(key(j)) === undefined) throw new Error(`bench: key ${key(j)} missing`);
        if ((i & 4095) === 0) tick(i);
      }
    },
  },
  {
    name: `range [start, end), limit ${RANGE_LIMIT}`,
    ops: (n) => Math.max(1, Math.floor(n / 10)),
    run(store, n, tick) {
      const runs = Math.max(1, Math.floor(n / 10));
      for (let r = 0; r < runs; r++) {
        const start = key((r * RANGE_LIMIT) % n);
        const res = store.range({ start, end: 'bench0', limit: RANGE_LIMIT });
        if (res.kvs.length === 0) throw new Error('bench: empty range');
        if ((r & 63) === 0) tick(r);
      }
    },
  },
  {
    name: 'delete, one at a time (awaited)',
    ops: (n) => n,
    async run(store, n, tick) {
      for (let i = 0; i < n; i++) {
        await store.delete(key(i));
        if ((i & 1023) === 0) tick(i);
      }
    },
  },
];

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

interface BenchResult {
  engine: 'native' | 'js';
  workload: string;
  /** Operations per round. */
  ops: number;
  rounds: number;
  /** Median over the rounds. */
  opsPerSecond: number;
}

function flag(args: string[], name: string): boolean {
  const i = args.indexOf(name);
  if (i < 0) return false;
  args.splice(i, 1);
  return true;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
  args.splice(i, 2);
  return value;
}

function machine(): string {
  const cpus = os.cpus();
  const { platform } = nativePlatform();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} threads, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${platform}; Node ${process.versions.node}`;
}

async function bench(args: string[]): Promise<number> {
  const quick = flag(args, '--quick');
  const json = flag(args, '--json');
  const nArg = option(args, '--n');
  const roundsArg = option(args, '--rounds');
  const engineArg = option(args, '--engine') ?? 'both';
  if (args.length > 0) throw new UsageError(`bench: unexpected argument ${args[0]!}`);
  const n = nArg === undefined ? (quick ? 2000 : 100_000) : Number(nArg);
  if (!Number.isSafeInteger(n) || n < RANGE_LIMIT) throw new UsageError(`--n must be an integer ≥ ${RANGE_LIMIT}`);
  const rounds = roundsArg === undefined ? (quick ? 1 : 3) : Number(roundsArg);
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new UsageError('--rounds must be an integer ≥ 1');
  if (engineArg !== 'native' && engineArg !== 'js' && engineArg !== 'both') throw new UsageError('--engine must be native, js or both');

  const engines: Array<'native' | 'js'> = [];
  if (engineArg !== 'js') {
    const probe = await MetaStore.open();
    const reason = probe.nativeLoadError?.message;
    await probe.close();
    if (reason === undefined) engines.push('native');
    else if (engineArg === 'native') throw new Error(reason);
    else process.stderr.write(`native engine skipped: ${reason}\n`);
  }
  if (engineArg !== 'native') engines.push('js');

  process.stderr.write(
    `metastore ${VERSION} bench: n = ${n.toLocaleString('en-US')} keys (64-byte values), ${rounds} round(s), ` + `median reported; ${machine()}\n`,
  );
  const results: BenchResult[] = [];
  for (const engine of engines) {
    if (!quick) {
      // Warm-up: one pass at a tenth of the size, so the timed rounds run optimized code.
      const p = new Progress(`[${engine}] warm-up`, WORKLOADS.length);
      const store = await MetaStore.open({ engine });
      const small = Math.max(RANGE_LIMIT, Math.floor(n / 10));
      for (const [i, w] of WORKLOADS.entries()) {
        await w.run(store, small, () => {});
        p.update(i + 1);
      }
      await store.close();
      p.end('');
    }
    const samples = WORKLOADS.map((): number[] => []);
    for (let round = 1; round <= rounds; round++) {
      // Each round starts from an empty store: the workloads fill it, read it and empty it.
      const store = await MetaStore.open({ engine });
      for (const [i, w] of WORKLOADS.entries()) {
        const ops = w.ops(n);
        const p = new Progress(`[${engine} round ${round}/${rounds}, ${i + 1}/${WORKLOADS.length}] ${w.name}`, ops);
        const t0 = performance.now();
        await w.run(store, n, (done) => p.update(done));
        const rate = ops / ((performance.now() - t0) / 1000);
        samples[i]!.push(rate);
        p.end(`${formatRate(rate)} ops/s`);
      }
      await store.close();
    }
    for (const [i, w] of WORKLOADS.entries()) {
      const sorted = samples[i]!.sort((a, b) => a - b);
      results.push({ engine, workload: w.name, ops: w.ops(n), rounds, opsPerSecond: sorted[Math.floor(sorted.length / 2)]! });
    }
  }

  if (json) {
    process.stdout.write(`${JSON.stringify({ version: VERSION, machine: machine(), n, rounds, quick, results }, null, 2)}\n`);
    return 0;
  }
  const rows = WORKLOADS.map((w) => {
    const nat = results.find((r) => r.engine === 'native' && r.workload === w.name);
    const js = results.find((r) => r.engine === 'js' && r.workload === w.name);
    const ratio = nat && js ? `${(nat.opsPerSecond / js.opsPerSecond).toFixed(1)}×` : '';
    return [w.name, nat ? formatRate(nat.opsPerSecond) : '—', js ? formatRate(js.opsPerSecond) : '—', ratio];
  });
  const head = ['workload (ops/s)', 'native', 'js', 'native/js'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log(`(${machine()})`);
  if (quick) console.log('(--quick: small n, one round, no warm-up: a smoke run, not a measurement)');
  return 0;
}

function formatRate(opsPerSecond: number): string {
  return Math.round(opsPerSecond).toLocaleString('en-US');
}

// ---------------------------------------------------------------------------------------------
// info, inspect, verify

async function info(): Promise<number> {
  const { platform, packageName, prebuilt } = nativePlatform();
  const store = await MetaStore.open();
  const engine = store.engine;
  const error = store.nativeLoadError;
  await store.close();
  console.log(`@metastore/core ${VERSION}`);
  console.log(`node            ${process.versions.node} (N-API ${process.versions.napi ?? '?'})`);
  console.log(`platform        ${platform}${prebuilt ? `, prebuilt binary in ${packageName}` : ', no prebuilt binary'}`);
  console.log(`engine (auto)   ${engine}`);
  if (error !== undefined) console.log(`native          not loaded: ${error.message}`);
  return 0;
}

/** The addon, or undefined after saying on stderr why durable commands are not available. */
function durableBinding(command: string): NativeBinding | undefined {
  try {
    return loadNative();
  } catch (e) {
    process.stderr.write(
      `metastore ${command}: durable stores need the native addon, which does not load here: ${e instanceof Error ? e.message : String(e)}\n`,
    );
    return undefined;
  }
}

async function durable(command: 'inspect' | 'verify' | 'repair', args: string[]): Promise<number> {
  const yes = args.includes('--yes');
  const paths = args.filter((a) => a !== '--yes');
  if (paths.length !== 1 || (yes && command !== 'repair')) throw new UsageError(`usage: metastore ${command} <path>${command === 'repair' ? ' --yes' : ''}`);
  const binding = durableBinding(command);
  if (binding === undefined) return 2;
  const path = paths[0]!;
  let report: { ok: boolean; locked: boolean; text: string };
  try {
    report = binding.durableVerify(path);
  } catch (e) {
    throw translateBindingError(e, { withOpIndex: false, context: 'durable store' });
  }
  if (command === 'inspect') {
    process.stdout.write(`${path}\n${report.text}${report.ok ? '' : 'the store would not open as it is (see metastore verify)\n'}`);
    return 0;
  }
  if (command === 'verify') {
    process.stdout.write(report.text);
    if (!report.ok) {
      process.stdout.write('NOT OK: the store refuses to open; `metastore repair <path>` makes it open again, keeping what is intact\n');
      return 3;
    }
    if (report.locked) {
      process.stdout.write('IN USE: the store is open in another process; its files read as sound at this moment, but they change while it runs\n');
      return 4;
    }
    process.stdout.write('ok: the store opens\n');
    return 0;
  }
  if (!yes) {
    process.stdout.write(report.text);
    process.stdout.write(
      report.ok ? 'nothing to repair\n' : 'repair would drop what stands between the store and opening (see above); run again with --yes to do it\n',
    );
    return report.ok ? 0 : 3;
  }
  try {
    process.stdout.write(`${binding.durableRepair(path)}\n`);
  } catch (e) {
    throw translateBindingError(e, { withOpIndex: false, context: 'durable store' });
  }
  // What the repaired store holds now: the revision any dropped writes came after.
  const store = await MetaStore.open({ path, engine: 'native', leaseCheckIntervalMs: 0 });
  process.stdout.write(`the store opens at revision ${store.revision} with ${store.size} key(s)\n`);
  await store.close();
  return 0;
}

// ---------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    case 'version':
    case '--version':
    case '-v':
      console.log(VERSION);
      return 0;
    case 'info':
      return info();
    case 'bench':
      return bench(args);
    case 'inspect':
    case 'verify':
    case 'repair':
      return await durable(command, args);
    case 'serve':
      // Loaded only here: the rest of the CLI (and the package) never loads gRPC.
      return (await import('./server/cli-serve.js')).runServe(args);
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`metastore: ${e.message}\n\n${USAGE}\n`);
    } else if (e instanceof MetaStoreError) {
      process.stderr.write(`metastore: ${e.code}: ${e.message}\n`);
    } else {
      process.stderr.write(`metastore: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    process.exitCode = 1;
  },
);
