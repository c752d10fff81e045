/**
 * The server's unary API through the wire, with a client built from the etcd3 package's protos:
 * KV, Lease, Maintenance, Cluster, Auth, health (gRPC and HTTP), headers and etcd's error texts;
 * the lazy load of gRPC; the programmatic lifecycle.
 */

import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityOf } from '../../ts/server/header.js';
import { readSnapshot } from '../../ts/server/snapshot.js';
import { b, CallError, RawClient, Responses, ROOT, startServer, type Served } from './helpers.js';

let s: Served;
let c: RawClient;

beforeAll(async () => {
  s = await startServer({ serve: { name: 'm1' } });
  c = new RawClient(s.endpoint);
});
afterAll(async () => {
  c.close();
  await s.close();
});

const err = async (p: Promise<unknown>): Promise<{ code: number; details: string }> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof CallError) return { code: e.code, details: e.details };
    throw e;
  }
  throw new Error('expected the call to fail');
};

describe('KV', () => {
  it('put / range / delete with etcd headers', async () => {
    const rev0 = s.store.revision;
    const p = await c.call('KV', 'Put', { key: b('kv/a'), value: b('1') });
    expect(Number(p.header.revision)).toBe(rev0 + 1);
    expect(p.header.member_id).toBe(s.server.member.memberId);
    expect(p.header.cluster_id).toBe(s.server.member.clusterId);
    expect(p.header.raft_term).toBe('1');
    const p2 = await c.call('KV', 'Put', { key: b('kv/a'), value: b('2'), prev_kv: true });
    expect(p2.prev_kv.value.toString()).toBe('1');
    const r = await c.call('KV', 'Range', { key: b('kv/'), range_end: b('kv0') });
    expect(r.count).toBe('1');
    expect(r.kvs[0]).toMatchObject({ key: b('kv/a'), value: b('2'), version: '2', create_revision: String(rev0 + 1), mod_revision: String(rev0 + 2) });
    const d = await c.call('KV', 'DeleteRange', { key: b('kv/'), range_end: b('kv0'), prev_kv: true });
    expect(d.deleted).toBe('1');
    expect(d.prev_kvs[0].value.toString()).toBe('2');
    expect(s.store.get('kv/a')).toBeUndefined();
  });

  it('an inverted interval reads and deletes nothing (etcd), where the façade says ERR_INVALID_RANGE', async () => {
    await c.call('KV', 'Put', { key: b('inv/b'), value: b('x') });
    const r = await c.call('KV', 'Range', { key: b('inv/c'), range_end: b('inv/a') });
    expect([r.kvs.length, r.count, r.more]).toEqual([0, '0', false]);
    const rev = s.store.revision;
    const d = await c.call('KV', 'DeleteRange', { key: b('inv/c'), range_end: b('inv/a') });
    expect([d.deleted, Number(d.header.revision)]).toEqual(['0', rev]);
    // The revision of an inverted read is still checked.
    expect(await err(c.call('KV', 'Range', { key: b('inv/c'), range_end: b('inv/a'), revision: rev + 10 }))).toEqual({
      code: 11,
      details: 'etcdserver: mvcc: required revision is a future revision',
    });
  });

  it("negative limit, revision and filters follow etcd's reading", async () => {
    for (const k of ['neg/a', 'neg/b', 'neg/c']) await c.call('KV', 'Put', { key: b(k), value: b('v') });
    const all = { key: b('neg/'), range_end: b('neg0') };
    expect((await c.call('KV', 'Range', { ...all, limit: -1 })).kvs.length).toBe(3);
    expect((await c.call('KV', 'Range', { ...all, revision: -5 })).kvs.length).toBe(3);
    expect((await c.call('KV', 'Range', { ...all, min_mod_revision: -3 })).kvs.length).toBe(3);
    const none = await c.call('KV', 'Range', { ...all, max_create_revision: -1 });
    expect([none.kvs.length, none.count, none.more]).toEqual([0, '3', false]);
    // Beyond 2^53: a future revision stays future.
    expect((await err(c.call('KV', 'Range', { ...all, revision: '9223372036854775807' }))).code).toBe(11);
  });

  it("errors carry etcd's status codes and texts", async () => {
    expect(await err(c.call('KV', 'Put', { key: b(''), value: b('v') }))).toEqual({ code: 3, details: 'etcdserver: key is not provided' });
    expect(await err(c.call('KV', 'Put', { key: b('k'), value: b('v'), lease: 12345 }))).toEqual({ code: 5, details: 'etcdserver: requested lease not found' });
    expect(await err(c.call('KV', 'Put', { key: b('k'), value: b('v'), ignore_value: true }))).toEqual({ code: 3, details: 'etcdserver: value is provided' });
    expect(await err(c.call('KV', 'Put', { key: b('nope'), value: b(''), ignore_value: true }))).toEqual({ code: 3, details: 'etcdserver: key not found' });
    expect(await err(c.call('KV', 'Range', { key: b('k'), sort_target: 9 }))).toEqual({ code: 3, details: 'etcdserver: invalid sort option' });
    expect(await err(c.call('KV', 'Range', { key: b('k'), revision: 10_000 }))).toEqual({
      code: 11,
      details: 'etcdserver: mvcc: required revision is a future revision',
    });
    const dup = { request_put: { key: b('d'), value: b('1') } };
    expect(await err(c.call('KV', 'Txn', { success: [dup, dup] }))).toEqual({ code: 3, details: 'etcdserver: duplicate key given in txn request' });
    const many = Array.from({ length: 129 }, (_, i) => ({ request_put: { key: b(`m${i}`), value: b('1') } }));
    expect(await err(c.call('KV', 'Txn', { success: many }))).toEqual({ code: 3, details: 'etcdserver: too many operations in txn request' });
    expect(await err(c.call('KV', 'Txn', { success: [{}] }))).toEqual({ code: 3, details: 'etcdserver: key not found' });
    expect(await err(c.call('KV', 'Txn', { compare: [{ key: b(''), target: 0, result: 0 }] }))).toEqual({
      code: 3,
      details: 'etcdserver: key is not provided',
    });
  });

  it('txn: compares, both branches, nested, per-op headers', async () => {
    await c.call('KV', 'Put', { key: b('t/a'), value: b('1') });
    const rev = s.store.revision;
    const t = await c.call('KV', 'Txn', {
      compare: [{ key: b('t/a'), target: 3, result: 0, value: b('1') }],
      success: [
        { request_range: { key: b('t/a') } },
        { request_put: { key: b('t/b'), value: b('2') } },
        { request_txn: { success: [{ request_put: { key: b('t/c'), value: b('3') } }] } },
      ],
      failure: [{ request_put: { key: b('t/x'), value: b('x') } }],
    });
    expect(t.succeeded).toBe(true);
    expect(Number(t.header.revision)).toBe(rev + 1);
    expect(t.responses.map((r: { response: string }) => r.response)).toEqual(['response_range', 'response_put', 'response_txn']);
    expect(Number(t.responses[0].response_range.header.revision)).toBe(rev);
    expect(Number(t.responses[1].response_put.header.revision)).toBe(rev + 1);
    expect(t.responses[2].response_txn.header.revision).toBe('0'); // etcd leaves a nested header at 0
    expect(s.store.getString('t/c')).toBe('3');
    const f = await c.call('KV', 'Txn', {
      compare: [{ key: b('t/a'), target: 2, result: 1, mod_revision: 1_000_000 }],
      failure: [{ request_range: { key: b('t/'), range_end: b('t0'), count_only: true } }],
    });
    expect(f.succeeded).toBe(false);
    expect(f.responses[0].response_range.count).toBe('3');
  });

  it('compact: header, repeat, future', async () => {
    const rev = s.store.revision;
    const r = await c.call('KV', 'Compact', { revision: rev - 1 });
    expect(Number(r.header.revision)).toBe(rev);
    expect(await err(c.call('KV', 'Compact', { revision: rev - 1 }))).toEqual({ code: 11, details: 'etcdserver: mvcc: required revision has been compacted' });
    expect((await err(c.call('KV', 'Compact', { revision: rev + 5 }))).code).toBe(11);
    expect(await err(c.call('KV', 'Range', { key: b('t/a'), revision: rev - 2 }))).toEqual({
      code: 11,
      details: 'etcdserver: mvcc: required revision has been compacted',
    });
  });
});

