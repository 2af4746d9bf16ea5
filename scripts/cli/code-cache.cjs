// Writes the V8 code cache of each dist/cli file that the loader (bin/tokenenv.cjs) loads through a
// vm.Script: `node scripts/cli/code-cache.cjs FILE...`, run by scripts/bundle-cli.mjs in a Node of
// its own with no options (V8 rejects a cache made under other flags).
// Each file is compiled with every function compiled eagerly, so the cache holds the functions a
// command calls and not only the top level; lazy compilation is switched back on before the cache
// is written, so that its flag hash is that of a plain `node`.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { setFlagsFromString } = require('node:v8');
const { Script } = require('node:vm');
const { wrapSource } = require('../../bin/tokenenv.cjs');

for (const filename of process.argv.slice(2)) {
  setFlagsFromString('--no-lazy');
  const script = new Script(wrapSource(readFileSync(filename, 'utf8')), { filename });
  setFlagsFromString('--lazy');
  writeFileSync(`${filename}.cache`, script.createCachedData());
}
