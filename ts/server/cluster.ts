/**
 * The Cluster service: one member. MemberList answers it (etcd's header for this service has
 * no revision); adding, removing, updating or promoting members needs replication, which
 * MetaStore does not have yet, so those calls are refused (UNIMPLEMENTED, saying so).
 */

import { status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { unary, type ServerContext } from './context.js';
import { WireError } from './errors.js';
import type { MemberIdentity, PbHeader } from './header.js';

/** etcdserverpb.Member of this server. */
export function memberOf(identity: MemberIdentity): { ID: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner: boolean } {
  return { ID: identity.memberId, name: identity.name, peerURLs: [...identity.peerURLs], clientURLs: [...identity.clientURLs], isLearner: false };
}

function refuse(call: string): never {
  throw new WireError(status.UNIMPLEMENTED, `metastore: ${call} needs replication, which MetaStore does not have yet (this server is a single member)`);
}

/** The Cluster service's handlers. */
export function clusterService(ctx: ServerContext): UntypedServiceImplementation {
  const header = (): PbHeader => ctx.headers.at(0);
  return {
    MemberList: unary(ctx, 'Cluster', 'MemberList', () => ({ header: header(), members: [memberOf(ctx.headers.identity)] })),
    MemberAdd: unary(ctx, 'Cluster', 'MemberAdd', () => refuse('MemberAdd')),
    MemberRemove: unary(ctx, 'Cluster', 'MemberRemove', () => refuse('MemberRemove')),
    MemberUpdate: unary(ctx, 'Cluster', 'MemberUpdate', () => refuse('MemberUpdate')),
    MemberPromote: unary(ctx, 'Cluster', 'MemberPromote', () => refuse('MemberPromote')),
  };
}
