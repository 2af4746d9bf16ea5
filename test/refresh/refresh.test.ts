// `tokenenv refresh`: keeps fresh tokens, replaces stale ones atomically, and never replaces a
// valid token with a worse one. Sources are real processes (test/support/mint.ts).
import { requirePeer } from '../support/peers.js';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeClaims } from '../../lib/index.js';
import { runTokenenv } from '../support/cli.js';
import { Mint, mintConfig } from '../support/mint.js';
import { assertNoSecret, fakeJwt, isRoot, Sandbox } from '../support/sandbox.js';

const now = () => Math.floor(Date.now() / 1000);

describe('tokenenv refresh', () => {
  let box: Sandbox;
  let mint: Mint;
  let env: Record<string, string>;

  beforeEach(() => {
    box = new Sandbox();
    mint = new Mint(box.dir);
    env = { XDG_RUNTIME_DIR: box.xdg, HOME: box.path('home') };
    chmodSync(box.xdg, 0o700);
  });
  afterEach(() => box.remove());

  function configure(tokens: Record<string, Record<string, string | number>>, account: Record<string, string | number> = {}): string {
    return box.write('config.ini', mintConfig(mint, tokens, account));
  }
  const tokenPath = (name = 't') => box.path(`${name}.token`);
  const refresh = (...args: string[]) => runTokenenv(['refresh', '--config', box.path('config.ini'), ...args], { env });
  const onDisk = (name = 't') => readFileSync(tokenPath(name), 'utf8');

  it('writes a missing token: mode 0600, the token and one newline', () => {
    configure({ t: { token_path: tokenPath(), audience: 'https://se.example:1094', scope: 'storage.read:/' } });
    const run = refresh();
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^t +\S+t\.token +refreshed +20 min left$/m);
    const content = onDisk();
    assert.match(content, /^[A-Za-z0-9._-]+\n$/);
    assert.equal(statSync(tokenPath()).mode & 0o777, 0o600);
    const claims = decodeClaims(content.trim());
    assert.ok(claims.format === 'jwt' && claims.audience[0] === 'https://se.example:1094');
    assert.equal(mint.calls, 1);
  });

  it('a token shorter-lived than min_lifetime counts as fresh for its first 30 s (no refresh loop)', () => {
    configure({ t: { token_path: tokenPath(), min_lifetime: 600 } });
    mint.lifetime = 300;
    refresh();
    assert.match(refresh().stdout, / kept +5 min left/);
    assert.equal(mint.calls, 1);
    box.write(tokenPath(), fakeJwt({ aud: 'https://wlcg.cern.ch/jwt/v1/any', iat: now() - 200, exp: now() + 100 }) + '\n');
    assert.match(refresh().stdout, / refreshed /);
  });

  it('keeps a token with min_lifetime left, without calling the source', () => {
    configure({ t: { token_path: tokenPath(), min_lifetime: 600 } });
    refresh();
    const first = onDisk();
    const run = refresh();
    assert.equal(run.status, 0);
    assert.match(run.stdout, / kept /);
    assert.equal(onDisk(), first);
    assert.equal(mint.calls, 1);
  });

  it('refreshes a token below min_lifetime, and --force refreshes a fresh one', () => {
    configure({ t: { token_path: tokenPath(), min_lifetime: 600 } });
    mint.lifetime = 700;
    refresh();
    box.write(tokenPath(), fakeJwt({ aud: 'https://wlcg.cern.ch/jwt/v1/any', iat: now() - 1000, exp: now() + 500 }) + '\n');
    assert.match(refresh().stdout, / refreshed /);
    assert.equal(mint.calls, 2);
    assert.match(refresh('--force').stdout, / refreshed /);
    assert.equal(mint.calls, 3);
  });

  it('refreshes when the configured audience changed', () => {
    configure({ t: { token_path: tokenPath(), audience: 'https://a.example' } });
    refresh();
    configure({ t: { token_path: tokenPath(), audience: 'https://b.example' } });
    assert.match(refresh().stdout, / refreshed /);
    const claims = decodeClaims(onDisk().trim());
    assert.ok(claims.format === 'jwt' && claims.audience[0] === 'https://b.example');
  });

  for (const [mode, message] of [
    ['fail-after-print', /exited with status 3/],
    ['garbage', /not a valid bearer token: JSON object/],
    ['expired', /returned an expired token/],
    ['wrong-aud', /not as requested: audience https:\/\/se\.example:1094 not in the token's audience/],
    ['empty', /returned no token/],
  ] as const) {
    it(`a source that ${mode === 'empty' ? 'prints nothing' : mode.replace(/-/g, ' ')} leaves the old token, says why, exit 1`, () => {
      configure({ t: { token_path: tokenPath(), audience: 'https://se.example:1094', min_lifetime: 600 } });
      mint.lifetime = 700;
      refresh();
      const old = onDisk();
      // Make it stale so that the next refresh calls the source.
      box.write(tokenPath(), fakeJwt({ aud: 'https://se.example:1094', iat: now() - 600, exp: now() + 100 }) + '\n');
      const stale = onDisk();
      mint.mode = mode;
      const run = refresh();
      assert.equal(run.status, 1, run.stdout);
      assert.match(run.stdout, /^t +\S+ +failed +\d+ s left$/m);
      assert.match(run.stdout, message);
      assert.match(run.stdout, /the current token was kept/);
      assert.equal(onDisk(), stale);
      assertNoSecret(run.stdout + run.stderr, stale.trim());
      assertNoSecret(run.stdout + run.stderr, old.trim());
    });
  }

  describe('what a source prints may replace a valid JWT only when it is as good', () => {
    // A source printing whatever is in `out`: what `jq -r .access_token` and friends do.
    function printing(content: string, account = '') {
      box.write('out', content);
      const script = box.write('print.sh', `#!/bin/sh\ncat ${box.path('out')}\n`, 0o755);
      box.write('config.ini', `[account p]\ncommand = ${script}\n${account}\n[token t]\naccount = p\ntoken_path = ${tokenPath()}\naudience = https://se.example\nscope = storage.read:/\n`);
    }
    const good = { aud: 'https://se.example', scope: 'storage.read:/' };
    const stale = () => box.write(tokenPath(), fakeJwt({ ...good, iat: now() - 1000, exp: now() + 200 }) + '\n');

    for (const word of ['null', 'None', 'Unauthorized', 'error']) {
      it(`"${word}" does not replace it, nor fill an empty place`, () => {
        printing(`${word}\n`);
        const before = stale();
        const run = refresh();
        assert.equal(run.status, 1);
        assert.match(run.stdout, /opaque token where the current token is a JWT/);
        assert.equal(readFileSync(before, 'utf8'), readFileSync(tokenPath(), 'utf8'));
        rmSync(tokenPath());
        const empty = refresh();
        assert.equal(empty.status, 1);
        assert.match(empty.stdout, /a word or a message, not an opaque token/);
        assert.ok(!existsSync(tokenPath()));
      });
    }

    it('an opaque token replaces a JWT only from an account with token_format = opaque', () => {
      const opaque = 'hvs.CAESIJ7q1x9Zk2mN4pQ8rT0uV3wY6zA1bC5dE7fG9hK2';
      printing(`${opaque}\n`);
      stale();
      assert.equal(refresh().status, 1);
      printing(`${opaque}\n`, 'token_format = opaque');
      const run = refresh();
      assert.equal(run.status, 0, run.stdout);
      assert.equal(onDisk(), `${opaque}\n`);
    });

    for (const [what, claims] of [
      ['no aud', { scope: 'storage.read:/', exp: now() + 3600 }],
      ['aud: []', { ...good, aud: [], exp: now() + 3600 }],
      ['the scope missing from scp', { aud: good.aud, scp: 'storage.modify:/', exp: now() + 3600 }],
      ['nbf an hour ahead', { ...good, nbf: now() + 3600, exp: now() + 7200 }],
      ['no exp', { ...good, iat: now() }],
    ] as const) {
      it(`a JWT with ${what} does not replace it`, () => {
        printing(`${fakeJwt(claims)}\n`);
        const before = stale();
        const run = refresh();
        assert.equal(run.status, 1, run.stdout);
        assert.match(run.stdout, /not as requested|without exp/);
        assert.equal(readFileSync(before, 'utf8'), readFileSync(tokenPath(), 'utf8'));
      });
    }

    it('the same token returned again is not rewritten: kept when fresh (--force), a failure when not', () => {
      const fresh = fakeJwt({ ...good, iat: now(), exp: now() + 3600 });
      printing(`${fresh}\n`);
      box.write(tokenPath(), `${fresh}\n`);
      const forced = refresh('--force');
      assert.equal(forced.status, 0, forced.stdout);
      assert.match(forced.stdout, / kept .*\n?/);
      const cached = fakeJwt({ ...good, iat: now() - 1000, exp: now() + 200 });
      printing(`${cached}\n`);
      box.write(tokenPath(), `${cached}\n`);
      const mtime = statSync(tokenPath()).mtimeMs;
      const run = refresh();
      assert.equal(run.status, 1);
      assert.match(run.stdout, /returned the current token again \(3 min left, less than min_lifetime 300 s\)/);
      assert.equal(statSync(tokenPath()).mtimeMs, mtime);
    });

    for (const size of [70_000, 1_000_000]) {
      it(`a ${size >= 1_000_000 ? '1 MB' : '70 KB'} token is never written: discovery still reads the old one`, () => {
        printing(`${fakeJwt({ ...good, exp: now() + 3600 })}${'A'.repeat(size)}\n`);
        const before = stale();
        const run = refresh();
        assert.equal(run.status, 1);
        assert.match(run.stdout, /more than a token file may hold \(64 KiB\): not written/);
        assert.equal(readFileSync(before, 'utf8'), readFileSync(tokenPath(), 'utf8'));
        assert.equal(runTokenenv(['discover', '--path'], { env: { BEARER_TOKEN_FILE: tokenPath() } }).status, 0);
      });
    }
  });

  it('a token printed on a failing source\'s stderr is redacted', () => {
    configure({ t: { token_path: tokenPath() } });
    mint.mode = 'fail-after-print';
    const run = refresh('--json');
    assert.equal(run.status, 1);
    const [result] = JSON.parse(run.stdout);
    assert.match(result.detail, /minting failed after printing \[redacted\]/);
    assert.ok(!/eyJ/.test(run.stdout + run.stderr));
  });

  it('a hanging source is killed at the account timeout', () => {
    configure({ t: { token_path: tokenPath() } }, { timeout: 1 });
    mint.mode = 'hang';
    const started = Date.now();
    const run = refresh();
    assert.equal(run.status, 1);
    assert.match(run.stdout, /did not finish within 1 s and was killed/);
    assert.ok(Date.now() - started < 8000, 'took too long');
    assert.ok(!existsSync(tokenPath()));
  });

  it('a hanging shell script is killed with its children at the timeout', () => {
    const script = box.write('slow.sh', '#!/bin/sh\nsleep 600\necho never\n', 0o755);
    box.write('config.ini', `[account slow]\ncommand = ${script}\ntimeout = 1\n[token t]\naccount = slow\ntoken_path = ${tokenPath()}\n`);
    const started = Date.now();
    const run = refresh();
    assert.equal(run.status, 1);
    assert.match(run.stdout, /slow\.sh did not finish within 1 s and was killed/);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });

  it('a source returning a token that expires before the current one keeps the current one', () => {
    configure({ t: { token_path: tokenPath(), min_lifetime: 600 } });
    box.write(tokenPath(), fakeJwt({ aud: 'https://wlcg.cern.ch/jwt/v1/any', iat: now() - 1000, exp: now() + 500 }) + '\n');
    const before = onDisk();
    mint.lifetime = 300;
    const run = refresh();
    assert.equal(run.status, 1);
    assert.match(run.stdout, /expiring before the current one; kept the current one/);
    assert.equal(onDisk(), before);
  });

  it('one failing token does not stop the others', () => {
    box.write('config.ini', [
      mintConfig(mint, { good: { token_path: tokenPath('good') } }),
      '[account broken]', 'command = /nonexistent/minter', '',
      '[token bad]', 'account = broken', `token_path = ${tokenPath('bad')}`, '',
    ].join('\n'));
    const run = refresh('--json');
    assert.equal(run.status, 1);
    const results = JSON.parse(run.stdout) as { name: string; action: string; detail: string }[];
    assert.deepEqual(results.map((r) => [r.name, r.action]), [['good', 'refreshed'], ['bad', 'failed']]);
    assert.match(results[1]!.detail, /not installed or not on PATH/);
    assert.ok(existsSync(tokenPath('good')));
  });

  it('names select tokens; an unknown name is a usage error', () => {
    configure({ a: { token_path: tokenPath('a') }, b: { token_path: tokenPath('b') } });
    assert.equal(refresh('b').status, 0);
    assert.ok(!existsSync(tokenPath('a')) && existsSync(tokenPath('b')));
    const run = refresh('c');
    assert.equal(run.status, 2);
    assert.match(run.stderr, /no token named 'c'.*known: a, b/);
  });

  it('without token_path, "default" goes to the discovery location, others get a purpose suffix', () => {
    configure({ default: {}, xfer: {} });
    assert.equal(refresh().status, 0);
    const euid = process.geteuid!();
    assert.ok(existsSync(join(box.xdg, `bt_u${euid}`)));
    assert.ok(existsSync(join(box.xdg, `bt_u${euid}-tokenenv-xfer`)));
    const found = runTokenenv(['discover', '--purpose', 'tokenenv-xfer', '--path'], { env });
    assert.equal(found.stdout.trim(), join(box.xdg, `bt_u${euid}-tokenenv-xfer`));
  });

  it('ad-hoc: source flags without a config write the discovery location', () => {
    const run = runTokenenv(['refresh', '--command', mint.script, '--aud', 'https://x.example', '--min-lifetime', '60'], { env });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const discovered = runTokenenv(['discover', '--json'], { env });
    assert.equal(JSON.parse(discovered.stdout).claims.audience[0], 'https://x.example');
  });

  describe('hostile files', () => {
    it('refuses a symlink at the target', () => {
      configure({ t: { token_path: tokenPath() } });
      const victim = box.write('victim', 'precious\n');
      symlinkSync(victim, tokenPath());
      const run = refresh();
      assert.equal(run.status, 1);
      assert.match(run.stdout, /t\.token: .*symbolic link/);
      assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
      assert.ok(lstatSync(tokenPath()).isSymbolicLink());
    });

    it('refuses a target owned by another user (a planted /tmp file)', function () {
      requirePeer(this, isRoot, 'needs root (files owned by other users)');
      configure({ t: { token_path: join(box.tmp, 'bt_planted') } });
      box.write(join(box.tmp, 'bt_planted'), fakeJwt({ exp: now() + 5000 }), 0o644, 4242);
      const run = refresh();
      assert.equal(run.status, 1);
      assert.match(run.stdout, /owned by uid 4242, not by uid 0/);
      assert.equal(statSync(join(box.tmp, 'bt_planted')).uid, 4242);
    });

    it('refuses a world-writable target directory without the sticky bit', () => {
      const open = box.path('open');
      mkdirSync(open);
      chmodSync(open, 0o777);
      configure({ t: { token_path: join(open, 't.token') } });
      const run = refresh();
      assert.equal(run.status, 1);
      assert.match(run.stdout, /open: token directory is writable by every user without the sticky bit/);
      assert.deepEqual(readdirSync(open), []);
    });

    it('writes in a sticky world-writable directory such as /tmp', () => {
      configure({ t: { token_path: join(box.tmp, 'bt_ok') } });
      assert.equal(refresh().status, 0);
      assert.equal(statSync(join(box.tmp, 'bt_ok')).mode & 0o777, 0o600);
    });

    it('refuses a lock directory planted by another user or open to others', function () {
      configure({ t: { token_path: tokenPath() } });
      const state = join(box.xdg, 'tokenenv');
      mkdirSync(state, { mode: 0o755 });
      chmodSync(state, 0o755);
      let run = refresh();
      assert.equal(run.status, 1);
      assert.match(run.stdout, /tokenenv: private directory has mode 0755: chmod 700 it/);
      if (!isRoot) return;
      chmodSync(state, 0o700);
      chownSync(state, 4242, 4242);
      run = refresh();
      assert.equal(run.status, 1);
      assert.match(run.stdout, /private directory owned by uid 4242/);
      assert.ok(!existsSync(tokenPath()));
    });

    it('as root with owner set, writes a file owned by that user', function () {
      requirePeer(this, isRoot, 'needs root (files owned by other users)');
      configure({ t: { token_path: tokenPath(), owner: 'nobody' } });
      const run = refresh();
      assert.equal(run.status, 0, run.stdout);
      const stat = statSync(tokenPath());
      assert.equal(stat.uid, 65534);
      assert.equal(stat.mode & 0o777, 0o600);
      assert.match(refresh().stdout, / kept /);
    });
  });

  it('leaves no temporary files behind', () => {
    configure({ t: { token_path: tokenPath() } });
    refresh();
    refresh('--force');
    assert.deepEqual(readdirSync(box.dir).filter((n) => n.includes('tokenenv-tmp')), []);
  });

  it('writes nothing secret to its own output', () => {
    configure({ t: { token_path: tokenPath() } });
    const run = refresh('--json');
    assertNoSecret(run.stdout + run.stderr, onDisk().trim());
    writeFileSync(box.path('x'), '');
  });
});
