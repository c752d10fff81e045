/**
 * Loads the native addon through the loader napi-rs generates (native/index.cjs). The loader
 * looks for `native/metastore.<platform>.node` beside itself (a build from source), then for the
 * platform package `@metastore/core-<platform>` that npm installs as an optional dependency.
 *
 * This file is built twice: to ESM by tsc (dist/load-native.js) and into the CJS bundle by esbuild
 * (dist/index.cjs), where `import.meta.url` is defined as the bundle's own file URL
 * (scripts/build-ts.mjs). The source and both outputs sit one directory below the package root,
 * so `../native/index.cjs` is the loader in all three.
 */

import { createRequire } from 'node:module';
import type * as Binding from '../native/index.cjs';

export type NativeBinding = typeof Binding;

/** The package scope the platform packages are published under. */
const PACKAGE_NAME = '@metastore/core';

/** The `platformArchABI`s prebuilt binaries are published for (package.json `napi.targets`). */
export const PREBUILT_PLATFORMS: readonly string[] = [
  'linux-x64-gnu',
  'linux-arm64-gnu',
  'linux-x64-musl',
  'linux-arm64-musl',
  'darwin-x64',
  'darwin-arm64',
  'win32-x64-msvc',
];

const LOADER = '../native/index.cjs';

let cached: { binding?: NativeBinding; error?: Error } | undefined;

function isMusl(): boolean {
  // The same signal the generated loader prefers: glibc reports its runtime version.
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime === undefined;
}

/**
 * This process's napi-rs `platformArchABI` (e.g. `linux-x64-gnu`, `darwin-arm64`,
 * `win32-x64-msvc`) and the name of the platform package that carries its binary.
 */
export function nativePlatform(): { platform: string; packageName: string; prebuilt: boolean } {
  let platform = `${process.platform}-${process.arch}`;
  if (process.platform === 'linux') platform += isMusl() ? '-musl' : '-gnu';
  else if (process.platform === 'win32') platform += '-msvc';
  return { platform, packageName: `${PACKAGE_NAME}-${platform}`, prebuilt: PREBUILT_PLATFORMS.includes(platform) };
}

function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n', 1)[0]!;
}

/** Says in one sentence why the loader found no binary, with what to do about it. */
function explain(loaderError: unknown, require: NodeJS.Require): string {
  const override = process.env.NAPI_RS_NATIVE_LIBRARY_PATH;
  if (override) {
    // The loader chains one error per candidate, the first one deepest: here, the override's.
    let first: unknown = loaderError;
    while (first instanceof Error && first.cause instanceof Error) first = first.cause;
    return `NAPI_RS_NATIVE_LIBRARY_PATH=${override} could not be loaded (${firstLine(first)})`;
  }
  const { platform, packageName, prebuilt } = nativePlatform();
  if (!prebuilt) {
    return (
      `no prebuilt binary is published for ${platform} (there are for ${PREBUILT_PLATFORMS.join(', ')}); ` +
      `build it from source (README, "Building from source") or use the pure-TS engine`
    );
  }
  let installed = false;
  try {
    // Resolved from the loader's directory, as the loader itself resolves it.
    require.resolve(`${packageName}/package.json`);
    installed = true;
  } catch {
    // not installed
  }
  if (installed) {
    let why: unknown = loaderError;
    try {
      require(packageName); // again, for its own error (a missing glibc symbol, a corrupt file, …)
    } catch (e) {
      why = e;
    }
    return `${packageName} is installed but its binary failed to load (${firstLine(why)})`;
  }
  return (
    `the platform package ${packageName} is not installed; it is an optional dependency, so ` +
    `reinstall without --omit=optional / --no-optional, on this platform (a lockfile or node_modules ` +
    `made on another OS or CPU lacks it)`
  );
}

/**
 * The native binding, loaded once. Throws the load error (kept for later calls) when no binary
 * for this platform could be loaded; its message says why, its `cause` is the loader's error.
 */
export function loadNative(): NativeBinding {
  if (cached === undefined) {
    const nativeRequire = createRequire(import.meta.url);
    try {
      cached = { binding: nativeRequire(LOADER) as NativeBinding };
    } catch (e) {
      let why: string;
      try {
        why = explain(e, createRequire(nativeRequire.resolve(LOADER)));
      } catch {
        why = firstLine(e);
      }
      cached = { error: new Error(why, { cause: e }) };
    }
  }
  if (cached.error) throw cached.error;
  return cached.binding!;
}
