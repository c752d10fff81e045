// A Rust panic inside the addon becomes a typed JS error; the process and the store live on.
import { describe, expect, it } from 'vitest';
import { translateNativeError } from '../ts/native-engine.js';
import { MetaStore } from '../ts/store.js';
import { testHooks } from './native-hooks.js';

describe('native panics', () => {
  it('reach JS as ERR_INTERNAL and leave the process and other stores working', async () => {
    const store = await MetaStore.open({ engine: 'native' });
    await store.put('k', 'v');
    let caught: unknown;
    try {
      testHooks().debugPanic();
    } catch (e) {
      caught = translateNativeError(e);
    }
    expect(caught).toMatchObject({ code: 'ERR_INTERNAL' });
    expect((caught as Error).message).toMatch(/deliberate panic/);
    expect(store.getString('k')).toBe('v');
    expect((await store.put('k', 'w')).revision).toBe(3);
    await store.close();
  });
});
