/**
 * The package entry's `serve`: loads the server (and gRPC with it) only when called, so that
 * importing @metastore/core never loads @grpc/grpc-js or prom-client.
 */

import type { MetaStore } from '../index.js';
import type { MetaStoreServer, ServeOptions } from './serve.js';

/**
 * Serves `store` over etcd's v3 gRPC API (KV, Watch, Lease, Maintenance, Cluster, Auth, health)
 * so that etcdctl, clientv3 and the etcd3 npm package work against it unchanged:
 * `const server = await serve(store, { listen: 'http://127.0.0.1:2379' })`, then
 * `server.close()`. The store stays the caller's (close() does not close it). docs/server.md
 * describes each call; {@link ServeOptions} the options.
 */
export async function serve(store: MetaStore, options?: ServeOptions): Promise<MetaStoreServer> {
  const server = await import('./serve.js');
  return server.serve(store, options);
}
