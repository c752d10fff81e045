#!/usr/bin/env node
// Builds the TypeScript into the package's two module formats:
//
//   dist/*.js, dist/*.d.ts          ESM, by tsc (the package is "type": "module"); also the CLI
//   dist/index.cjs                  CJS, one esbuild bundle of ts/index.ts
//   dist/cjs/*.d.ts                 the same declarations, under dist/cjs/package.json
//                                   {"type": "commonjs"} so TypeScript reads them as CJS
//
// The source uses `import.meta.url` in one place (ts/load-native.ts, to find the native loader);
// the CJS bundle defines it as the bundle's own file URL, the way tsup's shims do. dist/index.js
// and dist/index.cjs sit at the same depth as ts/, so the relative path to ../native/index.cjs is
// the same in the source and in both outputs.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const started = performance.now();

rmSync(dist, { recursive: true, force: true });

// 1. ESM + declarations (tsconfig.build.json: strict, rootDir ts, outDir dist).
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
chmodSync(join(dist, 'cli.js'), 0o755);

// 2. CJS: a real CommonJS module (require() returns the exports object, named exports are
//    visible to cjs-module-lexer), not a wrapper around the ESM build.
await build({
  absWorkingDir: root,
  entryPoints: ['ts/index.ts'],
  outfile: 'dist/index.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The napi-rs loader stays a separate file: it is required at run time, by path. The
  // server's dependencies stay packages (required only when `serve` is first called).
  external: ['../native/index.cjs', '@grpc/grpc-js', '@grpc/proto-loader', 'prom-client'],
  define: { 'import.meta.url': '__metastoreModuleUrl' },
  banner: { js: '"use strict";\nconst __metastoreModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  legalComments: 'none',
  logLevel: 'warning',
});

// 3. CJS declarations: the tsc declarations, read as CommonJS.
const cjsTypes = join(dist, 'cjs');
mkdirSync(cjsTypes, { recursive: true });
const declarations = [];
(function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (path !== cjsTypes) walk(path);
    } else if (entry.name.endsWith('.d.ts') && entry.name !== 'cli.d.ts') {
      declarations.push(relative(dist, path));
    }
  }
})(dist);
for (const file of declarations) cpSync(join(dist, file), join(cjsTypes, file));
writeFileSync(join(cjsTypes, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);

console.log(`built dist/ (ESM, CJS, ${declarations.length} declaration files ×2) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
