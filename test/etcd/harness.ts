/**
 * A real etcd for the differential tests: starts Debian's etcd (3.4.23) on free loopback ports with a
 * throw-away data dir, waits until it answers a Range, talks to it through a small typed gRPC client
 * (@grpc/grpc-js + the protos bundled with the etcd3 package, loaded with numeric enums), and stops it
 * by PID. Nothing here listens on or connects to anything but 127.0.0.1.
 *
 * Enum gotcha (docs/etcd-semantics.md, appendix A): etcd3's protos rename enum values (`Equal`, `Descend`,
 * `Noput`...). The numbers are etcd's, so every enum below is passed and read as a NUMBER; never pass a
 * name, a loader built from these files would silently encode 0.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { describe, it } from 'vitest';

// ---------------------------------------------------------------------------------------------
// Finding the binary; gating the suites.

export interface EtcdInfo {
  readonly available: boolean;
  readonly binary: string;
  /** First line of `etcd --version`, e.g. "etcd Version: 3.4.23". */
  readonly version?: string;
  readonly reason?: string;
}

let cachedInfo: EtcdInfo | undefined;

/** Whether an etcd binary can run here (`ETCD_BIN` overrides the name looked up on PATH). */
export function etcdInfo(): EtcdInfo {
  if (cachedInfo) return cachedInfo;
  const binary = process.env.ETCD_BIN || 'etcd';
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit status ${String(r.status)}: ${r.stderr}`;
    cachedInfo = {
      available: false,
      binary,
      reason: `the etcd binary (${binary}) cannot run (${why.trim()}); install it with \`bash scripts/install-etcd.sh\` (Debian etcd-server 3.4.23)`,
    };
  } else {
    cachedInfo = { available: true, binary, version: r.stdout.split('\n')[0]?.trim() };
  }
  return cachedInfo;
}

/** True on CI (CI=true/1) or when ETCD_REQUIRED=1: a missing etcd must fail the suite there. */
export function etcdRequired(): boolean {
  const ci = (process.env.CI ?? '').toLowerCase();
  return (ci !== '' && ci !== '0' && ci !== 'false') || process.env.ETCD_REQUIRED === '1';
}

/**
 * `describe` for suites that need a real etcd. Without the binary: in CI the suite has one failing
 * test that says why; locally it is skipped and the reason is printed. It never passes silently.
 */
export function describeEtcd(name: string, body: () => void): void {
  const info = etcdInfo();
  if (info.available) {
    describe(name, body);
    return;
  }
  if (etcdRequired()) {
    describe(name, () => {
      it('needs the etcd binary (CI)', () => {
        throw new Error(`etcd tests cannot run in CI: ${info.reason}`);
      });
    });
    return;
  }
  console.warn(`[etcd] SKIPPING "${name}": ${info.reason}`);
  describe.skip(`${name} (skipped: ${info.reason})`, body);
}

// ---------------------------------------------------------------------------------------------
// Protos and the gRPC client.

const requireHere = createRequire(import.meta.url);

function protoDir(): string {
  const pkg = requireHere.resolve('etcd3/package.json');
  return path.join(path.dirname(pkg), 'proto');
}

/** int64 fields travel as decimal strings (`longs: String`); requests accept numbers or strings. */
export type Int64 = string;
type Int64In = number | string;

export interface PbHeader {
  cluster_id: Int64;
  member_id: Int64;
  revision: Int64;
  raft_term: Int64;
}

export interface PbKeyValue {
  key: Buffer;
  create_revision: Int64;
  mod_revision: Int64;
  version: Int64;
  value: Buffer;
  lease: Int64;
}

export interface PbRangeRequest {
  key: Uint8Array;
  range_end?: Uint8Array;
  limit?: Int64In;
  revision?: Int64In;
  /** 0 NONE, 1 ASCEND, 2 DESCEND. */
  sort_order?: number;
  /** 0 KEY, 1 VERSION, 2 CREATE, 3 MOD, 4 VALUE. */
  sort_target?: number;
  serializable?: boolean;
  keys_only?: boolean;
  count_only?: boolean;
  min_mod_revision?: Int64In;
  max_mod_revision?: Int64In;
  min_create_revision?: Int64In;
  max_create_revision?: Int64In;
}
export interface PbRangeResponse {
  header: PbHeader | null;
  kvs: PbKeyValue[];
  more: boolean;
  count: Int64;
}

