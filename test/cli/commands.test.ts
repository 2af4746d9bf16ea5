// The `tokenenv` command as scripts use it: output, exit codes, one error line, no token leaks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { privateTmpAvailable, repoRoot, runTokenenv, type CliOptions } from '../support/cli.js';
import { assertNoSecret, fakeJwt, fakeToken, Sandbox } from '../support/sandbox.js';

const now = () => Math.floor(Date.now() / 1000);

function jwt(lifetime: number, extra: Record<string, unknown> = {}): string {
  return fakeJwt({
    iss: 'https://issuer.example', sub: 'alice', aud: 'https://wlcg.cern.ch/jwt/v1/any', scope: 'storage.read:/ compute.create',
    'wlcg.ver': '1.0', 'wlcg.groups': ['/wlcg', '/wlcg/xfers'], iat: now() - 60, nbf: now() - 60, exp: now() + lifetime, jti: 'id-1', ...extra,
  });
}

describe('tokenenv command', () => {
  let box: Sandbox;
  beforeEach(() => { box = new Sandbox(); });
  afterEach(() => box.remove());

  /** Runs with a private /tmp when possible, so the machine's own token never interferes. */
  function tokenenv(args: string[], options: CliOptions = {}) {
    return runTokenenv(args, privateTmpAvailable() ? { ...options, privateTmp: box.tmp } : options);
  }

  describe('help, version and usage errors', () => {
    it('--help lists the commands and the exit codes', () => {
      const run = tokenenv(['--help']);
      assert.equal(run.status, 0);
      assert.match(run.stdout, /discover .*\n.*inspect/s);
      assert.match(run.stdout, /3 no token found/);
    });

    it('help COMMAND and COMMAND --help print its usage', () => {
      for (const args of [['help', 'discover'], ['discover', '--help']]) {
        const run = tokenenv(args);
        assert.equal(run.status, 0);
        assert.match(run.stdout, /^Usage: tokenenv discover \[--purpose P /);
      }
    });

    it('--version prints the package version', () => {
      const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
      assert.equal(tokenenv(['--version']).stdout, `tokenenv ${version}\n`);
    });

    it('unknown commands and options exit 2 with one line on stderr', () => {
      for (const args of [['frobnicate'], ['--frob'], ['discover', '--frob'], ['discover', 'extra'], ['inspect', 'a', 'b'], ['discover', '--min-lifetime', 'ten'], ['help', 'nope']]) {
        const run = tokenenv(args);
        assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
        assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
        assert.match(run.stderr, /^tokenenv: /);
      }
    });
  });

  describe('discover', () => {
    it('--path prints the file the token came from', () => {
      const file = box.write('t', fakeToken());
      const run = tokenenv(['discover', '--path'], { env: { BEARER_TOKEN_FILE: file } });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, `${file}\n`);
    });

    it('--path exits 3 when the token comes from BEARER_TOKEN', () => {
      const token = fakeToken();
      const run = tokenenv(['discover', '--path'], { env: { BEARER_TOKEN: token } });
      assert.equal(run.status, 3);
      assert.match(run.stderr, /comes from BEARER_TOKEN: there is no token file/);
      assertNoSecret(run.stdout + run.stderr, token);
    });

    it('--json gives source, path and claims, never the token', () => {
      const token = jwt(1200);
      const file = box.write('t', token);
      const run = tokenenv(['discover', '--json'], { env: { BEARER_TOKEN_FILE: file } });
      assert.equal(run.status, 0, run.stderr);
      const report = JSON.parse(run.stdout);
      assert.equal(report.step, 2);
      assert.equal(report.source, 'BEARER_TOKEN_FILE');
      assert.equal(report.path, file);
      assert.deepEqual(report.claims.scopes, ['storage.read:/', 'compute.create']);
      assert.ok(report.claims.secondsLeft > 1100 && report.claims.secondsLeft <= 1200);
      assertNoSecret(run.stdout, token);
    });

    it('an expired token exits 5', () => {
      const token = jwt(-30);
      const run = tokenenv(['discover'], { env: { BEARER_TOKEN: token } });
      assert.equal(run.status, 5);
      assert.match(run.stderr, /BEARER_TOKEN: expired 3\d s ago/);
      assert.equal(run.stdout, '');
      assertNoSecret(run.stderr, token);
    });

    it('--min-lifetime: exit 5 below it, 0 above it', () => {
      const env = { BEARER_TOKEN: jwt(300) };
      const short = tokenenv(['discover', '--min-lifetime', '600'], { env });
      assert.equal(short.status, 5);
      assert.match(short.stderr, /less than the required 600 s/);
      assert.equal(tokenenv(['discover', '--min-lifetime', '200'], { env }).status, 0);
    });

    it('an opaque token passes --min-lifetime: its expiry is unknown', () => {
      const token = fakeToken();
      const run = tokenenv(['discover', '--min-lifetime', '600', '--json'], { env: { BEARER_TOKEN: token } });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(JSON.parse(run.stdout).claims.format, 'opaque');
    });

    it('warnings go to stderr, the token alone to stdout', () => {
      const token = fakeToken();
      box.write(join(box.tmp, `bt_u${process.geteuid!()}`), token, 0o640);
      const run = tokenenv(['discover'], { env: {} });
      if (!privateTmpAvailable()) return;
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, `${token}\n`);
      assert.match(run.stderr, /^tokenenv: warning: .*mode 0640/);
    });
  });

  describe('inspect', () => {
    it('shows issuer, audience, scopes, groups and expiry for a person, never the token', () => {
      const token = jwt(14 * 60 + 20);
      const run = tokenenv(['inspect'], { env: { BEARER_TOKEN: token } });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^Token +BEARER_TOKEN \(discovery step 1\)$/m);
      assert.match(run.stdout, /^Format +JWT, WLCG profile 1\.0$/m);
      assert.match(run.stdout, /^Issuer +https:\/\/issuer\.example$/m);
      assert.match(run.stdout, /^Audience +https:\/\/wlcg\.cern\.ch\/jwt\/v1\/any \(any\)$/m);
      assert.match(run.stdout, /^Scopes +storage\.read:\/ compute\.create$/m);
      assert.match(run.stdout, /^Groups +\/wlcg \/wlcg\/xfers$/m);
      assert.match(run.stdout, /^Expires +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in 14 min\)$/m);
      assertNoSecret(run.stdout + run.stderr, token);
    });

    it('reads a FILE or standard input', () => {
      const token = jwt(600, { sub: 'bob' });
      const file = box.write('t', `${token}\n`);
      assert.match(tokenenv(['inspect', file]).stdout, /^Subject +bob$/m);
      assert.match(tokenenv(['inspect', '-'], { input: `${token}\n` }).stdout, /^Token +standard input$/m);
    });

    it('an expired token is shown and exits 5', () => {
      const run = tokenenv(['inspect', '-'], { input: jwt(-3 * 3600) });
      assert.equal(run.status, 5);
      assert.match(run.stdout, /^Expires +.*\(EXPIRED 3 h ago\)$/m);
    });

    it('--json gives the claims and payload, never the signature', () => {
      const token = jwt(600);
      const run = tokenenv(['inspect', '--json', '-'], { input: token });
      assert.equal(run.status, 0, run.stderr);
      const report = JSON.parse(run.stdout);
      assert.equal(report.claims.issuer, 'https://issuer.example');
      assert.equal(report.source, 'stdin');
      assert.equal(report.payload.jti, 'id-1');
      assert.ok(!run.stdout.includes(token.split('.')[2]!), 'signature printed');
    });

    it('an opaque token is valid, with unknown claims', () => {
      const token = fakeToken();
      const run = tokenenv(['inspect', '-'], { input: token });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /opaque: not a JWT.*claims and expiry are unknown/);
      assertNoSecret(run.stdout, token);
    });

    it('a missing file exits 3, an invalid token 4', () => {
      assert.equal(tokenenv(['inspect', box.path('nope')]).status, 3);
      const bad = tokenenv(['inspect', '-'], { input: '{"access_token": "x"}' });
      assert.equal(bad.status, 4);
      assert.match(bad.stderr, /standard input: not a valid bearer token: JSON object/);
    });
  });
  // Issue 10.15: every usage error is one line naming the option and the value, exit 2; no raw
  // parser message, no internal error.
  describe('usage errors name the option and the value', () => {
    const cases: [string[], RegExp][] = [
      [['refresh', '--command', '"unbalanced'], /^tokenenv: --command: unterminated double quote in '"unbalanced'$/],
      [['exec', '--command', "it's", '--', 'true'], /^tokenenv: --command: unterminated single quote in /],
      [['discover', '--min-lifetime', '-5'], /^tokenenv: --min-lifetime: '-5' is not a whole number of seconds$/],
      [['discover', '--min-lifetime', 'ten'], /--min-lifetime: 'ten' is not a whole number/],
      [['discover', 'extra'], /^tokenenv: discover: unexpected argument 'extra': it takes no arguments/],
      [['inspect', 'a', 'b'], /^tokenenv: inspect: unexpected argument 'b': it takes at most 1/],
      [['discover', '--frob'], /^tokenenv: discover: unknown option '--frob' \(see tokenenv help discover\)$/],
      [['discover', '--path=yes'], /--path takes no value \(given 'yes'\)/],
      [['discover', '--purpose'], /--purpose needs a value/],
      [['discover', '--purpose', '--json'], /--purpose needs a value, not the option '--json'/],
      [['help', 'help', 'discover'], /^tokenenv: help: unexpected argument 'discover'/],
      [['help', 'nope'], /^tokenenv: help: unknown command 'nope'/],
      [['frobnicate'], /^tokenenv: unknown command 'frobnicate'/],
      [['systemd', '--timer', '--interval', 'banana'], /^tokenenv: systemd: --interval: 'banana' is not a systemd time span/],
      [['systemd', '--interval', '5min'], /--interval goes with --timer/],
      [['demo', '--lifetime', '0'], /^tokenenv: --lifetime: '0': at least 5 seconds$/],
      [['demo', '--duration', '0'], /^tokenenv: --duration: '0': at least 1 seconds$/],
      [['inspect', '--for', 'ce.example.org', '--op', 'condor_qq', '-'], /--op 'condor_qq' is neither a known operation \(data: read, list, .*; clients: condor_q, .*arcsub.*\) nor a scope/],
      [['discover', eyJ()], /unexpected argument '\[redacted\]'/],
    ];
    for (const [args, message] of cases) {
      it(args.map((a) => (a.startsWith('eyJ') ? '<a token>' : a)).join(' '), () => {
        const run = tokenenv(args, { env: { HOME: box.path('home'), TOKENENV_CONFIG: box.path('none.ini') } });
        assert.equal(run.status, 2, run.stderr);
        assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
        assert.match(run.stderr.trim(), message);
        assert.ok(!/internal error|ambiguous|To specify a positional/.test(run.stderr), run.stderr);
      });
    }

    function eyJ(): string {
      return jwt(60);
    }

    it('help help shows how to use help', () => {
      const run = tokenenv(['help', 'help']);
      assert.equal(run.status, 0);
      assert.match(run.stdout, /^Usage: tokenenv help \[COMMAND\]/);
    });

    it('systemd --timer accepts systemd time spans', () => {
      const config = box.write('c.ini', '[account a]\ncommand = /bin/true\n[token default]\naccount = a\n');
      for (const interval of ['5min', '1h 30min', '90', '2.5h']) {
        const run = tokenenv(['systemd', '--timer', '--interval', interval, '--config', config]);
        assert.equal(run.status, 0, run.stderr);
        assert.match(run.stdout, new RegExp(`^OnUnitActiveSec=${interval}$`, 'm'));
      }
    });
  });

  // Issue 10.15: claims of the wrong type are reported as such, never a crash or "never stated".
  describe('malformed claims', () => {
    it('an exp out of range: MALFORMED, exit 4, no "Invalid time value"', () => {
      const run = tokenenv(['inspect', '-'], { input: jwt(0, { exp: 1e300, iat: -1e20 }) });
      assert.equal(run.status, 4, run.stderr);
      assert.match(run.stdout, /^Expires +MALFORMED: exp is 1e\+300 is out of range for a date$/m);
      assert.match(run.stdout, /^Issued +MALFORMED: iat is /m);
      assert.equal(run.stderr, '');
    });

    it('a string exp: MALFORMED in inspect and --json, and discover --min-lifetime refuses it', () => {
      const token = jwt(0, { exp: String(now() + 3600) });
      const shown = tokenenv(['inspect', '-'], { input: token });
      assert.equal(shown.status, 4);
      assert.match(shown.stdout, /^Expires +MALFORMED: exp is a string \("\d+"\), not a number of seconds$/m);
      assert.ok(!shown.stdout.includes('never stated'));
      const json = JSON.parse(tokenenv(['inspect', '--json', '-'], { input: token }).stdout);
      assert.match(json.claims.malformed.exp, /^a string/);
      assert.equal(json.claims.expiresAt, null);
      const checked = tokenenv(['discover', '--min-lifetime', '60'], { env: { BEARER_TOKEN: token } });
      assert.equal(checked.status, 4);
      assert.match(checked.stderr, /^tokenenv: BEARER_TOKEN: not a valid bearer token: its exp claim is a string/);
      assert.equal(checked.stdout, '');
      assertNoSecret(checked.stderr, token);
    });
  });

  // Issue 10.7: the spec's order is kept, with one warning line.
  it('BEARER_TOKEN_FILE naming a missing file: the next step is used, with one warning on stderr', () => {
    if (!privateTmpAvailable()) return;
    const token = fakeToken();
    box.write(join(box.tmp, `bt_u${process.geteuid!()}`), token);
    const missing = box.path('gone');
    const run = tokenenv(['discover'], { env: { BEARER_TOKEN_FILE: missing } });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, `${token}\n`);
    assert.equal(run.stderr, `tokenenv: warning: BEARER_TOKEN_FILE=${missing}: does not exist; using the next discovery step\n`);
    const json = JSON.parse(tokenenv(['discover', '--json'], { env: { BEARER_TOKEN_FILE: missing } }).stdout);
    assert.equal(json.step, 4);
    assert.equal(json.warnings.length, 1);
  });

  // Issue 10.4: a configured token by its config name.
  describe('--token NAME', () => {
    it('discover and inspect find a configured token by its name, with the checks of an implicit location', () => {
      const token = jwt(1200, { sub: 'carol' });
      const path = box.write(join(box.xdg, `bt_u${process.geteuid!()}-tokenenv-ce1`), `${token}\n`);
      const config = box.write('c.ini', '[account a]\ncommand = /bin/true\n[token default]\naccount = a\n[token ce1]\naccount = a\n');
      const env = { XDG_RUNTIME_DIR: box.xdg, TOKENENV_CONFIG: config };
      const found = tokenenv(['discover', '--token', 'ce1'], { env });
      assert.equal(found.status, 0, found.stderr);
      assert.equal(found.stdout, `${token}\n`);
      assert.equal(tokenenv(['discover', '--token', 'ce1', '--path'], { env }).stdout, `${path}\n`);
      const json = JSON.parse(tokenenv(['discover', '--token', 'ce1', '--json', '--config', config], { env: { XDG_RUNTIME_DIR: box.xdg } }).stdout);
      assert.deepEqual([json.step, json.source, json.path, json.claims.subject], [null, 'config', path, 'carol']);
      assert.match(tokenenv(['inspect', '--token', 'ce1'], { env }).stdout, /^Token +.*-tokenenv-ce1 \(token ce1\)$/m);

      const unknown = tokenenv(['discover', '--token', 'nope'], { env });
      assert.equal(unknown.status, 2);
      assert.match(unknown.stderr, /--token: no token named 'nope' in .*c\.ini; known: default, ce1/);
      const missing = tokenenv(['discover', '--token', 'default'], { env });
      assert.equal(missing.status, 3);
      assert.match(missing.stderr, /bt_u\d+: does not exist \(token default; fetch it with: tokenenv refresh default\)/);
      box.write(path, `${token}\n`, 0o666);
      assert.equal(tokenenv(['discover', '--token', 'ce1'], { env }).status, 4, 'writable by others: refused');
    });
  });
});

