/** Choosing and constructing an engine. */

import { MetaStoreError } from './errors.js';
import { JsEngine } from './js-engine/kvstore.js';
import { loadNative } from './load-native.js';
import { NativeEngine } from './native-engine.js';
import { TXN_DEPTH_CEILING, type Engine, type EngineOptions } from './types.js';

/** An engine: `'native'` (the Rust addon) or `'js'` (the pure-TypeScript twin, same behaviour). */
export type EngineKind = 'native' | 'js';

function checkOptions(options: EngineOptions): void {
  for (const name of ['maxValueBytes', 'maxKeyBytes', 'parallelThreshold', 'threads', 'maxTxnOps'] as const) {
    const v = options[name];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0 || v > 0xffff_ffff)) {
      throw new MetaStoreError('ERR_INVALID_OPTION', `${name} must be an integer in 0..2^32-1, got ${String(v)}`);
    }
  }
  const depth = options.maxTxnDepth;
  if (depth !== undefined && (!Number.isSafeInteger(depth) || depth < 1 || depth > TXN_DEPTH_CEILING)) {
    throw new MetaStoreError('ERR_INVALID_OPTION', `maxTxnDepth must be an integer in 1..${TXN_DEPTH_CEILING}, got ${String(depth)}`);
  }
}

/**
 * A new, empty engine. `'native'` throws ERR_NATIVE_UNAVAILABLE (with the load error as its
 * cause) when the addon cannot load on this platform.
 */
export function createEngine(kind: EngineKind, options: EngineOptions = {}): Engine {
  checkOptions(options);
  const engineOptions: EngineOptions = {
    maxValueBytes: options.maxValueBytes,
    maxKeyBytes: options.maxKeyBytes,
    parallelThreshold: options.parallelThreshold,
    threads: options.threads,
    maxTxnOps: options.maxTxnOps,
    maxTxnDepth: options.maxTxnDepth,
    minLeaseTtl: options.minLeaseTtl,
  };
  const ttl = options.minLeaseTtl;
  if (ttl !== undefined && (!Number.isSafeInteger(ttl) || ttl < 1)) {
    throw new MetaStoreError('ERR_INVALID_OPTION', `minLeaseTtl must be a positive integer, got ${String(ttl)}`);
  }
  if (kind === 'js') return new JsEngine(engineOptions);
  if (kind !== 'native') throw new MetaStoreError('ERR_INVALID_OPTION', `unknown engine ${String(kind)}`);
  let binding;
  try {
    binding = loadNative();
  } catch (e) {
    throw new MetaStoreError('ERR_NATIVE_UNAVAILABLE', `the native engine could not be loaded: ${(e as Error).message}`, { cause: e });
  }
  return new NativeEngine(binding, engineOptions);
}
