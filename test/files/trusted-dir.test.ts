// Issue 12 item 6: root writing a token for another `owner` must not follow a link that someone
// else controls (it created a user-owned file inside a root-only directory). As root, the
// token's directory is reached component by component; only directories of root or the owner,
// and only links that root alone controls.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, lchownSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { openTrustedDirectory } from '../../lib/files/trusted-dir.js';
import { writeAtomically, writeTokenFile } from '../../lib/files/write.js';
import { requirePeer } from '../support/peers.js';
import { fakeToken, isRoot, Sandbox } from '../support/sandbox.js';

const OWNER = { uid: 65534, gid: 65534 }; // nobody: the user a root service writes for
const write = (target: string, token = fakeToken()) => writeTokenFile(target, token, { expectedUid: OWNER.uid, chownTo: OWNER });

describe('files/trusted-dir: root writes for another owner', function () {
  let box: Sandbox;
  let rootOnly: string;
  let home: string;

  before(function () { requirePeer(this, isRoot, 'needs root: the attack is a root service writing for another user'); });
  beforeEach(() => {
    box = new Sandbox();
    rootOnly = box.path('root-only');
    mkdirSync(rootOnly, { mode: 0o700 });
    home = box.path('home');
    mkdirSync(home, { mode: 0o755 });
    chownSync(home, OWNER.uid, OWNER.gid);
  });
  afterEach(() => box?.remove());

  it("writes into the owner's own directory, owned by the owner, mode 0600", async () => {
    const target = join(home, 't.token');
    await write(target);
    const stat = statSync(target);
    assert.equal(stat.uid, OWNER.uid);
    assert.equal(stat.mode & 0o777, 0o600);
  });

  it("refuses a directory link the owner planted (to a root-only directory) and creates nothing there", async () => {
    const link = join(home, 'tokens');
    symlinkSync(rootOnly, link);
    lchownSync(link, OWNER.uid, OWNER.gid);
    assert.throws(() => write(join(link, 't.token')), (e: unknown) => {
      assert.equal((e as { code?: string }).code, 'ERR_UNSAFE_TOKEN_FILE');
      assert.match((e as Error).message, new RegExp(`^${link}: symbolic link owned by uid ${OWNER.uid}: root follows only links that root alone controls`));
      return true;
    });
    assert.deepEqual(readdirSync(rootOnly), []);
  });

  it('refuses even a root-owned link when it sits in a directory the owner controls', async () => {
    const link = join(home, 'tokens');
    symlinkSync(rootOnly, link); // root's link, but the owner may rename it and put their own
    assert.throws(() => write(join(link, 't.token')), /symbolic link in a directory that not only root can change/);
    assert.deepEqual(readdirSync(rootOnly), []);
  });

  it('refuses a directory that belongs to a third user', async () => {
    const third = box.path('third');
    mkdirSync(third, { mode: 0o755 });
    chownSync(third, 4242, 4242);
    assert.throws(() => write(join(third, 't.token')), new RegExp(`${third}: directory owned by uid 4242: root writes token files only under directories owned by root or by the token's owner`));
    assert.deepEqual(readdirSync(third), []);
  });

  it('follows a link that root alone controls (as /var/run -> /run)', async () => {
    const real = box.path('real');
    mkdirSync(real, { mode: 0o755 });
    chownSync(real, OWNER.uid, OWNER.gid);
    const link = box.path('alias');
    symlinkSync('real', link); // relative, root's, in root's 0755 directory
    const token = fakeToken();
    await write(join(link, 't.token'), token);
    assert.equal(readFileSync(join(real, 't.token'), 'utf8'), `${token}\n`);
  });

  it('writes into the directory it checked, even when the path is swapped after the check', async () => {
    const dir = openTrustedDirectory(home, [0, OWNER.uid]);
    try {
      // The owner moves the checked directory away and puts a link to a root-only one in its place.
      renameSync(home, box.path('moved'));
      symlinkSync(rootOnly, home);
      await writeAtomically(join(dir.path, 't.token'), 'x\n', { chownTo: OWNER }, join(home, 't.token'));
    } finally {
      dir.close();
    }
    assert.ok(!existsSync(join(rootOnly, 't.token')));
    assert.equal(statSync(box.path('moved', 't.token')).uid, OWNER.uid);
  });

  it('root writing for itself trusts only root-owned directories', async () => {
    assert.throws(() => writeTokenFile(join(home, 'root.token'), fakeToken(), { expectedUid: 0 }), /directory owned by uid 65534/);
    const own = box.path('own');
    mkdirSync(own);
    chmodSync(own, 0o700);
    await writeTokenFile(join(own, 'root.token'), fakeToken(), { expectedUid: 0 });
    assert.equal(statSync(join(own, 'root.token')).uid, 0);
  });
});
