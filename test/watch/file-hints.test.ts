// lib/watch/file-hints.ts: which file-system events reach the watcher, and what one costs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileHints } from '../../lib/watch/file-hints.js';
import { requireCommands } from '../support/peers.js';
import { Sandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

describe('lib/watch/file-hints', function () {
  this.timeout(20_000);
  let box: Sandbox;
  let hints: FileHints | undefined;
  let paths: string[];
  let config: ('changed' | 'removed')[];
  let errors: Error[];

  beforeEach(() => {
    box = new Sandbox();
    paths = [];
    config = [];
    errors = [];
  });
  afterEach(async () => {
    await hints?.close();
    hints = undefined;
    box.remove();
  });

  async function start(tokenPaths: string[], configFile?: string): Promise<FileHints> {
    hints = new FileHints({ onPath: (p) => paths.push(p), onConfig: (e) => config.push(e), onError: (e) => errors.push(e) }, configFile);
    await hints.start(tokenPaths);
    return hints;
  }

  it('a token file deleted, replaced by a rename, or written in place is a hint with its path', async () => {
    const token = box.write('tokens/t.token', 'x\n');
    await start([token]);
    rmSync(token);
    await waitFor(() => paths.includes(token), 2000, 'the deletion');
    paths = [];
    writeFileSync(box.path('tokens/.new'), 'y\n');
    renameSync(box.path('tokens/.new'), token);
    await waitFor(() => paths.includes(token), 2000, 'the replacement');
    paths = [];
    writeFileSync(token, 'z\n');
    await waitFor(() => paths.includes(token), 2000, 'the write');
    assert.deepEqual(errors, []);
  });

  it('the config edited, replaced, removed; and through a link, its target edited', async () => {
    const real = box.write('etc/real.ini', '[a]\n');
    mkdirSync(box.path('home'));
    const link = box.path('home/config.ini');
    symlinkSync(real, link);
    await start([box.path('tokens/t.token')], link);
    writeFileSync(real, '[b]\n');
    await waitFor(() => config.includes('changed'), 2000, 'the edit of the target');
    config = [];
    rmSync(link);
    await waitFor(() => config.includes('removed'), 2000, 'the removal');
    config = [];
    writeFileSync(box.path('home/.tmp'), '[c]\n');
    renameSync(box.path('home/.tmp'), link);
    await waitFor(() => config.at(-1) === 'changed', 2000, 'the config back');
  });

  it('follows the directories of the current token paths (update), not the old ones', async () => {
    const a = box.write('a/t.token', 'x\n');
    const b = box.write('b/t.token', 'x\n');
    const h = await start([a]);
    h.update([b]);
    rmSync(a);
    rmSync(b);
    await waitFor(() => paths.includes(b), 2000, 'the event in the new directory');
    assert.ok(!paths.includes(a), 'the old directory is still watched');
  });

  it('an event costs no read of the directory: 100 writes in a directory of 2,000 tokens, no getdents or stat per entry', function () {
    requireCommands(this, 'strace');
    const dir = box.path('many');
    mkdirSync(dir);
    for (let i = 0; i < 2000; i++) writeFileSync(join(dir, `t${i}.token`), 'x\n');
    const module = fileURLToPath(new URL('../../lib/watch/file-hints.js', import.meta.url));
    // The child watches, then writes 100 tokens itself and waits for their events.
    const script = `import(${JSON.stringify(module)}).then(async ({ FileHints }) => {
      const fs = await import('node:fs');
      let seen = 0;
      const hints = new FileHints({ onPath: () => seen++, onConfig() {}, onError(e) { throw e; } }, undefined);
      await hints.start([${JSON.stringify(join(dir, 't0.token'))}]);
      process.stderr.write('WATCHING\\n');
      for (let i = 0; i < 100; i++) {
        fs.writeFileSync(${JSON.stringify(dir)} + '/.tmp' + i, 'y');
        fs.renameSync(${JSON.stringify(dir)} + '/.tmp' + i, ${JSON.stringify(dir)} + '/t' + i + '.token');
        await new Promise((r) => setTimeout(r, 5)); // paced like refreshes: no batching of events
      }
      const until = Date.now() + 5000;
      while (seen < 200 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      await hints.close();
      process.stderr.write('SEEN ' + seen + '\\n');
    })`;
    const run = spawnSync('strace', ['-f', '-e', 'trace=getdents64,statx,lstat,stat,newfstatat', '-o', box.path('strace.out'), process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.ok(Number(/SEEN (\d+)/.exec(run.stderr)?.[1]) >= 100, run.stderr);
    const calls = readFileSync(box.path('strace.out'), 'utf8').split('\n');
    // The module loader stats a few files; a directory scan per event would be 2,000 per event.
    assert.ok(calls.filter((l) => l.includes('getdents64')).length < 10, 'getdents64 calls');
    assert.ok(calls.filter((l) => /stat/.test(l)).length < 300, `${calls.filter((l) => /stat/.test(l)).length} stat calls`);
  });
});
