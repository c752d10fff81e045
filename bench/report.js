// Gathers the newest results file of each suite (<dir>/<date>-<suite>.json) into
//   <dir>/latest.md            every suite's table, the targets, machine and notes
//   <dir>/latest.svg           chart of every workload
//   <dir>/latest-headline.svg  chart of the headline workloads (the README shows it)
// run.js calls it after the suites; by hand: `node bench/report.js [--out=DIR] [--readme]`
// (`--readme` also prints the headline table for README's "## Benchmarks").
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderChart } from './chart.js';
import { format, label, outDir, ratio, renderTable } from './lib.js';
import { checkTarget, TARGETS } from './targets.js';

const ORDER = ['ffi', 'seed', 'apply', 'sweep', 'reads', 'txn', 'watch', 'durable', 'scale', 'server'];

/** The workloads the README's table and chart show: [suite, row id]. */
export const HEADLINE = [
  ['ffi', 'noop'],
  ['ffi', 'api-put'],
  ['seed', 'single-100'],
  ['seed', 'batch-100'],
  ['seed', 'stress-api'],
  ['apply', 'stress-bytes'],
  ['sweep', 'batch-10000'],
  ['reads', 'get-api-1M'],
  ['reads', 'range10-api-1M'],
  ['reads', 'count-1pct-1M'],
  ['txn', 'cas-api'],
  ['txn', 'txn8-engine'],
  ['watch', 'watch-1000'],
  ['durable', 'durable-256'],
  ['scale', 'load-10M'],
  ['server', 'put-256'],
  ['server', 'range-l-256'],
];

/** The server suite's columns (metastore serve, etcd) against the embedded suites' three. */
const EMBEDDED = ['native', 'js', 'lmdb'];
const SERVER = ['metastore', 'etcd'];

/** The newest results of each suite in `dir`, in suite order. */
export function loadResults(dir) {
  const newest = new Map();
  for (const f of readdirSync(dir)
    .filter((f) => /^\d{4}-\d\d-\d\d-.+\.json$/.test(f))
    .sort()) {
    const data = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    newest.set(data.suite, { ...data, file: f });
  }
  const rank = (s) => (ORDER.includes(s) ? ORDER.indexOf(s) : ORDER.length);
  return [...newest.values()].sort((a, b) => rank(a.suite) - rank(b.suite));
}

function allTargets(results) {
  return TARGETS.map((t) => {
    if (t.kind === 'pending') return checkTarget(t, results.find((r) => r.suite === t.peer?.suite) ?? { rows: [] });
    const data = results.find((r) => r.suite === t.suite);
    if (!data) return { id: t.id, w: t.w, text: t.text, status: 'not run', goalText: '', measuredText: `suite ${t.suite} has no results` };
    return checkTarget(t, data);
  });
}

function targetsTable(targets) {
  const lines = ['| target | measured | status |', '|---|---|---|'];
  for (const t of targets) lines.push(`| ${t.text} | ${t.measuredText ?? ''} | **${t.status}**${t.byText ? ` (${t.byText})` : ''} |`);
  const missed = targets.filter((t) => t.status === 'missed' && t.profile);
  if (missed.length) {
    lines.push('', 'Where a target is missed, what the profile shows:', '');
    for (const t of missed) lines.push(`- **${t.text}** — ${t.profile}`);
  }
  return lines.join('\n');
}

