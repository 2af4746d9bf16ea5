// lib/files/write.ts: orphaned temporary files of dead writers are removed by the next writer of
// the same token, without reading the directory on every write (a watcher of N tokens in one
// directory would be O(N²)).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { forgetOrphanScans, writeAtomically, writeTokenFile } from '../../lib/files/write.js';
import { countFsCalls, spyOnFs } from '../support/fs-spy.js';
import { Sandbox } from '../support/sandbox.js';

describe('lib/files/write: orphaned temporary files, durability', () => {
  let box: Sandbox;
  const euid = process.geteuid!();
  beforeEach(() => {
    box = new Sandbox();
    forgetOrphanScans();
  });
  afterEach(() => box.remove());

  it("a write removes its own token's orphans, and only those", async () => {
    const t = box.path('t.token');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid; // a writer that is gone
    const orphanT = box.write(`.t.token.tokenenv-tmp-${dead}-0123456789ab`, 'half a tok');
    const orphanU = box.write(`.u.token.tokenenv-tmp-${dead}-ba9876543210`, 'half a tok');
    const live = box.write(`.t.token.tokenenv-tmp-${process.pid}-00aa00aa00aa`, 'being written');
    await writeTokenFile(t, 'tok-1', { expectedUid: euid });
    assert.equal(readFileSync(t, 'utf8'), 'tok-1\n');
    assert.ok(!existsSync(orphanT), "t's orphan is left");
    assert.ok(existsSync(live), 'a live writer\'s file was removed');
    assert.ok(existsSync(orphanU), "u's orphan was removed by a writer that does not hold u's lock");
    await writeTokenFile(box.path('u.token'), 'tok-2', { expectedUid: euid });
    assert.ok(!existsSync(orphanU));
    assert.deepEqual(readdirSync(box.dir).filter((n) => n.includes('tokenenv-tmp')), [live.split('/').pop()]);
  });

  it('writing 200 tokens into one directory reads it once, not once per write', async () => {
    const reads = await countFsCalls('readdirSync', async () => {
      for (let i = 0; i < 200; i++) writeTokenFile(box.path(`t${i}.token`), `tok-${i}`, { expectedUid: euid });
    });
    assert.equal(reads, 1);
    assert.equal(readdirSync(box.dir).filter((n) => n.endsWith('.token')).length, 200);
  });

  it('a token file is synced to disk before it replaces the old one; a file written with durable: false (stamps, status) is not', async () => {
    const synced: unknown[] = [];
    const restore = spyOnFs('fsyncSync', (fd) => synced.push(readlinkSync(`/proc/self/fd/${String(fd)}`)));
    try {
      writeTokenFile(box.path('t.token'), 'tok', { expectedUid: euid });
    } finally {
      restore();
    }
    assert.equal(synced.length, 1);
    assert.match(String(synced[0]), /\/\.t\.token\.tokenenv-tmp-/, 'the new file, under its temporary name');
    assert.equal(await countFsCalls('fsyncSync', async () => {
      writeAtomically(box.path('stamp'), '1 2\n', { durable: false });
    }), 0);
    assert.equal(readFileSync(box.path('stamp'), 'utf8'), '1 2\n');
  });
});
