// Bundles the CLI into CommonJS files. Start-up time is the product here (`$(tokenenv
// discover)` runs in scripts, prompts and shell wrappers): one CJS file loads in a fraction of the
// time of a dozen ES modules and skips the ES module loader altogether. The fast commands
// (discover) lives in the main bundle; every other command is a bundle of its own,
// loaded only when run, so that the main bundle stays small. The library (dist/lib) stays the
// plain tsc output. Runtime dependencies stay external, except the small ones on fast paths.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const bundled = new Set(['jose', 'env-paths']);
export const SEPARATE_COMMANDS = ['inspect', 'refresh', 'config', 'watch', 'status', 'exec', 'systemd', 'demo', 'shell', 'doctor', 'setup'];

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies ?? {})].filter((name) => !bundled.has(name)),
  define: { TOKENENV_VERSION: JSON.stringify(pkg.version) },
  logLevel: 'warning',
  // Less to parse at every start; identifiers stay, so stack traces still read.
  minifyWhitespace: true,
  minifySyntax: true,
};

// main.ts loads a separate command through TOKENENV_LOAD_COMMAND (a require of its bundle), and
// never reaches its import('./NAME.js') fallback: keep that out of the main bundle.
const separateCommands = {
  name: 'separate-commands',
  setup(b) {
    b.onResolve({ filter: /^\.\/[a-z-]+\.js$/ }, (args) => {
      const name = args.path.slice(2, -3);
      if (!args.importer.endsWith('cli/main.ts') || !SEPARATE_COMMANDS.includes(name)) return undefined;
      return { path: `./commands/${name}.cjs`, external: true };
    });
  },
};

await Promise.all([
  build({
    ...common, entryPoints: ['lib/cli/main.ts'], outfile: 'dist/cli/tokenenv.cjs', plugins: [separateCommands],
    banner: { js: "const TOKENENV_LOAD_COMMAND = (file) => require('./commands/' + file + '.cjs');" },
  }),
  ...SEPARATE_COMMANDS.map((name) => build({ ...common, entryPoints: [`lib/cli/${name}.ts`], outfile: `dist/cli/commands/${name}.cjs` })),
]);