function machineLine(m) {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}; Node ${m.node} (V8 ${m.v8}); ${m.rustc ?? 'rustc ?'}; lmdb-js ${m.lmdb}; mitata ${m.mitata}; commit ${m.commit}`;
}

function headlineRows(results) {
  const rows = [];
  for (const [suite, id] of HEADLINE) {
    const row = results.find((r) => r.suite === suite)?.rows.find((r) => r.id === id);
    if (row) rows.push({ suite, row });
  }
  return rows;
}

/** The headline table: native, JS and lmdb-js side by side with ratios. */
export function headlineTable(results) {
  const cols = ['native', 'js', 'lmdb'];
  const cell = (row, c) => {
    const x = row.results[c];
    if (!x) return '';
    if (x.na) return 'n/a';
    if (x.error) return 'failed';
    if (row.metric === 'bytes') return `${format.bytes(x.bytes)} RSS`;
    return `${format.rate(x.opsPerSec)}/s · ${format.ns(x.nsPerOp)}`;
  };
  const r = (row, c) => {
    const v = ratio(row.metric, row.results.native, row.results[c]);
    return Number.isFinite(v) ? `${v >= 10 ? v.toFixed(0) : v.toFixed(2)}×` : '';
  };
  const lines = ['| W | workload | native | JS | lmdb-js | native vs JS | native vs lmdb-js |', '|---|---|--:|--:|--:|--:|--:|'];
  for (const { suite, row } of headlineRows(results)) {
    if (suite === 'server') continue; // its own table: serverTable
    lines.push(`| ${row.w} | ${row.name} | ${cols.map((c) => cell(row, c)).join(' | ')} | ${r(row, 'js')} | ${r(row, 'lmdb')} |`);
  }
  return lines.join('\n');
}

/**
 * The server suite's table for README: every row, metastore serve and etcd side by side (ops/s,
 * p50/p99, CPU per op, puts per fsync) and the ratio of their ops/s.
 */
export function serverTable(results) {
  const data = results.find((r) => r.suite === 'server');
  if (!data) return '';
  const us = (x) => (x >= 1000 ? `${(x / 1000).toFixed(x >= 10_000 ? 0 : 1)} ms` : `${x.toFixed(0)} µs`);
  const cell = (row, c) => {
    const x = row.results[c];
    if (!x) return '';
    if (x.na) return 'n/a';
    if (x.error) return 'failed';
    const parts = [`${format.rate(x.opsPerSec)}/s`, `p50 ${us(x.p50Us)} · p99 ${us(x.p99Us)}`];
    if (Number.isFinite(x.serverCpuUsPerOp)) parts.push(`${x.serverCpuUsPerOp.toFixed(0)} µs CPU/op`);
    if (Number.isFinite(x.opsPerFsync)) parts.push(`${x.opsPerFsync.toFixed(1)} puts/fsync`);
    return parts.join(' · ');
  };
  const lines = ['| W | workload | metastore serve | etcd | metastore vs etcd |', '|---|---|--:|--:|--:|'];
  for (const row of data.rows) {
    const v = ratio(row.metric, row.results.metastore, row.results.etcd);
    lines.push(`| ${row.w} | ${row.name} | ${cell(row, 'metastore')} | ${cell(row, 'etcd')} | ${Number.isFinite(v) ? `${v.toFixed(2)}×` : ''} |`);
  }
  return lines.join('\n');
}

export function writeReport(dir = outDir()) {
  const results = loadResults(dir);
  const targets = allTargets(results);
  const quickRun = results.some((r) => r.quick);
  const md = [
    '# Benchmark results',
    '',
    quickRun ? '**Quick smoke run: these figures are not measurements.**\n' : '',
    `Suites: ${results.map((r) => `${r.suite} (${r.date}, ${r.seconds} s)`).join(', ')}.`,
    '',
    results[0] ? `Machine: ${machineLine(results[0].machine)}.` : '',
    '',
    `Load average (1 min) before → after each suite: ${results.map((r) => `${r.suite} ${r.machine.loadavgBefore[0]}→${r.machine.loadavgAfter[0]}`).join(', ')}. The machine is shared, so figures are noisy; compare ratios within one run.`,
    '',
    "Ratios are \"how many times better the first is\": time ratios are the other's ns/op over native's, memory ratios the other's RSS over native's; above 1 native wins.",
    '',
    '![all workloads](latest.svg)',
    '',
    '## Targets',
    '',
    targetsTable(targets),
    '',
    ...results.flatMap((r) => [`## ${r.title}`, '', r.about ? `${r.about}.` : '', '', renderTable(r), '', ...r.notes.map((n) => `- ${n}`), '']),
  ].join('\n');
  const mdPath = join(dir, 'latest.md');
  writeFileSync(mdPath, md);

  const sections = results.map((r) => ({ title: r.short ?? r.title, columns: r.columns, rows: r.rows }));
  const svgPath = join(dir, 'latest.svg');
  const m = results[0]?.machine;
  const sub = m
    ? `${results[0].date} · ${m.cpu}, ${m.cores} cores · Node ${m.node} · ${(m.rustc ?? '').split(' (')[0]} · lmdb-js ${m.lmdb} · commit ${m.commit}${quickRun ? ' · QUICK SMOKE RUN, not measurements' : ''}`
    : '';
  writeFileSync(svgPath, renderChart(sections, { title: 'MetaStore benchmarks: native vs JS engine vs lmdb-js; metastore serve vs etcd', subtitle: sub }));

  const headline = [];
  for (const { suite, row } of headlineRows(results)) {
    const data = results.find((r) => r.suite === suite);
    let s = headline.find((h) => h.suite === suite);
    if (!s)
      headline.push((s = { suite, title: data.short ?? data.title, columns: data.columns.filter((c) => [...EMBEDDED, ...SERVER].includes(c)), rows: [] }));
    s.rows.push(row);
  }
  writeFileSync(
    join(dir, 'latest-headline.svg'),
    renderChart(headline, {
      title: 'MetaStore: native vs JS engine vs lmdb-js, metastore serve vs etcd (headline workloads)',
      subtitle: `${sub} · ops/s on a log scale, longer is faster`,
    }),
  );
  return { md: mdPath, svg: svgPath, results, targets };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = writeReport();
  console.log(`wrote ${report.md}`);
  if (process.argv.includes('--readme')) {
    console.log(`\n${headlineTable(report.results)}\n`);
    const server = serverTable(report.results);
    if (server) console.log(`${server}\n`);
    for (const t of report.targets) console.log(`- ${t.text}: ${t.measuredText ?? ''} — ${t.status}${t.byText ? ` (${t.byText})` : ''}`);
  }
  void label;
}
