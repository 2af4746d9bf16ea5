// Freshness stamps (lib/files/stamp.ts): where they live, and that tokenenv writes one only for a
// token file the shell fast path may trust, bound to that file by its exact modification time.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stampPath, writeStamp } from '../../lib/files/stamp.js';
import { writeTokenFile } from '../../lib/files/write.js';
import { requirePeer } from '../support/peers.js';
import { fakeJwt, isRoot, Sandbox } from '../support/sandbox.js';

const EUID = process.geteuid!();
const now = () => Math.floor(Date.now() / 1000);

describe('freshness stamps: paths', () => {
  it('the token file\'s directory, encoded, then its name', () => {
    assert.equal(stampPath('/run/user/1000/tokenenv', '/run/user/1000/bt_u1000'), '/run/user/1000/tokenenv/fresh/_2Frun_2Fuser_2F1000/bt_u1000');
    assert.equal(stampPath('/s', '/bt'), '/s/fresh/_2F/bt');
    assert.equal(stampPath('/s', '/a_b/c'), '/s/fresh/_2Fa_5Fb/c');
    assert.notEqual(stampPath('/s', '/a_b/c'), stampPath('/s', '/a/b/c'), 'distinct paths, distinct stamps');
  });

  it('no stamp for a relative path, a directory name, or a directory too long to encode', () => {
    for (const path of ['bt_u0', 'dir/bt_u0', '/tmp/', '/tmp/.', '/tmp/..', `/${'d'.repeat(253)}/x`]) assert.equal(stampPath('/s', path), undefined, path);
    assert.ok(stampPath('/s', `/${'d'.repeat(252)}/x`), 'the longest directory name that fits: 255 characters encoded');
  });
});

describe('freshness stamps: writing', () => {
  let box: Sandbox;
  let stateDir: string;
  let token: string;
  const exp = () => now() + 3600;

  beforeEach(() => {
    box = new Sandbox('tokenenv-stamp-');
    stateDir = box.path('state');
    token = box.path('tokens', 'bt_u0');
    mkdirSync(box.path('tokens'), { mode: 0o700 });
  });
  afterEach(() => box.remove());

  function writeToken(claims: Record<string, unknown>, mode = 0o600): number {
    writeFileSync(token, `${fakeJwt(claims)}\n`, { mode });
    chmodSync(token, mode);
    return claims.exp as number;
  }

  it('writes "<fresh-until> <exp> <identity>" with the token file\'s exact modification time', async () => {
    const e = writeToken({ exp: exp() });
    const before = statSync(token, { bigint: true }).mtimeNs;
    assert.equal(await writeStamp(stateDir, EUID, token, e - 300, e), true);
    const stamp = stampPath(stateDir, token)!;
    const tokenStat = statSync(token, { bigint: true });
    assert.equal(statSync(stamp, { bigint: true }).mtimeNs, tokenStat.mtimeNs, 'bound: the same time to the nanosecond');
    assert.ok(before - tokenStat.mtimeNs < 1000n && before >= tokenStat.mtimeNs, 'the token\'s time moved by less than a microsecond');
    assert.equal(readFileSync(stamp, 'utf8'), `${e - 300} ${e} ${tokenStat.dev}:${tokenStat.ino}:${tokenStat.size}:${tokenStat.mtimeNs}\n`);
    assert.equal(statSync(stamp).mode & 0o777, 0o600);
    assert.equal(statSync(join(stateDir, 'fresh')).mode & 0o777, 0o700);
  });

  it('a token file tokenenv wrote is stamped without being touched (the watcher knows its own writes by their time)', async () => {
    const e = exp();
    const written = await writeTokenFile(token, fakeJwt({ exp: e }), { expectedUid: EUID });
    const before = statSync(token, { bigint: true });
    assert.equal(await writeStamp(stateDir, EUID, token, e - 300, e), true);
    const after = statSync(token, { bigint: true });
    assert.deepEqual([after.mtimeNs, after.ctimeNs], [before.mtimeNs, before.ctimeNs]);
    assert.equal(statSync(token).mtimeMs, written.mtimeMs);
    assert.equal(statSync(stampPath(stateDir, token)!, { bigint: true }).mtimeNs, after.mtimeNs);
  });

  it('the expiry and the fresh-until time come from the token read, never later than its exp', async () => {
    const e = writeToken({ exp: exp() });
    assert.equal(await writeStamp(stateDir, EUID, token, e + 999, e + 1), true);
    assert.match(readFileSync(stampPath(stateDir, token)!, 'utf8'), new RegExp(`^${e} ${e} `));
  });

  it('an opaque token: "-" for its expiry', async () => {
    writeFileSync(token, 'opaque-token\n', { mode: 0o600 });
    assert.equal(await writeStamp(stateDir, EUID, token, now() + 600, undefined), true);
    assert.match(readFileSync(stampPath(stateDir, token)!, 'utf8'), /^\d+ - /);
  });

  it('no stamp when the file is not the token that was judged (replaced meanwhile)', async () => {
    const e = writeToken({ exp: exp() });
    assert.equal(await writeStamp(stateDir, EUID, token, e - 300, e - 600), false);
    assert.equal(await writeStamp(stateDir, EUID, token, e - 300, undefined), false);
  });

  it('no stamp for a file the fast path must not trust: a link, writable by others, a FIFO, a directory, too large', async () => {
    const e = writeToken({ exp: exp() });
    const link = box.path('tokens', 'link');
    symlinkSync(token, link);
    assert.equal(await writeStamp(stateDir, EUID, link, e - 300, e), false, 'a link');
    chmodSync(token, 0o666);
    assert.equal(await writeStamp(stateDir, EUID, token, e - 300, e), false, 'writable by others');
    const fifo = box.path('tokens', 'fifo');
    execFileSync('mkfifo', [fifo]);
    assert.equal(await writeStamp(stateDir, EUID, fifo, e - 300, e), false, 'a FIFO (without blocking)');
    assert.equal(await writeStamp(stateDir, EUID, box.path('tokens'), e - 300, e), false, 'a directory');
    writeFileSync(token, 'x'.repeat(70 * 1024), { mode: 0o600 });
    assert.equal(await writeStamp(stateDir, EUID, token, now() + 60, undefined), false, 'too large');
  });

  it('no stamp for a file of another user; none in a state directory of another user', async function () {
    requirePeer(this, isRoot, 'needs root (files of another user)');
    const e = writeToken({ exp: exp() });
    chownSync(token, 4242, 4242);
    assert.equal(await writeStamp(stateDir, EUID, token, e - 300, e), false);
    chownSync(token, EUID, EUID);
    mkdirSync(stateDir, { mode: 0o700 });
    chownSync(stateDir, 4242, 4242);
    await assert.rejects(writeStamp(stateDir, EUID, token, e - 300, e), { code: 'ERR_UNSAFE_TOKEN_FILE' });
  });
});