describe('tokenenv discover --export', () => {
  it('prints a line that eval turns into BEARER_TOKEN_FILE, quoted, and refuses a token without a file', async () => {
    const { spawnSync } = await import('node:child_process');
    const box = new Sandbox();
    try {
      const file = box.write("it's a token", `${fakeToken()}\n`);
      const run = runTokenenv(['discover', '--export'], { env: { BEARER_TOKEN_FILE: file } });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, `export BEARER_TOKEN_FILE='${file.replace(/'/g, `'\\''`)}'\n`);
      const shell = spawnSync('bash', ['-c', `eval "$1"; printf %s "$BEARER_TOKEN_FILE"`, 'bash', run.stdout], { encoding: 'utf8' });
      assert.equal(shell.stdout, file);
      const fromVariable = runTokenenv(['discover', '--export'], { env: { BEARER_TOKEN: fakeToken() } });
      assert.equal(fromVariable.status, 3);
      assert.equal(fromVariable.stdout, '');
    } finally {
      box.remove();
    }
  });

  it('--token NAME: the file of that configured token, not the discovered one', () => {
    const box = new Sandbox();
    try {
      const file = box.write('ce1.token', `${fakeToken()}\n`);
      const source = box.write('source.token', `${fakeToken()}\n`);
      const config = box.write('config.ini', `[account f]\ntype = file\npath = ${source}\n\n[token ce1]\naccount = f\ntoken_path = ${file}\n`);
      const run = runTokenenv(['discover', '--export', '--token', 'ce1', '--config', config], { env: { BEARER_TOKEN_FILE: box.write('other.token', `${fakeToken()}\n`) } });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, `export BEARER_TOKEN_FILE='${file}'\n`);
    } finally {
      box.remove();
    }
  });
});
