/**
 * The member's identity and the ResponseHeader every response carries (cluster_id, member_id,
 * revision, raft_term), filled as etcd fills them.
 *
 * IDs are derived the way etcd derives them for a new cluster, so a `metastore serve` with
 * etcd's defaults reports etcd's default IDs: the member ID is the first 8 bytes (big-endian) of
 * SHA-1 over the sorted peer URLs followed by the cluster token; the cluster ID, of SHA-1 over
 * the sorted member IDs as 8-byte big-endian numbers. IDs travel as uint64 decimal strings.
 */

import { createHash } from 'node:crypto';

/** What a ResponseHeader holds (uint64 fields as decimal strings, the revision as a number). */
export interface PbHeader {
  cluster_id: string;
  member_id: string;
  revision: number;
  raft_term: number;
}

/**
 * The raft term reported in headers and Status: MetaStore has no elections, so it stays 1 for
 * the life of the process (a member that never lost its leadership).
 */
export const RAFT_TERM = 1;

/** This member as the Cluster service and the headers describe it. */
export interface MemberIdentity {
  /** Member ID, uint64 as a decimal string. */
  readonly memberId: string;
  /** Cluster ID, uint64 as a decimal string. */
  readonly clusterId: string;
  /** Member name (`--name`). */
  readonly name: string;
  /** Peer URLs the ID is derived from (MetaStore serves no peer traffic yet). */
  readonly peerURLs: readonly string[];
  /** URLs clients are told to use (`--advertise-client-urls`). */
  readonly clientURLs: readonly string[];
}

function first8(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** etcd's member ID for these peer URLs and cluster token. */
export function memberIdOf(peerURLs: readonly string[], clusterToken: string): bigint {
  const h = createHash('sha1');
  for (const url of [...peerURLs].sort()) h.update(url);
  h.update(clusterToken);
  return first8(h.digest());
}

/** etcd's cluster ID for these member IDs. */
export function clusterIdOf(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => buf.writeBigUInt64BE(id, 8 * i));
  return first8(createHash('sha1').update(buf).digest());
}

/** The identity of a one-member cluster. */
export function identityOf(options: { name: string; peerURLs: readonly string[]; clientURLs: readonly string[]; clusterToken: string }): MemberIdentity {
  const member = memberIdOf(options.peerURLs, options.clusterToken);
  return {
    memberId: member.toString(),
    clusterId: clusterIdOf([member]).toString(),
    name: options.name,
    peerURLs: [...options.peerURLs],
    clientURLs: [...options.clientURLs],
  };
}

/** Builds headers for one member. */
export class Headers {
  constructor(readonly identity: MemberIdentity) {}

  /** A full header at `revision` (0 for calls that do not touch the key space). */
  at(revision: number): PbHeader {
    return { cluster_id: this.identity.clusterId, member_id: this.identity.memberId, revision, raft_term: RAFT_TERM };
  }
}

/** A header inside a transaction's responses: etcd fills only the revision there. */
export function innerHeader(revision: number): PbHeader {
  return { cluster_id: '0', member_id: '0', revision, raft_term: 0 };
}
