/**
 * Health and metrics: the gRPC health service (grpc.health.v1.Health), the HTTP endpoints
 * (`/health`, `/metrics`, `/version`, as etcd serves them on its client and metrics URLs), and
 * the Prometheus metrics (prom-client, one registry per server).
 *
 * Metric names are etcd's where etcd has the metric: etcd_server_has_leader,
 * etcd_server_is_leader, etcd_server_proposals_committed_total / _applied_total,
 * etcd_mvcc_db_total_size_in_bytes, etcd_debugging_mvcc_keys_total, _current_revision,
 * _compact_revision, _watcher_total, _watch_stream_total, _events_total,
 * etcd_network_client_grpc_received_bytes_total / _sent_bytes_total, etcd_server_version, and
 * go-grpc-prometheus's grpc_server_started_total, grpc_server_handled_total and the latency
 * histogram grpc_server_handling_seconds. MetaStore's own: metastore_log_proposals_total,
 * metastore_log_ops_total, metastore_log_entries_total, metastore_log_ops_per_entry,
 * metastore_log_appends_total, metastore_log_fsyncs_total, metastore_log_bytes_total. Plus
 * prom-client's process and Node.js metrics.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { status, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import prom from 'prom-client';
import { admitStream, tooManyStreams, type HandlerMetrics, type ServerContext } from './context.js';
import { endStream, ETCD } from './errors.js';
import { dbSize } from './maintenance.js';

const STREAMS: Record<string, 'bidi_stream' | 'server_stream'> = {
  'Watch.Watch': 'bidi_stream',
  'Lease.LeaseKeepAlive': 'bidi_stream',
  'Maintenance.Snapshot': 'server_stream',
  'Health.Watch': 'server_stream',
};

const CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

function serviceName(service: string): string {
  return service === 'Health' ? 'grpc.health.v1.Health' : `etcdserverpb.${service}`;
}

/** The metrics of one server. */
export class ServerMetrics implements HandlerMetrics {
  readonly registry = new prom.Registry();
  private readonly startedTotal: prom.Counter<'grpc_type' | 'grpc_service' | 'grpc_method'>;
  private readonly handledTotal: prom.Counter<'grpc_type' | 'grpc_service' | 'grpc_method' | 'grpc_code'>;
  private readonly handling: prom.Histogram<'grpc_type' | 'grpc_service' | 'grpc_method'>;
  private readonly receivedBytes: prom.Counter;
  private readonly sentBytes: prom.Counter;
  private readonly events: prom.Counter;
  private readonly version: prom.Gauge<'server_version'>;
  private watcherCount = 0;
  private streamCount = 0;
  private pendingBytes = 0;

