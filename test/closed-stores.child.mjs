// Run by closed-stores.test.ts as `node --expose-gc … closed-stores.child.mjs <dist/index.js URL> <dir>`:
// opens and closes stores in loops and prints, as JSON, how many of the closed stores (and their
// engines) the garbage collector reclaimed and how much memory stayed behind per store.
const [distIndex, dir] = process.argv.slice(2);
const { MetaStore } = await import(distIndex);
const { join } = await import('node:path');

const CYCLES = 300;
const WARM_UP = 50;

/** Collects what it can, letting finalizers and FinalizationRegistry callbacks run in between. */
async function collect() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Opens and closes `CYCLES` stores made by `open`, after a warm-up; counts the ones collected. */
async function cycles(open) {
  for (let i = 0; i < WARM_UP; i++) await (await open()).close();
  await collect();
  let stores = 0;
  let engines = 0;
  const storesGone = new FinalizationRegistry(() => stores++);
  const enginesGone = new FinalizationRegistry(() => engines++);
  const rssBefore = process.memoryUsage().rss;
  for (let i = 0; i < CYCLES; i++) {
    const store = await open();
    await store.put('k', 'v');
    storesGone.register(store, i);
    enginesGone.register(store.engineInstance, i); // a private field of the façade
    await store.close();
    // As collections come in a program that runs: what a closed store leaves is garbage by then.
    if (i % 20 === 19) globalThis.gc();
  }
  await collect();
  return { cycles: CYCLES, stores, engines, rssPerCycle: (process.memoryUsage().rss - rssBefore) / CYCLES };
}

// Small log segments: opening reads its segment whole, and a 64 MiB read a cycle would swamp what
// is measured here in the allocator's freed but not yet returned memory.
const durable = await cycles(() => MetaStore.open({ path: join(dir, 'durable'), walSegmentBytes: 1 << 20 }));
const memory = await cycles(() => MetaStore.open({ engine: 'native' }));

// Without a turn of the event loop: Node runs the finalizers of native objects only on a later
// turn, so whatever a closed store leaves to them is still there after this gc().
globalThis.gc();
const arrayBuffersBefore = process.memoryUsage().arrayBuffers;
for (let i = 0; i < CYCLES; i++) await (await MetaStore.open({ engine: 'native' })).close();
globalThis.gc();
const sameTurn = { cycles: CYCLES, arrayBuffersPerCycle: (process.memoryUsage().arrayBuffers - arrayBuffersBefore) / CYCLES };

// Closed stores the program still holds: what each keeps.
globalThis.gc();
const arrayBuffersHeld = process.memoryUsage().arrayBuffers;
const held = [];
for (let i = 0; i < CYCLES; i++) {
  const store = await MetaStore.open({ engine: 'native' });
  await store.put('k', 'v');
  await store.close();
  held.push(store);
}
globalThis.gc();
const stillHeld = { stores: held.length, arrayBuffersPerStore: (process.memoryUsage().arrayBuffers - arrayBuffersHeld) / held.length };

console.log(JSON.stringify({ durable, memory, sameTurn, stillHeld }));
