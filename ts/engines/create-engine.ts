/** Choosing and constructing an engine. */

import { MetaStoreError } from '../errors.js';
import { JsEngine } from './js/kvstore.js';
import { loadNative, type NativeBinding } from '../load-native.js';
import { NativeEngine } from './native-engine.js';
import { resolveEngineOptions, type ResolvedEngineOptions } from '../facade/open-options.js';
import type { Engine, EngineOptions } from '../types.js';

import type { EngineKind } from '../types.js';
export type { EngineKind } from '../types.js';

/**
 * A new, empty engine. Throws ERR_INVALID_OPTION for options out of range (see
 * {@link EngineOptions}) or unknown; `'native'` throws ERR_NATIVE_UNAVAILABLE (with the load
 * error as its cause) when the addon cannot load on this platform.
 */
export function createEngine(kind: EngineKind, options?: EngineOptions | null): Engine {
  const resolved = resolveEngineOptions(options);
  if (kind !== 'js' && kind !== 'native') throw new MetaStoreError('ERR_INVALID_OPTION', `unknown engine ${String(kind)}`);
  return constructEngine(kind, resolved);
}

/** @internal {@link createEngine} with options resolved already (`MetaStore.open` resolves all of its own first). */
export function constructEngine(kind: EngineKind, options: ResolvedEngineOptions): Engine {
  if (kind === 'js') return new JsEngine(options);
  let binding: NativeBinding;
  try {
    binding = loadNative();
  } catch (e) {
    throw new MetaStoreError('ERR_NATIVE_UNAVAILABLE', `the native engine could not be loaded: ${(e as Error).message}`, { cause: e });
  }
  return new NativeEngine(binding, options);
}
