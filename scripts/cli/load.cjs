// dist/cli/load.cjs: loads the CLI's bundle files (scripts/bundle-cli.mjs) with the V8 code cache
// that the build wrote beside each one (scripts/cli/code-cache.cjs). Compiling the bundle is most of
// a command's own start-up time; with the cache, V8 reads the compiled functions instead.
// A cache that V8 rejects (another Node version) or that is missing costs one failed read: the
// file is then compiled as `require` would. Files that use import() (ES-only packages) have no
// cache and go through require, since a vm.Script has no ES module loader of its own.
'use strict';
const { readFileSync } = require('node:fs');
const { Script } = require('node:vm');
const { join } = require('node:path');

/** A file's source as the function that runs it, as CommonJS has it. The cache is made from this
 * very text (code-cache.cjs takes it from here): V8 accepts a cache only for the same source. */
function wrapSource(source) {
  return `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
}

const modules = new Map();

// What the files require: each other through this loader (a dozen times each, so not through
// Node's resolution of './load.cjs'), built-ins and packages as from this directory, where they are.
function requireFromBundle(id) {
  return id === './load.cjs' ? load : require(id);
}

function load(name) {
  const known = modules.get(name);
  if (known) return known.exports;
  const filename = join(__dirname, name);
  let cachedData;
  try {
    cachedData = readFileSync(`${filename}.cache`);
  } catch {
    const exports = require(filename);
    modules.set(name, { exports });
    return exports;
  }
  // Registered before it runs, as require does, so that a cycle sees the partial exports.
  const module = { exports: {}, filename, id: filename, loaded: false };
  modules.set(name, module);
  const script = new Script(wrapSource(readFileSync(filename, 'utf8')), { filename, cachedData });
  script.runInThisContext()(module.exports, requireFromBundle, module, filename, __dirname);
  module.loaded = true;
  return module.exports;
}

/** The bundle files loaded so far, in order (for the bundle's tests). */
load.loadedFiles = () => [...modules.keys()];
load.wrapSource = wrapSource;

module.exports = load;
