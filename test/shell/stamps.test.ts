// Hostile stamps: whatever sits where a freshness stamp should be — a FIFO, a directory, a link,
// a device, a huge file, garbage, numbers the shell's arithmetic would choke on, a stamp of
// another user or bound to another file — tokenenv_prompt returns at once with the token's real
// lifetime, and a wrapped call neither hangs nor breaks: it asks tokenenv (the slow path) and
// runs the client. A stamp is only ever a shortcut, never a way in.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { stateDirectory } from '../../lib/files/paths.js';
import { requirePeer } from '../support/peers.js';
import { isRoot } from '../support/sandbox.js';
import { SHELLS, ShellLab } from '../support/shell.js';

const OTHER_UID = 4242;
const now = () => Math.floor(Date.now() / 1000);
const valid = () => `${now() + 3000} ${now() + 3600} 1:2:3:4\n`;

interface Shape {
  name: string;
  root?: boolean;
  /** Puts the hostile thing in place; `stamp` is where the default token's stamp belongs. */
  make: (stamp: string, lab: ShellLab, token: string) => void | Promise<void>;
}

/** Gives `path` the token file's exact modification time: the stamp is then bound to the file. */
function bind(path: string, token: string): void {
  execFileSync('touch', ['-h', '-m', '-r', token, path]);
}

const content = (name: string, text: string | Buffer): Shape => ({
  name: `bound, content: ${name}`,
  make: (stamp, _lab, token) => {
    writeFileSync(stamp, text);
    bind(stamp, token);
  },
});

const SHAPES: Shape[] = [
  content('empty', ''),
  content('a newline only', '\n'),
  content('garbage', 'garbage\n'),
  content('NUL bytes', Buffer.from('\0\0\0 \0\n')),
  content('numbers past 64 bits', '99999999999999999999999 99999999999999999999999\n'),
  content('13 digits', '9999999999999 9999999999999\n'),
  content('leading zeros (octal to bash)', '09999999999 09999999999\n'),
  content('negative', '-5 -5\n'),
  content('hexadecimal', '0x7fffffff 0x7fffffff\n'),
  content('arithmetic injection', 'a[$(touch${IFS}pwned)] 1\n'),
  content('command substitution', '$(touch pwned) `touch pwned`\n'),
  content('expressions', '1+1 2*3\n'),
  content('8 MB of digits, no newline', '9'.repeat(8_000_000)),
  content('a valid time, then 1 MB', `${now() + 3000} ${'x'.repeat(1_000_000)}\n`),
  content('carriage returns', `${now() + 3000}\r ${now() + 3600}\r\n`),
  content('a tab instead of a space', `${now() + 3000}\t${now() + 3600}\n`),
  content('one field', `${now() + 3000}\n`),
  content('Arabic-Indic digits', '١٧٩٦٥١٧٧٦٦ ١٧٩٦٥١٧٧٦٦\n'),
  content('invalid UTF-8', Buffer.from([0xff, 0xfe, 0x20, 0xff, 0x0a])),
  { name: 'a FIFO', make: (stamp) => { execFileSync('mkfifo', [stamp]); } },
  { name: 'a directory', make: (stamp) => { mkdirSync(stamp); } },
  { name: 'a symbolic link to a valid, bound stamp', make: (stamp, lab, token) => {
    const elsewhere = lab.box.path('elsewhere-stamp');
    writeFileSync(elsewhere, valid());
    bind(elsewhere, token);
    symlinkSync(elsewhere, stamp);
    bind(stamp, token);
  } },
  { name: 'a symbolic link to /dev/zero', make: (stamp) => { symlinkSync('/dev/zero', stamp); } },
  { name: 'a character device', root: true, make: (stamp) => { execFileSync('mknod', [stamp, 'c', '1', '5']); } },
  { name: 'a socket', make: (stamp) => new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    // Listening creates the socket file; closing the server leaves it (it is unlinked only by us).
    server.listen(stamp, () => server.close(() => resolve()));
  }) },
  { name: 'a valid, bound stamp of another user', root: true, make: (stamp, _lab, token) => {
    writeFileSync(stamp, valid());
    chownSync(stamp, OTHER_UID, OTHER_UID);
    bind(stamp, token);
  } },
  { name: 'a valid stamp, not bound (an older modification time)', make: (stamp) => {
    writeFileSync(stamp, valid());
    execFileSync('touch', ['-m', '-d', '@1700000000', stamp]);
  } },
  { name: 'a valid stamp bound to another token file', make: (stamp, lab) => {
    const other = lab.box.path('other-token');
    writeFileSync(other, 'x\n');
    writeFileSync(stamp, valid());
    bind(stamp, other);
  } },
  { name: 'the fresh/ directory a link to a valid, bound stamp\'s', make: (stamp, lab, token) => {
    const fresh = join(stateDirectory(lab.env), 'fresh');
    const real = lab.box.path('real-fresh');
    rmSync(fresh, { recursive: true });
    mkdirSync(join(real, stamp.slice(fresh.length + 1, stamp.lastIndexOf('/'))), { recursive: true, mode: 0o700 });
    writeFileSync(join(real, stamp.slice(fresh.length + 1)), valid());
    bind(join(real, stamp.slice(fresh.length + 1)), token);
    symlinkSync(real, fresh);
  } },
  { name: 'the stamp\'s directory a link', make: (stamp, lab, token) => {
    const real = lab.box.path('real-dir');
    rmSync(dirname(stamp), { recursive: true });
    mkdirSync(real, { mode: 0o700 });
    writeFileSync(join(real, 'stamp'), valid());
    bind(join(real, 'stamp'), token);
    symlinkSync(real, dirname(stamp));
    copyFileSync(join(real, 'stamp'), stamp);
    bind(stamp, token);
  } },
  { name: 'the state directory owned by another user', root: true, make: (stamp, lab, token) => {
    writeFileSync(stamp, valid());
    bind(stamp, token);
    chownSync(stateDirectory(lab.env), OTHER_UID, OTHER_UID);
  } },
  { name: 'the stamp\'s directory a file', make: (stamp) => {
    rmSync(dirname(stamp), { recursive: true });
    writeFileSync(dirname(stamp), valid());
  } },
];

