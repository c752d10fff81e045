/**
 * `serve(store, options)`: an etcd v3 API server (gRPC, etcd's rpc.proto) over a MetaStore, and
 * its lifecycle.
 *
 * Each listen URL gets a TCP (http://) or TLS (https://) listener of our own. A connection that
 * speaks HTTP/2 (its preface, or ALPN "h2" under TLS) is handed to the gRPC server (grpc-js'
 * connection injector); one that speaks HTTP/1.x gets `/health`, `/metrics` and `/version`,
 * as etcd serves both on its client URLs. Owning the sockets gives the server its bounds: a
 * connection count, streams per connection, session memory, a deadline for the first bytes.
 *
 * Loaded only when used: the package entry's `serve` imports this module dynamically, so
 * importing @metastore/core does not load gRPC.
 */

import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { MetaStore, MetaStoreError } from '../index.js';
import { authService } from './auth.js';
import { clusterService } from './cluster.js';
import { REQUEST_BYTES, type LogLevel, type ServerContext, type ServerLimits, type ServerLogger } from './context.js';
import { Headers, identityOf, type MemberIdentity } from './header.js';
import { healthService, httpHandler, ServerMetrics } from './health-metrics.js';
import { kvService } from './kv.js';
import { leaseService } from './lease.js';
import { maintenanceService } from './maintenance.js';
import { services } from './protos.js';
import { watchService } from './watch.js';

/** The etcd version this server's API corresponds to (Status, /version). */
export const ETCD_API_VERSION = '3.5.0';

/** etcd's default --max-request-bytes: 1.5 MiB. */
export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

/** TLS for `https://` listen URLs (etcd's --cert-file, --key-file, --trusted-ca-file, --client-cert-auth). */
export interface ServeTlsOptions {
  /** The server certificate chain, PEM. */
  cert: string | Uint8Array;
  /** The server's private key, PEM. */
  key: string | Uint8Array;
  /** CA certificates that sign client certificates, PEM (etcd's --trusted-ca-file). */
  ca?: string | Uint8Array;
  /** Refuse clients without a certificate signed by `ca` (etcd's --client-cert-auth). */
  clientCertAuth?: boolean;
}

/** Options of {@link serve}. Every one has a default. */
export interface ServeOptions {
  /**
   * Where to listen for clients: `http://host:port` (plain) or `https://host:port` (TLS, needs
   * `tls`), one URL or several (etcd's --listen-client-urls). Port 0 picks a free port.
   * Default `http://localhost:2379` (localhost binds 127.0.0.1).
   */
  listen?: string | readonly string[];
  /** The client URLs this member reports (etcd's --advertise-client-urls). Default: the listen URLs as bound. */
  advertise?: string | readonly string[];
  /** Extra plain-HTTP URLs serving only `/metrics`, `/health` and `/version` (etcd's --listen-metrics-urls). */
  metricsListen?: string | readonly string[];
  /** Member name (etcd's --name). Default `'default'`. */
  name?: string;
  /** TLS for `https://` URLs. */
  tls?: ServeTlsOptions;
  /** A write request larger than this is refused with "request is too large" (etcd's --max-request-bytes). Default 1.5 MiB. */
  maxRequestBytes?: number;
  /** Most ops per transaction branch for the Txn checks made in etcd's order (etcd's --max-txn-ops; the store's own `maxTxnOps` also applies). Default 128. */
  maxTxnOps?: number;
  /** Period of progress notifications for watches that ask for them, ms (etcd's --experimental-watch-progress-notify-interval). Default 10 minutes. */
  watchProgressNotifyIntervalMs?: number;
  /** Bytes a watch stream may hold written but unsent before its watches pause (they resume from history, no gap). Default 4 MiB. */
  watchStreamBufferBytes?: number;
  /** Most watches on one Watch stream (more are refused as created + canceled, "etcdserver: too many requests"). Default 10,000. */
  maxWatchersPerStream?: number;
  /** Most watches on the whole server (likewise). Default 100,000. */
  maxWatchers?: number;
  /**
   * Most streaming calls (watch, lease keep-alive, snapshot) open on one connection; more end at
   * once with RESOURCE_EXHAUSTED "etcdserver: too many requests". Unary calls keep 128 more HTTP/2
   * streams. Default 1000.
   */
  maxStreamsPerConnection?: number;
  /** Most client connections open at once (more are closed at accept). Default 4096. */
  maxConnections?: number;
  /** The durable store's directory: its size on disk is reported as the db size (Status, metrics). */
  dataDir?: string;
  /** The cluster token the member and cluster IDs are derived from (etcd's --initial-cluster-token). Default `'etcd-cluster'`. */
  clusterToken?: string;
  /** The peer URLs the member ID is derived from (etcd's --initial-advertise-peer-urls). Default `http://localhost:2380`. */
  peerURLs?: readonly string[];
  /** Where log lines go (default: nowhere). */
  logger?: ServerLogger;
}

