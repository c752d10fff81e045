#!/usr/bin/env node
// The install test: what `npm install @metastore/core` gives a user, checked offline.
//
//   1. pack the main package as the repository has it (`npm pack`, no scripts run);
//   2. in a temp copy of it, let the napi CLI do what the release does (create-npm-dirs,
//      artifacts, pre-publish: the platform package and the main package's
//      optionalDependencies) for the target built here, and pack both;
//   3. check both tarballs (files, no install scripts, os/cpu/libc/main of the platform package
//      against the name the generated loader requires) and the release config of every target;
//   4. native case: install both tarballs into a fresh project with the network off, check that
//      the addon is the release build (no test hooks), run the ESM and CJS smoke scripts (engine
//      must be 'native'), the CLI, and compile a TypeScript consumer in node16, nodenext (ESM and
//      CJS) and bundler resolution;
//   5. fallback case: install the main tarball alone; the smoke scripts must get the pure-TS
//      engine with the reason native did not load, and engine 'native' must throw.
//
// Needs a build (`npm run build`: the release addon in native/ and dist/; the tests' build with
// the test hooks goes to native/test-hooks/ and is not packed). Writes only under a temp dir
// (removed at the end; --keep keeps it) and leaves the repository as it found it.
//
// usage: node scripts/install-test.mjs [--keep]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const started = performance.now();
const COMMAND_TIMEOUT_MS = 180_000;

const log = (msg) => console.log(`[install-test ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}`);

class Failure extends Error {}
let passed = 0;
function check(ok, message) {
  if (!ok) throw new Failure(message);
  passed++;
}

