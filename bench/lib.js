// Shared bench harness. A suite file builds a `Suite`, times rows of workloads on each engine
// (columns) with mitata's `measure`, or records measured values (memory, throughput of an
// open-ended run), then `finish()` prints the suite's table, checks the targets that belong to
// the suite (targets.js) and writes `<out>/<date>-<suite>.json`.
//
// `--quick` is a smoke run: every workload runs a few times on small data so that the whole
// pipeline (workloads, table, JSON, chart) is exercised. Its figures are not measurements and
// nothing about speed is asserted; its files go to a temporary directory, not bench/results/.
import * as mitata from 'mitata';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkTargets } from './targets.js';

export const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..');
export const quick = process.argv.includes('--quick');
export const keep = mitata.do_not_optimize;

/** Where results go: `--out=DIR`, else bench/results (full run) or a temp dir (quick run). */
export function outDir() {
  const arg = process.argv.find((a) => a.startsWith('--out='));
  const dir = arg ? arg.slice('--out='.length) : process.env.BENCH_OUT || (quick ? join(os.tmpdir(), 'metastore-bench-quick') : join(here, 'results'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Local date as YYYY-MM-DD (the results file prefix). */
export function today() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export const COLUMN_LABELS = {
  native: 'native',
  js: 'JS',
  lmdb: 'lmdb-js',
  // The sweep's native configurations.
  'native-serial': 'native serial',
  'native-par1': 'native ∥ 1 thr',
  'native-par2': 'native ∥ 2 thr',
  // The server suite's columns.
  metastore: 'metastore serve',
  etcd: 'etcd',
};

export function label(col) {
  return COLUMN_LABELS[col] ?? col;
}

function tryRun(cmd, args) {
  try {
    return execFileSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** What the figures were measured on. */
export function machineInfo() {
  const cpus = os.cpus();
  const addon = join(root, 'native', `metastore.${process.platform}-${process.arch}-gnu.node`);
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    rustc: tryRun('rustc', ['--version']),
    mitata: packageVersion('mitata'),
    lmdb: packageVersion('lmdb'),
    // BENCH_COMMIT: when the bench runs on an exported snapshot of a commit (no .git).
    commit: process.env.BENCH_COMMIT || tryRun('git', ['rev-parse', '--short', 'HEAD']),
    // Uncommitted changes to the engines or the build that was measured.
    engineTreeDirty: process.env.BENCH_COMMIT ? false : (tryRun('git', ['status', '--porcelain', '--', 'ts', 'crates', 'native', 'Cargo.lock']) ?? '') !== '',
    addonBuilt: existsSync(addon) ? statSync(addon).mtime.toISOString() : null,
  };
}

/** Default time budget of one measurement (mitata's min_cpu_time), in ms. */
const BUDGET_MS = Number(process.env.BENCH_BUDGET_MS || 1000);
const QUICK_RUNS = 3;
/** Interleaved rounds per timed cell (see Suite.time); the cell's budget is split across them. */
const ROUNDS = Number(process.env.BENCH_ROUNDS || 2);

function fmtRate(opsPerSec) {
  if (!Number.isFinite(opsPerSec)) return '–';
  if (opsPerSec >= 1e9) return `${(opsPerSec / 1e9).toFixed(2)}G`;
  if (opsPerSec >= 1e6) return `${(opsPerSec / 1e6).toFixed(2)}M`;
  if (opsPerSec >= 1e3) return `${(opsPerSec / 1e3).toFixed(1)}K`;
  return opsPerSec.toFixed(0);
}

function fmtNs(ns) {
  if (!Number.isFinite(ns)) return '–';
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e4) return `${(ns / 1e3).toFixed(1)} µs`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(ns < 10 ? 2 : 1)} ns`;
}

export function fmtBytes(b) {
  if (!Number.isFinite(b)) return '–';
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(0)} MiB`;
  if (b >= 2 ** 10) return `${(b / 2 ** 10).toFixed(0)} KiB`;
  return `${b.toFixed(0)} B`;
}

export const format = { rate: fmtRate, ns: fmtNs, bytes: fmtBytes };

/**
 * The headline figure of one cell and its direction: `time` cells compare ns per op (lower is
 * better), `rate` cells ops/s (higher is better), `bytes` cells memory (lower is better).
 * `ratio(base, other)` is always "how many times better base is than other": > 1 means base wins.
 */
export function ratio(metric, base, other) {
  if (!base || !other || base.error || other.error || base.na || other.na) return NaN;
  if (metric === 'rate') return base.opsPerSec / other.opsPerSec;
  if (metric === 'bytes') return other.bytes / base.bytes;
  return other.nsPerOp / base.nsPerOp;
}

/**
 * The suite's rows as markdown tables (also what the console shows): one table for timed rows
 * (ops/s and ns/op per column), one for memory rows (RSS and bytes per key), each with the ratio
 * of the base column against every other, and a details column when cells carry details.
 */
export function renderTable(data) {
  const timed = data.rows.filter((r) => r.metric !== 'bytes');
  const memory = data.rows.filter((r) => r.metric === 'bytes');
  return [timed.length ? table(data, timed, false) : '', memory.length ? table(data, memory, true) : ''].filter(Boolean).join('\n\n');
}

function table(data, rows, bytes) {
  const { base } = data;
  // Only the columns that have a figure in these rows.
  const columns = data.columns.filter((c) => rows.some((r) => r.results[c] !== undefined));
  const others = columns.filter((c) => c !== base && rows.some((r) => Number.isFinite(ratio(r.metric, r.results[base], r.results[c]))));
  const withDetails = rows.some((r) => Object.values(r.results).some((c) => c?.details));
  const head = ['W', 'workload'];
  for (const c of columns) head.push(...(bytes ? [`${label(c)} RSS`, `${label(c)} B/key`] : [`${label(c)} ops/s`, `${label(c)} ns/op`]));
  for (const c of others) head.push(`${label(base)} vs ${label(c)}`);
  if (withDetails) head.push('details');
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 || (withDetails && i === head.length - 1) ? '---' : '--:')).join('|')}|`];
  for (const row of rows) {
    const cells = [String(row.w), row.name];
    for (const c of columns) cells.push(...cellText(row, row.results[c]));
    for (const c of others) {
      const r = ratio(row.metric, row.results[base], row.results[c]);
      cells.push(Number.isFinite(r) ? `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×` : '');
    }
    if (withDetails) {
      cells.push(
        Object.entries(row.results)
          .filter(([, c]) => c?.details)
          .map(([col, c]) => `${label(col)}: ${c.details}`)
          .join('; '),
      );
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function cellText(row, cell) {
  if (cell === undefined) return ['', ''];
  if (cell.na) return ['n/a', ''];
  if (cell.error) return ['failed', ''];
  if (row.metric === 'bytes') return [fmtBytes(cell.bytes), cell.bytesPerKey === undefined ? '' : cell.bytesPerKey.toFixed(0)];
  return [fmtRate(cell.opsPerSec), fmtNs(cell.nsPerOp)];
}

// A mitata generator benchmark (`function* () { yield { [0]: setup, bench } }`) as a plain call.
function smokeCall(fn) {
  if (fn.constructor.name !== 'GeneratorFunction') return fn;
  const spec = fn().next().value;
  return () => spec.bench(spec[0]?.());
}

// The headline figure is the median sample: on a shared machine a few disturbed samples move the
// mean far more than the median. Fast functions are sampled in batches of thousands of calls,
// so their median still carries the GC work they cause; the mean is kept beside it.
function statsOf(stats, ops) {
  const nsPerOp = stats.p50 / ops;
  return {
    nsPerOp,
    opsPerSec: 1e9 / nsPerOp,
    meanNsPerOp: stats.avg / ops,
    callNs: { avg: stats.avg, min: stats.min, p50: stats.p50, p99: stats.p99, max: stats.max },
    samples: stats.samples.length,
    ticks: stats.ticks,
  };
}

/**
 * A suite: one process, one table, one results file.
 * `columns`: the engines (or variants) compared, in table order; `base` is the one the ratio
 * columns compare against (native, unless the suite says otherwise).
 */
export class Suite {
  constructor(name, { title, short, about, columns = ['native', 'js', 'lmdb'], base = 'native' }) {
    this.data = {
      suite: name,
      title,
      short: short ?? title,
      about,
      quick,
      date: today(),
      startedAt: new Date().toISOString(),
      columns,
      base,
      rows: [],
      notes: [],
    };
    this.loadBefore = os.loadavg();
    this.t0 = performance.now();
    console.log(`# ${title}${quick ? '  (quick smoke run: figures are not measurements)' : ''}`);
  }

  /**
   * Times one workload on each column. `row`: `{ id, w, name, ops = 1, budgetMs, note }`, where
   * `ops` is the number of operations one call performs (per-op figures divide by it).
   * `variants[col]`: a function (sync or async), a string (not applicable: the reason), or absent.
   */
  async time(row, variants) {
    const results = {};
    const cols = this.data.columns.filter((c) => variants[c] !== undefined);
    for (const col of cols) if (typeof variants[col] === 'string') results[col] = { na: variants[col] };
    const timed = cols.filter((c) => typeof variants[c] !== 'string');
    // Rounds, interleaved across the columns (A B C, then C B A): a cell keeps its best round, so
    // a burst of load from elsewhere on the shared machine costs one round of one column, not
    // the comparison. Each round gets budget / rounds.
    const rounds = quick ? 1 : ROUNDS;
    const tries = Object.fromEntries(timed.map((c) => [c, []]));
    for (let r = 0; r < rounds; r++) {
      for (const col of r % 2 === 0 ? timed : [...timed].reverse()) {
        if (results[col]?.error) continue;
        try {
          tries[col].push(await this.measureOne(variants[col], row, rounds));
        } catch (e) {
          results[col] = { error: String(e?.stack ?? e) };
          console.log(`  ${row.id.padEnd(28)} ${label(col).padEnd(16)} FAILED: ${e?.message ?? e}`);
        }
      }
    }
    for (const col of timed) {
      if (results[col]?.error) continue;
      const best = tries[col].reduce((a, b) => (b.nsPerOp < a.nsPerOp ? b : a));
      results[col] = { ...best, ...(rounds > 1 ? { roundsNsPerOp: tries[col].map((t) => +t.nsPerOp.toPrecision(4)) } : {}) };
      const r = results[col];
      console.log(`  ${row.id.padEnd(28)} ${label(col).padEnd(16)} ${fmtRate(r.opsPerSec).padStart(8)} ops/s ${fmtNs(r.nsPerOp).padStart(10)}/op`);
    }
    this.push({ metric: 'time', ...row }, results);
  }

  async measureOne(fn, row, rounds = 1) {
    const ops = row.ops ?? 1;
    if (quick) {
      const call = smokeCall(fn);
      const t0 = performance.now();
      for (let i = 0; i < QUICK_RUNS; i++) await call();
      const avg = ((performance.now() - t0) * 1e6) / QUICK_RUNS;
      return { nsPerOp: avg / ops, opsPerSec: (1e9 * ops) / avg, samples: QUICK_RUNS };
    }
    globalThis.gc?.();
    const stats = await mitata.measure(fn, { min_cpu_time: ((row.budgetMs ?? BUDGET_MS) * 1e6) / rounds, gc: false });
    return statsOf(stats, ops);
  }

  /** Records measured values directly. `results[col]`: `{ opsPerSec, nsPerOp, ... }` or `{ bytes, ... }`. */
  record(row, results) {
    this.push({ metric: 'time', ...row }, results);
    for (const [col, r] of Object.entries(results)) {
      const what = r.na
        ? `n/a (${r.na})`
        : r.error
          ? `FAILED: ${r.error.split('\n')[0]}`
          : row.metric === 'bytes'
            ? `${fmtBytes(r.bytes)}`
            : `${fmtRate(r.opsPerSec)} ops/s ${fmtNs(r.nsPerOp)}/op`;
      console.log(`  ${row.id.padEnd(28)} ${label(col).padEnd(16)} ${what}`);
    }
  }

  push(row, results) {
    const { ops = 1, metric, id, w, name, note, details } = row;
    this.data.rows.push({ id, w, name, metric, ops, ...(note ? { note } : {}), ...(details ? { details } : {}), results });
  }

  /** A free-text note for the results file (what the figures mean, caveats). */
  note(text) {
    this.data.notes.push(text);
  }

  async finish() {
    this.data.seconds = +((performance.now() - this.t0) / 1000).toFixed(1);
    this.data.machine = { ...machineInfo(), loadavgBefore: this.loadBefore.map((x) => +x.toFixed(2)), loadavgAfter: os.loadavg().map((x) => +x.toFixed(2)) };
    this.data.targets = checkTargets(this.data);
    const file = join(outDir(), `${this.data.date}-${this.data.suite}.json`);
    writeFileSync(file, `${JSON.stringify(this.data, null, 2)}\n`);
    console.log(`\n${renderTable(this.data)}\n`);
    for (const t of this.data.targets)
      console.log(`target ${t.status.padEnd(7)} ${t.text}: ${t.measuredText ?? '–'} (goal ${t.goalText})${t.byText ? `, ${t.byText}` : ''}`);
    console.log(`\n${this.data.suite}: ${this.data.seconds} s, results in ${file}`);
  }
}

/**
 * A benchmark of `fn` that runs `upkeep` outside the timed region before every `every`-th call
 * (mitata computes a benchmark's parameters before timing the calls that use them). For
 * write workloads: `upkeep` compacts the history the writes leave behind.
 */
export function withUpkeep(fn, upkeep, every = 1) {
  let calls = 0;
  return function* () {
    yield {
      0() {
        if (++calls >= every) {
          calls = 0;
          upkeep();
        }
        return 0;
      },
      // mitata passes as many computed parameters as this function declares: keep the one.
      bench(_param) {
        return fn();
      },
    };
  };
}

/** A cycling picker over a prepared array: `next()` returns its items round-robin. */
export function cycle(items) {
  let i = 0;
  const n = items.length;
  return () => {
    const item = items[i];
    i = i + 1 === n ? 0 : i + 1;
    return item;
  };
}

/** Deterministic pseudo-random integers (xorshift32), so every run reads the same keys. */
export function rng(seed = 0x9e3779b9) {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}
