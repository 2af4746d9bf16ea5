// lib/files/trust.ts: a config or secret file is used only when nobody but the user or root can
// have written it (file and every directory above it), when it is a regular file within its
// bound, and (a secret) when not every user can read it. Issue 12 items 4 and 7.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lchownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_CONFIG_BYTES, MAX_SECRET_BYTES, readSecretFile, readTrustedFile, UntrustedFileError } from '../../lib/files/trust.js';
import { requirePeer } from '../support/peers.js';
import { isRoot, Sandbox } from '../support/sandbox.js';

const OTHER_UID = 4242;
const euid = process.geteuid!();

describe('files/trust', () => {
  let box: Sandbox;
  beforeEach(() => { box = new Sandbox(); });
  afterEach(() => box.remove());

  const config = (path: string) => readTrustedFile(path, { euid, maxBytes: MAX_CONFIG_BYTES });
  const refused = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UntrustedFileError, String(e));
    assert.equal(e.code, 'ERR_CONFIG');
    assert.doesNotMatch(e.message, /\n/, 'one line');
    assert.match(e.message, pattern);
    return true;
  });

  it('reads a file of the user, not writable by others, in directories of the user or root', () => {
    const file = box.write('config.ini', '[s]\na = 1\n', 0o644);
    const read = config(file);
    assert.equal(read.text, '[s]\na = 1\n');
    assert.deepEqual(read.warnings, []);
  });

  for (const mode of [0o666, 0o664, 0o646, 0o620]) {
    it(`refuses a file writable by group or others (mode ${mode.toString(8)}), naming it and the fix`, () => {
      const file = box.write('config.ini', '[s]\n', mode);
      refused(() => config(file), new RegExp(`^${file}: writable by .* \\(mode 0${mode.toString(8)}\\): chmod go-w ${file}$`));
    });
  }

  it('refuses a FIFO without blocking, and a device without reading it', () => {
    const fifo = box.path('fifo.ini');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    refused(() => config(fifo), /fifo\.ini: is a FIFO, not a regular file/);
    refused(() => readSecretFile(fifo, euid), /is a FIFO, not a regular file/);
    assert.ok(Date.now() - started < 1000);
    refused(() => config('/dev/zero'), /^\/dev\/zero: is a device, not a regular file$/);
    refused(() => readSecretFile('/dev/zero', euid), /is a device/);
    refused(() => config(box.dir), /is a directory/);
  });

  it('bounds the size: 16 MiB for a config, 64 KiB for a secret', () => {
    const big = box.write('big.ini', Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x23));
    refused(() => config(big), /big\.ini: larger than 16777216 bytes: not read/);
    assert.equal(config(box.write('edge.ini', Buffer.alloc(MAX_CONFIG_BYTES, 0x23))).text.length, MAX_CONFIG_BYTES);
    const secret = box.write('big.secret', Buffer.alloc(MAX_SECRET_BYTES + 1, 0x61));
    refused(() => readSecretFile(secret, euid), /larger than 65536 bytes/);
  });

  it('a missing file carries its errno (callers say "not found" their way)', () => {
    assert.throws(() => config(box.path('nope.ini')), { name: 'UntrustedFileError', errno: 'ENOENT' });
  });

  it('a secret readable by every user is refused; by its group, a warning', () => {
    const open = box.write('open.secret', 's3cr3t\n', 0o644);
    refused(() => readSecretFile(open, euid), new RegExp(`holds a secret and is readable by every user \\(mode 0644\\): chmod 600 ${open}$`));
    const group = box.write('group.secret', 's3cr3t\n', 0o640);
    const read = readSecretFile(group, euid);
    assert.equal(read.text, 's3cr3t\n');
    assert.match(read.warnings.join('\n'), /group\.secret: holds a secret and is readable by its group \(mode 0640\)/);
    assert.deepEqual(readSecretFile(box.write('mine.secret', 'x', 0o600), euid).warnings, []);
  });

  describe('owners (as root)', function () {
    before(function () { requirePeer(this, isRoot, 'needs root to give files to another uid'); });

    it("refuses a file owned by another user, even one only its owner can write", () => {
      const file = box.write('config.ini', '[s]\n', 0o644, OTHER_UID);
      refused(() => config(file), new RegExp(`owned by uid ${OTHER_UID}, not by you \\(uid 0\\) or root: .*sudo chown 0 ${file}$`));
    });

    it("a non-root user trusts its own files and root's, not another user's", () => {
      const dir = box.path('d');
      mkdirSync(dir, { mode: 0o755 });
      const rootOwned = box.write('d/root.ini', '[s]\n', 0o644);
      const own = box.write('d/own.ini', '[s]\n', 0o600, OTHER_UID);
      const foreign = box.write('d/foreign.ini', '[s]\n', 0o644, OTHER_UID + 1);
      assert.equal(readTrustedFile(rootOwned, { euid: OTHER_UID, maxBytes: 100 }).text, '[s]\n');
      assert.equal(readTrustedFile(own, { euid: OTHER_UID, maxBytes: 100, read: false }).text, '');
      refused(() => readTrustedFile(foreign, { euid: OTHER_UID, maxBytes: 100 }), /owned by uid 4243, not by you \(uid 4242\) or root/);
    });

    it('refuses a file in a directory another user owns, or that its group or every user may write', () => {
      const theirs = box.path('theirs');
      mkdirSync(theirs, { mode: 0o755 });
      chownSync(theirs, OTHER_UID, OTHER_UID);
      const inTheirs = box.write('theirs/config.ini', '[s]\n', 0o600);
      refused(() => config(inTheirs), new RegExp(`config\\.ini: in ${theirs}: directory owned by uid ${OTHER_UID}, not by uid 0: its owner could replace what is in it`));
      const open = box.path('open');
      mkdirSync(open);
      chmodSync(open, 0o777);
      refused(() => config(box.write('open/config.ini', '[s]\n', 0o600)), new RegExp(`in ${open}: directory writable by every user without the sticky bit \\(mode 0777\\): chmod o-w ${open}`));
      const group = box.path('group');
      mkdirSync(group);
      chmodSync(group, 0o775);
      chownSync(group, 0, OTHER_UID);
      refused(() => config(box.write('group/config.ini', '[s]\n', 0o600)), new RegExp(`in ${group}: directory writable by group ${OTHER_UID}`));
      // The user's own group may write it (osg-token-renewer's /etc/osg/tokens: root:svc 0770), and
      // a sticky directory such as /tmp is fine.
      assert.equal(readTrustedFile(join(group, 'config.ini'), { euid, egid: OTHER_UID, maxBytes: 100 }).text, '[s]\n');
      const sticky = box.path('sticky');
      mkdirSync(sticky);
      chmodSync(sticky, 0o1777);
      assert.equal(config(box.write('sticky/config.ini', '[s]\n', 0o600)).text, '[s]\n');
    });

    it('judges where a symbolic link leads: a link to a file in a directory another user owns is refused', () => {
      const theirs = box.path('theirs');
      mkdirSync(theirs, { mode: 0o755 });
      chownSync(theirs, OTHER_UID, OTHER_UID);
      const planted = box.write('theirs/config.ini', '[s]\n', 0o644);
      const link = join(box.dir, 'link.ini');
      symlinkSync(planted, link);
      lchownSync(link, 0, 0);
      refused(() => config(link), new RegExp(`^${link}: in ${theirs}: directory owned by uid ${OTHER_UID}`));
    });
  });

  it('a FIFO opened by nobody: the check still returns at once (no writer needed)', function () {
    // A separate process, so that a hang shows up as a timeout instead of stalling mocha.
    const fifo = box.path('p');
    execFileSync('mkfifo', [fifo]);
    writeFileSync(box.path('probe.mjs'), `import { readTrustedFile } from ${JSON.stringify(new URL('../../lib/files/trust.js', import.meta.url).href)};
try { readTrustedFile(${JSON.stringify(fifo)}, { euid: ${euid}, maxBytes: 10 }); } catch (e) { console.log(e.message); }`);
    const run = spawnSync(process.execPath, [box.path('probe.mjs')], { timeout: 5000, encoding: 'utf8' });
    assert.equal(run.signal, null, 'did not hang');
    assert.match(run.stdout, /is a FIFO/);
  });
});
