/**
 * The lease table of the state (the part of etcd's lease/lessor.go that apply touches): granted
 * leases with their TTL and attached keys, and the counter that picks ids for grants with id 0.
 * Expiry is not here: a clock outside the engine proposes LEASE_REVOKE when a lease runs out.
 */

/** A granted lease. */
export class Lease {
  /** Attached keys (binary strings). */
  readonly keys = new Set<string>();

  constructor(
    readonly id: number,
    readonly ttl: number,
  ) {}

  /** Attached keys in key order (binary-string order is bytewise order). */
  sortedKeys(): string[] {
    return [...this.keys].sort();
  }
}

export class Leases {
  private readonly byId = new Map<number, Lease>();
  /** Next candidate for an engine-picked id: starts at 1, only moves forward. */
  private nextId = 1;

  get(id: number): Lease | undefined {
    return this.byId.get(id);
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  /**
   * Grants a lease (the caller has checked that a non-zero `id` is free). `id` 0 takes the counter,
   * skipping ids in use, so every replica picks the same one.
   */
  grant(id: number, ttl: number): Lease {
    if (id === 0) {
      id = this.nextId;
      while (this.byId.has(id)) id++;
      this.nextId = id + 1;
    }
    const lease = new Lease(id, ttl);
    this.byId.set(id, lease);
    return lease;
  }

  /** Removes a lease (its keys are the caller's business). */
  remove(id: number): void {
    this.byId.delete(id);
  }

  /** Moves key from lease `from` to lease `to` (0 = none). */
  move(key: string, from: number, to: number): void {
    if (from === to) return;
    if (from !== 0) this.byId.get(from)?.keys.delete(key);
    if (to !== 0) this.byId.get(to)!.keys.add(key);
  }

  /** Granted ids, ascending. */
  ids(): number[] {
    return [...this.byId.keys()].sort((a, b) => a - b);
  }

  clear(): void {
    this.byId.clear();
    this.nextId = 1;
  }
}