  constructor(ctx: () => ServerContext | undefined) {
    const r = this.registry;
    const gauge = (name: string, help: string, value: (c: ServerContext) => number): void => {
      new prom.Gauge({
        name,
        help,
        registers: [r],
        collect() {
          const c = ctx();
          if (c === undefined) return;
          let v: number;
          try {
            v = value(c);
          } catch {
            return; // the store is closed: keep the last value
          }
          this.set(v);
        },
      });
    };
    gauge('etcd_server_has_leader', 'Whether a leader exists (1: yes). A MetaStore server is always its own leader.', () => 1);
    gauge('etcd_server_is_leader', 'Whether this member is the leader (1: yes).', () => 1);
    gauge('etcd_server_proposals_committed_total', 'Consensus proposals committed: log entries committed.', (c) => c.store.appliedIndex);
    gauge('etcd_server_proposals_applied_total', 'Consensus proposals applied: log entries applied.', (c) => c.store.appliedIndex);
    gauge('etcd_mvcc_db_total_size_in_bytes', 'Size of the store on disk (the durable store directory; 0 in memory).', (c) => dbSize(c));
    gauge('etcd_mvcc_db_total_size_in_use_in_bytes', 'Size of the store in use on disk (as etcd_mvcc_db_total_size_in_bytes).', (c) => dbSize(c));
    gauge('etcd_debugging_mvcc_keys_total', 'Number of keys.', (c) => c.store.size);
    gauge('etcd_debugging_mvcc_current_revision', 'The current revision of the store.', (c) => c.store.revision);
    gauge('etcd_debugging_mvcc_compact_revision', 'The revision of the last compaction (-1: none).', (c) => c.store.compactRevision);
    gauge('etcd_debugging_mvcc_watcher_total', 'Watchers open on the server.', () => this.watcherCount);
    gauge('etcd_debugging_mvcc_watch_stream_total', 'Watch streams open on the server.', () => this.streamCount);
    this.version = new prom.Gauge({
      name: 'etcd_server_version',
      help: 'Which etcd version the server speaks (label server_version).',
      labelNames: ['server_version'],
      registers: [r],
    });
    const stats = (pick: (s: ReturnType<ServerContext['store']['writeStats']>) => number) => (c: ServerContext) => pick(c.store.writeStats());
    gauge(
      'metastore_log_proposals_total',
      'Write proposals made to the log since the store opened.',
      stats((s) => s.proposals),
    );
    gauge(
      'metastore_log_ops_total',
      'Ops in those proposals.',
      stats((s) => s.ops),
    );
    gauge(
      'metastore_log_entries_total',
      'Log entries the proposals were coalesced into.',
      stats((s) => s.entries),
    );
    gauge(
      'metastore_log_ops_per_entry',
      'Average ops per log entry since the store opened.',
      stats((s) => s.averageOpsPerEntry),
    );
    gauge(
      'metastore_log_appends_total',
      'Appends to the log (one write, and one fsync when durable, each).',
      stats((s) => s.appends),
    );
    gauge(
      'metastore_log_fsyncs_total',
      'fdatasync calls made by the log (0 in memory).',
      stats((s) => s.fsyncs),
    );
    gauge(
      'metastore_log_bytes_total',
      'Bytes of log entries appended.',
      stats((s) => s.bytes),
    );
    this.startedTotal = new prom.Counter({
      name: 'grpc_server_started_total',
      help: 'RPCs started on the server.',
      labelNames: ['grpc_type', 'grpc_service', 'grpc_method'],
      registers: [r],
    });
    this.handledTotal = new prom.Counter({
      name: 'grpc_server_handled_total',
      help: 'RPCs completed on the server, by status code.',
      labelNames: ['grpc_type', 'grpc_service', 'grpc_method', 'grpc_code'],
      registers: [r],
    });
    this.handling = new prom.Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Latency of RPCs handled by the server (streams: their whole life).',
      labelNames: ['grpc_type', 'grpc_service', 'grpc_method'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [r],
    });
    this.receivedBytes = new prom.Counter({
      name: 'etcd_network_client_grpc_received_bytes_total',
      help: 'Bytes of gRPC messages received from clients.',
      registers: [r],
    });
    this.sentBytes = new prom.Counter({ name: 'etcd_network_client_grpc_sent_bytes_total', help: 'Bytes of gRPC messages sent to clients.', registers: [r] });
    this.events = new prom.Counter({ name: 'etcd_debugging_mvcc_events_total', help: 'Watch events sent to clients.', registers: [r] });
    gauge(
      'metastore_watch_pending_bytes',
      'Bytes written to watch streams and not yet sent (bounded per stream: a stream over its bound pauses its watches).',
      () => this.pendingBytes,
    );
    prom.collectDefaultMetrics({ register: r });
  }

  /** Sets the etcd version label (once known). */
  setVersion(version: string): void {
    this.version.reset();
    this.version.set({ server_version: version }, 1);
  }

  started(service: string, method: string): void {
    this.startedTotal.inc({ grpc_type: STREAMS[`${service}.${method}`] ?? 'unary', grpc_service: serviceName(service), grpc_method: method });
  }

  handled(service: string, method: string, code: number, seconds: number): void {
    const labels = { grpc_type: STREAMS[`${service}.${method}`] ?? 'unary', grpc_service: serviceName(service), grpc_method: method };
    this.handledTotal.inc({ ...labels, grpc_code: CODE_NAMES[code] ?? String(code) });
    this.handling.observe(labels, seconds);
  }

  received(bytes: number): void {
    this.receivedBytes.inc(bytes);
  }

  sent(bytes: number): void {
    this.sentBytes.inc(bytes);
  }

  watchers(delta: number): void {
    this.watcherCount += delta;
  }

  watchStreams(delta: number): void {
    this.streamCount += delta;
  }

  eventsSent(n: number): void {
    this.events.inc(n);
  }

  watchPendingBytes(delta: number): void {
    this.pendingBytes += delta;
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

// ---------------------------------------------------------------------------------------------
// gRPC health (grpc.health.v1).

const SERVING = 1;
const NOT_SERVING = 2;

/** The health service: SERVING for "" (the server) until close() starts. */
export function healthService(ctx: ServerContext): UntypedServiceImplementation {
  const state = (): number => (ctx.closing ? NOT_SERVING : SERVING);
  return {
    Check: (call: ServerUnaryCall<{ service: string }, unknown>, callback: sendUnaryData<unknown>) => {
      if (call.request.service !== '') {
        callback({ code: status.NOT_FOUND, details: 'unknown service' } as never);
        return;
      }
      callback(null, { status: state() });
    },
    Watch: (call: ServerWritableStream<{ service: string }, unknown>) => {
      if (admitStream(ctx, call) === undefined) {
        endStream(call, tooManyStreams(ctx));
        return;
      }
      if (call.request.service !== '') {
        call.write({ status: 3 }); // SERVICE_UNKNOWN
        return;
      }
      let last = state();
      call.write({ status: last });
      const timer = setInterval(() => {
        const now = state();
        if (now !== last) {
          last = now;
          call.write({ status: now });
        }
      }, 1000);
      timer.unref();
      const closer = { close: () => endStream(call, ETCD.stopped) };
      ctx.streams.add(closer);
      const stop = (): void => {
        clearInterval(timer);
        ctx.streams.delete(closer);
      };
      call.on('cancelled', stop);
      call.on('close', stop);
      call.on('error', stop);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP.

/** Serves `/health`, `/livez`, `/readyz`, `/metrics` and `/version` (anything else: 404). */
export function httpHandler(ctx: () => ServerContext, metrics: ServerMetrics): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const c = ctx();
    const json = (code: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      res.end();
      return;
    }
    switch (path) {
      case '/health': {
        let healthy = !c.closing;
        let reason = c.closing ? 'server stopping' : '';
        if (healthy) {
          try {
            c.store.get('health'); // as etcd's /health: a read must answer
          } catch (e) {
            healthy = false;
            reason = e instanceof Error ? e.message : String(e);
          }
        }
        json(healthy ? 200 : 503, { health: String(healthy), reason });
        return;
      }
      case '/livez':
      case '/readyz':
        res.writeHead(c.closing ? 503 : 200, { 'content-type': 'text/plain' });
        res.end(c.closing ? 'not ok\n' : 'ok\n');
        return;
      case '/version': {
        const [major, minor] = c.version.split('.');
        json(200, { etcdserver: c.version, etcdcluster: `${major}.${minor}.0` });
        return;
      }
      case '/metrics':
        metrics.text().then(
          (text) => {
            res.writeHead(200, { 'content-type': metrics.registry.contentType });
            res.end(text);
          },
          (e: unknown) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(`metrics failed: ${String(e)}\n`);
          },
        );
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('404 page not found\n');
    }
  };
}