export interface PbPutRequest {
  key: Uint8Array;
  value?: Uint8Array;
  lease?: Int64In;
  prev_kv?: boolean;
  ignore_value?: boolean;
  ignore_lease?: boolean;
}
export interface PbPutResponse {
  header: PbHeader | null;
  prev_kv: PbKeyValue | null;
}

export interface PbDeleteRangeRequest {
  key: Uint8Array;
  range_end?: Uint8Array;
  prev_kv?: boolean;
}
export interface PbDeleteRangeResponse {
  header: PbHeader | null;
  deleted: Int64;
  prev_kvs: PbKeyValue[];
}

/** A compare; set at most one of the `target_union` fields (none = compare against 0 / empty). */
export interface PbCompare {
  /** 0 EQUAL, 1 GREATER, 2 LESS, 3 NOT_EQUAL. */
  result: number;
  /** 0 VERSION, 1 CREATE, 2 MOD, 3 VALUE, 4 LEASE. */
  target: number;
  key: Uint8Array;
  range_end?: Uint8Array;
  version?: Int64In;
  create_revision?: Int64In;
  mod_revision?: Int64In;
  value?: Uint8Array;
  lease?: Int64In;
}

/** One op of a txn branch; `{}` is the empty RequestOp. */
export interface PbRequestOp {
  request_range?: PbRangeRequest;
  request_put?: PbPutRequest;
  request_delete_range?: PbDeleteRangeRequest;
  request_txn?: PbTxnRequest;
}
export interface PbTxnRequest {
  compare?: PbCompare[];
  success?: PbRequestOp[];
  failure?: PbRequestOp[];
}
export interface PbResponseOp {
  /** The oneof's present field name (`oneofs: true`). */
  response?: 'response_range' | 'response_put' | 'response_delete_range' | 'response_txn';
  response_range?: PbRangeResponse;
  response_put?: PbPutResponse;
  response_delete_range?: PbDeleteRangeResponse;
  response_txn?: PbTxnResponse;
}
export interface PbTxnResponse {
  header: PbHeader | null;
  succeeded: boolean;
  responses: PbResponseOp[];
}

export interface PbCompactionResponse {
  header: PbHeader | null;
}

export interface PbLeaseGrantResponse {
  header: PbHeader | null;
  ID: Int64;
  TTL: Int64;
  error: string;
}
export interface PbLeaseRevokeResponse {
  header: PbHeader | null;
}
export interface PbLeaseTimeToLiveResponse {
  header: PbHeader | null;
  ID: Int64;
  TTL: Int64;
  grantedTTL: Int64;
  keys: Buffer[];
}
export interface PbLeaseLeasesResponse {
  header: PbHeader | null;
  leases: Array<{ ID: Int64 }>;
}
export interface PbLeaseKeepAliveResponse {
  header: PbHeader | null;
  ID: Int64;
  TTL: Int64;
}

export interface PbWatchCreateRequest {
  key: Uint8Array;
  range_end?: Uint8Array;
  start_revision?: Int64In;
  progress_notify?: boolean;
  /** 0 NOPUT, 1 NODELETE. */
  filters?: number[];
  prev_kv?: boolean;
  watch_id?: Int64In;
  fragment?: boolean;
}
export interface PbEvent {
  /** 0 PUT, 1 DELETE. */
  type: number;
  kv: PbKeyValue | null;
  prev_kv: PbKeyValue | null;
}
export interface PbWatchResponse {
  header: PbHeader | null;
  watch_id: Int64;
  created: boolean;
  canceled: boolean;
  compact_revision: Int64;
  cancel_reason: string;
  fragment: boolean;
  events: PbEvent[];
}

/** A failed etcd call: the gRPC status code and etcd's message ("etcdserver: ..."). */
export class EtcdError extends Error {
  constructor(
    readonly grpcCode: number,
    readonly details: string,
  ) {
    super(`etcd error ${grpcCode}: ${details}`);
    this.name = 'EtcdError';
  }
}

type Callback = (err: grpc.ServiceError | null, res?: unknown) => void;
type UnaryFn = (req: unknown, options: grpc.CallOptions, cb: Callback) => grpc.ClientUnaryCall;

