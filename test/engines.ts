/** The engines every behaviour test runs on. */

import { afterEach } from 'vitest';
import { createEngine, type EngineKind } from '../ts/engine.js';
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
