/**
 * The lease clock (etcd's lessor, the part that keeps time). The engines only hold leases as
 * state (id, granted TTL, attached keys); when a lease runs out is decided here, outside apply,
 * from an injectable clock, and acted on by proposing LEASE_REVOKE ops through the store's normal
 * write path, as etcd's leader does. Apply never reads a clock, so both engines stay
 * deterministic (log contract, rules 3 and 10).
 *
 * Deadlines are not state: they are not part of the engine, nor (later) of the log. After a
 * restart every lease gets a fresh full TTL, etcd's lease promotion on a new leader; the same
 * happens to a lease this lessor first sees in the engine (granted by a raw batch).
 */

import type { Engine } from '../types.js';

import type { LeaseClock } from '../types.js';
export type { LeaseClock } from '../types.js';

/** The default clock: `performance.now()` (monotonic, unaffected by wall-clock changes). */
export const monotonicClock: LeaseClock = { now: () => performance.now() };

/** Default period of the expiry check, etcd's 500 ms. */
export const DEFAULT_LEASE_CHECK_INTERVAL_MS = 500;

/** What {@link Lessor} needs from the store. */
export interface LessorHost {
  /** The live engine (throws ERR_CLOSED once closed). */
  engine(): Engine;
  /**
   * Revokes these leases through the normal write path (one batch of LEASE_REVOKE ops). Leases
   * gone meanwhile are no error.
   */
  revokeExpired(ids: number[]): Promise<void>;
}

/** Options of the lessor (see `OpenOptions`). */
export interface LessorOptions {
  clock?: LeaseClock;
  /** Period of the automatic expiry check, ms; 0 turns the timer off (call `checkExpired`). */
  checkIntervalMs?: number;
}

interface Entry {
  deadline: number;
  id: number;
}

/**
 * Deadlines per lease and the expiry check. A min-heap orders deadlines; a renewal pushes a new
 * heap entry and leaves the old one to be skipped (it no longer matches the lease's deadline).
 */
