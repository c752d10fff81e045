// Child of the crash loop: writes to a durable store under concurrent load and reports every
// acknowledged write on stdout (synchronously, so a report is never lost after its ack) until
// it is killed. Usage: node writer.mjs <dist entry> <path> <run> <writers>
import { writeSync } from 'node:fs';
import { STORE_OPTIONS } from './crash-loop.mjs';

const [entry, path, run, writers] = process.argv.slice(2);
const { MetaStore, op } = await import(entry);
const report = (line) => writeSync(1, line + '\n');

const store = await MetaStore.open({ path, ...STORE_OPTIONS });
report(`R ${store.revision}`);

async function writer(w) {
  for (let i = 0; ; i++) {
    const key = `r${run}/w${w}/${i}`;
    if (i % 40 === 7) {
      const { id } = await store.lease.grant(3600);
      report(`L ${id}`);
      const r = await store.put(key, `v${i}`, { lease: id });
      report(`P ${key} ${r.revision} ${id}`);
    } else if (i % 97 === 50 && w === 0) {
      const target = store.revision - 5;
      try {
        await store.compact(target);
        report(`C ${target}`);
      } catch (e) {
        if (e.code !== 'ERR_COMPACTED') throw e;
      }
    } else if (i % 13 === 3) {
      const r = await store
        .txn()
        .if(key, 'version', '==', 0)
        .then(op.put(key, `v${i}`))
        .commit();
      report(`P ${key} ${r.revision} 0`);
    } else {
      const r = await store.put(key, `v${i}`);
      report(`P ${key} ${r.revision} 0`);
    }
  }
}

await Promise.all(Array.from({ length: Number(writers) }, (_, w) => writer(w)));
