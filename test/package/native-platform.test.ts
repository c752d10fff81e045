// The platform names the loader's error messages use must be the ones the release publishes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nativePlatform, PREBUILT_PLATFORMS } from '../../ts/load-native.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  name: string;
  napi: { binaryName: string; targets: string[] };
};
const loader = readFileSync(new URL('../../native/index.cjs', import.meta.url), 'utf8');

// napi-rs's names for the Rust target triples in package.json.
const ABI: Record<string, string> = {
  'x86_64-unknown-linux-gnu': 'linux-x64-gnu',
  'aarch64-unknown-linux-gnu': 'linux-arm64-gnu',
  'x86_64-unknown-linux-musl': 'linux-x64-musl',
  'aarch64-unknown-linux-musl': 'linux-arm64-musl',
  'x86_64-apple-darwin': 'darwin-x64',
  'aarch64-apple-darwin': 'darwin-arm64',
  'x86_64-pc-windows-msvc': 'win32-x64-msvc',
};

describe('native platforms', () => {
  it('PREBUILT_PLATFORMS is package.json napi.targets', () => {
    expect(pkg.napi.targets.map((t) => ABI[t])).toEqual(PREBUILT_PLATFORMS);
  });

  it('the generated loader requires every platform package by the name the messages give', () => {
    for (const platform of PREBUILT_PLATFORMS) {
      expect(loader).toContain(`require('${pkg.name}-${platform}')`);
      expect(loader).toContain(`require('./${pkg.napi.binaryName}.${platform}.node')`);
    }
  });

  it("this process's platform and package name", () => {
    const { platform, packageName, prebuilt } = nativePlatform();
    expect(platform.startsWith(`${process.platform}-${process.arch}`)).toBe(true);
    expect(packageName).toBe(`${pkg.name}-${platform}`);
    expect(prebuilt).toBe(PREBUILT_PLATFORMS.includes(platform));
  });
});
