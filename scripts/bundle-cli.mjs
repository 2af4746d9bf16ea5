// Bundles the CLI into two CommonJS files. Start-up time is the product here (`$(tokenenv
// discover)` runs in scripts, prompts and shell wrappers): one CJS file loads in a fraction of the
// time of a dozen ES modules.
// - dist/cli/tokenenv.cjs: the dispatcher, `--help` and `discover`, with the modules they need;
// - dist/cli/commands.cjs: every other command (lib/cli/commands/index.ts), loaded only when one
//   runs. It does not copy the modules of the first bundle: it takes them from it (one copy of
//   each class, so `instanceof` holds), through a table of module namespaces that the first
//   bundle exports.
// The library (dist/lib) stays the plain tsc output. Runtime dependencies stay external, except
// the small ones on fast paths.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const bundled = new Set(['jose', 'env-paths']);

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  absWorkingDir: root,
  external: [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies ?? {})].filter((name) => !bundled.has(name)),
  define: { TOKENENV_VERSION: JSON.stringify(pkg.version) },
  logLevel: 'warning',
  // main.ts reads package.json through import.meta only outside the bundle.
  logOverride: { 'empty-import-meta': 'silent' },
  // Less to parse at every start; identifiers stay, so stack traces still read.
  minifyWhitespace: true,
  minifySyntax: true,
};

// main.ts falls back to import('./commands/index.js') outside the bundle: never bundle that here.
const commandsElsewhere = {
  name: 'commands-elsewhere',
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\/index\.js$/ }, () => ({ path: './commands.cjs', external: true }));
  },
};

// 1. Which of lib's modules the main bundle holds.
const probe = await build({ ...common, entryPoints: ['lib/cli/main.ts'], write: false, metafile: true, plugins: [commandsElsewhere] });
const shared = Object.keys(probe.metafile.inputs).filter((file) => file.startsWith('lib/') && file.endsWith('.ts'));

// 2. The main bundle, exporting each of those modules' namespaces under its path.
const entry = [
  "export * from './lib/cli/main.ts';",
  ...shared.map((file, index) => `import * as m${index} from './${file}';`),
  `export const TOKENENV_MODULES = { ${shared.map((file, index) => `${JSON.stringify(file)}: m${index}`).join(', ')} };`,
].join('\n');
await build({
  ...common, stdin: { contents: entry, resolveDir: root, sourcefile: 'tokenenv-cli.ts', loader: 'ts' },
  outfile: 'dist/cli/tokenenv.cjs', plugins: [commandsElsewhere],
  banner: { js: "const TOKENENV_LOAD_COMMANDS = () => require('./commands.cjs');" },
});

// 3. The commands bundle: a module the main bundle holds is taken from it.
const fromMainBundle = {
  name: 'from-main-bundle',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.namespace !== 'file') return undefined;
      const file = relative(root, resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts')));
      return shared.includes(file) ? { path: file, namespace: 'main-bundle' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'main-bundle' }, (args) => ({
      contents: `module.exports = require('./tokenenv.cjs').TOKENENV_MODULES[${JSON.stringify(args.path)}];`,
      loader: 'js',
      resolveDir: root,
    }));
    b.onResolve({ filter: /^\.\/tokenenv\.cjs$/ }, () => ({ path: './tokenenv.cjs', external: true }));
  },
};
await build({ ...common, entryPoints: ['lib/cli/commands/index.ts'], outfile: 'dist/cli/commands.cjs', plugins: [fromMainBundle] });
