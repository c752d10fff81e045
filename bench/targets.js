// The targets on the 2-core dev machine, checked against each run's results. A suite's
// results file lists the targets of that suite with their status; bench/report.js gathers all of
// them (also those of workloads not built yet) into one table.
//
// Kinds:
//   max / min    a figure of one cell (`field` of results[col] in row `row`) against `goal`
//   ratio        ratio(metric, results[col], results[vs]) ≥ goal (how many times col beats vs)
//   rows         results[col].nsPerOp of `row` ≤ goal × that of `vsRow` (per-op cost of two rows)
//   fieldRatio   results[col][field] ≤ goal × results[vs][field] (e.g. a p99 no worse than the peer's)
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
      'The core does this shape at ~60 ns/op into an emptied store and ~50 over existing keys (cargo run --release -p ' +
      'metastore-core --example apply_timing; INTO_EMPTY_ONLY=1 for the first). The 10,000 puts take the parallel path: ' +
      'per-step timing of put_group showed the shard writes ~39 ns/op on 2 threads, the ordered-index inserts of the 1,000 ' +
      're-created keys ~12.6 ns/op, cut to ~6.8 since 66696df (new keys sorted first when they are many next to the ' +
      "index, so each lands at a node's end; keys compared by their first 8 bytes as a number before memcmp), bucketing " +
      'and results ~5. Through Node the same call measures ~65-80 ns/op between runs (noisy, shared machine); over existing ' +
      'keys (stress-bytes-steady) native does ~19-20M ops/s',
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
    whenMissed:
      'The native side as in the 15M target. The JS engine pays ~12 ns/op to validate the bytes and ~13 ns/op for a bare ' +
      'Map.set (rows js-validate, js-map-floor); the rest of its ~130 ns/op is latin1 decoding and its history table. Over ' +
      'existing keys (stress-bytes-steady) native leads by ~2×; into an emptied store each run re-creates 1,000 keys ' +
      '(two allocations each, the index inserts)',
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
    whenMissed:
      'Not this code: in the same run the pure-TS engine slowed as much (3.2 µs in the run before, 7.1 here) while ' +
      'lmdb-js did not (10.7 -> 10.8 µs), and the plain engine.range loop of bench/scale-child.js at 1M keys gives ' +
      "8.5-8.9 µs for both this build and the session's first, interleaved; runs an hour apart gave 3.4-4.4 µs. A " +
      'range walks the ordered index and looks each key up in its shard: random memory, sensitive to whether the ' +
      'heap got transparent huge pages (with them off: 3.4 -> 5.8 µs in one A/B). In the engine itself ' +
      "binding.engineRange (limit 10) costs ~0.36 µs at 1K keys and ~1.1 µs at 100K; the rest is the TS wrapper's " +
      'result copy and KeyValue views',
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
    whenMissed:
      'Since d833f1d a shard slot is 16 bytes (W8) and the history sits in its own box: a get makes one more load after the ' +
      'slot, started while the key compares (prefetch). In the core (cargo run --release -p metastore-core --example ' +
      'get_timing, random key at 1M): ~117 ns at 819cb9a, ~125 ns with the prefetch. Of the rest, the raw binding.engineGet ' +
      'is ~50 ns at 1K keys and the TS wrapper (result copy into a slab, the KeyValue and its views) ~120 ns; at 1M keys the ' +
      "cache misses of a random key add ~80 ns on both engines. The figure sits at the goal's edge and moves with the " +
      'machine: 288 and 314-316 ns in three full runs of the same get path on 2026-11-28; a plain loop over 4,096 random ' +
      "keys at 1M gave 294-305 ns for the last build and 311-326 ns for f915940's, interleaved.",
  },
  {
    id: 'w6-events',
    w: 6,
    suite: 'watch',
    text: 'W6: ≥ 2M watch events/s delivered to JS callbacks, 1,000 prefix watchers during a 100K-put stream (native)',
    kind: 'min',
    row: 'watch-1000',
    col: 'native',
    field: 'opsPerSec',
    goal: 2e6,
    unit: 'rate',
    whenMissed:
      'Measured after two untimed streams (af594bb: a gc() before each ~0.1 s round had V8 re-optimizing through much of ' +
      "it). Since 02efd36 a batch's new keys (256 or more) go into the ordered index on a pool thread while the JS " +
      'thread hands out the events: binding.engineApplyBatch timed around the stream went 350-390 -> 227-285 ns per ' +
      'event (the core with events: ~215 ns per key, of which the index insert ~70-100), and the rounds 1.46M -> ' +
      '1.62-1.80M events/s in interleaved runs, up to 2.0-2.1M medians when the machine is quiet. The JS side is ~300 ns ' +
      'per event: notify (prefix string + Map lookup, ~55-65 ns), flush + emit ~100 ns, decodeEvents and the views of ' +
      'each key and value, GC (~10% of the stream: ~500 B allocated per event, most of it the event, its KeyValue and ' +
      "two Uint8Array views), the write path per batch, and the bench's own performance.now() per event. Tried and not " +
      'kept, no difference in interleaved runs: applying a put run in parallel with its events merged in op order, index ' +
      'nodes of 256 instead of 1,024 keys, a numeric hash of the prefix bytes instead of a prefix string (90 vs 60 ns), ' +
      'key and value views made with the Uint8Array constructor instead of subarray() (twice as fast alone, slower in ' +
      'the get path). With 100 watchers on one prefix the same path delivers ~14M events/s: fan-out is cheap, the ' +
      'per-put cost is not',
  },
  {
    id: 'w6-p99',
    w: 6,
    suite: 'watch',
    text: 'W6: watch delivery latency p99 ≤ 2 ms (same run)',
    kind: 'max',
    row: 'watch-1000',
    col: 'native',
    field: 'p99Us',
    goal: 2000,
    unit: 'us',
    whenMissed:
      "Latency counts from the start of the apply of the event's batch of 1,000 puts, so 1% of the events is one " +
      "batch: the slowest one or two of a round's 100 batches set the p99 (p50 is ~0.4 ms). Timing each batch's apply " +
      '(with page faults and GC events beside it) shows the slow ones: the first 3-8 batches of a fresh store (its ' +
      'memory faulted in, 100-400 faults a batch, and the shard tables growing from empty), and the batches where all ' +
      '512 shard tables, filled evenly by the hash, grow together (~20K, ~40K, ~60K keys; 1-3 ms each). GC pauses are ' +
      "under 2 ms. Since ced7f4d a batch no longer waits for the previous one's index inserts while the pool thread " +
      'waits for a core (1.8-3.6 ms on the third batch of most streams): 16 of 16 rounds at ≤ 1.8 ms in an interleaved ' +
      'run against 7 of 16. Shards that grow at staggered loads measured no better after that',
  },
  {
    id: 'w7-durable',
    w: 7,
    suite: 'durable',
    text: 'W7: ≥ 400K awaited durable puts/s at 256 writers (new keys in order)',
    kind: 'min',
    row: 'durable-256',
    col: 'native',
    field: 'opsPerSec',
    goal: 400e3,
    unit: 'rate',
    whenMissed:
      'Not the disk: the log writer thread waits for work ~40% of the time. Counted in the writer (a build with ' +
      'timers, not kept; 3-s runs of 256 writers): a sync (write + fdatasync) takes 127-131 µs and 89-123 µs pass on ' +
      'average before the next append arrives; 99.6% of syncs carry one append of ~128 puts, so the next group is not ' +
      'ready when a sync ends. The JS thread is the bottleneck at ~1.8 µs per awaited put: --cpu-prof gives the native ' +
      'apply of the new keys ~30% (see W6 for why a new key costs what it does; 24090b3 took ~15% off it in a growing ' +
      "store), the put path (proposer, entry, validation, settle) and the bench's own loop the rest. Two stalls hit all " +
      '256 writers at once: fresh 2 MiB transparent huge pages being zeroed for the growing store (slow on this ' +
      'virtual machine; MIMALLOC_ALLOW_THP=0 measured 478-533K -> 595-604K puts/s, but random reads lose their ' +
      'huge-page TLB reach: range limit 10 at 1M keys 3.4 -> 5.8 µs, so the default stays) and snapshot passes (every ' +
      "64 MiB of log or the last snapshot's size) on the 2 cores",
  },
  {
    id: 'w7-vs-lmdb',
    w: 7,
    suite: 'durable',
    text: 'W7: ≥ 2× lmdb-js awaited durable puts at 256 writers, same run',
    kind: 'ratio',
    row: 'durable-256',
    col: 'native',
    vs: 'lmdb',
    goal: 2,
    whenMissed:
      "Same run: the median put latency is well below lmdb-js's (details column), the throughput is not. The JS " +
      'thread, not the disk, sets the pace: counted in the log writer (a build with timers, not kept), a sync takes ' +
      '127-131 µs and the writer then waits 89-123 µs on average for the next append, so it idles ~40%; the JS thread ' +
      "spends ~1.8 µs per awaited put (--cpu-prof: the native apply of the new keys ~30%, the put path and the bench's " +
      'loop the rest), and all 256 writers stall together now and then (huge-page faults of the growing store, ' +
      "snapshot passes; p99 5.2 ms against lmdb-js's 1.7). perf of a 3-s run (2026-11-28): the kernel zeroing fresh " +
      "2 MiB pages for the growing store is ~21% of the JS thread's samples, inside the native apply. Raising appends " +
      'in flight from 2 to 4 measured the same. Batches here are ~130 puts, below the 256 new keys that move index ' +
      'inserts to the pool. On ' +
      'updates of random keys (the next row) the ratio is reversed: lmdb-js dirties a page per put, the log does not care',
  },
  {
    id: 'w7-restart',
    w: 7,
    suite: 'durable',
    text: '#4: restart of a 1M-key durable store (snapshot + tail) in ≤ 2 s',
    kind: 'max',
    row: 'restart-1m',
    col: 'native',
    field: 'seconds',
    goal: 2,
    unit: 's',
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
      'Core alone (cargo run --release -p metastore-core --example memory -- 10000000): +2.46 GiB, 258 B/key against 116 B ' +
      "of payload. Per key: the value 112 B (100 B in mimalloc's 112-B size class), the boxed history 64 B (SmallVec of one " +
      '56-B version), the key 32 B (triomphe ThinArc: count, length, 16 B), the hash slot of two thin pointers at ~60% load ' +
      'with its control byte ≈ 28 B plus what the growing tables left behind, the ordered index ≈ 20 B (indexset ' +
      'nodes split in half keep their full capacity, and keys loaded in order never refill the left half). Node adds its ' +
      "own ~90 MB (heap, code). Since 819cb9a: the 80-byte slot became 16 (−~120 B/key with the tables' leftovers), and " +
      'results too large for the scratch buffer stopped reaching V8 as one allocation each (−~180 MiB at 10M). One ' +
      'allocation per key holding key and history (tried: a shared entry with its history inside) measured 262 B/key as ' +
      'well — the allocation it saves is paid back in size classes — and was not kept. (The JS engine needs ~500 B/key.)',
  },
  // Issue #14: `metastore serve` against Debian's etcd over etcd's gRPC protocol, same run
  // (bench/server.bench.js, load from bench/etcd-load).
  {
    id: 'w10-put-256',
    w: 10,
    suite: 'server',
    text: "#14: metastore serve ≥ 2× etcd's awaited puts/s at 256 clients, same run",
    kind: 'ratio',
    row: 'put-256',
    col: 'metastore',
    vs: 'etcd',
    goal: 2,
  },
  {
    id: 'w10-put-256-p99',
    w: 10,
    suite: 'server',
    text: "#14: put latency p99 at 256 clients no worse than etcd's",
    kind: 'fieldRatio',
    row: 'put-256',
    col: 'metastore',
    vs: 'etcd',
    field: 'p99Us',
    goal: 1,
  },
  {
    id: 'w10-range-l-256',
    w: 10,
    suite: 'server',
    text: "#14: metastore serve ≥ 2× etcd's single-key linearizable gets/s at 256 clients, same run",
    kind: 'ratio',
    row: 'range-l-256',
    col: 'metastore',
    vs: 'etcd',
    goal: 2,
  },
  {
    id: 'w10-range-l-256-p99',
    w: 10,
    suite: 'server',
    text: "#14: linearizable get latency p99 at 256 clients no worse than etcd's",
    kind: 'fieldRatio',
    row: 'range-l-256',
    col: 'metastore',
    vs: 'etcd',
    field: 'p99Us',
    goal: 1,
  },
  {
    id: 'w10-range-s-256',
    w: 10,
    suite: 'server',
    text: "#14: metastore serve ≥ 2× etcd's single-key serializable gets/s at 256 clients, same run",
    kind: 'ratio',
    row: 'range-s-256',
    col: 'metastore',
    vs: 'etcd',
    goal: 2,
  },
  {
    id: 'w10-range-s-256-p99',
    w: 10,
    suite: 'server',
    text: "#14: serializable get latency p99 at 256 clients no worse than etcd's",
    kind: 'fieldRatio',
    row: 'range-s-256',
    col: 'metastore',
    vs: 'etcd',
    field: 'p99Us',
    goal: 1,
  },
];