/** Runs a command; returns { status, stdout, stderr }; throws with its output unless `allow` has the status. */
function run(cmd, args, { cwd, env, allow = [0] } = {}) {
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS, maxBuffer: 64 << 20 });
  if (r.error) throw new Failure(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (!allow.includes(r.status)) {
    throw new Failure(`${cmd} ${args.join(' ')} (in ${cwd ?? root}) exited with ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
  return r;
}

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const slashes = (path) => path.replaceAll('\\', '/');
// npm's own entry script, run by this node (no shell, no npm.cmd shim on Windows).
const npmCli = process.env.npm_execpath?.endsWith('npm-cli.js')
  ? process.env.npm_execpath
  : join(dirname(process.execPath), process.platform === 'win32' ? '' : '../lib', 'node_modules/npm/bin/npm-cli.js');
const npm = (args, options) => run(process.execPath, [npmCli, ...args], options);
/** Exports only the test build of the addon has (`npm run build:native:test`, cargo feature test-hooks). */
const TEST_HOOKS = ['debugPanic', 'debugPanicIn', 'durableFailNext', 'noop'];
const napi = join(root, 'node_modules/@napi-rs/cli/dist/cli.js');
const tsc = join(root, 'node_modules/typescript/bin/tsc');

// ---------------------------------------------------------------------------------------------
// The target built on this machine, in napi-rs names.

const RUST_TARGETS = {
  'linux-x64-gnu': 'x86_64-unknown-linux-gnu',
  'linux-arm64-gnu': 'aarch64-unknown-linux-gnu',
  'linux-x64-musl': 'x86_64-unknown-linux-musl',
  'linux-arm64-musl': 'aarch64-unknown-linux-musl',
  'darwin-x64': 'x86_64-apple-darwin',
  'darwin-arm64': 'aarch64-apple-darwin',
  'win32-x64-msvc': 'x86_64-pc-windows-msvc',
};
/** What each target's platform package must declare (npm skips it elsewhere). */
const PLATFORM_FIELDS = {
  'linux-x64-gnu': { os: ['linux'], cpu: ['x64'], libc: ['glibc'] },
  'linux-arm64-gnu': { os: ['linux'], cpu: ['arm64'], libc: ['glibc'] },
  'linux-x64-musl': { os: ['linux'], cpu: ['x64'], libc: ['musl'] },
  'linux-arm64-musl': { os: ['linux'], cpu: ['arm64'], libc: ['musl'] },
  'darwin-x64': { os: ['darwin'], cpu: ['x64'] },
  'darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  'win32-x64-msvc': { os: ['win32'], cpu: ['x64'] },
};

function hostAbi() {
  let abi = `${process.platform}-${process.arch}`;
  if (process.platform === 'linux') abi += process.report.getReport().header.glibcVersionRuntime ? '-gnu' : '-musl';
  if (process.platform === 'win32') abi += '-msvc';
  return abi;
}

// ---------------------------------------------------------------------------------------------

const pkg = readJson(join(root, 'package.json'));
const abi = hostAbi();
const binaryName = pkg.napi.binaryName;
const platformPackage = `${pkg.name}-${abi}`;
const binary = `${binaryName}.${abi}.node`;

if (!existsSync(npmCli)) {
  console.error(`install test: npm's entry script is not at ${npmCli}; run it as \`npm run test:install\``);
  process.exit(1);
}
if (!(abi in RUST_TARGETS)) {
  console.log(`install test skipped: ${abi} is not a target this package builds`);
  process.exit(0);
}
for (const file of [`native/${binary}`, 'native/index.cjs', 'dist/index.js', 'dist/index.cjs', 'dist/cjs/index.d.ts', 'dist/cli.js']) {
  if (!existsSync(join(root, file))) {
    console.error(`install test: ${file} is missing; run \`npm run build\` first`);
    process.exit(1);
  }
}

// The repository must look the same afterwards.
const packageJsonHash = createHash('sha256')
  .update(readFileSync(join(root, 'package.json')))
  .digest('hex');
const rootEntriesBefore = new Set(readdirSync(root));

const tmp = mkdtempSync(join(tmpdir(), 'metastore-install-'));
// npm without the network: an empty private cache, --offline, and a registry nobody listens on.
const npmEnv = {
  npm_config_userconfig: join(tmp, 'npmrc'),
  npm_config_cache: join(tmp, 'npm-cache'),
  npm_config_registry: 'http://127.0.0.1:9/',
  npm_config_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  npm_config_loglevel: 'warn',
};
writeFileSync(npmEnv.npm_config_userconfig, '');

let failed = false;
try {
  // 1. The main package as the repository packs it (the file list of `npm pack`).
  log(`packing ${pkg.name}@${pkg.version} (host target ${abi})`);
  const [raw] = JSON.parse(npm(['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: root, env: npmEnv }).stdout);
  const rawFiles = raw.files.map((f) => slashes(f.path));
  check(!rawFiles.some((f) => f.endsWith('.node')), `the main package ships a .node file: ${rawFiles.filter((f) => f.endsWith('.node'))}`);
  for (const f of [
    'package.json',
    'README.md',
    'dist/index.js',
    'dist/index.cjs',
    'dist/index.d.ts',
    'dist/cjs/index.d.ts',
    'dist/cjs/package.json',
    'dist/cli.js',
    'native/index.cjs',
    'native/index.d.cts',
    'proto/etcdserverpb/rpc.proto',
    'proto/mvccpb/kv.proto',
    'proto/authpb/auth.proto',
    'proto/grpc/health/v1/health.proto',
  ]) {
    check(rawFiles.includes(f), `the main package lacks ${f}`);
  }
  check(
    !rawFiles.some((f) => /^(ts|crates|test|bench|scripts|npm)\//.test(f) || f.endsWith('.map')),
    `the main package ships sources or maps: ${rawFiles.join(', ')}`,
  );

  // 2. Release staging in a temp copy, by the napi CLI, for the target built here.
  const stagePkg = join(tmp, 'stage');
  for (const f of rawFiles) {
    mkdirSync(dirname(join(stagePkg, f)), { recursive: true });
    copyFileSync(join(root, f), join(stagePkg, f));
  }
  mkdirSync(join(stagePkg, 'artifacts'));
  copyFileSync(join(root, 'native', binary), join(stagePkg, 'artifacts', binary));
  const hereConfig = join(tmp, 'napi.here.json');
  writeFileSync(hereConfig, JSON.stringify({ ...pkg.napi, targets: [RUST_TARGETS[abi]] }));
  const napiArgs = ['--cwd', stagePkg, '--config-path', hereConfig];
  log('napi create-npm-dirs / artifacts / pre-publish (staged copy, this target only)');
  run(process.execPath, [napi, 'create-npm-dirs', ...napiArgs]);
  run(process.execPath, [napi, 'artifacts', ...napiArgs, '--output-dir', join(stagePkg, 'artifacts')]);
  run(process.execPath, [napi, 'pre-publish', ...napiArgs, '--tag-style', 'npm', '--skip-optional-publish', '--no-gh-release']);

  mkdirSync(join(tmp, 'tarballs'));
  const packInto = (dir) =>
    JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', join(tmp, 'tarballs')], { cwd: dir, env: npmEnv }).stdout)[0];
  const core = packInto(stagePkg);
  const platform = packInto(join(stagePkg, 'npm', abi));
  const coreTgz = join(tmp, 'tarballs', core.filename);
  const platformTgz = join(tmp, 'tarballs', platform.filename);
  log(`packed ${core.filename} (${(core.size / 1024).toFixed(0)} KiB) and ${platform.filename} (${(platform.size / 1024).toFixed(0)} KiB)`);

  // 3. The tarballs and the release config.
  const coreJson = readJson(join(stagePkg, 'package.json'));
  const platformJson = readJson(join(stagePkg, 'npm', abi, 'package.json'));
  check(!core.files.some((f) => f.path.endsWith('.node')), 'the staged main package ships a .node file');
  check(
    coreJson.optionalDependencies?.[platformPackage] === pkg.version,
    `optionalDependencies lack ${platformPackage}@${pkg.version}: ${JSON.stringify(coreJson.optionalDependencies)}`,
  );
  for (const json of [coreJson, platformJson]) {
    for (const hook of ['preinstall', 'install', 'postinstall']) check(json.scripts?.[hook] === undefined, `${json.name} has an ${hook} script`);
  }
  check(platformJson.name === platformPackage && platformJson.version === pkg.version, `platform package is ${platformJson.name}@${platformJson.version}`);
  check(platformJson.main === binary, `platform package main is ${platformJson.main}, not ${binary}`);
  check(platform.files.map((f) => f.path).includes(binary), `platform package lacks ${binary}`);
  for (const [field, value] of Object.entries(PLATFORM_FIELDS[abi])) {
    check(
      JSON.stringify(platformJson[field]) === JSON.stringify(value),
      `platform package ${field} is ${JSON.stringify(platformJson[field])}, not ${JSON.stringify(value)}`,
    );
  }
  const loader = readFileSync(join(root, 'native/index.cjs'), 'utf8');
  check(loader.includes(`require('${platformPackage}')`), `the generated loader does not require ${platformPackage}`);
  check(loader.includes(`require('./${binary}')`), `the generated loader does not look for ./${binary}`);

  // Every configured target gets a platform package with the right os/cpu/libc.
  const release = join(tmp, 'release-config');
  mkdirSync(release);
  copyFileSync(join(root, 'package.json'), join(release, 'package.json'));
  run(process.execPath, [napi, 'create-npm-dirs', '--cwd', release]);
  const configured = pkg.napi.targets.map((t) => Object.keys(RUST_TARGETS).find((k) => RUST_TARGETS[k] === t));
  check(configured.length === 7 && !configured.includes(undefined), `unexpected napi.targets ${pkg.napi.targets}`);
  for (const target of configured) {
    const json = readJson(join(release, 'npm', target, 'package.json'));
    check(json.name === `${pkg.name}-${target}` && json.main === `${binaryName}.${target}.node`, `release package ${target}: ${json.name} / ${json.main}`);
    for (const [field, value] of Object.entries(PLATFORM_FIELDS[target])) {
      check(JSON.stringify(json[field]) === JSON.stringify(value), `release package ${target}: ${field} is ${JSON.stringify(json[field])}`);
    }
    check(loader.includes(`require('${json.name}')`), `the generated loader does not require ${json.name}`);
  }
  log(`tarballs and the release config of ${configured.length} targets check out`);

  const smokeDir = join(root, 'scripts/smoke');
  const newProject = (name) => {
    const dir = join(tmp, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name, version: '0.0.0', private: true }, null, 2)}\n`);
    for (const f of readdirSync(smokeDir)) copyFileSync(join(smokeDir, f), join(dir, f));
    return dir;
  };
  // The package's runtime dependencies (the server's: @grpc/grpc-js, @grpc/proto-loader,
  // prom-client, and theirs), packed from the lockfile's install: npm gets every one of them as a
  // tarball, so the install stays offline.
  mkdirSync(join(tmp, 'deps'));
  const depDirs = npm(['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, env: npmEnv, allow: [0, 1] })
    .stdout.split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== root);
  for (const d of depDirs) npm(['pack', '--ignore-scripts', '--pack-destination', join(tmp, 'deps')], { cwd: d, env: npmEnv });
  const depTgzs = readdirSync(join(tmp, 'deps')).map((f) => join(tmp, 'deps', f));
  log(`packed ${depTgzs.length} runtime dependency tarballs from node_modules`);
  const installOffline = (dir, tarballs) => {
    const t0 = performance.now();
    npm(['install', '--offline', '--no-audit', '--no-fund', '--registry', 'http://127.0.0.1:9', ...tarballs, ...depTgzs], { cwd: dir, env: npmEnv });
    return ((performance.now() - t0) / 1000).toFixed(1);
  };
  // The bin link npm made (on Windows a .cmd shim, so there the file it points at).
  const cli = (dir, args, allow) => {
    const bin = process.platform === 'win32' ? join(dir, 'node_modules', pkg.name, pkg.bin.metastore) : join(dir, 'node_modules/.bin/metastore');
    return run(process.execPath, [bin, ...args], { cwd: dir, allow });
  };

  // 4. Native: both tarballs.
  const app = newProject('app-native');
  log(`native case: npm install --offline ${core.filename} ${platform.filename} took ${installOffline(app, [coreTgz, platformTgz])} s`);
  const installed = join(app, 'node_modules', pkg.name);
  check(existsSync(join(app, 'node_modules', platformPackage, binary)), `${platformPackage} not installed`);
  check(!readdirSync(join(installed, 'native')).some((f) => f.endsWith('.node')), 'a .node file next to the installed loader');
  // The installed addon exports what the committed declarations declare: the release build, with
  // none of the test build's hooks (cargo feature test-hooks).
  const declared = [...readFileSync(join(root, 'native/index.d.cts'), 'utf8').matchAll(/^export declare function (\w+)/gm)].map((m) => m[1]).sort();
  const exportsOf = `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(join(app, 'node_modules', platformPackage, binary))})).sort()))`;
  const exported = JSON.parse(run(process.execPath, ['-e', exportsOf], { cwd: app }).stdout);
  const hooks = exported.filter((name) => TEST_HOOKS.includes(name));
  check(hooks.length === 0, `the packed addon has the test hooks ${hooks.join(', ')}: it must be the release build (npm run build:native)`);
  check(
    JSON.stringify(exported) === JSON.stringify(declared),
    `the packed addon exports ${exported.join(', ')}; native/index.d.cts declares ${declared.join(', ')}`,
  );
  for (const format of ['mjs', 'cjs']) process.stdout.write(run(process.execPath, [`smoke.${format}`, 'native'], { cwd: app }).stdout);
  const info = cli(app, ['info']).stdout;
  check(/engine \(auto\)\s+native/.test(info), `metastore info:\n${info}`);
  const bench = cli(app, ['bench', '--quick']);
  check(/put, one at a time/.test(bench.stdout) && /native\s+js/.test(bench.stdout), `metastore bench --quick:\n${bench.stdout}`);
  // A durable store made through the installed package, then looked at by the CLI.
  const storeDir = join(tmp, 'durable-store');
  writeFileSync(
    join(app, 'durable.mjs'),
    `import { MetaStore } from '${pkg.name}';\n` +
      `const s = await MetaStore.open({ path: process.argv[2] });\n` +
      `await s.put('k', 'v'); const r = await s.put('k', 'w'); await s.close();\n` +
      `const again = await MetaStore.open({ path: process.argv[2] });\n` +
      `if (again.getString('k') !== 'w' || again.revision !== r.revision) throw new Error('durable store lost a write');\n` +
      `await again.close(); console.log('durable store: reopened with its writes');\n`,
  );
  process.stdout.write(run(process.execPath, ['durable.mjs', storeDir], { cwd: app }).stdout);
  const inspected = cli(app, ['inspect', storeDir]).stdout;
  check(/log: 1 segment\(s\), entries 1\.\.=2/.test(inspected), `metastore inspect:\n${inspected}`);
  const verified = cli(app, ['verify', storeDir]).stdout;
  check(/ok: the store opens/.test(verified), `metastore verify:\n${verified}`);
  const notStore = cli(app, ['verify', join(tmp, 'no-store')], [1]);
  check(/not a MetaStore directory/.test(notStore.stderr), `metastore verify of a non-store: ${notStore.stderr}`);
  // The server, loaded only when used: `serve --help` from the bin, and serve() over the wire.
  check(/--listen-client-urls/.test(cli(app, ['serve', '--help']).stdout), 'metastore serve --help lists no flags');
  writeFileSync(
    join(app, 'serve.mjs'),
    `import { MetaStore, serve } from '${pkg.name}';\n` +
      `import { createRequire } from 'node:module';\n` +
      `const cache = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('@grpc/grpc-js'));\n` +
      `if (cache()) throw new Error('importing the package loaded gRPC');\n` +
      `const s = await MetaStore.open(); const server = await serve(s, { listen: 'http://127.0.0.1:0' });\n` +
      `const health = await (await fetch(server.address + '/health')).json();\n` +
      `if (health.health !== 'true' || !cache()) throw new Error('serve: ' + JSON.stringify(health));\n` +
      `await server.close(); await s.close(); console.log('serve: /health answered over ' + server.address.split(':')[0]);\n`,
  );
  process.stdout.write(run(process.execPath, ['serve.mjs'], { cwd: app }).stdout);
  log('native case: ESM + CJS smoke, engine native; CLI info, bench --quick, serve --help; serve() answering; a durable store reopened, inspect and verify');

  // The declarations, as a TypeScript user compiles against them.
  const typeRoots = [join(root, 'node_modules/@types')];
  const modes = [
    { mode: 'node16', module: 'node16', files: ['consumer.mts', 'consumer.cts'] },
    { mode: 'nodenext', module: 'nodenext', files: ['consumer.mts', 'consumer.cts'] },
    { mode: 'bundler', module: 'esnext', files: ['consumer.mts'] },
    { mode: 'node10', module: 'commonjs', files: ['consumer.cts'] },
  ];
  for (const { mode, module, files } of modes) {
    const config = join(app, `tsconfig.${mode}.json`);
    const compilerOptions = {
      module,
      moduleResolution: mode,
      target: 'es2022',
      lib: ['es2022'],
      strict: true,
      skipLibCheck: false,
      noEmit: true,
      types: ['node'],
      typeRoots,
    };
    writeFileSync(config, JSON.stringify({ compilerOptions, files }, null, 2));
    const listed = slashes(run(process.execPath, [tsc, '-p', config, '--listFiles'], { cwd: app }).stdout);
    if (files.includes('consumer.mts'))
      check(listed.includes(slashes(join(installed, 'dist/index.d.ts'))), `${mode}: the ESM consumer did not get dist/index.d.ts`);
    if (files.includes('consumer.cts'))
      check(listed.includes(slashes(join(installed, 'dist/cjs/index.d.ts'))), `${mode}: the CJS consumer did not get dist/cjs/index.d.ts`);
  }
  log(`types: tsc --noEmit (strict, skipLibCheck off) in ${modes.map((m) => m.mode).join(', ')}: ESM and CJS consumers compile`);

  // 5. Fallback: the main tarball alone.
  const alone = newProject('app-fallback');
  log(`fallback case: npm install --offline ${core.filename} took ${installOffline(alone, [coreTgz])} s`);
  check(!existsSync(join(alone, 'node_modules', platformPackage)), `${platformPackage} got installed`);
  for (const format of ['mjs', 'cjs']) process.stdout.write(run(process.execPath, [`smoke.${format}`, 'js'], { cwd: alone }).stdout);
  const fallbackInfo = cli(alone, ['info']).stdout;
  check(/engine \(auto\)\s+js/.test(fallbackInfo) && fallbackInfo.includes(`${platformPackage} is not installed`), `metastore info:\n${fallbackInfo}`);
  const noAddon = cli(alone, ['verify', join(tmp, 'durable-store')], [2]);
  check(/need the native addon/.test(noAddon.stderr), `metastore verify without the addon: ${noAddon.stderr}`);
  writeFileSync(
    join(alone, 'durable.mjs'),
    `import { MetaStore } from '${pkg.name}';\n` +
      `try { await MetaStore.open({ path: process.argv[2] }); console.log('opened'); } catch (e) { console.log(e.code); }\n`,
  );
  const refused = run(process.execPath, ['durable.mjs', join(tmp, 'fallback-store')], { cwd: alone }).stdout.trim();
  check(refused === 'ERR_NATIVE_UNAVAILABLE', `a durable store without the addon: ${refused}`);
  log(
    "fallback case: ESM + CJS smoke on the pure-TS engine with the reason; engine 'native' throws ERR_NATIVE_UNAVAILABLE; durable mode and the durable CLI refuse",
  );
} catch (e) {
  failed = true;
  console.error(e instanceof Failure ? `install test FAILED: ${e.message}` : e);
} finally {
  if (keep) log(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}

// Nothing left behind in the repository.
const leftovers = readdirSync(root).filter((f) => !rootEntriesBefore.has(f));
const hashAfter = createHash('sha256')
  .update(readFileSync(join(root, 'package.json')))
  .digest('hex');
if (leftovers.length > 0 || hashAfter !== packageJsonHash) {
  failed = true;
  console.error(
    `install test FAILED: the repository changed: new ${leftovers.join(', ') || '(none)'}; package.json ${hashAfter === packageJsonHash ? 'same' : 'edited'}`,
  );
}
log(failed ? 'FAILED' : 'passed');
console.log(`install-test: ${passed} passed, ${failed ? 1 : 0} failed`);
process.exit(failed ? 1 : 0);
