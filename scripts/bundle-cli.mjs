// Bundles the CLI into CommonJS files. Start-up time is the product here (`$(tokenenv discover)`
// runs in scripts, prompts and shell wrappers; `inspect`, `status` and the wrappers' slow path are
// typed or waited for): a CJS file loads in a fraction of the time of a dozen ES modules, and a
// command should parse only the code it runs.
// - dist/cli/tokenenv.cjs: the dispatcher, `--help` and `discover`, with the modules they need;
// - dist/cli/chunk-*.cjs: everything else, split at the code's own import() calls (one per
//   command in lib/cli/commands/index.ts, plus lazy imports such as jose in verify.ts): a module
//   goes into the chunk of the set of import() targets that need it, so a command loads the chunks
//   of its own modules and nothing else. No module is copied twice (one copy of each class, so
//   `instanceof` holds): a file takes the modules of other files from them, through the table of
//   module namespaces that each file exports (TOKENENV_MODULES). A chunk then joins a larger one
//   that all of its targets load anyway when the file load saved outweighs the bytes added.
// Chunks depend on chunks of larger sets only (a module needed by a set of targets needs its own
// imports for the same targets at least), so they never load each other in a cycle.
// The library (dist/lib) stays the plain tsc output. Runtime dependencies stay external, except
// the ones bundled below.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
// Bundled, so that a command reads one file instead of a package's dozen: jose (inspect --verify,
// demo), env-paths, and proper-lockfile (setup's config lock) with plain fs for graceful-fs, whose
// patching of fs costs milliseconds at each start for the few calls a lock makes, and a two-line
// `assert` for signal-exit's one call (scripts/cli/assert-shim.cjs).
const bundled = new Set(['jose', 'env-paths', 'proper-lockfile']);
const MAIN = 'lib/cli/main.ts';
const outdir = resolve(root, 'dist/cli');

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  absWorkingDir: root,
  external: [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies ?? {})].filter((name) => !bundled.has(name)),
  define: { TOKENENV_VERSION: JSON.stringify(pkg.version) },
  alias: { 'graceful-fs': 'node:fs', assert: './scripts/cli/assert-shim.cjs' },
  logLevel: 'warning',
  // main.ts reads package.json through import.meta only outside the bundle.
  logOverride: { 'empty-import-meta': 'silent' },
  // Less to parse at every start; identifiers stay, so stack traces still read.
  minifyWhitespace: true,
  minifySyntax: true,
};

// import() of a built-in (node:http for the first request, node:https, node:crypto) becomes a
// lazy require(): an import() would start Node's ES module loader, at a cost of milliseconds. It
// goes through a one-line module that re-exports the built-in, which esbuild bundles, runs on
// first use and keeps: a CommonJS one would be copied into a new object (__toESM) at every
// import(), i.e. at every request of a watcher. ES-only packages (execa, oidc-provider) keep
// their import().
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, namespace: 'lazy-builtin' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({ contents: `export * from ${JSON.stringify(args.path)};`, loader: 'js' }));
  },
};