interface ServiceCtor {
  new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions): grpc.Client;
}

let services: { KV: ServiceCtor; Lease: ServiceCtor; Watch: ServiceCtor } | undefined;

function loadServices(): { KV: ServiceCtor; Lease: ServiceCtor; Watch: ServiceCtor } {
  if (services) return services;
  const dir = protoDir();
  const def = protoLoader.loadSync(path.join(dir, 'rpc.proto'), {
    keepCase: true,
    longs: String,
    enums: Number,
    defaults: true,
    oneofs: true,
    includeDirs: [dir],
  });
  const root = grpc.loadPackageDefinition(def) as unknown as { etcdserverpb: Record<string, ServiceCtor> };
  const pb = root.etcdserverpb;
  services = { KV: pb.KV!, Lease: pb.Lease!, Watch: pb.Watch! };
  return services;
}

/** Every unary call gets this deadline unless told otherwise. */
export const CALL_TIMEOUT_MS = 10_000;

/** The calls the tests make, typed. Close it when done (the server's stop does). */
export class EtcdClient {
  private readonly kv: grpc.Client;
  private readonly lease: grpc.Client;
  private readonly watchSvc: grpc.Client;
  private readonly streams = new Set<WatchStream>();

  constructor(readonly endpoint: string) {
    const s = loadServices();
    const creds = grpc.credentials.createInsecure();
    const opts: grpc.ChannelOptions = { 'grpc.max_receive_message_length': 64 * 1024 * 1024 };
    this.kv = new s.KV(endpoint, creds, opts);
    this.lease = new s.Lease(endpoint, creds, opts);
    this.watchSvc = new s.Watch(endpoint, creds, opts);
  }

  private unary<Res>(client: grpc.Client, method: string, req: unknown, timeoutMs = CALL_TIMEOUT_MS): Promise<Res> {
    const fn = (client as unknown as Record<string, UnaryFn>)[method];
    if (typeof fn !== 'function') throw new Error(`no gRPC method ${method}`);
    return new Promise<Res>((resolve, reject) => {
      fn.call(client, req, { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(new EtcdError(err.code, err.details || err.message));
        else resolve(res as Res);
      });
    });
  }

  range(req: PbRangeRequest, timeoutMs?: number): Promise<PbRangeResponse> {
    return this.unary(this.kv, 'Range', req, timeoutMs);
  }
  put(req: PbPutRequest): Promise<PbPutResponse> {
    return this.unary(this.kv, 'Put', req);
  }
  deleteRange(req: PbDeleteRangeRequest): Promise<PbDeleteRangeResponse> {
    return this.unary(this.kv, 'DeleteRange', req);
  }
  txn(req: PbTxnRequest): Promise<PbTxnResponse> {
    return this.unary(this.kv, 'Txn', req);
  }
  compact(revision: Int64In, physical = false): Promise<PbCompactionResponse> {
    return this.unary(this.kv, 'Compact', { revision, physical });
  }
  leaseGrant(ttl: Int64In, id: Int64In = 0): Promise<PbLeaseGrantResponse> {
    return this.unary(this.lease, 'LeaseGrant', { TTL: ttl, ID: id });
  }
  leaseRevoke(id: Int64In): Promise<PbLeaseRevokeResponse> {
    return this.unary(this.lease, 'LeaseRevoke', { ID: id });
  }
  leaseTimeToLive(id: Int64In, keys = false): Promise<PbLeaseTimeToLiveResponse> {
    return this.unary(this.lease, 'LeaseTimeToLive', { ID: id, keys });
  }
  leaseLeases(): Promise<PbLeaseLeasesResponse> {
    return this.unary(this.lease, 'LeaseLeases', {});
  }

  /** One KeepAlive round trip on a fresh bidi stream. */
  leaseKeepAliveOnce(id: Int64In, timeoutMs = CALL_TIMEOUT_MS): Promise<PbLeaseKeepAliveResponse> {
    const fn = (this.lease as unknown as Record<string, (o: grpc.CallOptions) => grpc.ClientDuplexStream<unknown, unknown>>).LeaseKeepAlive!;
    const call = fn.call(this.lease, { deadline: Date.now() + timeoutMs });
    return new Promise((resolve, reject) => {
      call.once('data', (res: unknown) => {
        resolve(res as PbLeaseKeepAliveResponse);
        call.cancel();
      });
      call.once('error', (err: grpc.ServiceError) => {
        if (err.code !== grpc.status.CANCELLED) reject(new EtcdError(err.code, err.details || err.message));
      });
      call.write({ ID: id });
    });
  }

