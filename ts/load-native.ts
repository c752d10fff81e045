/** Loads the native addon through the loader napi-rs generates (native/index.cjs). */

import { createRequire } from 'node:module';
import type * as Binding from '../native/index.cjs';

export type NativeBinding = typeof Binding;

let cached: { binding?: NativeBinding; error?: Error } | undefined;

/**
 * The native binding, loaded once. Throws the load error (kept for later calls) when no binary
 * for this platform could be loaded.
 */
export function loadNative(): NativeBinding {
  if (cached === undefined) {
    try {
      const require = createRequire(import.meta.url);
      cached = { binding: require('../native/index.cjs') as NativeBinding };
    } catch (e) {
      cached = { error: e instanceof Error ? e : new Error(String(e)) };
    }
  }
  if (cached.error) throw cached.error;
  return cached.binding!;
}