for (const shell of SHELLS) {
  describe(`shell integration in ${shell}: ${SHAPES.length} hostile stamp shapes`, function () {
    this.timeout(60_000);
    let lab: ShellLab;
    let tokenenv: ReturnType<ShellLab['countingTokenenv']>;

    before(async function () {
      requirePeer(this, existsSync(`/bin/${shell}`) || existsSync(`/usr/bin/${shell}`), `not installed: ${shell}`);
      lab = new ShellLab();
      tokenenv = lab.countingTokenenv();
      const warmUp = await lab.run(shell, 'condor_q', { env: { TOKENENV_BIN: tokenenv.bin } });
      assert.equal(warmUp.status, 0, warmUp.stderr);
      assert.ok(existsSync(lab.stampFile(lab.tokenFile())), 'the warm-up left a stamp');
    });
    after(() => lab?.remove());

    for (const shape of SHAPES) {
      it(shape.name, async function () {
        if (shape.root) requirePeer(this, isRoot, 'needs root (other owners, devices)');
        const stateDir = stateDirectory(lab.env);
        rmSync(stateDir, { recursive: true, force: true });
        const stamp = lab.stampFile(lab.tokenFile());
        mkdirSync(dirname(stamp), { recursive: true, mode: 0o700 });
        for (let dir = dirname(stamp); dir.length >= stateDir.length; dir = dirname(dir)) chmodSync(dir, 0o700);
        await shape.make(stamp, lab, lab.tokenFile());
        lab.clearRecords();
        const before = tokenenv.calls();

        const run = await lab.run(shell, 'tokenenv_prompt; echo\ncondor_q\ntokenenv_prompt; echo\necho done', { env: { TOKENENV_BIN: tokenenv.bin }, timeoutMs: 20_000 });
        assert.equal(run.signal, null, 'the shell did not hang');
        assert.equal(run.status, 0, run.stderr);
        assert.equal(run.stderr, '', 'no error from the shell');
        assert.match(run.stdout, /^tok (19|20)m\ntok (19|20)m\ndone\n$/, 'the prompt shows the token\'s own lifetime');
        assert.equal(tokenenv.calls() - before, 1, 'the wrapper did not trust it: it asked tokenenv once');
        const records = lab.records();
        assert.deepEqual(records.map((r) => [r.client, r.env.BEARER_TOKEN_FILE]), [['condor_q', lab.tokenFile()]]);
        assert.ok(!existsSync(join(lab.work, 'pwned')), 'nothing in a stamp is ever run');
      });
    }
  });
}
