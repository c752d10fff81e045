/** The engines every behaviour test runs on. */

import { afterEach } from 'vitest';
import { createEngine, type EngineKind } from '../ts/engines/create-engine.js';
import { MetaStore, type OpenOptions } from '../ts/store.js';
import type { Engine, EngineOptions } from '../ts/types.js';

export const ENGINE_KINDS: EngineKind[] = ['native', 'js'];

export function newEngine(kind: EngineKind, options?: EngineOptions): Engine {
  return createEngine(kind, options);
}

/**
 * A factory of engines for the calling test file; every engine it made is closed after each
 * test. Call it at the top level of the file.
 */
export function engineFactory(): (kind: EngineKind, options?: EngineOptions) => Engine {
  const open: Engine[] = [];
  afterEach(() => {
    for (const e of open.splice(0)) e.close();
  });
  return (kind, options) => {
    const e = newEngine(kind, options);
    open.push(e);
    return e;
  };
}

/**
 * A factory of stores for the calling test file (lease expiry timer off); every store it opened is
 * closed after each test. Call it at the top level of the file.
 */
export function storeFactory(): (engine: EngineKind, options?: OpenOptions) => Promise<MetaStore> {
  const open: MetaStore[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  return async (engine, options = {}) => {
    const s = await MetaStore.open({ engine, leaseCheckIntervalMs: 0, ...options });
    open.push(s);
    return s;
  };
}