// env-paths takes node:path, node:os and node:process as default imports, which esbuild would
// serve by copying each built-in's every property into a new object (__toESM) at every start
// (0.6 ms of each command that reads the config): an ES module whose default is the built-in
// itself costs nothing. Its node:os is scripts/cli/env-paths-os.mjs (node:os costs 0.2 ms to load).
const builtinDefaults = {
  name: 'builtin-defaults',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => (args.kind === 'import-statement' && /[\\/]node_modules[\\/]env-paths[\\/]/.test(args.importer)
      ? { path: args.path, namespace: 'builtin-default' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'builtin-default' }, (args) => (args.path === 'node:os'
      ? { contents: readFileSync(resolve(root, 'scripts/cli/env-paths-os.mjs'), 'utf8'), loader: 'js' }
      : { contents: `export default require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

// 1. The import graph: lib's modules and the bundled packages (each one node), static and lazy edges.
const probe = await build({ ...common, entryPoints: [MAIN], write: false, metafile: true, external: [...common.external, ...bundled] });
const graph = new Map(); // node -> { static: Set, lazy: Set }
for (const [file, input] of Object.entries(probe.metafile.inputs)) {
  if (!file.startsWith('lib/')) continue;
  const edges = { static: new Set(), lazy: new Set() };
  for (const i of input.imports) {
    const node = i.external ? (bundled.has(i.path) ? i.path : undefined) : i.path;
    if (node) edges[i.kind === 'dynamic-import' ? 'lazy' : 'static'].add(node);
  }
  graph.set(file, edges);
}
for (const name of bundled) if (!graph.has(name)) graph.set(name, { static: new Set(), lazy: new Set() });

/** What `start` imports, directly or not: through static imports, or through `kinds` of edges. */
function closure(start, kinds = ['static']) {
  const seen = new Set([start]);
  for (const node of seen) for (const kind of kinds) for (const next of graph.get(node)?.[kind] ?? []) seen.add(next);
  return seen;
}

// 2. Which file holds each module: the main bundle what main.ts needs at once; every other
// module the chunk of the set of lazy targets whose static closure holds it.
const inMain = closure(MAIN);
const targets = [...new Set([...graph.values()].flatMap((e) => [...e.lazy]))].filter((t) => !inMain.has(t)).sort();
const closures = new Map(targets.map((t) => [t, closure(t)]));
const byKey = new Map();
for (const node of [...graph.keys()].sort()) {
  if (inMain.has(node)) continue;
  const key = targets.filter((t) => closures.get(t).has(node)).join('|');
  if (!key) continue; // not reachable from the CLI
  if (!byKey.has(key)) byKey.set(key, []);
  byKey.get(key).push(node);
}
// A chunk under SMALL bytes of source whose modules import only what the main bundle holds goes
// into the main bundle: a file costs ~0.15 ms to load whatever its size, 2 KB more in the main
// file ~0.05 ms (fnv, random, private-dir, owner: each needed by refresh, status and the watcher).
const SMALL = 2048;
for (let merged = true; merged;) {
  merged = false;
  for (const [key, modules] of byKey) {
    const bytes = modules.reduce((sum, m) => sum + (probe.metafile.inputs[m]?.bytes ?? Infinity), 0);
    if (bytes >= SMALL || !modules.every((m) => [...graph.get(m).static].every((n) => inMain.has(n) || modules.includes(n)))) continue;
    for (const m of modules) inMain.add(m);
    byKey.delete(key);
    merged = true;
  }
}
// A chunk joins a chunk that all of its lazy targets load anyway (the smallest one whose set of
// targets holds theirs) when the file load this saves each command that loads it (~0.12 ms)
// outweighs what its code costs the host's other commands (~0.012 ms per KB, read and
// deserialised). The merge that gains most goes first, until none gains: the trust checks,
// freshness, the refresh core, the atomic writer and the watcher's pid file join the config's
// chunk, and `status` loads three files instead of six, `refresh` seven instead of twelve. The
// merged chunk may load only what its host may (the main bundle or chunks of larger sets), so that
// no two chunks load each other.
const FILE_MS = 0.12;
const KB_MS = 0.012;
const probeOutput = Object.values(probe.metafile.outputs)[0];
// The probe leaves the bundled packages out: their sizes come from a build of each alone.
const packageBuild = await build({ ...common, entryPoints: Object.fromEntries([...bundled].map((p) => [p, p])), write: false, metafile: true, outdir: resolve(root, 'dist/.packages') });
const packageBytes = new Map(Object.entries(packageBuild.metafile.outputs).map(([file, output]) => [file.replace(/^.*\/|\.js$/g, ''), output.bytes]));
const kilobytes = (modules) => modules.reduce((sum, m) => sum + (probeOutput.inputs[m]?.bytesInOutput ?? packageBytes.get(m)), 0) / 1024;
// A file with an import() of an ES-only package goes through require, without a code cache (see
// bin/tokenenv.cjs): such modules stay apart from the others.
const importsPackage = (m) => (probe.metafile.inputs[m]?.imports ?? []).some((i) => i.kind === 'dynamic-import' && i.external && !i.path.startsWith('node:') && !bundled.has(i.path));
const uncached = (modules) => modules.some(importsPackage);
const targetsOf = (key) => new Set(key.split('|'));
const holds = (outer, inner) => [...inner].every((t) => outer.has(t));
// Who pays for a chunk: the commands that may load it, through any chain of imports (a source or
// the atomic writer, lazy targets of their own, only ever load after the command's config).
const commands = [...graph.get('lib/cli/commands/index.ts').lazy, 'lib/cli/commands/discover.ts'];
const reachOf = new Map(commands.map((command) => [command, closure(command, ['static', 'lazy'])]));
const commandsOf = (key) => commands.filter((command) => [...targetsOf(key)].some((t) => reachOf.get(command).has(t))).length;
function bestMerge() {
  const keyOf = new Map([...byKey].flatMap(([key, modules]) => modules.map((m) => [m, key])));
  let best;
  for (const [key, modules] of byKey) {
    const own = targetsOf(key);
    const mayLoad = (host, node) => inMain.has(node) || modules.includes(node) || byKey.get(host).includes(node) || holds(targetsOf(keyOf.get(node) ?? ''), targetsOf(host));
    const host = [...byKey.keys()]
      .filter((k) => k !== key && holds(targetsOf(k), own) && uncached(byKey.get(k)) === uncached(modules))
      .filter((k) => modules.every((m) => [...graph.get(m).static].every((n) => mayLoad(k, n))))
      .sort((a, b) => targetsOf(a).size - targetsOf(b).size)[0];
    if (!host) continue;
    const gain = commandsOf(key) * FILE_MS - (commandsOf(host) - commandsOf(key)) * kilobytes(modules) * KB_MS;
    if (gain > (best?.gain ?? 0)) best = { key, host, gain };
  }
  return best;
}
for (let merge = bestMerge(); merge; merge = bestMerge()) {
  byKey.get(merge.host).push(...byKey.get(merge.key));
  byKey.delete(merge.key);
}
const files = new Map([['tokenenv.cjs', [...inMain].filter((n) => graph.has(n)).sort()]]);
for (const modules of byKey.values()) {
  const base = modules.find((m) => targets.includes(m)) ?? modules.find((m) => !bundled.has(m)) ?? modules[0];
  const name = `chunk-${base.replace(/^lib\//, '').replace(/\.ts$/, '').replace(/[^A-Za-z0-9]+/g, '-')}.cjs`;
  files.set(name, modules);
}
const fileOf = new Map([...files].flatMap(([file, modules]) => modules.map((m) => [m, file])));

// The names each of lib's modules exports, so that a link to it is an ES module with those
// names: importing a CommonJS link, esbuild would copy the whole namespace into a new object of
// getters (__toESM) in every file that imports it, at every start (about 1 ms of a refresh).
// A link reads each binding once, when its file loads: so lib exports no let or var.
const exported = await build({ absWorkingDir: root, logLevel: 'warning', bundle: false, entryPoints: [...graph.keys()].filter((n) => n.startsWith('lib/')), write: false, metafile: true, format: 'esm', outdir: resolve(root, 'dist/.exports') });
const exportsOf = new Map(Object.values(exported.metafile.outputs).filter((o) => o.entryPoint).map((o) => [o.entryPoint, o.exports]));
for (const file of exportsOf.keys()) {
  const line = readFileSync(resolve(root, file), 'utf8').split('\n').findIndex((l) => /^export\s+(let|var)\b/.test(l));
  if (line >= 0) throw new Error(`bundle-cli: ${file}:${line + 1} exports a let or var, which the CLI's links would read only once: export a const or a function`);
}

// 3. Each file: its own modules bundled, any other module taken from the file that holds it.
function links(own) {
  return {
    name: 'tokenenv-links',
    setup(b) {
      const elsewhere = (node) => (fileOf.has(node) && fileOf.get(node) !== own ? { path: node, namespace: 'tokenenv-link' } : undefined);
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.namespace !== 'file') return undefined;
        return elsewhere(relative(root, resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'))));
      });
      b.onResolve({ filter: new RegExp(`^(${[...bundled].join('|')})$`) }, (args) => (args.namespace === 'file' ? elsewhere(args.path) : undefined));
      b.onLoad({ filter: /.*/, namespace: 'tokenenv-link' }, (args) => {
        const namespace = `require('./load.cjs')('${fileOf.get(args.path)}').TOKENENV_MODULES[${JSON.stringify(args.path)}]`;
        const names = exportsOf.get(args.path);
        // A package's namespace (a default export among others) stays as esbuild imports CommonJS.
        const contents = names
          ? `const m = ${namespace};\n${names.map((n) => `export const ${n} = m.${n};`).join('\n')}`
          : `module.exports = ${namespace};`;
        return { contents, loader: 'js', resolveDir: root };
      });
      b.onResolve({ filter: /^\.\/load\.cjs$/ }, (args) => ({ path: args.path, external: true }));
    },
  };
}

mkdirSync(outdir, { recursive: true });
for (const stale of readdirSync(outdir, { withFileTypes: true }).filter((e) => /^(chunk-.*|commands)\.cjs$|\.cache$/.test(e.name))) rmSync(resolve(outdir, stale.name));
await Promise.all([...files].map(([file, modules]) => {
  const spec = (m) => (bundled.has(m) ? m : `./${m}`);
  const entry = [
    ...(file === 'tokenenv.cjs' ? [`export * from './${MAIN}';`] : []),
    ...modules.map((m, i) => `import * as m${i} from ${JSON.stringify(spec(m))};`),
    `export const TOKENENV_MODULES = { ${modules.map((m, i) => `${JSON.stringify(m)}: m${i}`).join(', ')} };`,
  ].join('\n');
  return build({
    ...common,
    stdin: { contents: entry, resolveDir: root, sourcefile: `${file}.ts`, loader: 'ts' },
    outfile: resolve(outdir, file),
    plugins: [links(file), lazyBuiltins, builtinDefaults],
  });
}));

// 4. The loader that every file goes through is bin/tokenenv.cjs; a file that Node loads with
// require (one with import(), see there) reaches it as './load.cjs'. Then the code cache that the
// loader reads, made by a Node started with no options of its own (see code-cache.cjs).
writeFileSync(resolve(outdir, 'load.cjs'), "// The CLI's loader, for the bundle files that Node loads with require.\n'use strict';\nmodule.exports = require('../../bin/tokenenv.cjs');\n");
const cached = [...files.keys()].map((file) => resolve(outdir, file)).filter((file) => !readFileSync(file, 'utf8').includes('import('));
const cache = spawnSync(process.execPath, [resolve(root, 'scripts/cli/code-cache.cjs'), ...cached], { stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: '' } });
if (cache.status !== 0) throw new Error(`bundle-cli: the code cache was not written (exit ${cache.status})`);
