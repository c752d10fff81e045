/**
 * etcdctl (Debian 3.4.23) end to end: one session of commands against a real etcd and against
 * `metastore serve` (the CLI, a durable store), outputs normalized and compared command by
 * command: put / get with every flag / del / txn / watch (with --rev replay, --prev-kv, a
 * compaction cancel) / lease grant, keep-alive, timetolive, revoke, list / compaction /
 * endpoint status, health, hashkv / member list / snapshot save / alarm list / defrag, error
 * texts and exit codes included.
 *
 * Normalized (the two servers are different programs): cluster and member IDs, raft term and
 * index, version, db size, hashes, timings, endpoints and peer URLs, lease IDs (by grant order:
 * etcd picks random ones), remaining lease TTLs (range-checked). Revisions are compared as they
 * are: both start at 1. etcdctl's stderr is compared by its `Error:`, watch-cancel and
 * health lines only (the rest is client logs with timestamps). etcdctl 3.4 has no flags for
 * count_only or the min / max revision filters: test/server and test/etcd send those.
 */

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEtcd, EtcdServer } from '../etcd/harness.js';
import { ServeProcess, tempDir } from './helpers.js';

const ETCDCTL = process.env.ETCDCTL_BIN || 'etcdctl';

interface Target {
  name: 'etcd' | 'metastore';
  endpoint: string;
  peerUrl: string;
  dir: string;
  /** Lease IDs in grant order (hex as etcdctl prints them). */
  leases: string[];
}

interface Outcome {
  code: number | null;
  out: string;
  errors: string[];
}

/** A session step: etcdctl arguments (`{L1}` = the first lease granted on that target, `{DIR}` its temp dir), stdin. */
interface Cmd {
  args: string[];
  stdin?: string;
  /** Run in the background, stopped after this many ms without output (etcdctl watch never ends by itself). */
  watchIdleMs?: number;
}

const C = (...args: string[]): Cmd => ({ args });

function expand(t: Target, arg: string): string {
  return arg.replace(/\{L(\d)\}/g, (_, n: string) => t.leases[Number(n) - 1] ?? 'NO_LEASE').replace('{DIR}', t.dir);
}

function errorsOf(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('Error:') || l.startsWith('watch was canceled') || / is (un)?healthy: /.test(l))
    .map((l) => l.trim());
}

