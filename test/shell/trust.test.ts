// The fast path uses a file only when discovery would (DESIGN.md §4b): a token planted by another
// user, a stamp in a state directory another user made, an older copy of the token moved into
// place, a link at the token's path, or a stamp whose expiry has passed never lets a wrapped client
// run on the fast path. The attacker is a real other user (created for the test; CI runs as root),
// and /tmp is a private one (a mount namespace), with XDG_RUNTIME_DIR unset where the attack needs it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stampPath } from '../../lib/files/stamp.js';
import { privateTmpAvailable } from '../support/cli.js';
import { requireCommands, requirePeer } from '../support/peers.js';
import { assertNoSecret, fakeJwt } from '../support/sandbox.js';
import { EUID, jwtClaims, SHELLS, ShellLab, type StubRecord } from '../support/shell.js';
import { createOtherUser, otherUserUnavailable, type OtherUser } from '../support/users.js';

const now = () => Math.floor(Date.now() / 1000);

for (const shell of SHELLS) {
  describe(`shell wrappers in ${shell}: the fast path trusts only what discovery would`, function () {
    this.timeout(60_000);
    let lab: ShellLab;
    let tokenenv: ReturnType<ShellLab['countingTokenenv']>;

    beforeEach(function () {
      requireCommands(this, shell);
      lab = new ShellLab();
      tokenenv = lab.countingTokenenv();
    });
    afterEach(() => lab?.remove());

    const run = (body: string, env: Record<string, string | undefined> = {}, privateTmp?: string) =>
      lab.run(shell, body, { env: { TOKENENV_BIN: tokenenv.bin, ...env }, ...(privateTmp ? { privateTmp } : {}) });

    const expiryOf = (record: StubRecord) => jwtClaims(lab.token(record.env.BEARER_TOKEN_FILE!)).exp as number;

    describe('against another local user', function () {
      let attacker: OtherUser;

      before(function () {
        requirePeer(this, otherUserUnavailable() === undefined, otherUserUnavailable() ?? '');
        requirePeer(this, privateTmpAvailable(), 'cannot give the shell a private /tmp (unshare)');
        attacker = createOtherUser();
      });
      after(() => attacker?.remove());

      it('XDG_RUNTIME_DIR unset: /tmp/bt_u$ID gone, then planted by another user with the old modification time → refused', async () => {
        const noXdg = { XDG_RUNTIME_DIR: undefined };
        const warm = await run('condor_q', noXdg, lab.box.tmp);
        assert.equal(warm.status, 0, warm.stderr);
        const token = join(lab.box.tmp, `bt_u${EUID}`);
        const stamp = stampPath(join(lab.home, '.cache', 'tokenenv', 'run'), `/tmp/bt_u${EUID}`)!;
        assert.ok(statSync(stamp).isFile(), 'the stamp lives under ~/.cache');
        const mtime = statSync(token, { bigint: true }).mtimeNs;

        // A tmp cleaner (or a reboot) removes the token; another user creates one in its place,
        // with the very same modification time, and a token of their own.
        rmSync(token);
        const planted = fakeJwt({ aud: 'attacker', exp: now() + 3600, iat: now() });
        const seconds = `${mtime / 1_000_000_000n}.${String(mtime % 1_000_000_000n).padStart(9, '0')}`;
        attacker.as(['sh', '-c', 'umask 077; printf "%s\\n" "$1" > "$2" && touch -m -d "@$3" "$2"', 'sh', planted, token, seconds]);
        assert.equal(statSync(token).uid, attacker.uid);
        assert.equal(statSync(token, { bigint: true }).mtimeNs, mtime, 'the planted file has the stamped time');

        const calls = await run('rc=0; condor_q || rc=$?; echo "condor=$rc"\nrc=0; fts-rest-whoami || rc=$?; echo "fts=$rc"\ntokenenv_prompt', noXdg, lab.box.tmp);
        assert.match(calls.stdout, /^condor=[1-9]\d*\nfts=[1-9]\d*\ntok \?$/);
        assert.deepEqual(lab.records().slice(1), [], 'no client ran with the planted token');
        assert.match(calls.stderr, new RegExp(`owned by uid ${attacker.uid}`));
        assert.match(calls.stderr, /not running it/);
        assertNoSecret(calls.stdout + calls.stderr, planted);
      });

      it('a stamp in a state directory that another user made is not trusted (nor is that directory used)', async () => {
        // A shared cache directory: another user made tokenenv/run/fresh/… there, with a stamp
        // that says "fresh for an hour" about our own, expired token, bound to its exact time.
        const shared = lab.box.path('shared-cache');
        mkdirSync(shared, { mode: 0o1777 });
        chmodSync(shared, 0o1777);
        const env = { XDG_RUNTIME_DIR: undefined, XDG_CACHE_HOME: shared };
        const token = join(lab.box.tmp, `bt_u${EUID}`);
        const expired = fakeJwt({ aud: 'https://wlcg.cern.ch/jwt/v1/any', iat: now() - 7200, exp: now() - 3600 });
        writeFileSync(token, `${expired}\n`, { mode: 0o600 });
        const stamp = stampPath(join(shared, 'tokenenv', 'run'), `/tmp/bt_u${EUID}`)!;
        attacker.as(['sh', '-c', 'umask 022; mkdir -p "${1%/*}" && printf "%s\\n" "$2" > "$1" && touch -m -r "$3" "$1"', 'sh', stamp, `${now() + 3600} ${now() + 3600} 1:2:3:4`, token]);
        assert.equal(lstatSync(dirname(stamp)).uid, attacker.uid);

        const calls = await run('rc=0; condor_q || rc=$?; echo "rc=$rc"', env, lab.box.tmp);
        assert.equal(calls.status, 0, calls.stderr);
        assert.equal(tokenenv.calls(), 1, 'the wrapper asked tokenenv');
        for (const record of lab.records()) assert.ok(expiryOf(record) > now(), `${record.client} ran with an expired token`);
        assert.match(calls.stdout, /^rc=[1-9]\d*\n$/, 'tokenenv refuses the planted state directory too');
        assert.match(calls.stderr, /owned by uid/);
      });
    });

    it('an older, expired copy of the token moved into place is not handed out (the stamp is bound to the file it checked)', async () => {
      const warm = await run('condor_q');
      assert.equal(warm.status, 0, warm.stderr);
      const old = lab.box.path('xdg', 'old-token');
      writeFileSync(old, `${fakeJwt({ aud: 'https://wlcg.cern.ch/jwt/v1/any', iat: now() - 7200, exp: now() - 60 })}\n`, { mode: 0o600 });
      execFileSync('touch', ['-m', '-d', '@' + (now() - 3600), old]);
      renameSync(old, lab.tokenFile());

      const calls = await run('condor_q\nfts-rest-whoami');
      assert.equal(calls.status, 0, calls.stderr);
      const [, condor, fts] = lab.records();
      assert.ok(expiryOf(condor!) > now(), 'condor_q got a fresh token');
      assert.ok(fts!.argv[1] === lab.token(lab.tokenFile()) && jwtClaims(fts!.argv[1]!).exp as number > now(), 'FTS got a fresh token');
      assert.equal(tokenenv.calls(), 2, 'one slow path: it refreshed the token');
    });

    it('a stamp that says "fresh" about an expired token is not believed: its own expiry is checked against the clock', async () => {
      const warm = await run('condor_q');
      assert.equal(warm.status, 0, warm.stderr);
      const stamp = lab.stampFile(lab.tokenFile());
      const identity = readFileSync(stamp, 'utf8').trim().split(' ')[2];
      writeFileSync(stamp, `${now() + 3600} ${now() - 1} ${identity}\n`);
      execFileSync('touch', ['-m', '-r', lab.tokenFile(), stamp]);

      const calls = await run('condor_q');
      assert.equal(calls.status, 0, calls.stderr);
      assert.equal(tokenenv.calls(), 2, 'the wrapper asked tokenenv');
    });

    it('a symbolic link at the token\'s path: never followed by the fast path', async () => {
      const warm = await run('condor_q');
      assert.equal(warm.status, 0, warm.stderr);
      const real = lab.box.path('xdg', 'real-token');
      renameSync(lab.tokenFile(), real);
      symlinkSync(real, lab.tokenFile());
      await run('rc=0; condor_q || rc=$?\nrc=0; condor_q || rc=$?');
      assert.equal(tokenenv.calls(), 3, 'each call asked tokenenv');
    });

    it('a fresh token with its stamp: the fast path still works (no call to tokenenv)', async () => {
      const warm = await run('condor_q');
      assert.equal(warm.status, 0, warm.stderr);
      const calls = await run('condor_q\ncondor_q -pool ce1.example.org\ncondor_q -pool ce1.example.org');
      assert.equal(calls.status, 0, calls.stderr);
      assert.equal(tokenenv.calls(), 2, 'only the new endpoint asked tokenenv');
    });
  });
}