export class Lessor {
  /** Current deadline (ms, clock time) of each lease this lessor knows. */
  private readonly deadlines = new Map<number, number>();
  /**
   * Leases whose expiry is decided: their revoke is proposed and not yet applied. The engine
   * still holds them, but a keep-alive can no longer save them, so they are gone for it (etcd's
   * Renew of an expired lease waits for the revoke and answers "lease not found").
   */
  private readonly expiring = new Set<number>();
  private heap: Entry[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Settles once the last expiry check's revokes are applied. */
  revoking: Promise<void> = Promise.resolve();
  /** Set when leases may have been granted or revoked behind the lessor's back (raw batches). */
  private stale = true;
  readonly clock: LeaseClock;

  constructor(
    private readonly host: LessorHost,
    options: LessorOptions = {},
  ) {
    this.clock = options.clock ?? monotonicClock;
    const interval = options.checkIntervalMs ?? DEFAULT_LEASE_CHECK_INTERVAL_MS;
    if (interval > 0) {
      this.timer = setInterval(() => {
        try {
          this.checkExpired();
        } catch {
          // The store closed under the timer, or a revoke failed; the next tick tries again.
        }
      }, interval);
      this.timer.unref();
    }
  }

  /** Records a grant (or a keep-alive): the lease expires `ttl` seconds from now. */
  granted(id: number, ttl: number): void {
    // A grant of an id whose expiry revoke was applied moments ago is a new lease.
    this.expiring.delete(id);
    this.setDeadline(id, this.clock.now() + ttl * 1000);
  }

  /** Forgets a lease (revoked). */
  revoked(id: number): void {
    this.deadlines.delete(id);
  }

  /** Leases may have changed outside the façade (a raw batch): reconcile before the next check. */
  markStale(): void {
    this.stale = true;
  }

  /**
   * etcd's LeaseKeepAlive (one round): the lease's deadline becomes now + its granted TTL.
   * Returns the granted TTL, or 0 when the lease does not exist or its expiry is decided.
   */
  keepAlive(id: number): number {
    if (this.expiring.has(id)) return 0;
    const info = this.host.engine().leaseInfo(id);
    if (info === undefined) {
      this.deadlines.delete(id);
      return 0;
    }
    this.granted(id, info.ttl);
    return info.ttl;
  }

  /**
   * etcd's LeaseTimeToLive: remaining whole seconds (truncated, never below 0), the granted TTL
   * and, with `keys`, the attached keys in key order. An unknown lease answers TTL −1 and
   * grantedTTL 0, no error; one whose expiry is decided, TTL 0.
   */
  timeToLive(id: number, keys: boolean): { id: number; ttl: number; grantedTTL: number; keys?: Uint8Array[] } {
    const info = this.host.engine().leaseInfo(id);
    if (info === undefined) {
      this.deadlines.delete(id);
      return keys ? { id, ttl: -1, grantedTTL: 0, keys: [] } : { id, ttl: -1, grantedTTL: 0 };
    }
    if (this.expiring.has(id)) {
      // Its revoke is on the way: no time left, and no fresh deadline for it (see `expiring`).
      return keys ? { id, ttl: 0, grantedTTL: info.ttl, keys: info.keys } : { id, ttl: 0, grantedTTL: info.ttl };
    }
    let deadline = this.deadlines.get(id);
    if (deadline === undefined) {
      // First sight (a raw batch granted it): a fresh full TTL, as after a promotion.
      this.granted(id, info.ttl);
      deadline = this.deadlines.get(id)!;
    }
    const ttl = Math.max(0, Math.trunc((deadline - this.clock.now()) / 1000));
    return keys ? { id, ttl, grantedTTL: info.ttl, keys: info.keys } : { id, ttl, grantedTTL: info.ttl };
  }

  /**
   * Gives every lease of the engine a fresh full TTL from now (etcd's promotion), as after a
   * restart.
   */
  promote(): void {
    const engine = this.host.engine();
    this.deadlines.clear();
    this.heap = [];
    for (const id of engine.leases()) {
      const info = engine.leaseInfo(id);
      if (info !== undefined) this.granted(id, info.ttl);
    }
    this.stale = false;
  }

  /**
   * The expiry check: proposes a revoke of every lease whose deadline has passed (earliest
   * deadline first) through the store's write path, and returns their ids. The timer calls it;
   * tests call it directly after moving a fake clock.
   */
  checkExpired(): number[] {
    if (this.stale) this.reconcile();
    const now = this.clock.now();
    const expired: number[] = [];
    while (this.heap.length > 0 && this.heap[0]!.deadline <= now) {
      const top = this.pop();
      if (this.deadlines.get(top.id) !== top.deadline) continue; // renewed or revoked since
      this.deadlines.delete(top.id);
      expired.push(top.id);
    }
    if (expired.length > 0) {
      for (const id of expired) this.expiring.add(id);
      // A revoke that fails (the store closed meanwhile) is dropped: a restart promotes the lease again.
      this.revoking = this.host
        .revokeExpired(expired)
        .catch(() => undefined)
        .finally(() => {
          for (const id of expired) this.expiring.delete(id);
        });
    }
    return expired;
  }

  /** Stops the timer. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.deadlines.clear();
    this.expiring.clear();
    this.heap = [];
  }

  /** Leases in the engine but unknown here get a fresh full TTL; leases gone are forgotten. */
  private reconcile(): void {
    const engine = this.host.engine();
    const live = new Set(engine.leases());
    for (const id of this.deadlines.keys()) if (!live.has(id)) this.deadlines.delete(id);
    for (const id of live) {
      if (this.deadlines.has(id) || this.expiring.has(id)) continue;
      const info = engine.leaseInfo(id);
      if (info !== undefined) this.granted(id, info.ttl);
    }
    this.stale = false;
  }

  private setDeadline(id: number, deadline: number): void {
    this.deadlines.set(id, deadline);
    this.push({ deadline, id });
    // Renewals leave dead entries behind; rebuild when they outnumber the live ones.
    if (this.heap.length > 64 && this.heap.length > 2 * this.deadlines.size) this.rebuild();
  }

  private rebuild(): void {
    this.heap = [];
    for (const [id, deadline] of this.deadlines) this.push({ deadline, id });
  }

  private static less(a: Entry, b: Entry): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.id < b.id);
  }

  private push(e: Entry): void {
    const h = this.heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!Lessor.less(e, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = e;
  }

  private pop(): Entry {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && Lessor.less(h[r]!, h[l]!) ? r : l;
        if (!Lessor.less(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