/** A running server. */
export interface MetaStoreServer extends AsyncDisposable {
  /** The first client URL as bound (e.g. `http://127.0.0.1:2379`). */
  readonly address: string;
  /** Every client URL as bound. */
  readonly addresses: readonly string[];
  /** The metrics URLs as bound. */
  readonly metricsAddresses: readonly string[];
  /** This member: ID, cluster ID, name, URLs (IDs as decimal strings). */
  readonly member: MemberIdentity;
  /**
   * Stops the server: listeners close, open streams end with "etcdserver: server stopped",
   * calls in flight get a moment to finish, then every connection is closed. The store stays
   * open (it is the caller's). Idempotent.
   */
  close(): Promise<void>;
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');
const FIRST_BYTES_TIMEOUT_MS = 10_000;
const SHUTDOWN_GRACE_MS = 2_000;

interface ListenTarget {
  url: URL;
  secure: boolean;
  host: string;
  port: number;
}

function list(v: string | readonly string[] | undefined): string[] {
  if (v === undefined) return [];
  return typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : [...v];
}

function invalid(message: string): MetaStoreError {
  return new MetaStoreError('ERR_INVALID_OPTION', message);
}

function parseListen(raw: string, what: string, allowTls: boolean): ListenTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(`${what}: ${JSON.stringify(raw)} is not a URL (expected http://host:port${allowTls ? ' or https://host:port' : ''})`);
  }
  const secure = url.protocol === 'https:';
  if (url.protocol !== 'http:' && !(secure && allowTls)) {
    throw invalid(`${what}: ${raw}: the scheme must be http${allowTls ? ' or https' : ''} (unix sockets are not supported)`);
  }
  if (url.port === '' && !/:\d+\/?$/.test(raw)) throw invalid(`${what}: ${raw} has no port`);
  let host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost') host = '127.0.0.1';
  return { url, secure, host, port: url.port === '' ? 80 : Number(url.port) };
}

function positive(name: string, v: number | undefined, def: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) throw invalid(`${name} must be an integer from 1 to ${max}, got ${String(v)}`);
  return v;
}

function urlOf(t: ListenTarget, port: number): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.secure ? 'https' : 'http'}://${host}:${port}`;
}

/** Listens on `t` with `server`; resolves with the bound URL. */
function listenOn(server: NetServer, t: ListenTarget): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(new MetaStoreError('ERR_INVALID_OPTION', `cannot listen on ${t.url.href}: ${e.message}`, { cause: e }));
    server.once('error', onError);
    server.listen(t.port, t.host, () => {
      server.off('error', onError);
      resolve(urlOf(t, (server.address() as AddressInfo).port));
    });
  });
}