function fmtGoal(t, v) {
  if (t.unit === 'rate') return `${(v / 1e6).toFixed(2)}M ops/s`;
  if (t.unit === 'ns') return v >= 1000 ? `${(v / 1000).toFixed(2)} µs` : `${v.toFixed(0)} ns`;
  if (t.unit === 'bytes') return `${(v / GiB).toFixed(2)} GiB`;
  if (t.unit === 'us') return `${(v / 1000).toFixed(2)} ms`;
  if (t.unit === 's') return `${v.toFixed(2)} s`;
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
  if (t.kind === 'fieldRatio') {
    const other = row.results[t.vs];
    if (!other || other.error || other.na || !Number.isFinite(other[t.field]) || !Number.isFinite(cell[t.field]))
      return { ...base, status: 'not measured', goalText: goalText(t), measuredText: 'no figure' };
    measured = cell[t.field] / other[t.field];
    met = measured <= t.goal;
    by = measured / t.goal - 1;
    const text = `${cell[t.field]} vs ${other[t.field]} (${measured.toFixed(2)}×)`;
    return finish(t, base, met, text, by, met ? `${pct(-by)} below the goal` : `missed by ${pct(by)}`);
  }
  throw new Error(`unknown target kind ${t.kind}`);
}

function goalText(t) {
  if (t.kind === 'ratio') return `≥ ${t.goal}× ${t.vs}`;
  if (t.kind === 'rows') return `≤ ${t.goal}× per op of ${t.vsRow}`;
  if (t.kind === 'fieldRatio') return `${t.field} ≤ ${t.goal}× ${t.vs}'s`;
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
