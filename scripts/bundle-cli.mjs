// Bundles the CLI into one CommonJS file. Start-up time is the product here (`$(tokenenv
// discover)` runs in scripts and prompts): one CJS file loads in a fraction of the time of a
// dozen ES modules, and skips the ES module loader altogether. The library (dist/lib) stays the
// plain tsc output. Runtime dependencies stay external, except jose's small JWT decoder.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const bundled = new Set(['jose', 'env-paths']);

await build({
  entryPoints: ['lib/cli/main.ts'],
  outfile: 'dist/cli/tokenenv.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: Object.keys(pkg.dependencies).filter((name) => !bundled.has(name)),
  define: { TOKENENV_VERSION: JSON.stringify(pkg.version) },
  logLevel: 'warning',
});
