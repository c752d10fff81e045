/**
 * The third target of the etcd comparisons: the same scripts sent through the wire to
 * `metastore serve` (in-process, a fresh store per script, native engine by default) by the same
 * runner and client that talk to etcd (`EtcdRunner`, the etcd3 package's protos), so the
 * server's answers are normalized exactly as etcd's are.
 */

import { MetaStore } from '../../ts/index.js';
import { serve } from '../../ts/server/serve.js';
import { EtcdClient, type EtcdServer } from './harness.js';
import type { NRes } from './normalize.js';
import { EtcdRunner, type Step } from './script.js';

/** Runs `fn` against a fresh `metastore serve` that looks like an EtcdServer to the runner. */
export async function withMetaStoreServer<T>(fn: (target: EtcdServer) => Promise<T>, engine: 'native' | 'js' = 'native'): Promise<T> {
  // No lease expiry during a script: the engines never expire leases either (scripts use long TTLs).
  const store = await MetaStore.open({ engine, leaseCheckIntervalMs: 0 });
  const server = await serve(store, { listen: 'http://127.0.0.1:0' });
  const client = new EtcdClient(server.address.replace('http://', ''));
  try {
    const target = { client, freshRevision: store.revision, endpoint: server.address, logTail: () => '' } as unknown as EtcdServer;
    return await fn(target);
  } finally {
    client.close();
    await server.close();
    await store.close();
  }
}

/** Runs a script through the wire on a fresh server. */
export function runOnServer(steps: readonly Step[]): Promise<NRes[]> {
  return withMetaStoreServer((target) => new EtcdRunner(target).runAll(steps));
}
