/**
 * The lease API, `store.lease`: etcd's Lease service (clientv3's `Lease` interface) on one
 * embedded node. Grants and revokes are writes (LEASE_GRANT / LEASE_REVOKE ops through the
 * store's write path); keep-alives and time-to-live are answered by the lease clock
 * ({@link Lessor}), which also revokes leases that run out.
 *
 * ```ts
 * const { id } = await store.lease.grant(10);          // 10 s
 * await store.put('svc/a', 'up', { lease: id });
 * await store.lease.keepAlive(id);                      // deadline = now + 10 s
 * store.lease.timeToLive(id, { keys: true });           // { id, ttl: 9, grantedTTL: 10, keys: [...] }
 * await store.lease.revoke(id);                         // deletes svc/a (DELETE event)
 * ```
 */

import { errorFromNumber, ErrorNumber, MetaStoreError } from '../errors.js';
import type { Lessor } from './lessor.js';
import type { OpResult } from '../types.js';

/** Response of {@link LeaseClient.grant}. */
export interface LeaseGrantResponse {
  /** The lease id: the one asked for, or the one the store picked when `id` was 0 or absent. */
  id: number;
  /** Effective TTL in seconds: raised to the store's `minLeaseTtl` (default 2 s) when below. */
  ttl: number;
  /** Store revision (a grant does not change it). */
  revision: number;
}

/** Response of {@link LeaseClient.revoke}. */
export interface LeaseRevokeResponse {
  /** Store revision after the revoke: +1 when the lease had keys (all deleted at once). */
  revision: number;
}

/** Response of {@link LeaseClient.keepAlive}. */
export interface LeaseKeepAliveResponse {
  /** The lease id, as given. */
  id: number;
  /** The granted TTL (the new deadline is now + TTL). */
  ttl: number;
}

/** Response of {@link LeaseClient.timeToLive}. */
export interface LeaseTimeToLiveResponse {
  /** The lease id, as given. */
  id: number;
  /** Remaining whole seconds (truncated); −1 when the lease does not exist. */
  ttl: number;
  /** The granted TTL in seconds; 0 when the lease does not exist. */
  grantedTTL: number;
  /** The attached keys in key order, when asked for. */
  keys?: Uint8Array[];
}

/** What the lease API needs from the store. */
export interface LeaseHost {
  lessor(): Lessor;
  /** Proposes one op through the write path and resolves with its result once applied. */
  grant(id: number, ttl: number): Promise<OpResult>;
  revoke(id: number): Promise<OpResult>;
  leases(): number[];
}

function checkId(id: unknown, zeroOk: boolean): number {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || (!zeroOk && id === 0)) {
    throw new MetaStoreError('ERR_INVALID_OPTION', `a lease id must be a ${zeroOk ? '' : 'non-zero '}safe integer, got ${String(id)}`);
  }
  return id;
}

/** `store.lease`: grant, revoke, keepAlive, timeToLive, list. */
export class LeaseClient {
  /** @internal */
  constructor(private readonly host: LeaseHost) {}

  /**
   * Grants a lease of `ttl` seconds. `id` 0 or absent: the store picks the next free id (1, 2…);
   * any other safe integer, negatives included, is taken as given. Rejects with ERR_LEASE_EXISTS
   * (id in use) or ERR_LEASE_TTL_TOO_LARGE (ttl above etcd's 9,000,000,000 s). A TTL below the
   * minimum (`minLeaseTtl`, default 2 s) is raised to it.
   */
  async grant(ttl: number, options?: { id?: number }): Promise<LeaseGrantResponse> {
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl)) {
      throw new MetaStoreError('ERR_INVALID_OPTION', `a lease TTL must be an integer number of seconds, got ${String(ttl)}`);
    }
    const id = checkId(options?.id ?? 0, true);
    const r = await this.host.grant(id, ttl);
    if (r.type === 'error') throw r.error;
    if (r.type !== 'leaseGrant') throw new MetaStoreError('ERR_INTERNAL', `expected a lease grant result, got ${r.type}`);
    this.host.lessor().granted(r.id, r.ttl);
    return { id: r.id, ttl: r.ttl, revision: r.revision };
  }

  /**
   * Revokes a lease: its keys are deleted in key order in ONE revision (one DELETE event each),
   * then the lease is gone. Rejects with ERR_LEASE_NOT_FOUND for an unknown id.
   */
  async revoke(id: number): Promise<LeaseRevokeResponse> {
    checkId(id, false);
    const r = await this.host.revoke(id);
    if (r.type === 'error') throw r.error;
    this.host.lessor().revoked(id);
    return { revision: r.revision };
  }

  /**
   * One keep-alive (etcd's LeaseKeepAlive round, clientv3's KeepAliveOnce): the lease's deadline
   * becomes now + its granted TTL. Rejects with ERR_LEASE_NOT_FOUND for an unknown lease, and
   * for one whose expiry is already decided (its revoke is on the way: it can no longer be kept),
   * as clientv3's KeepAliveOnce does (etcd's stream answers TTL 0, which the client turns into
   * that error).
   */
  async keepAlive(id: number): Promise<LeaseKeepAliveResponse> {
    checkId(id, true);
    const ttl = this.host.lessor().keepAlive(id);
    if (ttl <= 0) throw errorFromNumber(ErrorNumber.LEASE_NOT_FOUND, undefined, `lease ${id}`);
    return { id, ttl };
  }

  /**
   * etcd's LeaseTimeToLive: remaining whole seconds, granted TTL and, with `keys: true`, the
   * attached keys. An unknown lease answers `{ ttl: −1, grantedTTL: 0 }`, no error; one whose
   * expiry is decided (its revoke not applied yet) answers TTL 0. Synchronous, like every read.
   */
  timeToLive(id: number, options?: { keys?: boolean }): LeaseTimeToLiveResponse {
    checkId(id, true);
    return this.host.lessor().timeToLive(id, options?.keys === true);
  }

  /** The granted lease ids, ascending (etcd's LeaseLeases). */
  list(): number[] {
    return this.host.leases();
  }

  /**
   * Runs the expiry check now: every lease past its deadline is revoked through the write path
   * (the timer does this every `leaseCheckIntervalMs`). Resolves with the revoked ids once the
   * revokes are applied. For tests with an injected clock.
   */
  async checkExpired(): Promise<number[]> {
    const lessor = this.host.lessor();
    const ids = lessor.checkExpired();
    await lessor.revoking;
    return ids;
  }
}