  /** A new Watch stream (one gRPC bidi call); close it when done. */
  watch(): WatchStream {
    const fn = (this.watchSvc as unknown as Record<string, (o: grpc.CallOptions) => grpc.ClientDuplexStream<unknown, unknown>>).Watch!;
    const ws = new WatchStream(fn.call(this.watchSvc, {}), () => this.streams.delete(ws));
    this.streams.add(ws);
    return ws;
  }

  close(): void {
    for (const ws of [...this.streams]) ws.close();
    this.kv.close();
    this.lease.close();
    this.watchSvc.close();
  }
}

/** A Watch stream with a queue of responses and a bounded `next`. */
export class WatchStream {
  private readonly queue: PbWatchResponse[] = [];
  private waiter: ((r: PbWatchResponse | undefined) => void) | undefined;
  private failure: Error | undefined;
  private closed = false;

  constructor(
    private readonly call: grpc.ClientDuplexStream<unknown, unknown>,
    private readonly onClose: () => void,
  ) {
    call.on('data', (r: unknown) => {
      const res = r as PbWatchResponse;
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(res);
      } else this.queue.push(res);
    });
    call.on('error', (err: grpc.ServiceError) => {
      if (!this.closed) this.failure = new EtcdError(err.code, err.details || err.message);
      this.waiter?.(undefined);
    });
  }

  create(req: PbWatchCreateRequest): void {
    this.call.write({ create_request: req });
  }
  cancel(watchId: Int64In): void {
    this.call.write({ cancel_request: { watch_id: watchId } });
  }
  progress(): void {
    this.call.write({ progress_request: {} });
  }

  /** The next response, or undefined when none came within `timeoutMs`. */
  next(timeoutMs: number): Promise<PbWatchResponse | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.waiter = (r) => {
        clearTimeout(timer);
        if (r === undefined && this.failure) reject(this.failure);
        else resolve(r);
      };
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.call.cancel();
    this.onClose();
  }
}

// ---------------------------------------------------------------------------------------------
// The etcd process.

