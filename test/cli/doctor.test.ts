// `tokenenv doctor`: a healthy set-up passes; each broken one is reported with its fix.
import { requirePeer } from '../support/peers.js';
import assert from 'node:assert/strict';
import { chmodSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { privateTmpAvailable, runTokenenv, type CliOptions } from '../support/cli.js';
import { Mint, mintConfig } from '../support/mint.js';
import { fakeJwt, isRoot, Sandbox } from '../support/sandbox.js';

describe('tokenenv doctor', function () {
  this.timeout(30_000);
  let box: Sandbox;
  let mint: Mint;
  let env: Record<string, string>;
  const euid = process.geteuid!();

  beforeEach(function () {
    requirePeer(this, privateTmpAvailable(), 'needs a private /tmp (root or user namespaces, unshare)');
    box = new Sandbox();
    mint = new Mint(box.dir);
    chmodSync(box.xdg, 0o700);
    env = { XDG_RUNTIME_DIR: box.xdg, HOME: box.path('home'), TOKENENV_CONFIG: box.path('config.ini'), PATH: '/usr/bin:/bin' };
    box.write('config.ini', mintConfig(mint, { default: {} }));
  });
  afterEach(() => box?.remove());

  const run = (options: CliOptions = {}) => runTokenenv(['doctor'], { env, privateTmp: box.tmp, ...options });
  const token = () => join(box.xdg, `bt_u${euid}`);
  const line = (out: string, check: string) => out.split('\n').find((l) => l.slice(6).startsWith(check)) ?? '';

  it('a healthy set-up: every check ok or info, exit 0 (a missing watcher is a warning)', () => {
    assert.equal(runTokenenv(['refresh'], { env }).status, 0);
    const result = run();
    assert.equal(result.status, 0, result.stdout);
    assert.match(line(result.stdout, 'discovery'), /^ok +discovery +token found at step 3:/);
    assert.match(line(result.stdout, 'token file'), /^ok .*owned by you, mode 0600/);
    assert.match(line(result.stdout, 'expiry'), /^ok .*20 min left/);
    assert.match(line(result.stdout, 'clock'), /^ok /);
    assert.match(line(result.stdout, 'config'), /^ok .*1 account\(s\), 1 token\(s\)/);
    assert.match(result.stdout, /^WARN +watcher +not running.*\n +fix: tokenenv watch/m);
    assert.ok(!/^FAIL/m.test(result.stdout));
  });

  it('an expired token: FAIL with the fix', () => {
    box.write(token(), fakeJwt({ iat: Math.floor(Date.now() / 1000) - 4000, exp: Math.floor(Date.now() / 1000) - 420 }) + '\n');
    const result = run();
    assert.equal(result.status, 1);
    assert.match(result.stdout, /^FAIL +expiry +expired 7 min ago\n +fix: tokenenv refresh/m);
  });

  it('a token issued in the future: clock skew', () => {
    box.write(token(), fakeJwt({ iat: Math.floor(Date.now() / 1000) + 600, exp: Math.floor(Date.now() / 1000) + 1800 }) + '\n');
    const result = run();
    assert.equal(result.status, 1);
    assert.match(result.stdout, /^FAIL +clock +the token was issued 10 min in the future.*\n +fix: synchronise the clock/m);
  });

  it('a token file readable by others: WARN chmod 600', () => {
    box.write(token(), fakeJwt({ iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 1800 }) + '\n', 0o644);
    const result = run();
    assert.match(result.stdout, /^WARN +token file mode +.*mode 0644\): chmod 600 it\n +fix: chmod 600 /m);
  });

  it('a token file owned by someone else: FAIL, remove it', function () {
    requirePeer(this, isRoot, 'needs root (files owned by other users)');
    box.write(token(), fakeJwt({ exp: Math.floor(Date.now() / 1000) + 1800 }) + '\n');
    chownSync(token(), 4242, 4242);
    const result = run();
    assert.equal(result.status, 1);
    assert.match(result.stdout, /^FAIL +discovery +.*owned by uid 4242.*\n +fix: remove that file \(someone else may have planted it\)/m);
  });

  it('an oidc-agent account and no agent: FAIL with how to start one', () => {
    box.write('config.ini', '[account wlcg]\noidc_account = wlcg\n[token default]\naccount = wlcg\n');
    const result = run();
    assert.equal(result.status, 1);
    assert.match(result.stdout, /^FAIL +oidc-agent +no agent: OIDC_SOCK is not set\n +fix: eval \$\(oidc-agent-service use\)/m);
  });

  it('an endpoint the default token does not fit: WARN with the way out', () => {
    box.write('config.ini', `${mintConfig(mint, { default: {} })}\n[endpoint ce1.example.org:9619]\nscope = compute.read\n`);
    box.write(token(), fakeJwt({ aud: 'https://se.example:1094', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 1800 }) + '\n');
    const result = run();
    assert.match(result.stdout, /^WARN +endpoint ce1\.example\.org:9619 +the default token would be refused: audience https:\/\/se\.example:1094 does not name ce1\.example\.org:9619\n +fix: use the shell wrappers/m);
  });

  it('no token at all, and --json for scripts', () => {
    const result = run({ env: { ...env } });
    assert.equal(result.status, 1);
    const json = JSON.parse(runTokenenv(['doctor', '--json'], { env, privateTmp: box.tmp }).stdout);
    assert.equal(json.ok, false);
    assert.equal(json.checks[0].check, 'discovery');
    assert.equal(json.checks[0].level, 'fail');
    assert.match(json.checks[0].fix, /tokenenv refresh/);
  });
});
