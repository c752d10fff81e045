// Compiled (never run) by scripts/install-test.mjs with `tsc --noEmit`, strict, skipLibCheck off,
// against the installed package: an ESM consumer (moduleResolution node16, nodenext, bundler).
import {
  MetaStore,
  MetaStoreError,
  WriteBatch,
  type DeleteResponse,
  type ErrorCode,
  type KeyValue,
  type OpenOptions,
  type PutResponse,
  type RangeResponse,
  type TxnResponse,
  type WatchResponse,
  op,
  Watcher,
} from '@metastore/core';

const options: OpenOptions = { engine: 'auto', maxValueBytes: 1024 };
const store: MetaStore = await MetaStore.open(options);
const engine: 'native' | 'js' = store.engine;
const why: Error | undefined = store.nativeLoadError;
const put: PutResponse = await store.put('k', new Uint8Array([1]), { prevKv: true });
const kv: KeyValue | undefined = store.get('k');
const value: string | undefined = store.getString('k');
const range: RangeResponse = store.range({ prefix: 'k', limit: 10, sort: { target: 'mod', order: 'descend' } });
const keys: Uint8Array[] = range.kvs.map((x) => x.key);
const del: DeleteResponse = await store.delete({ prefix: 'k' }, { prevKv: true });
const batch: WriteBatch = store.batch().put('a', 'b').delete('a');
for (const r of await batch.commit()) {
  if (r instanceof MetaStoreError) {
    const code: ErrorCode = r.code;
    void code;
  }
}
try {
  await store.put('', 'v');
} catch (e) {
  if (e instanceof MetaStoreError && e.code === 'ERR_KEY_NOT_PROVIDED') void e.category;
}
const txn: TxnResponse = await store.txn().if('k', 'version', '>', 0).then(op.put('k', 'v2')).else(op.get('k')).commit();
const plain: TxnResponse = await store.txn({ compare: [{ key: 'k', target: 'value', result: '==', value: 'v' }], success: [op.delete('k')] });
const watcher: Watcher = store.watch({ prefix: 'k' });
watcher.on('put', (changed: KeyValue) => void changed.modRevision).on('cancel', (info) => void info.reason);
for await (const response of watcher) {
  const r: WatchResponse = response;
  void r;
  break;
}
watcher.cancel();
await store.close();
{
  await using scoped = await MetaStore.open({ engine: 'js' });
  void scoped.revision;
}
// @ts-expect-error: not an engine
await MetaStore.open({ engine: 'wasm' });
// @ts-expect-error: reads are synchronous
await store.get('k').then(() => {});

void [engine, why, put, kv, value, keys, del, txn, plain];
export {};
