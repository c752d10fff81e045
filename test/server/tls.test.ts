/**
 * TLS and client certificates (etcd's --cert-file, --key-file, --trusted-ca-file,
 * --client-cert-auth): a client with a certificate the trusted CA signed is served (gRPC from
 * Node, the etcd3 package, etcdctl, HTTPS /health); one without a certificate, or with one from
 * another CA, is refused at the handshake. Keys and certificates are made at test time with
 * `openssl` in a temporary directory and never committed.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetaStore } from '../../ts/index.js';
import { serve, type MetaStoreServer } from '../../ts/server/serve.js';
import { etcdRequired } from '../etcd/harness.js';
import { b, type CallError, RawClient, ServeProcess, tempDir } from './helpers.js';

let dir: string;
const f = (name: string): string => path.join(dir, name);
const read = (name: string): Buffer => fs.readFileSync(f(name));

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, and a certificate for `name` signed by it (EC P-256, valid one day). */
function makeCa(ca: string): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${ca}.key`,
    '-out',
    `${ca}.crt`,
    '-days',
    '1',
    '-subj',
    `/CN=${ca}`,
  );
}
function makeCert(name: string, ca: string, usage: 'serverAuth,clientAuth' | 'clientAuth'): void {
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${name}`,
  );
  fs.writeFileSync(f(`${name}.ext`), `subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=${usage}\n`);
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
  );
}

let store: MetaStore;
let server: MetaStoreServer;
let endpoint: string;

beforeAll(async () => {
  dir = tempDir('metastore-tls-');
  makeCa('ca');
  makeCa('other-ca');
  makeCert('server', 'ca', 'serverAuth,clientAuth');
  makeCert('client', 'ca', 'clientAuth');
  makeCert('stranger', 'other-ca', 'clientAuth');
  store = await MetaStore.open();
  server = await serve(store, {
    listen: 'https://127.0.0.1:0',
    tls: { cert: read('server.crt'), key: read('server.key'), ca: read('ca.crt'), clientCertAuth: true },
  });
  endpoint = server.address.replace('https://', '');
}, 60_000);

afterAll(async () => {
  await server?.close();
  await store?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const separate = { 'grpc.use_local_subchannel_pool': 1 };

describe('TLS with client certificates', () => {
  it('a client with a certificate from the trusted CA is served', async () => {
    const c = new RawClient(endpoint, grpc.credentials.createSsl(read('ca.crt'), read('client.key'), read('client.crt')), separate);
    try {
      await c.call('KV', 'Put', { key: b('tls/a'), value: b('1') });
      expect((await c.call('KV', 'Range', { key: b('tls/a') })).kvs[0].value.toString()).toBe('1');
    } finally {
      c.close();
    }
  });

  it('no client certificate, or one from another CA: refused (UNAVAILABLE), nothing served', async () => {
    for (const creds of [grpc.credentials.createSsl(read('ca.crt')), grpc.credentials.createSsl(read('ca.crt'), read('stranger.key'), read('stranger.crt'))]) {
      const c = new RawClient(endpoint, creds, separate);
      try {
        const e = await c.call('KV', 'Range', { key: b('tls/a') }, 3_000).then(
          () => undefined,
          (err: CallError) => err,
        );
        expect(e?.code).toBe(14);
      } finally {
        c.close();
      }
    }
    // Plain text on the TLS port: refused as well.
    const plain = new RawClient(endpoint, grpc.credentials.createInsecure(), separate);
    expect(
      await plain.call('KV', 'Range', { key: b('x') }, 3_000).then(
        () => 0,
        (err: CallError) => err.code,
      ),
    ).toBe(14);
    plain.close();
  });

  it('the etcd3 package with client certificates', async () => {
    const client = new Etcd3({
      hosts: server.address,
      credentials: { rootCertificate: read('ca.crt'), privateKey: read('client.key'), certChain: read('client.crt') },
    });
    try {
      await client.put('tls/etcd3').value('yes');
      expect(await client.get('tls/etcd3').string()).toBe('yes');
    } finally {
      client.close();
    }
  });

  it('HTTPS /health needs the client certificate too', async () => {
    const get = (withCert: boolean): Promise<number | string> =>
      new Promise((resolve) => {
        const req = https.get(
          `${server.address}/health`,
          { ca: read('ca.crt'), ...(withCert ? { key: read('client.key'), cert: read('client.crt') } : {}) },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', (e) => resolve(`error: ${e.message}`));
      });
    expect(await get(true)).toBe(200);
    expect(String(await get(false))).toMatch(/^error/);
  });

  // etcdctl comes with the etcd the CI installs (scripts/install-etcd.sh); elsewhere this one may be skipped.
  const etcdctlHere = spawnSync('etcdctl', ['version'], { encoding: 'utf8' }).status === 0;
  it.runIf(etcdctlHere || etcdRequired())(
    'metastore serve with --cert-file / --key-file / --trusted-ca-file / --client-cert-auth, and etcdctl',
    { timeout: 60_000 },
    async () => {
      const { proc, endpoint: ep } = await ServeProcess.start([
        '--listen-client-urls',
        'https://127.0.0.1:0',
        '--cert-file',
        f('server.crt'),
        '--key-file',
        f('server.key'),
        '--trusted-ca-file',
        f('ca.crt'),
        '--client-cert-auth',
      ]);
      try {
        const etcdctl = (...extra: string[]) =>
          spawnSync('etcdctl', [`--endpoints=https://${ep}`, '--dial-timeout=2s', '--command-timeout=3s', `--cacert=${f('ca.crt')}`, ...extra], {
            encoding: 'utf8',
            env: { ...process.env, ETCDCTL_API: '3' },
            timeout: 20_000,
          });
        const withCert = ['--cert', f('client.crt'), '--key', f('client.key')];
        expect(etcdctl(...withCert, 'put', 'tls/cli', 'ok').stdout).toBe('OK\n');
        expect(etcdctl(...withCert, 'get', 'tls/cli', '--print-value-only').stdout).toBe('ok\n');
        const refused = etcdctl('get', 'tls/cli');
        expect(refused.status).not.toBe(0);
        expect(refused.stdout).toBe('');
      } finally {
        await proc.kill();
      }
    },
  );
});
