// The first program a user writes, as assertions: run against the *installed* package by
// smoke.mjs (import) and smoke.cjs (require), which scripts/install-test.mjs copies into a fresh
// project. Both scripts run the same STEPS, so a new feature gets its smoke step here, once
// (durable mode: a step that opens a store on a path, writes, closes and reopens it).
//
// CommonJS so both scripts can load it on every Node version the package supports.
'use strict';

const assert = require('node:assert/strict');

const text = (bytes) => Buffer.from(bytes).toString('utf8');

/**
 * Each step: [name, async (api, store, expected) => void]. `api` is the module the script
 * loaded (its ESM or its CJS build), `store` a store opened with engine 'auto', `expected` the
 * engine the install should give ('native' or 'js').
 */
const STEPS = [
  [
    'engine',
    async (api, store, expected) => {
      assert.equal(store.engine, expected);
      if (expected === 'native') {
        assert.equal(store.nativeLoadError, undefined);
        return;
      }
      // The fallback says why the native engine did not load ...
      const why = store.nativeLoadError;
      assert.ok(why instanceof api.MetaStoreError, 'nativeLoadError is a MetaStoreError');
      assert.equal(why.code, 'ERR_NATIVE_UNAVAILABLE');
      assert.match(why.message, /platform package @metastore\/core-[a-z0-9-]+ is not installed/);
      assert.ok(why.cause instanceof Error, 'the loader error is kept as the cause');
      // ... and engine: 'native' refuses, clearly.
      const err = await api.MetaStore.open({ engine: 'native' }).then(
        () => assert.fail("engine: 'native' opened without a binary"),
        (e) => e,
      );
      assert.ok(err instanceof api.MetaStoreError);
      assert.equal(err.code, 'ERR_NATIVE_UNAVAILABLE');
      assert.match(err.message, /native engine could not be loaded: the platform package/);
    },
  ],
  [
    'put / get',
    async (api, store) => {
      assert.equal(store.revision, 1);
      assert.deepEqual(await store.put('config/a', 'on'), { revision: 2 });
      const second = await store.put('config/a', 'off', { prevKv: true });
      assert.equal(second.revision, 3);
      assert.equal(text(second.prevKv.value), 'on');
      assert.equal(store.getString('config/a'), 'off');
      const kv = store.get('config/a');
      assert.deepEqual(
        { key: text(kv.key), createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, lease: kv.lease },
        { key: 'config/a', createRevision: 2, modRevision: 3, version: 2, lease: 0 },
      );
      assert.equal(store.get('config/missing'), undefined);
      await store.put(new Uint8Array([0x63, 0x2f, 0xff]), new Uint8Array([1, 2, 3])); // binary key and value
      assert.deepEqual([...store.get(new Uint8Array([0x63, 0x2f, 0xff])).value], [1, 2, 3]);
    },
  ],
  [
    'range',
    async (api, store) => {
      await store.put('config/b', '2');
      await store.put('config/c', '3');
      await store.put('other', 'x');
      const page = store.range({ prefix: 'config/', limit: 2 });
      assert.deepEqual(page.kvs.map((kv) => text(kv.key)), ['config/a', 'config/b']);
      assert.equal(page.count, 3);
      assert.equal(page.more, true);
      assert.equal(page.revision, store.revision);
      const desc = store.range({ prefix: 'config/', sort: { target: 'key', order: 'descend' }, keysOnly: true });
      assert.deepEqual(desc.kvs.map((kv) => text(kv.key)), ['config/c', 'config/b', 'config/a']);
      assert.equal(desc.kvs[0].value.length, 0);
      assert.equal(store.range({ start: 'config/b', end: 'config/c' }).kvs.length, 1);
      assert.equal(store.range({ fromKey: 'config/c', countOnly: true }).count, 2);
    },
  ],
  [
    'delete',
    async (api, store) => {
      const before = store.revision;
      const one = await store.delete('config/c', { prevKv: true });
      assert.equal(one.deleted, 1);
      assert.equal(text(one.prevKvs[0].value), '3');
      assert.equal(one.revision, before + 1);
      const none = await store.delete('config/nothing');
      assert.equal(none.deleted, 0);
      assert.equal(none.revision, before + 1, 'a delete that matches nothing does not bump');
      const all = await store.delete({ prefix: 'config/' });
      assert.equal(all.deleted, 2);
      assert.equal(all.revision, before + 2, 'a range delete is one revision');
      assert.equal(store.range({ prefix: 'config/' }).count, 0);
    },
  ],
  [
    'WriteBatch',
    async (api, store) => {
      const start = store.revision;
      const out = await store.batch().put('b/1', 'x').put('b/2', 'y').delete('b/1').put('b/3', 'z', { lease: 42 }).commit();
      assert.equal(out.length, 4);
      assert.deepEqual(out.slice(0, 3), [{ revision: start + 1 }, { revision: start + 2 }, { revision: start + 3, deleted: 1, prevKvs: [] }]);
      // An op that fails on the store's state is an error in its slot; the others applied.
      assert.ok(out[3] instanceof api.MetaStoreError);
      assert.equal(out[3].code, 'ERR_LEASE_NOT_FOUND');
      assert.equal(store.revision, start + 3);
      assert.deepEqual(store.range({ prefix: 'b/' }).kvs.map((kv) => text(kv.key)), ['b/2']);
    },
  ],
  [
    'txn',
    async (api, store) => {
      await store.put('txn/k', 'v1');
      const mod = store.get('txn/k').modRevision;
      const before = store.revision;
      // The builder form: every compare holds, so the then-branch runs, at one revision.
      const ok = await store
        .txn()
        .if('txn/k', 'mod', '==', mod)
        .then(api.op.put('txn/k', 'v2'), api.op.put('txn/other', 'x'), api.op.get('txn/k'))
        .else(api.op.get('txn/k'))
        .commit();
      assert.equal(ok.succeeded, true);
      assert.equal(ok.revision, before + 1, 'a txn is one revision');
      assert.deepEqual(ok.responses.map((r) => r.type), ['put', 'put', 'range']);
      assert.equal(text(ok.responses[2].kvs[0].value), 'v2');
      assert.equal(store.get('txn/other').modRevision, before + 1);
      // The plain-object form: the compare now fails, the else-branch runs, nothing changes.
      const no = await store.txn({
        compare: [{ key: 'txn/k', target: 'mod', result: '==', value: mod }],
        success: [api.op.put('txn/k', 'v3')],
        failure: [api.op.get('txn/k')],
      });
      assert.equal(no.succeeded, false);
      assert.equal(no.revision, before + 1);
      assert.equal(text(no.responses[0].kvs[0].value), 'v2');
      assert.equal(store.getString('txn/k'), 'v2');
    },
  ],
  [
    'watch',
    async (api, store) => {
      const watcher = store.watch({ prefix: 'w/' });
      const seen = [];
      watcher.on('put', (kv) => seen.push(['put', text(kv.key), text(kv.value), kv.modRevision]));
      watcher.on('delete', (kv) => seen.push(['delete', text(kv.key), kv.modRevision]));
      const put = await store.put('w/a', '1');
      await store.put('elsewhere', 'not watched');
      const del = await store.delete('w/a');
      for (let i = 0; i < 1000 && seen.length < 2; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(seen, [
        ['put', 'w/a', '1', put.revision],
        ['delete', 'w/a', del.revision],
      ]);
      watcher.cancel();
      assert.equal(watcher.active, false);
    },
  ],
  [
    'errors',
    async (api, store) => {
      const codeOf = async (f) => {
        try {
          await f();
        } catch (e) {
          assert.ok(e instanceof api.MetaStoreError, `expected a MetaStoreError, got ${e}`);
          return e.code;
        }
        return 'no error';
      };
      assert.equal(await codeOf(() => store.put('', 'v')), 'ERR_KEY_NOT_PROVIDED');
      assert.equal(await codeOf(() => store.put('k', 42)), 'ERR_INVALID_TYPE');
      assert.equal(await codeOf(() => store.range({ revision: store.revision + 1, key: 'k' })), 'ERR_FUTURE_REV');
      assert.equal(await codeOf(() => api.MetaStore.open({ engine: 'wasm' })), 'ERR_INVALID_OPTION');
    },
  ],
  [
    'close',
    async (api, store) => {
      await store.close();
      await store.close(); // idempotent
      assert.throws(() => store.get('b/2'), (e) => e instanceof api.MetaStoreError && e.code === 'ERR_CLOSED');
    },
  ],
];

/** Runs every step on one store; prints one line per step; throws on the first failure. */
async function runSmoke(api, { expected, format }) {
  assert.ok(expected === 'native' || expected === 'js', `expected engine must be native or js, got ${expected}`);
  assert.equal(typeof api.MetaStore, 'function', `${format}: MetaStore is exported`);
  const store = await api.MetaStore.open({ engine: 'auto' });
  for (const [name, step] of STEPS) {
    try {
      await step(api, store, expected);
    } catch (e) {
      e.message = `${format} smoke, step '${name}': ${e.message}`;
      throw e;
    }
    console.log(`ok ${format} ${name}`);
  }
}

module.exports = { STEPS, runSmoke };
