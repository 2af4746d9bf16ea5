#!/usr/bin/env node
// tokenenv's command line, and the loader of its bundle files (dist/cli, made by
// scripts/bundle-cli.mjs). The loader is here rather than in a file of its own: requiring one
// would cost every command Node's module resolution (a stat, a realpath, and a read of
// package.json for the package's exports), 0.25 ms of a 25 ms `tokenenv discover`.
// Each bundle file is read with the V8 code cache that the build wrote beside it
// (scripts/cli/code-cache.cjs): compiling the bundle is most of a command's own start-up time,
// and with the cache V8 reads the compiled functions instead. A cache that V8 rejects (another
// Node version) or that is missing costs one failed read: the file is then compiled as `require`
// would. Files that use import() (ES-only packages) have no cache and go through require, since
// a vm.Script has no ES module loader of its own; they reach this loader through
// dist/cli/load.cjs, which re-exports it.
'use strict';
const { readFileSync } = require('node:fs');
const { Script } = require('node:vm');
const { join } = require('node:path');

const bundleDir = join(__dirname, '..', 'dist', 'cli');

/** A file's source as the function that runs it, as CommonJS has it. The cache is made from this
 * very text (code-cache.cjs takes it from here): V8 accepts a cache only for the same source. */
function wrapSource(source) {
  return `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
}

const modules = new Map();

// What the files require: each other through this loader (a dozen times each, so not through
// Node's resolution of './load.cjs'), built-ins and packages as from the package, where they are.
function requireFromBundle(id) {
  return id === './load.cjs' ? load : require(id);
}

function load(name) {
  const known = modules.get(name);
  if (known) return known.exports;
  const filename = join(bundleDir, name);
  let cachedData;
  try {
    cachedData = readFileSync(`${filename}.cache`);
  } catch {
    const exports = require(filename);
    modules.set(name, { exports });
    return exports;
  }
  // Registered before it runs, as require does, so that a cycle sees the partial exports.
  const file = { exports: {}, filename, id: filename, loaded: false };
  modules.set(name, file);
  const script = new Script(wrapSource(readFileSync(filename, 'utf8')), { filename, cachedData });
  script.runInThisContext()(file.exports, requireFromBundle, file, filename, bundleDir);
  file.loaded = true;
  return file.exports;
}

/** The bundle files loaded so far, in order (for the bundle's tests). */
load.loadedFiles = () => [...modules.keys()];
load.wrapSource = wrapSource;

module.exports = load;

if (require.main === module) load('tokenenv.cjs').runFromProcess();
