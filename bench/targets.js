// The targets on the 2-core dev machine, checked against each run's results. A suite's
// results file lists the targets of that suite with their status; bench/report.js gathers all of
// them (also those of workloads not built yet) into one table.
//
// Kinds:
//   max / min    a figure of one cell (`field` of results[col] in row `row`) against `goal`
//   ratio        ratio(metric, results[col], results[vs]) ≥ goal (how many times col beats vs)
//   rows         results[col].nsPerOp of `row` ≤ goal × that of `vsRow` (per-op cost of two rows)
//   pending      the workload does not exist yet
//
// `whenMissed`: what the profile of a missed target shows (written after profiling; copied into
// the results file when the target is missed, so the file says why).

const GiB = 2 ** 30;

export const TARGETS = [
  {
    id: 'w1-batch-per-op',
    w: 1,
    suite: 'seed',
    text: 'W1: a 100-op batch costs no more per op than single apply (native; seed: 222 vs 1,375 ns/op)',
    kind: 'rows',
    row: 'batch-100',
    vsRow: 'single-100',
    col: 'native',
    goal: 1,
  },
  {
    id: 'w2-native-rate',
    w: 2,
    suite: 'apply',
    text: 'W2: stress batch from committed bytes, native ≥ 15M ops/s',
    kind: 'min',
    row: 'stress-bytes',
    col: 'native',
    field: 'opsPerSec',
    goal: 15e6,
    unit: 'rate',
    whenMissed:
      'See bench/README.md "Profiles": the 10k-put batch takes the rayon put_group path (threshold 4096); ' +
      'perf of the steady-state apply puts the time in the ordered-index/shard work and thread hand-off, not in the FFI.',
  },
  {
    id: 'w2-native-vs-js',
    w: 2,
    suite: 'apply',
    text: 'W2: stress batch from committed bytes, native ≥ 2× the JS engine',
    kind: 'ratio',
    row: 'stress-bytes',
    col: 'native',
    vs: 'js',
    goal: 2,
  },
  {
    id: 'w4-range-1m',
    w: 4,
    suite: 'reads',
    text: 'W4: range limit 10 over 1M keys through store.range, native ≤ 5 µs (lmdb-js: 10.8 µs)',
    kind: 'max',
    row: 'range10-api-1M',
    col: 'native',
    field: 'nsPerOp',
    goal: 5000,
    unit: 'ns',
  },
  {
    id: 'w4-get',
    w: 4,
    suite: 'reads',
    text: 'W4: get of a small key through store.get (1M keys), native ≤ 300 ns (lmdb-js: 1.75 µs)',
    kind: 'max',
    row: 'get-api-1M',
    col: 'native',
    field: 'nsPerOp',
    goal: 300,
    unit: 'ns',
  },
  {
    id: 'w6-events',
    w: 6,
    text: 'W6: ≥ 2M watch events/s to JS callbacks with 1,000 prefix watchers, p99 delivery ≤ 2 ms',
    kind: 'pending',
    reason: 'watch is being built (#3); the suite slots in as bench/watch.bench.js',
  },
  {
    id: 'w7-durable',
    w: 7,
    text: 'W7: ≥ 400K awaited durable puts/s at 256 writers and ≥ 2× lmdb-js in the same run (lmdb-js: 207K/s)',
    kind: 'pending',
    reason: 'the durable path comes with #4; bench/durable.bench.js already measures the lmdb-js peer figure',
    peer: { suite: 'durable', row: 'durable-256', col: 'lmdb' },
  },
  {
    id: 'w8-10m-rss',
    w: 8,
    suite: 'scale',
    text: 'W8: 10M keys (16-byte keys, 100-byte values) native in ≤ 2.5 GiB RSS',
    kind: 'max',
    row: 'load-10M',
    col: 'native',
    field: 'bytes',
    goal: 2.5 * GiB,
    unit: 'bytes',
    whenMissed:
      'Per key the native store holds the key twice-referenced in an Arc<[u8]> (16 B header + key, a 48 B malloc chunk), ' +
      'the value in its own Box<[u8]> (112 B chunk for 100 B), a 64 B KeyEntry slot in a hashbrown table at ≤ 7/8 load ' +
      '(power-of-two growth: 64–128 B a key), and a 16 B fat pointer in the indexset B-tree: ~270–330 B a key against 116 B of payload. ' +
      'See bench/README.md "Profiles".',
  },
];