/** PIDs of servers this process started and has not stopped yet (killed by PID on exit). */
const livePids = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of livePids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** A free TCP port on 127.0.0.1 (bind port 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

function tempRoot(): string {
  // tmpfs keeps etcd's fsyncs cheap; fall back to the OS temp dir.
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    return '/dev/shm';
  } catch {
    return os.tmpdir();
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface EtcdServerOptions {
  /** Extra command-line flags (e.g. `--max-request-bytes=...`). */
  extraArgs?: string[];
  /** How long to wait for the first successful Range. Default 20 s. */
  readyTimeoutMs?: number;
}

/** A running single-member etcd. {@link EtcdServer.stop} it in a `finally`. */
export class EtcdServer {
  private exited = false;
  private exitWait: Promise<void>;
  /** Store revision of the fresh server (1): responses' revisions are taken as offsets from it. */
  freshRevision = 0;

  private constructor(
    readonly child: ChildProcess,
    readonly pid: number,
    readonly dataRoot: string,
    readonly endpoint: string,
    readonly client: EtcdClient,
  ) {
    this.exitWait = new Promise((resolve) => {
      child.once('exit', () => {
        this.exited = true;
        livePids.delete(pid);
        resolve();
      });
    });
  }

  /** Starts etcd and waits until it serves a Range (retries on a port race). */
  static async start(options: EtcdServerOptions = {}): Promise<EtcdServer> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await EtcdServer.startOnce(options);
      } catch (e) {
        lastError = e;
      }
    }
    throw lastError;
  }

  private static async startOnce(options: EtcdServerOptions): Promise<EtcdServer> {
    const info = etcdInfo();
    if (!info.available) throw new Error(info.reason);
    installExitHook();
    const clientPort = await freePort();
    let peerPort = await freePort();
    while (peerPort === clientPort) peerPort = await freePort();
    const dataRoot = fs.mkdtempSync(path.join(tempRoot(), 'metastore-etcd-'));
    const clientUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const args = [
      '--name',
      's1',
      '--data-dir',
      path.join(dataRoot, 'data'),
      '--listen-client-urls',
      clientUrl,
      '--advertise-client-urls',
      clientUrl,
      '--listen-peer-urls',
      peerUrl,
      '--initial-advertise-peer-urls',
      peerUrl,
      '--initial-cluster',
      `s1=${peerUrl}`,
      '--initial-cluster-state',
      'new',
      ...(options.extraArgs ?? []),
    ];
    const logFd = fs.openSync(path.join(dataRoot, 'etcd.log'), 'w');
    let child: ChildProcess;
    try {
      child = spawn(info.binary, args, { stdio: ['ignore', logFd, logFd] });
    } finally {
      fs.closeSync(logFd);
    }
    if (child.pid === undefined) {
      fs.rmSync(dataRoot, { recursive: true, force: true });
      throw new Error(`could not spawn ${info.binary}`);
    }
    livePids.add(child.pid);
    const endpoint = `127.0.0.1:${clientPort}`;
    const server = new EtcdServer(child, child.pid, dataRoot, endpoint, new EtcdClient(endpoint));
    try {
      await server.waitReady(options.readyTimeoutMs ?? 20_000);
    } catch (e) {
      const log = server.logTail();
      await server.stop();
      throw new Error(`etcd did not become ready: ${(e as Error).message}\n--- etcd log tail ---\n${log}`);
    }
    return server;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    // First wait for the port to accept connections (gRPC's reconnect backoff would add ~1 s)...
    const [host, port] = this.endpoint.split(':') as [string, string];
    while (Date.now() < deadline && !(await canConnect(host, Number(port)))) {
      if (this.exited) throw new Error(`etcd exited during startup (exit code ${String(this.child.exitCode)})`);
      await sleep(20);
    }
    // ...then until it serves a Range (it has a leader and applied its first entries).
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`etcd exited during startup (exit code ${String(this.child.exitCode)})`);
      try {
        const r = await this.client.range({ key: Buffer.from([0]), range_end: Buffer.from([0]), count_only: true }, 1_000);
        this.freshRevision = Number(r.header?.revision ?? 0);
        return;
      } catch (e) {
        last = e;
      }
      await sleep(50);
    }
    throw new Error(`no answer within ${timeoutMs} ms (${String(last)})`);
  }

  /** The last lines of etcd's log (for failure messages). */
  logTail(lines = 30): string {
    try {
      return fs.readFileSync(path.join(this.dataRoot, 'etcd.log'), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Closes the client, stops the process by PID (TERM, then KILL after 5 s) and removes the data dir. */
  async stop(): Promise<void> {
    this.client.close();
    if (!this.exited) {
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const done = await Promise.race([this.exitWait.then(() => true), sleep(5_000).then(() => false)]);
      if (!done) {
        try {
          process.kill(this.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        await Promise.race([this.exitWait, sleep(5_000)]);
      }
    }
    fs.rmSync(this.dataRoot, { recursive: true, force: true });
  }
}

/**
 * Hands out fresh servers one at a time while the next `depth` start in the background (a fresh store
 * per golden case or fuzz seed, without paying each startup in sequence). {@link EtcdPool.close} stops
 * the ones not handed out.
 */
export class EtcdPool {
  private readonly starting: Array<Promise<EtcdServer>> = [];

  constructor(
    private readonly depth = 2,
    private readonly options: EtcdServerOptions = {},
  ) {}

  private fill(): void {
    while (this.starting.length < this.depth) {
      const p = EtcdServer.start(this.options);
      p.catch(() => undefined); // surfaced by acquire
      this.starting.push(p);
    }
  }

  /** A fresh server; the caller stops it. */
  async acquire(): Promise<EtcdServer> {
    this.fill();
    const next = this.starting.shift()!;
    this.fill();
    return next;
  }

  /** Runs `fn` on a fresh server and stops it afterwards, whatever happens. */
  async with<T>(fn: (server: EtcdServer) => Promise<T>): Promise<T> {
    const server = await this.acquire();
    try {
      return await fn(server);
    } finally {
      await server.stop();
    }
  }

  async close(): Promise<void> {
    const pending = this.starting.splice(0);
    for (const p of pending) {
      try {
        await (await p).stop();
      } catch {
        // a failed start left nothing running
      }
    }
  }
}
