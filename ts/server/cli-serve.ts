/**
 * `metastore serve`: opens the store (durable with --data-dir, in memory otherwise), serves it
 * over etcd's v3 API until SIGINT / SIGTERM, then closes the server and the store. Logs are JSON
 * lines on stderr, as etcd's (`{"level","ts","msg",...}`); the line "ready to serve client
 * requests" carries the bound addresses.
 */

import { readFileSync } from 'node:fs';
import { MetaStore } from '../index.js';
import type { LogLevel, ServerLogger } from './context.js';
import { FlagError, parseServeArgs, serveHelp, type ServeConfig } from './flags.js';
import { serve, type ServeTlsOptions } from './serve.js';

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error', 'panic', 'fatal'];

function logger(min: LogLevel): ServerLogger {
  const floor = LEVELS.indexOf(min);
  return (level, msg, fields) => {
    if (LEVELS.indexOf(level) < floor) return;
    process.stderr.write(`${JSON.stringify({ level, ts: new Date().toISOString(), caller: 'metastore/serve', msg, ...fields })}\n`);
  };
}

function tlsOf(c: ServeConfig): ServeTlsOptions | undefined {
  if (c.certFile === undefined && c.keyFile === undefined && c.trustedCaFile === undefined && !c.clientCertAuth) return undefined;
  if (c.certFile === undefined || c.keyFile === undefined) throw new FlagError('TLS needs both --cert-file and --key-file');
  const read = (flag: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new FlagError(`--${flag} ${path}: ${(e as Error).message}`);
    }
  };
  return {
    cert: read('cert-file', c.certFile),
    key: read('key-file', c.keyFile),
    ca: c.trustedCaFile === undefined ? undefined : read('trusted-ca-file', c.trustedCaFile),
    clientCertAuth: c.clientCertAuth,
  };
}

/** Runs `metastore serve <args>`; resolves with the exit code once the server has stopped. */
export async function runServe(args: readonly string[]): Promise<number> {
  let config: ServeConfig;
  try {
    config = parseServeArgs(args);
  } catch (e) {
    if (e instanceof FlagError) {
      process.stderr.write(`metastore serve: ${e.message}\n(metastore serve --help lists the flags)\n`);
      return 1;
    }
    throw e;
  }
  if (config.help) {
    process.stdout.write(`${serveHelp()}\n`);
    return 0;
  }
  const log = logger(config.logLevel);
  for (const w of config.warnings) log('warn', w);
  let tls: ServeTlsOptions | undefined;
  try {
    tls = tlsOf(config);
  } catch (e) {
    process.stderr.write(`metastore serve: ${(e as Error).message}\n`);
    return 1;
  }
  if (config.clientCertAuth && config.trustedCaFile === undefined) {
    process.stderr.write('metastore serve: --client-cert-auth needs --trusted-ca-file\n');
    return 1;
  }
  if (config.dataDir === undefined) {
    log('warn', 'no --data-dir: serving an in-memory store; everything written is lost when the process exits');
  }
  // The store's key and value limits follow --max-request-bytes (etcd bounds them by the request size).
  const itemLimit = Math.min(config.maxRequestBytes, 2 ** 32 - 1);
  const store = await MetaStore.open({
    path: config.dataDir,
    maxTxnOps: config.maxTxnOps,
    maxKeyBytes: itemLimit,
    maxValueBytes: itemLimit,
    autoCompaction: config.autoCompaction,
  });
  if (store.recovery !== undefined)
    log('info', 'opened the durable store', { 'data-dir': config.dataDir, revision: store.revision, keys: store.size, recovery: store.recovery });
  let server: Awaited<ReturnType<typeof serve>>;
  try {
    server = await serve(store, {
      name: config.name,
      listen: config.listenClientUrls,
      advertise: config.sources['advertise-client-urls'] === undefined ? undefined : config.advertiseClientUrls,
      metricsListen: config.listenMetricsUrls,
      tls,
      maxRequestBytes: config.maxRequestBytes,
      maxTxnOps: config.maxTxnOps,
      watchProgressNotifyIntervalMs: config.watchProgressNotifyIntervalMs,
      dataDir: config.dataDir,
      logger: log,
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  log('info', 'ready to serve client requests', {
    name: config.name,
    'member-id': BigInt(server.member.memberId).toString(16),
    'cluster-id': BigInt(server.member.clusterId).toString(16),
    addresses: server.addresses,
    'metrics-addresses': server.metricsAddresses,
    'data-dir': config.dataDir ?? null,
    engine: store.engine,
    pid: process.pid,
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      log('info', 'received a signal, stopping', { signal });
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await store.close();
  log('info', 'stopped', { revision: undefined });
  return 0;
}