function fmtGoal(t, v) {
  if (t.unit === 'rate') return `${(v / 1e6).toFixed(2)}M ops/s`;
  if (t.unit === 'ns') return v >= 1000 ? `${(v / 1000).toFixed(2)} µs` : `${v.toFixed(0)} ns`;
  if (t.unit === 'bytes') return `${(v / GiB).toFixed(2)} GiB`;
  return `${v.toFixed(2)}×`;
}

function pct(x) {
  return `${(x * 100).toFixed(0)}%`;
}

/** Status of one target against a suite's results (`data` as a Suite writes it). */
export function checkTarget(t, data) {
  const base = { id: t.id, w: t.w, text: t.text };
  if (t.kind === 'pending') {
    // A pending target can still show the peer figure it will be compared with.
    const peer = t.peer && data.suite === t.peer.suite ? data.rows.find((r) => r.id === t.peer.row)?.results[t.peer.col] : undefined;
    const peerText = peer?.opsPerSec ? `; peer in this run: ${(peer.opsPerSec / 1e3).toFixed(1)}K ops/s` : '';
    return { ...base, status: 'pending', goalText: '–', measuredText: `${t.reason}${peerText}` };
  }
  const row = data.rows.find((r) => r.id === t.row);
  const cell = row?.results[t.col];
  if (data.quick) return { ...base, status: 'quick', goalText: goalText(t), measuredText: 'smoke run, not measured' };
  if (!cell || cell.error || cell.na) return { ...base, status: 'not measured', goalText: goalText(t), measuredText: cell?.error ? 'failed' : 'no figure' };
  let measured;
  let met;
  let by;
  if (t.kind === 'min' || t.kind === 'max') {
    measured = cell[t.field];
    met = t.kind === 'min' ? measured >= t.goal : measured <= t.goal;
    // How far from the goal: the shortfall (min) or the excess (max), as a share of the goal.
    by = t.kind === 'min' ? 1 - measured / t.goal : measured / t.goal - 1;
    return finish(t, base, met, fmtGoal(t, measured), by, met ? `${pct(Math.abs(by))} of headroom` : `missed by ${pct(by)}`);
  }
  if (t.kind === 'ratio') {
    const other = row.results[t.vs];
    if (!other || other.error || other.na) return { ...base, status: 'not measured', goalText: goalText(t), measuredText: 'no figure' };
    measured = row.metric === 'bytes' ? other.bytes / cell.bytes : row.metric === 'rate' ? cell.opsPerSec / other.opsPerSec : other.nsPerOp / cell.nsPerOp;
    met = measured >= t.goal;
    by = 1 - measured / t.goal;
    return finish(t, base, met, `${measured.toFixed(2)}×`, by, met ? `${pct(-by)} above the goal` : `missed by ${pct(by)}`);
  }
  if (t.kind === 'rows') {
    const vsCell = data.rows.find((r) => r.id === t.vsRow)?.results[t.col];
    if (!vsCell || vsCell.error || vsCell.na) return { ...base, status: 'not measured', goalText: goalText(t), measuredText: 'no figure' };
    measured = cell.nsPerOp / vsCell.nsPerOp;
    met = measured <= t.goal;
    by = measured / t.goal - 1;
    const text = `${cell.nsPerOp.toFixed(1)} vs ${vsCell.nsPerOp.toFixed(1)} ns/op (${measured.toFixed(2)}×)`;
    return finish(t, base, met, text, by, met ? `batch is ${(1 / measured).toFixed(1)}× cheaper per op` : `missed by ${pct(by)}`);
  }
  throw new Error(`unknown target kind ${t.kind}`);
}

function goalText(t) {
  if (t.kind === 'ratio') return `≥ ${t.goal}× ${t.vs}`;
  if (t.kind === 'rows') return `≤ ${t.goal}× per op of ${t.vsRow}`;
  return `${t.kind === 'min' ? '≥' : '≤'} ${fmtGoal(t, t.goal)}`;
}

function finish(t, base, met, measuredText, by, byText) {
  return {
    ...base,
    status: met ? 'met' : 'missed',
    goalText: goalText(t),
    measuredText,
    by: +by.toFixed(4),
    byText,
    ...(!met && t.whenMissed ? { profile: t.whenMissed } : {}),
  };
}

/** The targets of one suite, checked against its results. */
export function checkTargets(data) {
  return TARGETS.filter((t) => t.suite === data.suite || t.peer?.suite === data.suite).map((t) => checkTarget(t, data));
}