function closeServer(server: NetServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Serves `store` over etcd's v3 gRPC API until `close()`. Resolves once every listener is bound.
 * Throws ERR_INVALID_OPTION for a bad option or a URL it cannot listen on.
 */
export async function serve(store: MetaStore, options: ServeOptions = {}): Promise<MetaStoreServer> {
  if (!(store instanceof MetaStore)) throw invalid('serve(store, options): store must be an open MetaStore');
  store.revision; // throws ERR_CLOSED for a closed store
  const listen = list(options.listen ?? 'http://localhost:2379').map((u) => parseListen(u, 'listen', true));
  if (listen.length === 0) throw invalid('listen: give at least one URL');
  const metricsListen = list(options.metricsListen).map((u) => parseListen(u, 'metricsListen', false));
  const tls = options.tls;
  if (listen.some((t) => t.secure) && (tls === undefined || tls.cert === undefined || tls.key === undefined)) {
    throw invalid('an https:// listen URL needs tls.cert and tls.key (--cert-file, --key-file)');
  }
  if (tls?.clientCertAuth && tls.ca === undefined) throw invalid('tls.clientCertAuth needs tls.ca (--trusted-ca-file)');
  const maxRequestBytes = positive('maxRequestBytes', options.maxRequestBytes, DEFAULT_MAX_REQUEST_BYTES, 2 ** 31 - 1 - 512 * 1024);
  const limits: ServerLimits = {
    maxRequestBytes,
    maxTxnOps: positive('maxTxnOps', options.maxTxnOps, 128),
    watchProgressNotifyIntervalMs: positive('watchProgressNotifyIntervalMs', options.watchProgressNotifyIntervalMs, 10 * 60 * 1000, 2 ** 31 - 1),
    watchStreamBufferBytes: positive('watchStreamBufferBytes', options.watchStreamBufferBytes, 4 * 1024 * 1024),
    maxWatchersPerStream: positive('maxWatchersPerStream', options.maxWatchersPerStream, 10_000),
    maxWatchers: positive('maxWatchers', options.maxWatchers, 100_000),
    maxStreamsPerConnection: positive('maxStreamsPerConnection', options.maxStreamsPerConnection, 1000, 2 ** 30),
  };
  const maxConnections = positive('maxConnections', options.maxConnections, 4096);
  const log: ServerLogger = options.logger ?? (() => undefined);

  // Listeners first (their ports are part of the identity when advertise is not given).
  const sockets = new Set<Socket>();
  let ctx: ServerContext | undefined;
  const metrics = new ServerMetrics(() => ctx);
  const grpcServer = new grpc.Server({
    'grpc.max_receive_message_length': maxRequestBytes + 512 * 1024,
    'grpc.max_send_message_length': -1,
    'grpc.max_concurrent_streams': limits.maxStreamsPerConnection + 128,
    'grpc-node.max_session_memory': 64,
    'grpc.keepalive_time_ms': 2 * 60 * 60 * 1000,
    'grpc.keepalive_timeout_ms': 20_000,
  });
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const http = createHttpServer(httpHandler(() => ctx!, metrics));
  http.on('clientError', (_e, socket) => socket.destroy());

  const track = (socket: Socket): boolean => {
    if (sockets.size >= maxConnections) {
      socket.destroy();
      return false;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined); // a reset connection is no server error
    return true;
  };
  /** Hands the connection to gRPC (HTTP/2 preface) or to the HTTP/1 endpoints, by its first bytes. */
  const sniff = (socket: Socket): void => {
    const timer = setTimeout(() => socket.destroy(), FIRST_BYTES_TIMEOUT_MS);
    timer.unref();
    let seen = Buffer.alloc(0);
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const h2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (h2 && seen.length < PREFACE.length) return; // wait for the rest of the preface
      socket.off('readable', onReadable);
      clearTimeout(timer);
      socket.unshift(seen);
      if (h2) injector.injectConnection(socket);
      else http.emit('connection', socket);
    };
    socket.on('readable', onReadable);
  };

  const listeners: NetServer[] = [];
  const addresses: string[] = [];
  const metricsAddresses: string[] = [];
  const metricsServers: HttpServer[] = [];
  const toBytes = (v: string | Uint8Array | undefined): string | Buffer | undefined =>
    v === undefined ? undefined : typeof v === 'string' ? v : Buffer.from(v);
  try {
    for (const t of listen) {
      let server: NetServer;
      if (t.secure) {
        const clientAuth = tls!.clientCertAuth === true;
        server = createTlsServer(
          {
            cert: toBytes(tls!.cert),
            key: toBytes(tls!.key),
            ca: toBytes(tls!.ca),
            requestCert: clientAuth,
            rejectUnauthorized: clientAuth,
            ALPNProtocols: ['h2', 'http/1.1'],
          },
          (socket: TLSSocket) => {
            if (socket.alpnProtocol === 'h2') injector.injectConnection(socket);
            else if (socket.alpnProtocol === 'http/1.1') http.emit('connection', socket);
            else sniff(socket);
          },
        );
        server.on('connection', (socket: Socket) => {
          track(socket);
        });
        server.on('tlsClientError', (e: Error) => log('warn', 'rejected a TLS connection', { error: e.message }));
      } else {
        server = createNetServer((socket) => {
          if (track(socket)) sniff(socket);
        });
      }
      listeners.push(server);
      addresses.push(await listenOn(server, t));
    }
    for (const t of metricsListen) {
      const m = createHttpServer(httpHandler(() => ctx!, metrics));
      m.on('connection', (socket: Socket) => {
        track(socket);
      });
      metricsServers.push(m);
      metricsAddresses.push(await listenOn(m, t));
    }
  } catch (e) {
    for (const s of [...listeners, ...metricsServers]) s.close();
    throw e;
  }

  const member = identityOf({
    name: options.name ?? 'default',
    peerURLs: options.peerURLs ?? ['http://localhost:2380'],
    clientURLs: options.advertise === undefined ? addresses : list(options.advertise),
    clusterToken: options.clusterToken ?? 'etcd-cluster',
  });
  ctx = {
    store,
    headers: new Headers(member),
    limits,
    metrics,
    log,
    version: ETCD_API_VERSION,
    dataDir: options.dataDir,
    closing: false,
    streams: new Set(),
    streamsByPeer: new Map(),
    openWatchers: 0,
  };
  metrics.setVersion(ETCD_API_VERSION);

  // Services, with (de)serializers that count bytes and mark each request with its size.
  const defs = services();
  const c = ctx;
  for (const def of Object.values(defs)) {
    for (const method of Object.values(def) as Array<grpc.MethodDefinition<unknown, unknown>>) {
      const deserialize = method.requestDeserialize;
      const serialize = method.responseSerialize;
      (method as { requestDeserialize: (b: Buffer) => unknown }).requestDeserialize = (bytes: Buffer) => {
        metrics.received(bytes.length);
        const req = deserialize(bytes) as Record<symbol, unknown>;
        req[REQUEST_BYTES] = bytes.length;
        return req;
      };
      (method as { responseSerialize: (v: unknown) => Buffer }).responseSerialize = (value: unknown) => {
        const bytes = serialize(value);
        metrics.sent(bytes.length);
        return bytes;
      };
    }
  }
  grpcServer.addService(defs.KV, kvService(c));
  grpcServer.addService(defs.Watch, watchService(c));
  grpcServer.addService(defs.Lease, leaseService(c));
  grpcServer.addService(defs.Cluster, clusterService(c));
  grpcServer.addService(defs.Maintenance, maintenanceService(c));
  grpcServer.addService(defs.Auth, authService(c));
  grpcServer.addService(defs.Health, healthService(c));
  log('info', 'serving client requests', { addresses, member: member.memberId, cluster: member.clusterId });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      c.closing = true;
      const stopped = Promise.all([...listeners, ...metricsServers].map(closeServer));
      for (const s of [...c.streams]) s.close();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          grpcServer.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        grpcServer.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      injector.destroy();
      for (const s of sockets) s.destroy();
      http.closeAllConnections();
      for (const m of metricsServers) m.closeAllConnections();
      await stopped;
      log('info', 'stopped serving', { addresses });
    })();
    return closing;
  };

  return {
    address: addresses[0]!,
    addresses,
    metricsAddresses,
    member,
    close,
    [Symbol.asyncDispose]: close,
  };
}

export type { LogLevel, ServerLogger, MemberIdentity };
