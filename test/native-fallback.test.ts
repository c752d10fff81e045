// What a user sees when the native addon cannot load: `engine: 'auto'` falls back to the pure-TS
// engine and says why; `engine: 'native'` refuses. The loader napi-rs generates takes its binary
// from NAPI_RS_NATIVE_LIBRARY_PATH when set; pointing it at nothing makes the load fail. Vitest
// runs each test file in its own process, so this does not leak into other files.
import { describe, expect, it } from 'vitest';

process.env.NAPI_RS_NATIVE_LIBRARY_PATH = '/nonexistent/metastore.linux-x64-gnu.node';

const { MetaStore } = await import('../ts/store.js');
const { MetaStoreError } = await import('../ts/errors.js');

describe('when the native addon cannot load', () => {
  it("engine 'auto' opens on the pure-TS engine and exposes the load error", async () => {
    const store = await MetaStore.open();
    expect(store.engine).toBe('js');
    expect(store.nativeLoadError).toBeInstanceOf(MetaStoreError);
    expect((store.nativeLoadError as InstanceType<typeof MetaStoreError>).code).toBe('ERR_NATIVE_UNAVAILABLE');
    expect(store.nativeLoadError!.message).toMatch(/native engine could not be loaded/);
    expect((await store.put('k', 'v')).revision).toBe(2);
    expect(store.getString('k')).toBe('v');
    await store.close();
  });

  it("engine 'native' throws ERR_NATIVE_UNAVAILABLE with the cause", async () => {
    const err = await MetaStore.open({ engine: 'native' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MetaStoreError);
    expect((err as InstanceType<typeof MetaStoreError>).code).toBe('ERR_NATIVE_UNAVAILABLE');
    expect((err as Error).cause).toBeInstanceOf(Error);
  });
});
