/** The engines every behaviour test runs on. */

import { createEngine, type EngineKind } from '../ts/engine.js';
import type { Engine, EngineOptions } from '../ts/types.js';

export const ENGINE_KINDS: EngineKind[] = ['native', 'js'];

export function newEngine(kind: EngineKind, options?: EngineOptions): Engine {
  return createEngine(kind, options);
}
