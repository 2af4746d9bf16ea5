// The README's library examples, run as written: each `<!-- example: NAME -->` block is saved as
// a module that imports 'tokenenv' (this package) and run with a sandboxed config and runtime dir.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/cli.js';
import { mintConfig, mintLab, type MintLab } from '../support/mint.js';
import { assertNoSecret } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

function readmeExamples(): Map<string, string> {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const examples = new Map<string, string>();
  for (const match of readme.matchAll(/<!-- example: ([a-z-]+) -->\n```js\n([\s\S]*?)```/g)) examples.set(match[1]!, match[2]!);
  return examples;
}

describe('README library examples', () => {
  const examples = readmeExamples();
  let lab: MintLab;
  let dir: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    lab = await mintLab();
    dir = lab.box.path('app');
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    symlinkSync(repoRoot, join(dir, 'node_modules', 'tokenenv'));
    const config = lab.box.write('config.ini', mintConfig(lab.mint, { default: { min_lifetime: 60 } }));
    env = { ...lab.env, TOKENENV_CONFIG: config, PATH: process.env.PATH! };
  });
  const children: import('node:child_process').ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    lab.box.remove();
  });

  function start(name: string) {
    const code = examples.get(name);
    assert.ok(code, `README has no example '${name}'`);
    const file = join(dir, `${name}.mjs`);
    writeFileSync(file, code);
    const child = spawn(process.execPath, [file], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    return { child, output: () => out, exited };
  }

  it('has the three examples', () => {
    assert.deepEqual([...examples.keys()].sort(), ['discover', 'refresh', 'watch']);
  });

  it('refresh: fetches the configured token, then keeps it', async () => {
    const first = start('refresh');
    assert.equal(await first.exited, 0, first.output());
    assert.match(first.output(), /^default: refreshed, \d+ s left, in \S+bt_u\d+\n$/);
    const second = start('refresh');
    assert.equal(await second.exited, 0, second.output());
    assert.match(second.output(), /^default: kept/);
    assert.equal(lab.mint.calls, 1);
    assertNoSecret(first.output() + second.output(), readFileSync(join(lab.env.XDG_RUNTIME_DIR!, `bt_u${process.geteuid!()}`), 'utf8').trim());
  });

  it('discover: finds the token a refresh wrote, and never prints it', async () => {
    assert.equal(await start('refresh').exited, 0);
    const run = start('discover');
    assert.equal(await run.exited, 0, run.output());
    assert.match(run.output(), /^step 3 \(\S+bt_u\d+\): jwt, 4 steps\n$/);
  });

  it('watch: keeps the token fresh, restores a deleted file, and stops on SIGTERM', async () => {
    const run = start('watch');
    await waitFor(() => /default: refreshed \(start\), \d+ s left\nkeeping 1 token\(s\) fresh\n/.test(run.output()), 10_000, 'the first refresh');
    const path = join(lab.env.XDG_RUNTIME_DIR!, `bt_u${process.geteuid!()}`);
    const { rmSync, existsSync } = await import('node:fs');
    rmSync(path);
    await waitFor(() => existsSync(path) && /default: refreshed \(file deleted\)/.test(run.output()), 5000, 'the restored token');
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.output());
  });
});