describe('Lease', () => {
  it('grant / time-to-live with keys / keep-alive stream / leases / revoke', async () => {
    const g = await c.call('Lease', 'LeaseGrant', { TTL: 60, ID: 0 });
    expect(g.TTL).toBe('60');
    const id = g.ID;
    await c.call('KV', 'Put', { key: b('l/a'), value: b('1'), lease: id });
    const t = await c.call('Lease', 'LeaseTimeToLive', { ID: id, keys: true });
    expect([t.grantedTTL, t.keys.map(String)]).toEqual(['60', ['l/a']]);
    const ka = new Responses(c.stream('Lease', 'LeaseKeepAlive'));
    ka.call.write({ ID: id });
    ka.call.write({ ID: 999_999 });
    const [r1, r2] = [await ka.next(), await ka.next()];
    expect([r1.ID, r1.TTL, r2.ID, r2.TTL]).toEqual([id, '60', '999999', '0']);
    ka.call.end();
    expect((await c.call('Lease', 'LeaseLeases', {})).leases.map((l: { ID: string }) => l.ID)).toContain(id);
    const before = s.store.revision;
    const rv = await c.call('Lease', 'LeaseRevoke', { ID: id });
    expect(Number(rv.header.revision)).toBe(before + 1);
    expect(s.store.get('l/a')).toBeUndefined();
    expect((await c.call('Lease', 'LeaseTimeToLive', { ID: id })).TTL).toBe('-1');
    expect(await err(c.call('Lease', 'LeaseRevoke', { ID: id }))).toEqual({ code: 5, details: 'etcdserver: requested lease not found' });
  });

  it('errors: an ID in use, a TTL too large; IDs beyond 2^53 refused at grant, absent elsewhere', async () => {
    await c.call('Lease', 'LeaseGrant', { TTL: 10, ID: 77 });
    expect(await err(c.call('Lease', 'LeaseGrant', { TTL: 10, ID: 77 }))).toEqual({ code: 9, details: 'etcdserver: lease already exists' });
    expect(await err(c.call('Lease', 'LeaseGrant', { TTL: 9_000_000_001, ID: 78 }))).toEqual({ code: 11, details: 'etcdserver: too large lease TTL' });
    const huge = '9223372036854775000';
    const g = await err(c.call('Lease', 'LeaseGrant', { TTL: 10, ID: huge }));
    expect(g.code).toBe(3);
    expect(g.details).toMatch(/cannot be granted/);
    expect(await err(c.call('KV', 'Put', { key: b('k'), value: b('v'), lease: huge }))).toEqual({ code: 5, details: 'etcdserver: requested lease not found' });
    expect((await c.call('Lease', 'LeaseTimeToLive', { ID: huge })).TTL).toBe('-1');
    const neg = await c.call('Lease', 'LeaseGrant', { TTL: 1, ID: -7 });
    expect([neg.ID, neg.TTL]).toEqual(['-7', '2']); // raised to the minimum TTL
  });
});

