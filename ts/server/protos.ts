/**
 * Loads the project's etcd v3 protos (proto/ in the package) with @grpc/proto-loader, once.
 *
 * Loader options, chosen for the handlers: `keepCase` (etcd's field names as written:
 * `range_end`, `ID`, `TTL`), `longs: String` (int64 / uint64 arrive as decimal strings, turned
 * into numbers by ./wire.ts with an explicit rule for values beyond 2^53), `enums: Number`
 * (enums are numbers; an unknown value stays a number, as proto3 keeps it), `bytes: Buffer`,
 * `defaults: true` (absent fields read as their zero value) and `oneofs: true` (a oneof's set
 * member is named by a virtual field, e.g. `request: 'request_put'`).
 */

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const FILES = ['etcdserverpb/rpc.proto', 'grpc/health/v1/health.proto'];

/** Where proto/ is: the first ancestor of this module's directory that holds it. */
export function protoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, 'etcdserverpb', 'rpc.proto'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`metastore: the proto files (proto/etcdserverpb/rpc.proto) were not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The services the server registers, by their full proto names. */
export interface Services {
  KV: ServiceDefinition;
  Watch: ServiceDefinition;
  Lease: ServiceDefinition;
  Cluster: ServiceDefinition;
  Maintenance: ServiceDefinition;
  Auth: ServiceDefinition;
  Health: ServiceDefinition;
}

let loaded: protoLoader.PackageDefinition | undefined;

/** The package definition (loaded once per process). */
export function packageDefinition(): protoLoader.PackageDefinition {
  loaded ??= protoLoader.loadSync(FILES, {
    keepCase: true,
    longs: String,
    enums: Number,
    bytes: Buffer,
    defaults: true,
    oneofs: true,
    includeDirs: [protoDir()],
  });
  return loaded;
}

/**
 * Fresh copies of the service definitions (each server wraps the (de)serializers of its own
 * copy to count bytes and check request sizes).
 */
export function services(): Services {
  const def = packageDefinition();
  const copy = (name: string): ServiceDefinition => {
    const svc = def[name] as unknown as ServiceDefinition | undefined;
    if (svc === undefined) throw new Error(`metastore: service ${name} missing from the protos`);
    const out: Record<string, unknown> = {};
    for (const [method, d] of Object.entries(svc)) out[method] = { ...d };
    return out as unknown as ServiceDefinition;
  };
  return {
    KV: copy('etcdserverpb.KV'),
    Watch: copy('etcdserverpb.Watch'),
    Lease: copy('etcdserverpb.Lease'),
    Cluster: copy('etcdserverpb.Cluster'),
    Maintenance: copy('etcdserverpb.Maintenance'),
    Auth: copy('etcdserverpb.Auth'),
    Health: copy('grpc.health.v1.Health'),
  };
}
