/**
 * `metastore serve` on the command line: etcd's flags and defaults, the same settings from
 * ETCD_* / METASTORE_* environment variables, --help, the cluster flags refused, a durable
 * store with --data-dir, SIGTERM stops it cleanly. The process runs the built CLI (dist/).
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { FlagError, parseDuration, parseServeArgs } from '../../ts/server/flags.js';
import { b, CLI, RawClient, ServeProcess, tempDir } from './helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('flags', () => {
  it("etcd's defaults", () => {
    const c = parseServeArgs([], {});
    expect(c).toMatchObject({
      name: 'default',
      dataDir: undefined,
      listenClientUrls: ['http://localhost:2379'],
      advertiseClientUrls: ['http://localhost:2379'],
      listenMetricsUrls: [],
      autoCompaction: undefined,
      maxRequestBytes: 1572864,
      maxTxnOps: 128,
      watchProgressNotifyIntervalMs: 600_000,
      clientCertAuth: false,
      logLevel: 'info',
    });
  });

  it('--flag value, --flag=value, -flag, bare booleans, Go durations', () => {
    const c = parseServeArgs(
      [
        '--name',
        'n1',
        '-data-dir=/tmp/x',
        '--listen-client-urls=http://127.0.0.1:1,http://127.0.0.1:2',
        '--client-cert-auth',
        '--max-txn-ops',
        '64',
        '--experimental-watch-progress-notify-interval',
        '1m30s',
      ],
      {},
    );
    expect(c).toMatchObject({
      name: 'n1',
      dataDir: '/tmp/x',
      listenClientUrls: ['http://127.0.0.1:1', 'http://127.0.0.1:2'],
      clientCertAuth: true,
      maxTxnOps: 64,
      watchProgressNotifyIntervalMs: 90_000,
    });
    expect(parseServeArgs(['--client-cert-auth=false'], {}).clientCertAuth).toBe(false);
    expect([parseDuration('500ms'), parseDuration('2h'), parseDuration('1.5s')]).toEqual([500, 7_200_000, 1500]);
  });

  it('auto compaction: periodic durations (a bare number is hours), revision counts, 0 = off', () => {
    expect(parseServeArgs(['--auto-compaction-retention', '1'], {}).autoCompaction).toEqual({ mode: 'periodic', periodMs: 3_600_000 });
    expect(parseServeArgs(['--auto-compaction-retention=5m'], {}).autoCompaction).toEqual({ mode: 'periodic', periodMs: 300_000 });
    expect(parseServeArgs(['--auto-compaction-mode', 'revision', '--auto-compaction-retention', '1000'], {}).autoCompaction).toEqual({
      mode: 'revision',
      retention: 1000,
    });
    expect(parseServeArgs(['--auto-compaction-retention', '0'], {}).autoCompaction).toBeUndefined();
  });

  it('environment: ETCD_<FLAG> and METASTORE_<FLAG> (which wins); a flag wins over both, with a warning', () => {
    expect(parseServeArgs([], { ETCD_NAME: 'e', ETCD_MAX_REQUEST_BYTES: '100' })).toMatchObject({ name: 'e', maxRequestBytes: 100 });
    expect(parseServeArgs([], { ETCD_NAME: 'e', METASTORE_NAME: 'm' }).name).toBe('m');
    const c = parseServeArgs(['--name', 'f'], { ETCD_NAME: 'e' });
    expect(c.name).toBe('f');
    expect(c.warnings).toEqual(['environment variable ETCD_NAME is shadowed by the flag --name']);
    expect(parseServeArgs([], { ETCD_CLIENT_CERT_AUTH: 'true' }).clientCertAuth).toBe(true);
    expect(parseServeArgs([], { ETCD_QUOTA_BACKEND_BYTES: '1', ETCDCTL_API: '3' }).warnings).toEqual([
      'unrecognized environment variable ETCD_QUOTA_BACKEND_BYTES',
    ]);
  });

  it('bad input is a FlagError that names the flag', () => {
    const bad = (args: string[], env: NodeJS.ProcessEnv = {}) => {
      try {
        parseServeArgs(args, env);
      } catch (e) {
        expect(e).toBeInstanceOf(FlagError);
        return (e as Error).message;
      }
      throw new Error('expected a FlagError');
    };
    expect(bad(['--nope'])).toMatch(/flag provided but not defined: -nope/);
    expect(bad(['--name'])).toMatch(/flag needs an argument: -name/);
    expect(bad(['--max-request-bytes', 'lots'])).toMatch(/--max-request-bytes/);
    expect(bad(['--log-level', 'loud'])).toMatch(/--log-level/);
    expect(bad(['--experimental-watch-progress-notify-interval', '10 minutes'])).toMatch(/invalid duration/);
    expect(bad(['positional'])).toMatch(/unexpected argument/);
  });

  it('cluster flags are accepted and refused with a clear message (flags and environment)', () => {
    for (const flag of [
      '--initial-cluster=s1=http://127.0.0.1:2380',
      '--listen-peer-urls=http://127.0.0.1:2380',
      '--initial-advertise-peer-urls=http://x:2380',
      '--initial-cluster-state=new',
      '--initial-cluster-token=t',
    ]) {
      expect(() => parseServeArgs([flag], {})).toThrow(/clustering needs replication, which MetaStore does not have yet/);
    }
    expect(() => parseServeArgs([], { ETCD_INITIAL_CLUSTER_STATE: 'new' })).toThrow(/--initial-cluster-state/);
  });
});

describe('the command', () => {
  it('--help lists every flag and its environment variables; exit 0', () => {
    const r = spawnSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    for (const f of [
      '--name',
      '--data-dir',
      '--listen-client-urls',
      '--advertise-client-urls',
      '--auto-compaction-mode',
      '--auto-compaction-retention',
      '--max-request-bytes',
      '--max-txn-ops',
      '--experimental-watch-progress-notify-interval',
      '--cert-file',
      '--key-file',
      '--trusted-ca-file',
      '--client-cert-auth',
      '--listen-metrics-urls',
      '--log-level',
      '--initial-cluster',
      '--listen-peer-urls',
      '--initial-advertise-peer-urls',
      '--initial-cluster-state',
      '--initial-cluster-token',
      'ETCD_DATA_DIR',
      'METASTORE_DATA_DIR',
    ]) {
      expect(r.stdout, f).toContain(f);
    }
    const top = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    expect(top.stdout).toContain('metastore serve [flags]');
  });

  it('a cluster flag or an unknown flag: exit 1 with the reason', () => {
    const r = spawnSync(process.execPath, [CLI, 'serve', '--initial-cluster', 's1=http://127.0.0.1:2380'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--initial-cluster: clustering needs replication/);
    expect(spawnSync(process.execPath, [CLI, 'serve', '--no-such-flag'], { encoding: 'utf8' }).status).toBe(1);
  });

  it('serves a durable store from ETCD_ environment variables, warns without --data-dir, stops on SIGTERM, keeps the data', async () => {
    const dir = tempDir('metastore-serve-cli-');
    dirs.push(dir);
    const data = path.join(dir, 'data');
    const env = { ETCD_DATA_DIR: data, ETCD_NAME: 'envname', ETCD_LISTEN_CLIENT_URLS: 'http://127.0.0.1:0', ETCD_LISTEN_METRICS_URLS: 'http://127.0.0.1:0' };
    let { proc, endpoint } = await ServeProcess.start([], { env });
    let c = new RawClient(endpoint);
    try {
      await c.call('KV', 'Put', { key: b('cli/a'), value: b('1') });
      const m = await c.call('Cluster', 'MemberList', {});
      expect(m.members[0].name).toBe('envname');
      const st = await c.call('Maintenance', 'Status', {});
      expect(Number(st.dbSize)).toBeGreaterThan(0); // the durable store's files
      const ready = JSON.parse(proc.stderr.split('\n').find((l) => l.includes('ready to serve'))!);
      const metrics = await (await fetch(`${ready['metrics-addresses'][0]}/metrics`)).text();
      expect(metrics).toContain('etcd_debugging_mvcc_keys_total 1');
      expect(await proc.kill('SIGTERM')).toBe(0);
      expect(proc.stderr).toContain('"received a signal, stopping"');
    } finally {
      c.close();
      await proc.kill('SIGKILL');
    }
    ({ proc, endpoint } = await ServeProcess.start(['--data-dir', data, '--listen-client-urls', 'http://127.0.0.1:0']));
    c = new RawClient(endpoint);
    try {
      const r = await c.call('KV', 'Range', { key: b('cli/a') });
      expect(r.kvs[0].value.toString()).toBe('1');
    } finally {
      c.close();
      await proc.kill();
    }
    const mem = await ServeProcess.start(['--listen-client-urls', 'http://127.0.0.1:0']);
    try {
      expect(mem.proc.stderr).toMatch(/no --data-dir: serving an in-memory store/);
    } finally {
      await mem.proc.kill();
    }
  });
});
