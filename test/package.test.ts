// The published package: `npm pack`, installed into an empty project, runs `tokenenv --help` and
// can be imported with its types.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './support/cli.js';
import { Sandbox } from './support/sandbox.js';

describe('npm package', function () {
  this.timeout(180_000);
  let box: Sandbox;
  let project: string;

  before(() => {
    box = new Sandbox('tokenenv-pack-');
    // dist/ is already built by `npm test`; --ignore-scripts keeps pack from building again.
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', box.dir], { cwd: repoRoot, stdio: 'pipe' });
    const tarball = readdirSync(box.dir).find((f) => f.endsWith('.tgz'))!;
    project = box.path('project');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(box.dir, tarball)], { cwd: project, stdio: 'pipe' });
  });
  after(() => box?.remove());

  it('installs a working tokenenv command', () => {
    const help = execFileSync(join(project, 'node_modules', '.bin', 'tokenenv'), ['--help'], { encoding: 'utf8' });
    assert.match(help, /^Usage: tokenenv COMMAND/);
  });

  it('ships the LICENSE that package.json names (Apache-2.0), and loads its CLI with the code cache', () => {
    const installed = join(project, 'node_modules', 'tokenenv');
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { license: string };
    assert.equal(pkg.license, 'Apache-2.0');
    const license = readFileSync(join(installed, 'LICENSE'), 'utf8');
    assert.match(license, /^\s*Apache License\s+Version 2\.0, January 2004\s+http:\/\/www\.apache\.org\/licenses\/\s/);
    assert.equal(license, readFileSync(join(repoRoot, 'LICENSE'), 'utf8'));
    assert.ok(readdirSync(join(installed, 'dist', 'cli')).includes('tokenenv.cjs.cache'), 'the code cache is in the package');
  });

  it('can be imported, and its types check', () => {
    writeFileSync(join(project, 'use.ts'), `import { discoverTokenSync, NoTokenFoundError, type DiscoveredToken } from 'tokenenv';
try {
  const found: DiscoveredToken = discoverTokenSync({ env: { BEARER_TOKEN: 'abc' } });
  const step: 1 | 2 | 3 | 4 = found.step;
  console.log(found.token.length, step);
} catch (error) {
  if (!(error instanceof NoTokenFoundError)) throw error;
}
`);
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(process.execPath, [tsc, '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node',
      '--typeRoots', join(repoRoot, 'node_modules', '@types'), '--outDir', 'out', 'use.ts'], { cwd: project, stdio: 'pipe' });
    const out = execFileSync(process.execPath, ['out/use.js'], { cwd: project, encoding: 'utf8' });
    assert.equal(out, '3 1\n');
  });
});
