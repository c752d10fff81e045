// The load error says why in one line and keeps the loader's error as its cause. Vitest runs each
// test file in its own process, so the override below does not leak into other files.
import { describe, expect, it } from 'vitest';

process.env.NAPI_RS_NATIVE_LIBRARY_PATH = '/nonexistent/metastore.node';

const { loadNative } = await import('../../ts/load-native.js');
const { MetaStore } = await import('../../ts/store.js');

describe('a native load failure', () => {
  it('names what failed to load, with the loader error as cause, and is kept for later calls', () => {
    let first: unknown;
    try {
      loadNative();
    } catch (e) {
      first = e;
    }
    expect(first).toBeInstanceOf(Error);
    expect((first as Error).message).toMatch(/^NAPI_RS_NATIVE_LIBRARY_PATH=\/nonexistent\/metastore\.node could not be loaded \(Cannot find module/);
    expect((first as Error).cause).toBeInstanceOf(Error);
    expect(() => loadNative()).toThrow(first as Error);
  });

  it("reaches the store as nativeLoadError (engine 'auto') and as the error of engine 'native'", async () => {
    const store = await MetaStore.open();
    expect(store.engine).toBe('js');
    expect(store.nativeLoadError?.message).toMatch(/^the native engine could not be loaded: NAPI_RS_NATIVE_LIBRARY_PATH=/);
    await store.close();
    await expect(MetaStore.open({ engine: 'native' })).rejects.toMatchObject({ code: 'ERR_NATIVE_UNAVAILABLE' });
  });
});