async function run(t: Target, cmd: Cmd): Promise<Outcome> {
  const args = [`--endpoints=${t.endpoint}`, '--command-timeout=5s', ...cmd.args.map((a) => expand(t, a))];
  const env = { ...process.env, ETCDCTL_API: '3' };
  if (cmd.watchIdleMs === undefined) {
    const r = spawnSync(ETCDCTL, args, { input: cmd.stdin ?? '', encoding: 'utf8', timeout: 20_000, env });
    return { code: r.status, out: r.stdout, errors: errorsOf(r.stderr) };
  }
  const child = spawn(ETCDCTL, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let last = Date.now();
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    last = Date.now();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = Date.now();
  let code: number | null = null;
  let done = false;
  void exited.then((c) => {
    code = c;
    done = true;
  });
  while (!done && Date.now() - last < cmd.watchIdleMs && Date.now() - started < 15_000) await new Promise((r) => setTimeout(r, 50));
  if (!done) {
    process.kill(child.pid!, 'SIGTERM');
    await exited;
    code = 'stopped' as unknown as number;
  }
  return { code, out, errors: errorsOf(err) };
}

/** The normalized form of one outcome on one target (lease IDs are learned from grant lines). */
function normalize(t: Target, o: Outcome): Outcome {
  let out = o.out;
  for (const m of out.matchAll(/lease ([0-9a-f]{16}) granted with TTL/g)) if (!t.leases.includes(m[1]!)) t.leases.push(m[1]!);
  t.leases.forEach((hex, i) => {
    const label = `L${i + 1}`;
    out = out.split(hex).join(label);
    const dec = BigInt(`0x${hex}`).toString();
    out = out.replace(new RegExp(`("(?:ID|id|lease|Lease)" ?: ?)${dec}\\b`, 'g'), `$1"${label}"`);
  });
  const replaceAll = (re: RegExp, by: string): void => {
    out = out.replace(re, by);
  };
  replaceAll(new RegExp(t.endpoint.replace(/\./g, '\\.'), 'g'), 'ENDPOINT');
  replaceAll(new RegExp(t.peerUrl.replace(/[.:/]/g, '\\$&'), 'g'), 'PEER');
  replaceAll(
    /"(cluster_id|member_id|leader|ID|raft_term|raftTerm|raftIndex|raftAppliedIndex|dbSize|dbSizeInUse|hash|hash_revision|compact_revision)":\d+/g,
    '"$1":N',
  );
  replaceAll(/"(ClusterID|MemberID|RaftTerm)" : \d+/g, '"$1" : N');
  replaceAll(/"version":"[^"]*"/g, '"version":"V"');
  replaceAll(/\b[0-9a-f]{16}\b/g, 'MEMBER');
  replaceAll(/took = [0-9.]+[µmn]?s/g, 'took = T');
  replaceAll(/\|\s*[0-9.]+ [kMG]?B\s*\|/g, '| SIZE |');
  replaceAll(/\|\s*3\.\d+\.\d+\s*\|/g, '| V |');
  replaceAll(/(ENDPOINT, )\d+\n/g, '$1HASH\n');
  // endpoint status, simple output: endpoint, ID, version, db size, is leader, is learner, term, index, applied index, errors.
  replaceAll(/(ENDPOINT, MEMBER, )3\.\d+\.\d+, [0-9.]+ [kMG]?B, (true|false), (true|false), \d+, \d+, \d+, /g, '$1V, SIZE, $2, $3, TERM, INDEX, APPLIED, ');
  replaceAll(/\|\s*(true|false)\s*\|\s*(true|false)\s*\|\s*\d+\s*\|\s*\d+\s*\|\s*\d+\s*\|/g, '| $1 | $2 | TERM | INDEX | APPLIED |');
  // Remaining TTLs: range-checked, then masked.
  out = out.replace(/remaining\((\d+)s\)/g, (_, n: string) => (Number(n) >= 90 && Number(n) <= 100 ? 'remaining(OK)' : `remaining(BAD ${n})`));
  out = out.replace(/"ttl":(\d+)/g, (_, n: string) => (Number(n) >= 90 && Number(n) <= 100 ? '"ttl":OK' : `"ttl":BAD ${n}`));
  out = out.split(t.dir).join('DIR');
  const errors = o.errors.map((e) =>
    e
      .split(t.dir)
      .join('DIR')
      .split(t.endpoint)
      .join('ENDPOINT')
      .replace(/took = [0-9.]+[µmn]?s/, 'took = T'),
  );
  return { code: o.code, out, errors };
}

const TXN_OK = `value("k1") = "v1b"

put k1 t1
get k2

put k1 never

`;
const TXN_FAIL = `mod("k1") > "1000"
create("k2") = "3"

put k1 never

get k --prefix
del k9

`;

const SESSION: Cmd[] = [
  C('put', 'k1', 'v1'),
  C('put', 'k2', 'v2'),
  C('put', 'k3', 'v3', '--prev-kv'),
  C('put', 'k1', 'v1b', '--prev-kv', '-w', 'json'),
  C('get', 'k1'),
  C('get', 'k', '--prefix'),
  C('get', 'k', '--prefix', '-w', 'json'),
  C('get', 'k1', '-w', 'fields'),
  C('get', 'k', '--prefix', '--keys-only'),
  C('get', 'k', '--prefix', '--print-value-only'),
  C('get', 'k', '--prefix', '--limit', '2', '-w', 'json'),
  C('get', 'k', '--prefix', '--order', 'DESCEND'),
  C('get', 'k', '--prefix', '--sort-by', 'MODIFY', '--order', 'DESCEND'),
  C('get', 'k', '--prefix', '--sort-by', 'VERSION', '--order', 'DESCEND'),
  C('get', 'k', '--prefix', '--sort-by', 'CREATE', '--order', 'ASCEND'),
  C('get', 'k', '--prefix', '--sort-by', 'VALUE', '--order', 'DESCEND'),
  C('get', 'k2', '--from-key'),
  C('get', 'k1', 'k3'),
  C('get', 'k3', 'k1'),
  C('get', 'k', '--prefix', '--rev', '3'),
  C('get', 'k', '--prefix', '--rev', '99'),
  C('get', 'k', '--prefix', '--consistency', 's'),
  C('get', 'k', '--prefix', '--keys-only', '--limit', '1', '--sort-by', 'VALUE', '-w', 'json'),
  C('get', 'k', '--prefix', '--hex'),
  C('get', 'nokey'),
  C('get', ''),
  C('del', 'k3', '--prev-kv'),
  C('del', 'nokey'),
  C('put', 'k3', 'v3'),
  { args: ['txn'], stdin: TXN_OK },
  { args: ['txn', '-w', 'json'], stdin: TXN_FAIL },
  C('lease', 'grant', '100'),
  C('put', 'lk1', 'lv1', '--lease={L1}'),
  C('put', 'lk2', 'lv2', '--lease={L1}'),
  C('lease', 'timetolive', '{L1}'),
  C('lease', 'timetolive', '{L1}', '--keys'),
  C('lease', 'timetolive', '{L1}', '--keys', '-w', 'json'),
  C('lease', 'keep-alive', '--once', '{L1}'),
  C('lease', 'list'),
  C('put', 'lk1', 'lv1b', '--ignore-lease'),
  C('put', 'lk2', '--ignore-value'),
  C('get', 'lk', '--prefix', '-w', 'json'),
  C('put', 'lk3', 'x', '--ignore-value'),
  C('put', 'x', 'y', '--lease=1234abcd'),
  { args: ['watch', 'k', '--prefix', '--rev', '2'], watchIdleMs: 700 },
  { args: ['watch', 'k1', '--prev-kv', '--rev', '2', '-w', 'json'], watchIdleMs: 700 },
  C('lease', 'revoke', '{L1}'),
  C('get', 'lk', '--prefix'),
  C('lease', 'timetolive', '{L1}'),
  C('lease', 'revoke', '{L1}'),
  C('lease', 'keep-alive', '--once', '{L1}'),
  C('compaction', '5'),
  C('compaction', '5'),
  C('compaction', '1000'),
  C('get', 'k', '--prefix', '--rev', '3'),
  { args: ['watch', 'k', '--prefix', '--rev', '2'], watchIdleMs: 700 },
  C('endpoint', 'status'),
  C('endpoint', 'status', '-w', 'json'),
  C('endpoint', 'status', '-w', 'table'),
  C('endpoint', 'health'),
  C('endpoint', 'hashkv'),
  C('member', 'list'),
  C('member', 'list', '-w', 'json'),
  C('alarm', 'list'),
  C('defrag'),
  C('snapshot', 'save', '{DIR}/snap.db'),
  C('del', 'k', '--prefix', '--prev-kv'),
  C('del', '', '--from-key', '-w', 'json'),
  C('get', '', '--from-key'),
];

describeEtcd('etcdctl against metastore serve and against etcd', () => {
  let etcd: EtcdServer;
  let ours: ServeProcess;
  const targets: Target[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    etcd = await EtcdServer.start();
    const etcdArgs = fs.readFileSync(`/proc/${etcd.pid}/cmdline`, 'utf8').split('\0');
    const peer = etcdArgs[etcdArgs.indexOf('--listen-peer-urls') + 1]!;
    const d1 = tempDir('metastore-etcdctl-etcd-');
    const d2 = tempDir('metastore-etcdctl-ms-');
    dirs.push(d1, d2);
    const started = await ServeProcess.start(['--name', 's1', '--data-dir', path.join(d2, 'data'), '--listen-client-urls', 'http://127.0.0.1:0']);
    ours = started.proc;
    targets.push({ name: 'etcd', endpoint: etcd.endpoint, peerUrl: peer, dir: d1, leases: [] });
    targets.push({ name: 'metastore', endpoint: started.endpoint, peerUrl: 'http://localhost:2380', dir: d2, leases: [] });
  }, 60_000);

  afterAll(async () => {
    await ours?.kill();
    await etcd?.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it(`the same ${SESSION.length}-command session gives the same normalized output`, { timeout: 120_000 }, async () => {
    const rows: Array<{ cmd: string; etcd: Outcome; metastore: Outcome }> = [];
    for (const cmd of SESSION) {
      const [e, m] = [await run(targets[0]!, cmd), await run(targets[1]!, cmd)];
      rows.push({ cmd: cmd.args.join(' ') + (cmd.stdin ? ' <stdin>' : ''), etcd: normalize(targets[0]!, e), metastore: normalize(targets[1]!, m) });
    }
    const differing = rows.filter((r) => JSON.stringify(r.etcd) !== JSON.stringify(r.metastore));
    expect(differing, JSON.stringify(differing, null, 1)).toEqual([]);
    // The session must have exercised what it claims: errors came, watches replayed, leases mapped.
    const all = JSON.stringify(rows);
    for (const text of [
      'etcdserver: requested lease not found',
      'etcdserver: mvcc: required revision has been compacted',
      'etcdserver: mvcc: required revision is a future revision',
      'L1',
      'Snapshot saved at DIR/snap.db',
      'is healthy',
    ]) {
      expect(all, text).toContain(text);
    }
    for (const t of targets) expect(fs.statSync(path.join(t.dir, 'snap.db')).size % 512, `${t.name} snapshot length mod 512`).toBe(32);
  });
});
