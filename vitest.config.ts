import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { nativePlatform } from './ts/load-native.js';

// The tests load the addon built with the cargo feature `test-hooks` (`npm run build:native:test`,
// into native/test-hooks/), not the release build in native/ that is published: only the former
// has the exports the tests drive (debugPanic, debugPanicIn, durableFailNext, noop). The loader
// napi-rs generates takes its binary from NAPI_RS_NATIVE_LIBRARY_PATH; child processes the tests
// start inherit it.
const root = fileURLToPath(new URL('.', import.meta.url));
const testAddon = join(root, 'native/test-hooks', `metastore.${nativePlatform().platform}.node`);

/** The newest modification time of the Rust sources the addon is built from. */
function newestRustSource(): number {
  let newest = 0;
  const note = (path: string) => (newest = Math.max(newest, statSync(path).mtimeMs));
  for (const f of ['Cargo.toml', 'Cargo.lock']) note(join(root, f));
  for (const crate of readdirSync(join(root, 'crates'))) {
    const dir = join(root, 'crates', crate);
    for (const f of ['Cargo.toml', 'build.rs']) if (existsSync(join(dir, f))) note(join(dir, f));
    for (const f of readdirSync(join(dir, 'src'), { recursive: true, encoding: 'utf8' })) note(join(dir, 'src', f));
  }
  return newest;
}

if (!existsSync(testAddon)) {
  throw new Error(`the tests need the addon with the test hooks: run \`npm run build:native:test\` (${testAddon} is missing)`);
}
if (statSync(testAddon).mtimeMs < newestRustSource()) {
  throw new Error(`the addon with the test hooks is older than the Rust sources: run \`npm run build:native:test\``);
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    env: { NAPI_RS_NATIVE_LIBRARY_PATH: testAddon },
  },
});
