// ESM smoke run of the installed package: `node smoke.mjs native|js` (scripts/install-test.mjs).
import { fileURLToPath } from 'node:url';
import * as api from '@metastore/core';
import smoke from './steps.cjs';

const resolved = fileURLToPath(import.meta.resolve('@metastore/core'));
if (!/[\\/]node_modules[\\/]@metastore[\\/]core[\\/]dist[\\/]index\.js$/.test(resolved)) {
  throw new Error(`import resolved to ${resolved}, not the installed ESM build`);
}
await smoke.runSmoke(api, { expected: process.argv[2], format: 'esm' });