describe('Maintenance, Cluster, Auth, health', () => {
  it('status: version, leader = member, raft index = applied index', async () => {
    const st = await c.call('Maintenance', 'Status', {});
    expect(st.version).toBe('3.5.0');
    expect(st.leader).toBe(s.server.member.memberId);
    expect(Number(st.raftIndex)).toBe(s.store.appliedIndex);
    expect(Number(st.header.revision)).toBe(s.store.revision);
  });

  it('hashKV is a function of the state at a revision; hash of the whole state', async () => {
    const rev = s.store.revision;
    const h1 = await c.call('Maintenance', 'HashKV', { revision: rev });
    const h2 = await c.call('Maintenance', 'HashKV', { revision: 0 });
    expect(h1.hash).toBe(h2.hash);
    await c.call('KV', 'Put', { key: b('h/x'), value: b('1') });
    expect((await c.call('Maintenance', 'HashKV', { revision: rev })).hash).toBe(h1.hash);
    expect((await c.call('Maintenance', 'HashKV', { revision: 0 })).hash).not.toBe(h1.hash);
    expect((await err(c.call('Maintenance', 'HashKV', { revision: rev + 100 }))).code).toBe(11);
    expect(typeof (await c.call('Maintenance', 'Hash', {})).hash).toBe('number');
  });

  it('snapshot: data padded to 512, then its SHA-256; it reads back as the state', async () => {
    const stream = new Responses(c.serverStream('Maintenance', 'Snapshot', {}) as never);
    const blobs: Buffer[] = [];
    for (;;) {
      const r = await stream.next(5_000);
      if (r === undefined) break;
      blobs.push(r.blob);
    }
    expect(stream.error).toBeUndefined();
    const all = Buffer.concat(blobs);
    expect(all.length % 512).toBe(32);
    const snap = readSnapshot(all);
    expect(snap.head.keys).toBe(s.store.size);
    expect(snap.kvs.map((kv) => Buffer.from(kv.key).toString())).toContain('h/x');
  });

  it('alarm none, defragment accepted, member list of one', async () => {
    expect((await c.call('Maintenance', 'Alarm', { action: 0 })).alarms).toEqual([]);
    await c.call('Maintenance', 'Defragment', {});
    const m = await c.call('Cluster', 'MemberList', {});
    expect(m.members).toEqual([{ ID: s.server.member.memberId, name: 'm1', peerURLs: ['http://localhost:2380'], clientURLs: [s.url], isLearner: false }]);
    expect(m.header.revision).toBe('0');
    expect((await err(c.call('Cluster', 'MemberAdd', { peerURLs: ['http://x:2380'] }))).code).toBe(12);
  });

  it('auth: as an etcd without authentication', async () => {
    expect((await c.call('Auth', 'AuthStatus', {})).enabled).toBe(false);
    expect(await err(c.call('Auth', 'Authenticate', { name: 'root', password: 'x' }))).toEqual({
      code: 9,
      details: 'etcdserver: authentication is not enabled',
    });
    expect(await err(c.call('Auth', 'UserAdd', { name: 'u', password: 'x' }))).toEqual({ code: 9, details: 'etcdserver: authentication is not enabled' });
    expect(await err(c.call('Auth', 'RoleList', {}))).toEqual({ code: 9, details: 'etcdserver: authentication is not enabled' });
    expect((await err(c.call('Auth', 'AuthEnable', {}))).details).toBe('etcdserver: root user does not exist');
  });

  it('HTTP /health, /version and /metrics on the client URL', async () => {
    const health = await fetch(`${s.url}/health`);
    expect([health.status, await health.json()]).toEqual([200, { health: 'true', reason: '' }]);
    expect(await (await fetch(`${s.url}/version`)).json()).toEqual({ etcdserver: '3.5.0', etcdcluster: '3.5.0' });
    const text = await (await fetch(`${s.url}/metrics`)).text();
    for (const name of [
      'etcd_server_has_leader 1',
      'etcd_server_proposals_committed_total',
      'etcd_mvcc_db_total_size_in_bytes',
      'etcd_debugging_mvcc_keys_total',
      'etcd_network_client_grpc_received_bytes_total',
      'grpc_server_handling_seconds_bucket',
      'metastore_log_ops_per_entry',
      'metastore_log_fsyncs_total',
      'etcd_debugging_mvcc_watcher_total',
    ]) {
      expect(text, name).toContain(name);
    }
    expect(text).toMatch(/grpc_server_handled_total\{grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Put",grpc_code="OK"\} \d+/);
    expect(text).toContain('etcd_server_version{server_version="3.5.0"} 1');
    expect(text).toContain(`etcd_debugging_mvcc_keys_total ${s.store.size}`);
    expect(text).toContain(`etcd_debugging_mvcc_current_revision ${s.store.revision}`);
    expect(text).toContain(`etcd_server_proposals_committed_total ${s.store.appliedIndex}`);
    // Watchers and streams are counted while open.
    const w = new Responses(c.stream('Watch', 'Watch'));
    w.call.write({ create_request: { key: b('m/a') } });
    await w.until((r) => r.created);
    const open = await (await fetch(`${s.url}/metrics`)).text();
    expect(open).toContain('etcd_debugging_mvcc_watcher_total 1');
    expect(open).toContain('etcd_debugging_mvcc_watch_stream_total 1');
    expect(open).toMatch(/grpc_server_handled_total\{grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Put",grpc_code="InvalidArgument"\} \d+/);
    w.call.cancel();
    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
  });
});

describe('identity', () => {
  it("member and cluster IDs are derived as etcd derives them (etcd's defaults give 8e9e05c52164694d / cdf818194e3a8c32)", () => {
    const id = identityOf({ name: 'default', peerURLs: ['http://localhost:2380'], clientURLs: [], clusterToken: 'etcd-cluster' });
    expect(BigInt(id.memberId).toString(16)).toBe('8e9e05c52164694d');
    expect(BigInt(id.clusterId).toString(16)).toBe('cdf818194e3a8c32');
  });
});

describe('lifecycle', () => {
  it('importing the package loads no gRPC; calling serve does (ESM and CommonJS builds)', () => {
    const probe = (kind: 'esm' | 'cjs', call: boolean): { grpc: boolean; proto: boolean; prom: boolean } => {
      const load =
        kind === 'esm'
          ? `const m = await import(${JSON.stringify(`${ROOT}dist/index.js`)});`
          : `const m = require(${JSON.stringify(`${ROOT}dist/index.cjs`)});`;
      const body = `
        ${load}
        ${call ? "const st = await m.MetaStore.open({ engine: 'js' }); const sv = await m.serve(st, { listen: 'http://127.0.0.1:0' }); await sv.close(); await st.close();" : ''}
        const keys = Object.keys(require('node:module').createRequire(${JSON.stringify(ROOT)} + 'x').cache);
        console.log(JSON.stringify({ grpc: keys.some((k) => k.includes('@grpc/grpc-js')), proto: keys.some((k) => k.includes('@grpc/proto-loader')), prom: keys.some((k) => k.includes('prom-client')) }));`;
      const src =
        kind === 'esm' ? `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);\n${body}` : `(async () => {${body}})();`;
      const r = spawnSync(process.execPath, kind === 'esm' ? ['--input-type=module', '-e', src] : ['-e', src], { encoding: 'utf8', timeout: 30_000 });
      if (r.status !== 0) throw new Error(r.stderr);
      return JSON.parse(r.stdout.trim().split('\n').pop()!);
    };
    expect(probe('esm', false)).toEqual({ grpc: false, proto: false, prom: false });
    expect(probe('cjs', false)).toEqual({ grpc: false, proto: false, prom: false });
    expect(probe('esm', true)).toEqual({ grpc: true, proto: true, prom: true });
    expect(probe('cjs', true)).toEqual({ grpc: true, proto: true, prom: true });
  });

  it('close() ends open streams with "etcdserver: server stopped", leaves the store open, is idempotent', async () => {
    const t = await startServer();
    const rc = new RawClient(t.endpoint);
    try {
      const w = new Responses(rc.stream('Watch', 'Watch'));
      w.call.write({ create_request: { key: b('a') } });
      expect((await w.next())?.created).toBe(true);
      await Promise.all([t.server.close(), t.server.close()]);
      await w.next(3_000);
      expect(w.error?.code).toBe(14);
      expect(w.error?.details).toBe('etcdserver: server stopped');
      await t.store.put('still', 'open');
      expect((await err(rc.call('KV', 'Range', { key: b('a') }, 2_000))).code).toBe(14);
    } finally {
      rc.close();
      await t.store.close();
    }
  });

  it('the store closed under a running server: streams end and calls fail with "etcdserver: server stopped"', async () => {
    const t = await startServer();
    const rc = new RawClient(t.endpoint);
    try {
      const w = new Responses(rc.stream('Watch', 'Watch'));
      w.call.write({ create_request: { key: b('a') } });
      expect((await w.next())?.created).toBe(true);
      await t.store.close();
      await w.next(3_000);
      expect([w.error?.code, w.error?.details]).toEqual([14, 'etcdserver: server stopped']);
      expect(await err(rc.call('KV', 'Put', { key: b('a'), value: b('1') }))).toEqual({ code: 14, details: 'etcdserver: server stopped' });
      expect(await err(rc.call('KV', 'Range', { key: b('a') }))).toEqual({ code: 14, details: 'etcdserver: server stopped' });
    } finally {
      rc.close();
      await t.server.close();
    }
  });

  it('refuses bad options with ERR_INVALID_OPTION', async () => {
    const t = await startServer();
    try {
      const { serve } = await import('../../ts/index.js');
      await expect(serve(t.store, { listen: 'https://127.0.0.1:0' })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
      await expect(serve(t.store, { listen: 'ftp://127.0.0.1:0' })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
      await expect(serve(t.store, { listen: 'http://127.0.0.1:0', maxRequestBytes: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
      // The port in use.
      await expect(serve(t.store, { listen: t.url })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    } finally {
      await t.close();
    }
  });
});
