// CJS smoke run of the installed package: `node smoke.cjs native|js` (scripts/install-test.mjs).
'use strict';
const api = require('@metastore/core');
const { runSmoke } = require('./steps.cjs');

const resolved = require.resolve('@metastore/core');
if (!/[\\/]node_modules[\\/]@metastore[\\/]core[\\/]dist[\\/]index\.cjs$/.test(resolved)) {
  throw new Error(`require resolved to ${resolved}, not the installed CJS build`);
}
runSmoke(api, { expected: process.argv[2], format: 'cjs' }).catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
