// Child of test/txn-depth.test.ts: gives transactions nested 10,000 levels deep to each engine
// and store, where the old code overflowed the stack (a SIGSEGV of the native engine kills the
// process, hence a child), and prints one JSON line per scenario outcome.
// Usage: node deep-batches.mjs <dist entry> <engines | durable <dir>>
import { writeSync } from 'node:fs';

const [entry, scenario, dir] = process.argv.slice(2);
const { MetaStore, MetaStoreError, createEngine, op } = await import(entry);
const DEPTH = 10_000;
// The op budget would refuse a chain this deep at level 129: raise it so the depth is what counts.
const LIMITS = { maxTxnOps: 1_000_000 };

/** A batch of one TXN chain `depth` levels deep around a put of k = v, written without recursion. */
function nestedBatch(depth) {
  const put = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0x6b, 0x76];
  const bytes = new Uint8Array(8 + depth * 14 + put.length);
  bytes.set([0x4d, 0x53, 0x42, 1, 1, 0, 0, 0]);
  // Each level: TXN, no compares, the next level as its one success op.
  for (let i = 0; i < depth; i++) bytes.set([4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], 8 + i * 14);
  bytes.set(put, 8 + depth * 14);
  return bytes;
}

function nestedRequest(depth) {
  let request = { success: [op.put('k', 'v')] };
  for (let level = 1; level < depth; level++) request = { success: [op.txn(request)] };
  return request;
}

function outcome(e) {
  return e instanceof MetaStoreError ? { code: e.code } : { thrown: `${e?.name}: ${e?.message}` };
}

async function settle(run) {
  try {
    await run();
    return { code: null };
  } catch (e) {
    return outcome(e);
  }
}

const report = (line) => writeSync(1, JSON.stringify(line) + '\n');

if (scenario === 'engines') {
  for (const kind of ['native', 'js']) {
    const engine = createEngine(kind, LIMITS);
    report({ kind, call: 'engine.applyBatch', ...(await settle(() => engine.applyBatch(nestedBatch(DEPTH)))), revision: engine.revision });
    engine.close();
    const store = await MetaStore.open({ engine: kind, leaseCheckIntervalMs: 0, ...LIMITS });
    report({ kind, call: 'store.applyBatch', ...(await settle(() => store.applyBatch(nestedBatch(DEPTH)))) });
    report({ kind, call: 'store.txn', ...(await settle(() => store.txn(nestedRequest(DEPTH)))) });
    const put = await store.put('after', '1');
    report({ kind, call: 'store.put after', revision: put.revision, proposals: store.writeStats().proposals });
    await store.close();
  }
} else if (scenario === 'durable') {
  let store = await MetaStore.open({ path: dir, leaseCheckIntervalMs: 0, ...LIMITS });
  report({ call: 'store.applyBatch', ...(await settle(() => store.applyBatch(nestedBatch(DEPTH)))), appliedIndex: store.appliedIndex });
  // An entry the log already holds (written by a version without the limit, or under a higher
  // one), appended past validation: apply refuses it, on every replay too.
  const batch = nestedBatch(DEPTH);
  const logged = new Uint8Array(28 + batch.length);
  const view = new DataView(logged.buffer);
  logged.set([0x4d, 0x53, 0x45, 1]);
  view.setUint32(4, 1, true); // one proposal
  view.setUint32(8, 2, true); // of another node: nobody here waits for it
  view.setUint32(12, 1, true);
  view.setUint32(24, 1, true); // one op
  logged.set(batch, 28);
  await store.writes.log.append([logged]);
  await store.put('after', '1');
  report({ call: 'logged deep entry', appliedIndex: store.appliedIndex, revision: store.revision });
  await store.close();
  for (let boot = 1; boot <= 2; boot++) {
    store = await MetaStore.open({ path: dir, leaseCheckIntervalMs: 0, ...LIMITS });
    report({
      call: `reopen ${boot}`,
      replayed: store.recovery.replayedEntries,
      revision: store.revision,
      after: store.getString('after'),
      k: store.getString('k') ?? null,
    });
    await store.put(`boot${boot}`, '1');
    await store.close();
  }
} else {
  throw new Error(`unknown scenario ${scenario}`);
}
