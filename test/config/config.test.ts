// tokenenv's config: osg-token-renewer files work unchanged; every problem names file, line
// and key; lookup order; `config check` and `config show`.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../lib/config/config.js';
import { splitCommandLine } from '../../lib/config/words.js';
import { runTokenenv } from '../support/cli.js';
import { Sandbox } from '../support/sandbox.js';

describe('config', () => {
  let box: Sandbox;
  beforeEach(() => { box = new Sandbox(); });
  afterEach(() => box.remove());

  const load = (text: string, env: Record<string, string> = {}) => loadConfig({ file: box.write('config.ini', text), env: { XDG_RUNTIME_DIR: box.xdg, ...env } });

  it("reads osg-token-renewer's config.ini unchanged", () => {
    const pw = box.write('myclient1234.pw', 'secret\n');
    const { config, problems } = load(`[account myclient1234]

password_file = ${pw}



[token mytoken567]

account = myclient1234
token_path = /etc/osg/tokens/myclient1234.mytoken567.token

# Optional:
audience = ce.example.org:9619
scope = compute.read compute.modify
min_lifetime = 1200
`);
    assert.deepEqual(problems, []);
    const account = config.accounts.get('myclient1234')!;
    assert.equal(account.type, 'oidc-agent');
    assert.equal(account.passwordFile, pw);
    assert.deepEqual(config.tokens, [{
      name: 'mytoken567', account: 'myclient1234', path: '/etc/osg/tokens/myclient1234.mytoken567.token',
      minLifetime: 1200, refreshInterval: 600, audience: 'ce.example.org:9619', scope: 'compute.read compute.modify',
    }]);
  });

  it('reads a client-credentials account (token_request_url, client_id, client_secret)', () => {
    const { config, problems } = load(`[account robot]
token_request_url = https://iam.example/token
client_id = robot-1
client_secret = s3cr3t;with#chars
[token t]
account = robot
token_path = /tmp/x
`);
    assert.deepEqual(problems, []);
    const account = config.accounts.get('robot')!;
    assert.equal(account.type, 'client-credentials');
    assert.equal(account.clientSecret, 's3cr3t;with#chars', 'inline ; and # are part of the value, as in configparser');
  });

  it('reports every problem with file, line and key', () => {
    const file = box.path('config.ini');
    const { problems } = load(`[account a]
password_file = ${box.path('missing.pw')}
colour = blue
min_lifetime = 10

[token t]
account = nobody

[token u]
account = a
min_lifetime = ten minutes
token_path = relative/path
audiance = typo

[tokens v]
`);
    const messages = problems.map((p) => p.message);
    const expect = [
      `${file}:2: key "password_file" in [account a]: ${box.path('missing.pw')}: cannot read (ENOENT)`,
      `${file}:3: key "colour" in [account a]: unknown key`,
      `${file}:4: key "min_lifetime" in [account a]: belongs in a [token NAME] section`,
      `${file}:7: key "account" in [token t]: no [account nobody] section`,
      `${file}:11: key "min_lifetime" in [token u]: expected a whole number of seconds`,
      `${file}:12: key "token_path" in [token u]: must be an absolute path`,
      `${file}:13: key "audiance" in [token u]: unknown key`,
      `${file}:15: [tokens v]: unknown section: expected [account NAME], [token NAME] or [endpoint ENDPOINT]`,
    ];
    assert.deepEqual(messages, expect);
  });

  it('a client-credentials account without its keys, and a key of another source type', () => {
    const { problems } = load(`[account robot]
type = client-credentials
password_file = /x
[token t]
account = robot
`);
    const text = problems.map((p) => p.message).join('\n');
    assert.match(text, /:3: key "password_file" in \[account robot\]: does not apply to a client-credentials account/);
    assert.match(text, /\[account robot\]: a client-credentials account needs client_id/);
    assert.match(text, /needs token_request_url or issuer/);
    assert.match(text, /needs client_secret or client_secret_file/);
  });

  it('[endpoint] sections: audience, scope, account and min_lifetime for the shell wrappers', () => {
    const { config, problems } = load(`[account a]\ncommand = true\n[endpoint ce1.example.org:9619]\naudience = https://wlcg.cern.ch/jwt/v1/any\nscope = compute.read\naccount = a\nmin_lifetime = 900\n[endpoint https://fts.example:8446]\naccount = nobody\ncolour = red\n`);
    assert.deepEqual(config.endpoints?.get('ce1.example.org:9619'), {
      endpoint: 'ce1.example.org:9619', audience: 'https://wlcg.cern.ch/jwt/v1/any', scope: 'compute.read', account: 'a', minLifetime: 900,
    });
    assert.deepEqual(problems.map((p) => p.message.replace(/^.*config\.ini:/, '')), [
      '9: key "account" in [endpoint https://fts.example:8446]: no [account nobody] section',
      '10: key "colour" in [endpoint https://fts.example:8446]: unknown key (an [endpoint] takes audience, scope, account, min_lifetime)',
    ]);
  });

  it('syntax errors come from the INI parser with their line', () => {
    assert.throws(() => load('[account a]\nbroken line\n'), /config\.ini:2: /);
  });

  it('command lines split like a shell, without expansion', () => {
    assert.deepEqual(splitCommandLine(`htgettoken -a "vault server" --opt='a b' x\\ y $HOME`), ['htgettoken', '-a', 'vault server', '--opt=a b', 'x y', '$HOME']);
    assert.throws(() => splitCommandLine('echo "open'), /unterminated double quote/);
  });

  describe('lookup', () => {
    const config = (dir: string) => {
      mkdirSync(dir, { recursive: true });
      return box.write(join(dir, 'config.ini'), '[account a]\ncommand = true\n[token t]\naccount = a\ntoken_path = /tmp/x\n');
    };

    it('--config, then $TOKENENV_CONFIG, then $XDG_CONFIG_HOME/tokenenv/config.ini', () => {
      const user = config(box.path('xdgconf', 'tokenenv'));
      const named = config(box.path('named'));
      const explicit = config(box.path('explicit'));
      const env = { XDG_CONFIG_HOME: box.path('xdgconf'), HOME: box.path('home') };
      assert.match(runTokenenv(['config', 'check'], { env }).stdout, new RegExp(`^${user}: ok`));
      assert.match(runTokenenv(['config', 'check'], { env: { ...env, TOKENENV_CONFIG: named } }).stdout, new RegExp(`^${named}: ok`));
      assert.match(runTokenenv(['config', 'check', '--config', explicit], { env: { ...env, TOKENENV_CONFIG: named } }).stdout, new RegExp(`^${explicit}: ok`));
    });

    it('a missing $TOKENENV_CONFIG is an error, not a fall-through', () => {
      const run = runTokenenv(['config', 'check'], { env: { TOKENENV_CONFIG: box.path('nope.ini'), HOME: box.path('home') } });
      assert.equal(run.status, 2);
      assert.match(run.stderr, /nope\.ini: cannot read the config \(ENOENT\)/);
    });
  });

  describe('tokenenv config', () => {
    it('check exits 2 and lists the problems', () => {
      const file = box.write('config.ini', '[account a]\ncommand = true\nbogus = 1\n[token t]\naccount = b\n');
      const run = runTokenenv(['config', 'check', '--config', file]);
      assert.equal(run.status, 2);
      assert.match(run.stdout, /config\.ini:3: key "bogus" in \[account a\]: unknown key\n.*config\.ini:5: key "account" in \[token t\]: no \[account b\] section\n.*2 problem\(s\)/s);
    });

    it('show masks secrets and prints paste-able keys', () => {
      const file = box.write('config.ini', '[account robot]\ntoken_request_url = https://iam.example/token\nclient_id = robot\nclient_secret = hunter2hunter2\n[token t]\naccount = robot\ntoken_path = /tmp/t\n');
      const run = runTokenenv(['config', 'show', '--config', file]);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^client_secret = \*{8}$/m);
      assert.match(run.stdout, /^token_path = \/tmp\/t$/m);
      assert.match(run.stdout, /^min_lifetime = 300$/m);
      assert.ok(!run.stdout.includes('hunter2'));
      const json = runTokenenv(['config', 'show', '--json', '--config', file]);
      assert.ok(!json.stdout.includes('hunter2'));
    });

    it('refresh with a broken config exits 2 naming each problem', () => {
      const file = box.write('config.ini', '[account a]\ncommand = true\n[token t]\naccount = a\nmin_lifetime = soon\n');
      const run = runTokenenv(['refresh', '--config', file]);
      assert.equal(run.status, 2);
      assert.match(run.stderr, /config\.ini:5: key "min_lifetime" in \[token t\]: expected a whole number of seconds/);
    });
  });
});
