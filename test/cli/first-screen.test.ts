// The README's first screen, followed on a fresh clone as a new user does (issue 10.1 and
// "Also"): its first command installs, puts `tokenenv` on PATH and runs the demo; then the lines
// the demo prints "in another terminal" are pasted into bash, and each must work; Ctrl-C ends it
// cleanly. The clone gets an npm prefix of its own (as `npm link` would use the user's) and
// reuses npm's cache (--prefer-offline), so this takes about half a minute, mostly `npm ci`.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../support/cli.js';
import { paste, pasteLines, type RunningDemo } from '../support/demo.js';
import { requireCommands } from '../support/peers.js';
import { Sandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);

/** The commands of the README's first shell block, without their comments. */
export function firstScreen(readme: string): string[] {
  const block = /```sh\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'no ```sh block in the README');
  return block[1]!.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim()).filter(Boolean);
}

describe("the README's first screen, on a fresh clone", function () {
  this.timeout(300_000);
  let box: Sandbox;
  let first: RunningDemo | undefined;

  before(function () {
    requireCommands(this, 'git', 'bash', 'npm');
  });
  beforeEach(() => {
    box = new Sandbox('tokenenv-clone-');
  });
  afterEach(async () => {
    if (first && first.child.exitCode === null && first.child.signalCode === null) {
      process.kill(-first.child.pid!, 'SIGKILL');
      await first.exited;
    }
    box.remove();
  });

  it('two commands: the first installs and runs the demo, whose "another terminal" lines all work; the second runs the tests', async () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const commands = firstScreen(readme);
    assert.equal(commands.length, 2, commands.join('\n'));
    assert.match(commands[0]!, /\btokenenv demo\b/);
    assert.equal(commands[1], 'npm test');
    assert.ok((JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.test);

    const clone = box.path('tokenenv');
    await run('git', ['clone', '--quiet', repoRoot, clone]);
    mkdirSync(box.path('home'));
    const { stdout: cache } = await run('npm', ['config', 'get', 'cache']);
    // A user's shell: node and npm on PATH, npm's global prefix (where `npm link` puts tokenenv) on PATH.
    const prefix = box.path('prefix');
    const env: NodeJS.ProcessEnv = {
      PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
      HOME: box.path('home'), TMPDIR: box.dir, LANG: 'C',
      npm_config_prefix: prefix, npm_config_cache: cache.trim(), npm_config_prefer_offline: 'true',
      npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false',
    };

    // The first command, in a process group of its own: Ctrl-C reaches the whole group.
    const started = Date.now();
    const child = spawn('bash', ['-c', commands[0]!], { cwd: clone, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    first = { child, output: () => output, exited: new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? -1))) };
    await waitFor(() => /For +ce\.example\.org:9619 \(condor_q\): accepted/.test(output) || child.exitCode !== null, 240_000, 'the demo\'s wrapped call');
    assert.equal(child.exitCode, null, output);
    const installSeconds = (Date.now() - started) / 1000;

    // "In another terminal": tokenenv is on PATH there (npm link), and every line works.
    const lines = pasteLines(output);
    const results = await paste(lines, env);
    for (const result of results) assert.equal(result.status, 0, `${result.line}:\n${result.output}`);
    assert.match(results.find((r) => r.line === 'tokenenv status')!.output, /^watcher running \(pid \d+\)$/m);
    const which = await run('bash', ['-c', 'command -v tokenenv'], { env });
    assert.equal(which.stdout.trim(), join(prefix, 'bin', 'tokenenv'), 'tokenenv on PATH after the first command');

    process.kill(-child.pid!, 'SIGINT');
    await first.exited;
    assert.match(output, /demo stopped, temporary files removed/);
    assert.deepEqual(readdirSync(box.dir).filter((f) => f.startsWith('tokenenv-demo-')), []);
    assert.ok(existsSync(join(clone, 'dist', 'cli', 'tokenenv.cjs')), 'npm ci built the CLI');
    assert.ok(installSeconds < 240);
  });
});
