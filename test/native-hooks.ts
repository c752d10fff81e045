/**
 * The addon's test hooks: exports only the build with the cargo feature `test-hooks` has
 * (`npm run build:native:test`, which vitest.config.ts makes the tests load). The published addon
 * has none of them (the install test checks the packed one).
 */

import { loadNative, type NativeBinding } from '../ts/load-native.js';
import type { MetaStore } from '../ts/store.js';

type DurableHandle = ReturnType<NativeBinding['durableOpen']>;

export interface NativeTestHooks {
  /** Panics in an export. */
  debugPanic(): void;
  /** Panics once off the JS thread: in the next async task's compute, or in the log's writer thread. */
  debugPanicIn(site: 'task' | 'writer'): void;
  /** The next append of this log fails as an fdatasync error would, and the log stops. */
  durableFailNext(durable: DurableHandle): void;
  /** Does nothing (the FFI floor of bench/ffi). */
  noop(): void;
}

export const TEST_HOOK_NAMES = ['debugPanic', 'debugPanicIn', 'durableFailNext', 'noop'] as const;

/** The hooks of the loaded addon; throws, saying how to build them, when it has none. */
export function testHooks(): NativeTestHooks {
  const binding = loadNative() as NativeBinding & Partial<NativeTestHooks>;
  const missing = TEST_HOOK_NAMES.filter((name) => typeof binding[name] !== 'function');
  if (missing.length > 0) {
    throw new Error(`the native addon has no ${missing.join(', ')}: the tests need the build with the test hooks (npm run build:native:test)`);
  }
  return binding as NativeBinding & NativeTestHooks;
}

/** The next append of a durable store's log fails as an fdatasync error would, and the log stops. */
export function failNextAppend(store: MetaStore): void {
  const internals = store as unknown as { writes: { log: { handle: DurableHandle } } };
  testHooks().durableFailNext(internals.writes.log.handle);
}
