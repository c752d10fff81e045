// Compiled (never run) by scripts/install-test.mjs with `tsc --noEmit`, strict, skipLibCheck off,
// against the installed package: a CommonJS consumer (moduleResolution node16, nodenext, node10).
import { MetaStore, MetaStoreError, type ErrorCode, type KeyValue } from '@metastore/core';
import core = require('@metastore/core');

async function main(): Promise<void> {
  const store: MetaStore = await core.MetaStore.open({ engine: 'auto' });
  const engine: 'native' | 'js' = store.engine;
  await store.put('k', 'v');
  const kv: KeyValue | undefined = store.get('k');
  const txn: core.TxnResponse = await store.txn().if('k', 'mod', '>', 0).then(core.op.put('k', 'w')).commit();
  const watcher: core.Watcher = store.watch({ key: 'k' });
  watcher.on('delete', (deleted: KeyValue) => void deleted.key);
  watcher.cancel();
  try {
    await store.put('', 'v');
  } catch (e) {
    if (e instanceof MetaStoreError) {
      const code: ErrorCode = e.code;
      void code;
    }
  }
  // @ts-expect-error: not an engine
  await MetaStore.open({ engine: 'wasm' });
  await store.close();
  void [engine, kv, txn];
}

void main();
