// The CLI bundle (scripts/bundle-cli.mjs): a command loads only the code it runs, every module
// exists once across the bundle's files (one copy of each class), and the files load through
// the loader in bin/tokenenv.cjs with the code cache written at build time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_LOADERS } from '../../lib/cli/commands/index.js';
import { COMMANDS } from '../../lib/cli/registry.js';
import { repoRoot } from '../support/cli.js';
import { fakeJwt, Sandbox } from '../support/sandbox.js';

const cliDir = join(repoRoot, 'dist', 'cli');

/** Runs the CLI in-process in a child and returns the bundle files and packages it loaded. */
function loaded(args: string[], env: Record<string, string>): { files: string[]; modules: string } {
  const script = `const load = require(${JSON.stringify(join(cliDir, 'load.cjs'))});
  load('tokenenv.cjs').main(${JSON.stringify(args)}).then((code) => {
    const files = load.loadedFiles();
    process.stderr.write(JSON.stringify({ code, files, modules: Object.keys(require.cache).join(' ') + ' ' + process.moduleLoadList.join(' ') }));
  })`;
  const run = spawnSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  const result = JSON.parse(run.stderr.slice(run.stderr.lastIndexOf('{"code"'))) as { code: number; files: string[]; modules: string };
  assert.equal(result.code, 0, run.stdout + run.stderr);
  return result;
}

/** The modules a bundle file holds, from the table of module namespaces it exports. */
function modulesOf(file: string): string[] {
  const exported = /TOKENENV_MODULES=\{([^}]*)\}/.exec(readFileSync(join(cliDir, file), 'utf8'));
  assert.ok(exported, `${file} exports no module table`);
  return [...exported[1]!.matchAll(/"?([\w./-]+)"?:\w+/g)].map(([, name]) => name!);
}

describe('CLI bundle', () => {
  let box: Sandbox;
  beforeEach(() => { box = new Sandbox(); });
  afterEach(() => box.remove());

  it('--help and discover load the main file only', () => {
    const token = box.write('t', `${fakeJwt({ exp: Math.floor(Date.now() / 1000) + 600 })}\n`);
    assert.deepEqual(loaded(['--help'], {}).files, ['tokenenv.cjs']);
    assert.deepEqual(loaded(['discover'], { BEARER_TOKEN_FILE: token }).files, ['tokenenv.cjs']);
  });

  it('inspect and status load two and three files, and neither other commands, nor jose, nor HTTP, nor fetch, nor node:os', () => {
    const token = box.write('t', `${fakeJwt({ exp: Math.floor(Date.now() / 1000) + 600 })}\n`);
    const config = box.write('config.ini', `[account f]\ntype = file\npath = ${token}\n\n[token t]\naccount = f\ntoken_path = ${token}\n`);
    const env = { BEARER_TOKEN_FILE: token, HOME: box.dir, XDG_RUNTIME_DIR: box.xdg };
    // Each file costs ~0.12 ms to load: shared chunks join the chunks their commands load anyway.
    const mostFiles: Record<string, number> = { inspect: 2, status: 3 };
    for (const args of [['inspect'], ['status', '--config', config]]) {
      const { files, modules } = loaded(args, env);
      assert.ok(files.length <= mostFiles[args[0]!]!, `${args[0]} loaded ${files.length} files: ${files.join(' ')}`);
      const held = files.flatMap(modulesOf);
      const command = `lib/cli/commands/${args[0]}.ts`;
      assert.ok(held.includes(command), `${args[0]}: ${files.join(' ')}`);
      const others = held.filter((m) => m.startsWith('lib/cli/commands/') && m !== command && m !== 'lib/cli/commands/discover.ts' && m !== 'lib/cli/commands/index.ts');
      assert.deepEqual(others, [], `${args[0]} loaded other commands`);
      assert.ok(!held.includes('jose'), `${args[0]} loaded jose`);
      assert.ok(!/NativeModule (https?|tls)\b|undici|chokidar|execa/.test(modules), `${args[0]} loaded HTTP, fetch, chokidar or execa`);
      assert.ok(!/NativeModule os\b/.test(modules), `${args[0]} loaded node:os (0.2 ms)`);
    }
  });

  it('every registered command but discover (in main) has a loader, and nothing else does', () => {
    assert.deepEqual(Object.keys(COMMAND_LOADERS).sort(), COMMANDS.map((c) => c.name).filter((n) => n !== 'discover').sort());
  });

  it('every module is in exactly one file', () => {
    const seen = new Map<string, string>();
    for (const file of readdirSync(cliDir).filter((f) => f.endsWith('.cjs') && f !== 'load.cjs')) {
      for (const name of modulesOf(file)) {
        assert.ok(!seen.has(name), `${name} is in ${seen.get(name)} and ${file}`);
        seen.set(name, file);
      }
    }
    assert.ok(seen.has('lib/core/errors.ts') && seen.has('lib/cli/commands/setup.ts') && seen.has('jose'));
  });

  it('every file but those with import() has a code cache that this Node accepts', () => {
    const files = readdirSync(cliDir).filter((f) => f.endsWith('.cjs') && f !== 'load.cjs');
    const script = `const { readFileSync } = require('node:fs'); const { Script } = require('node:vm');
      const { wrapSource } = require(${JSON.stringify(join(cliDir, 'load.cjs'))});
      const rejected = ${JSON.stringify(files)}.filter((f) => {
        const file = ${JSON.stringify(cliDir)} + '/' + f;
        const source = readFileSync(file, 'utf8');
        if (source.includes('import(')) return false;
        return new Script(wrapSource(source), { filename: file, cachedData: readFileSync(file + '.cache') }).cachedDataRejected;
      });
      process.stdout.write(JSON.stringify(rejected));`;
    const run = spawnSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), []);
  });

  it('a file whose cache V8 rejects still loads, compiled from its source', () => {
    const copy = box.path('package');
    cpSync(cliDir, join(copy, 'dist', 'cli'), { recursive: true });
    cpSync(join(repoRoot, 'bin'), join(copy, 'bin'), { recursive: true });
    const copied = join(copy, 'dist', 'cli');
    for (const f of readdirSync(copied).filter((name) => name.endsWith('.cache'))) writeFileSync(join(copied, f), 'not a code cache');
    const token = box.write('t', `${fakeJwt({ exp: Math.floor(Date.now() / 1000) + 600 })}\n`);
    const run = spawnSync(process.execPath, [join(copy, 'bin', 'tokenenv.cjs'), 'inspect'],
      { env: { PATH: process.env.PATH, BEARER_TOKEN_FILE: token }, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /expires/i);
  });
});
