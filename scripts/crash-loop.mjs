#!/usr/bin/env node
// Long crash run on demand: node scripts/crash-loop.mjs [--kills 1000] [--seed N] [--writers 16] [--path DIR]
// Needs a build (npm run build). Exits non-zero on the first lost acknowledged write.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { crashLoop, STORE_OPTIONS } from '../test/crash/crash-loop.mjs';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '1000' },
    seed: { type: 'string', default: String(Date.now() % 1e9) },
    writers: { type: 'string', default: '16' },
    path: { type: 'string' },
  },
});
const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const { MetaStore } = await import(entry);
const own = values.path === undefined;
const dir = own ? mkdtempSync(join(tmpdir(), 'metastore-crash-')) : values.path;
const started = Date.now();
try {
  const totals = await crashLoop({
    entry,
    path: join(dir, 'store'),
    open: (path) => MetaStore.open({ path, ...STORE_OPTIONS }),
    kills: Number(values.kills),
    seed: Number(values.seed),
    writers: Number(values.writers),
    log: (line) => process.stdout.write(line + '\n'),
  });
  console.log(
    `ok: ${totals.kills} kills, ${totals.acked} acknowledged writes checked, final revision ${totals.maxRevision}, seed ${values.seed}, ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
} finally {
  if (own) rmSync(dir, { recursive: true, force: true });
}
