// What `config check`, `doctor` and every command that loads a config refuse or warn about:
// config and secret files someone else could have written or can read (issue 12.4, 10.11),
// FIFOs, devices and oversized files (12.7), a "billion laughs" config (12.7), two tokens
// writing one file (12.4, 12.10), an owner that does not exist (10.11), a value that carries an
// inline comment (10.3), and the osg-token-renewer config lookup (10.5).
import { MAX_CONFIG_BYTES } from '../../lib/files/trust.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { interpretConfig, loadConfig, loadValidConfig } from '../../lib/config/config.js';
import { parseIni } from '../../lib/config/ini.js';
import { resolveEnvironment } from '../../lib/core/environment.js';
import { configCandidates } from '../../lib/files/paths.js';
import { privateTmpAvailable, repoRoot, runTokenenv } from '../support/cli.js';
import { requirePeer } from '../support/peers.js';
import { isRoot, Sandbox } from '../support/sandbox.js';

const OTHER_UID = 4242;

// 10 levels of 10 references each: under 714 bytes (the size the issue's probe had) that
// expand to 10^10 characters.
function billionLaughs(): string {
  const lines = ['[DEFAULT]', 'l0 = lol%%'];
  for (let i = 1; i < 9; i++) lines.push(`l${i} = ${`%(l${i - 1})s`.repeat(10)}`);
  lines.push('[account a]', `command = ${'%(l8)s'.repeat(10)}`, '[token t]', 'account = a', 'token_path = /tmp/never');
  return lines.join('\n') + '\n';
}

describe('config checks', function () {
  this.timeout(30_000);
  let box: Sandbox;
  beforeEach(() => { box = new Sandbox(); });
  afterEach(() => box.remove());

  const env = () => ({ HOME: box.path('home'), XDG_RUNTIME_DIR: box.xdg, XDG_CONFIG_HOME: box.path('xdgconf') });
  const check = (file: string, extra: Record<string, string> = {}) => runTokenenv(['config', 'check', '--config', file], { env: { ...env(), ...extra } });
  const load = (file: string) => loadConfig({ file, env: env() });
  const messages = (file: string) => load(file).problems.map((p) => p.message);
  const marker = () => box.path('command-ran');
  const commandConfig = () => `[account a]\ncommand = sh -c "touch ${marker()}; echo tok"\n[token t]\naccount = a\ntoken_path = ${box.path('t.token')}\n`;

  describe('a config others could have written (issue 12.4)', () => {
    it('a config writable by every user that defines a command: refused, the command never runs', () => {
      const file = box.write('config.ini', commandConfig(), 0o666);
      const refresh = runTokenenv(['refresh', '--config', file], { env: env() });
      assert.equal(refresh.status, 2);
      assert.match(refresh.stderr, new RegExp(`${file}: writable by every user \\(mode 0666\\): chmod go-w ${file}; refusing to use this config`));
      assert.ok(!existsSync(marker()), 'the command ran');
      assert.throws(() => loadValidConfig({ file, env: env() }), { code: 'ERR_CONFIG' });
      const result = check(file);
      assert.equal(result.status, 2);
      assert.match(result.stdout, /writable by every user \(mode 0666\): chmod go-w .*\n.*: 1 problem\(s\)/);
      assert.equal(load(file).config.accounts.size, 0, 'nothing of an untrusted config is used');
    });

    it('a group-writable config is refused too', () => {
      const file = box.write('config.ini', commandConfig(), 0o664);
      assert.deepEqual(messages(file), [`${file}: writable by its group (mode 0664): chmod go-w ${file}; refusing to use this config`]);
    });

    it('$TOKENENV_CONFIG owned by another user is refused (as root: another uid)', function () {
      requirePeer(this, isRoot, 'needs root to give the config to another uid');
      const file = box.write('config.ini', commandConfig(), 0o644, OTHER_UID);
      const run = runTokenenv(['refresh'], { env: { ...env(), TOKENENV_CONFIG: file } });
      assert.equal(run.status, 2);
      assert.match(run.stderr, new RegExp(`${file}: owned by uid ${OTHER_UID}, not by you \\(uid 0\\) or root`));
      assert.ok(!existsSync(marker()));
    });

    it('a root service does not run a command from a config in a directory another user owns', function () {
      requirePeer(this, isRoot, 'needs root');
      const dir = box.path('theirs');
      mkdirSync(dir, { mode: 0o755 });
      chownSync(dir, OTHER_UID, OTHER_UID);
      const file = box.write(join(dir, 'config.ini'), commandConfig(), 0o644);
      const run = runTokenenv(['refresh', '--config', file], { env: env() });
      assert.equal(run.status, 2);
      assert.match(run.stderr, new RegExp(`in ${dir}: directory owned by uid ${OTHER_UID}`));
      assert.ok(!existsSync(marker()));
    });

    it('another user runs tokenenv with a root-owned 0644 config: trusted', function () {
      requirePeer(this, isRoot, 'needs root to run as another uid');
      const file = box.write('config.ini', '[account a]\ncommand = true\n[token t]\naccount = a\ntoken_path = /tmp/x\n', 0o644);
      const run = runTokenenv(['config', 'check', '--config', file], { env: env(), uid: OTHER_UID });
      assert.equal(run.status, 0, run.stdout + run.stderr);
    });
  });

  describe('secret files and inline secrets (issue 12.4, 10.11)', () => {
    const robot = (extra: string) => `[account robot]\ntoken_request_url = https://iam.example/token\nclient_id = r\n${extra}\n[token t]\naccount = robot\ntoken_path = ${box.path('t.token')}\n`;
    const pw = (extra: string) => `[account agent]\n${extra}\n[token t]\naccount = agent\ntoken_path = ${box.path('t.token')}\n`;

    it('a client_secret_file or password_file writable by group or others is refused, naming key and fix', () => {
      const secret = box.write('robot.secret', 'x\n', 0o620);
      const file = box.write('config.ini', robot(`client_secret_file = ${secret}`));
      assert.deepEqual(messages(file), [`${file}:4: key "client_secret_file" in [account robot]: ${secret}: writable by its group (mode 0620): chmod go-w ${secret}`]);
      const password = box.write('agent.pw', 'x\n', 0o606);
      const other = box.write('other.ini', pw(`password_file = ${password}`));
      assert.match(messages(other).join('\n'), /:2: key "password_file" in \[account agent\]: .*agent\.pw: writable by every user \(mode 0606\)/);
    });

    it('a secret file readable by every user: a failure; by its group: a warning', () => {
      const open = box.write('open.secret', 'x\n', 0o644);
      const file = box.write('config.ini', robot(`client_secret_file = ${open}`));
      const result = check(file);
      assert.equal(result.status, 2);
      assert.match(result.stdout, new RegExp(`key "client_secret_file" in \\[account robot\\]: ${open}: holds a secret and is readable by every user \\(mode 0644\\): chmod 600 ${open}`));
      const group = box.write('group.secret', 'x\n', 0o640);
      box.write('config.ini', robot(`client_secret_file = ${group}`));
      const warned = check(file);
      assert.equal(warned.status, 0, warned.stdout);
      assert.match(warned.stdout, /key "client_secret_file" in \[account robot\]: warning: .*group\.secret: holds a secret and is readable by its group \(mode 0640\)/);
      assert.match(warned.stdout, /: ok, 1 account\(s\), 1 token\(s\), 1 warning\(s\)\n$/);
    });

    it('a password_file owned by another user is refused', function () {
      requirePeer(this, isRoot, 'needs root to give the file to another uid');
      const password = box.write('agent.pw', 'x\n', 0o600, OTHER_UID);
      const file = box.write('config.ini', pw(`password_file = ${password}`));
      assert.match(messages(file).join('\n'), new RegExp(`agent\\.pw: owned by uid ${OTHER_UID}, not by you`));
    });

    it('client_secret inline in a config readable by every user: a failure; by its group: a warning', () => {
      const file = box.write('config.ini', robot('client_secret = hunter2hunter2'), 0o644);
      const result = check(file);
      assert.equal(result.status, 2);
      assert.match(result.stdout, new RegExp(`${file}:4: key "client_secret" in \\[account robot\\]: ${file} holds client_secret and is readable by every user \\(mode 0644\\): chmod 600 ${file}, or move the secret to client_secret_file`));
      assert.ok(!result.stdout.includes('hunter2'));
      chmodSync(file, 0o640);
      const group = check(file);
      assert.equal(group.status, 0);
      assert.match(group.stdout, /key "client_secret" in \[account robot\]: warning: .* readable by its group \(mode 0640\)/);
      chmodSync(file, 0o644);
      box.write('config.ini', `[account a]\ncommand = true\n[token t]\naccount = a\ntoken_path = /tmp/x\n`, 0o644);
      assert.equal(check(file).status, 0, 'a config without secrets may be readable by all');
    });
  });

  describe('FIFOs, devices, sizes, billion laughs (issue 12.7)', () => {
    it('a config or password_file that is a FIFO or /dev/zero: a clear error at once, no hang', () => {
      const fifo = box.path('fifo.ini');
      execFileSync('mkfifo', [fifo]);
      for (const file of [fifo, '/dev/zero']) {
        const started = Date.now();
        const result = check(file);
        assert.equal(result.status, 2, result.stderr);
        assert.match(result.stdout, new RegExp(`^${file}: is a (FIFO|device), not a regular file; refusing to use this config$`, 'm'));
        assert.ok(Date.now() - started < 10_000);
      }
      for (const secret of [fifo, '/dev/zero']) {
        const file = box.write('config.ini', `[account a]\npassword_file = ${secret}\n[token t]\naccount = a\ntoken_path = /tmp/x\n`);
        assert.match(check(file).stdout, new RegExp(`key "password_file" in \\[account a\\]: ${secret}: is a (FIFO|device), not a regular file`));
      }
    });

    it('a config over the 16 MiB bound is refused without being read', () => {
      const file = box.write('config.ini', `[account a]\ncommand = true\n${'# padding\n'.repeat(MAX_CONFIG_BYTES / 10 + 1)}`);
      assert.match(check(file).stdout, new RegExp(`config\\.ini: larger than ${MAX_CONFIG_BYTES} bytes: not read; refusing to use this config`));
    });

    it('a 714-byte "billion laughs" config is a config error, not a crash', () => {
      const text = billionLaughs();
      assert.ok(text.length <= 714);
      const file = box.write('config.ini', text);
      for (const args of [['config', 'check', '--config', file], ['refresh', '--config', file]]) {
        const result = runTokenenv(args, { env: env() });
        assert.equal(result.status, 2, result.stderr);
        assert.match(result.stdout + result.stderr, /config\.ini:12: key "command" in \[account a\]: %\(name\)s references expand to more than 65536 characters/);
        assert.doesNotMatch(result.stderr, /FATAL|heap|Invalid string length/);
      }
    });
  });

  describe('token files and owners (issue 12.4, 12.10, 10.11)', () => {
    it('two tokens sharing one token_path: an error at the second one', () => {
      const file = box.write('config.ini', `[account a]\ncommand = true\n[token one]\naccount = a\ntoken_path = ${box.path('t.token')}\n[token two]\naccount = a\ntoken_path = ${box.path('.', 't.token')}\n`);
      assert.deepEqual(messages(file), [`${file}:8: key "token_path" in [token two]: writes the same file as [token one] (line 3), ${box.path('.', 't.token')}: give each token its own token_path`]);
    });

    for (const [first, second] of [['CE1', 'ce1'], ['a b', 'a-b'], ['x', '--X']]) {
      it(`token names "${first}" and "${second}" map to one default file: an error`, () => {
        const file = box.write('config.ini', `[account a]\ncommand = true\n[token ${first}]\naccount = a\n[token ${second}]\naccount = a\n`);
        const result = check(file);
        assert.equal(result.status, 2, result.stdout);
        assert.match(result.stdout, new RegExp(`:5: \\[token ${second}\\]: writes the same file as \\[token ${first}\\] \\(line 3\\), .*bt_u\\d+-tokenenv-\\S+: rename one, or give it a token_path`));
      });
    }

    it('owner = nosuchuser: an error with file, line and key', () => {
      const file = box.write('config.ini', `[account a]\ncommand = true\n[token t]\naccount = a\ntoken_path = /tmp/x\nowner = nosuchuser-tokenenv\n`);
      assert.deepEqual(messages(file), [`${file}:6: key "owner" in [token t]: owner nosuchuser-tokenenv: no such user: use an existing user name or a uid`]);
      box.write('config.ini', `[account a]\ncommand = true\n[token t]\naccount = a\ntoken_path = /tmp/x\nowner = nobody\n`);
      assert.deepEqual(messages(file), []);
    });

    it('a section name with U+2028 or a control character is refused, not half-read', () => {
      const file = box.write('config.ini', '[account a]\ncommand = true\n[token x\u2028y]\naccount = a\n[token p\u0007q]\naccount = a\n' +
        '[token d\u007fe]\naccount = a\n[token c\u0085d]\naccount = a\n[token \u00e9t\u00e9\u00a0\u00a9]\naccount = a\ntoken_path = /tmp/x\n');
      // C0, DEL and C1 (U+0085, a line break to some readers) are refused; é, NBSP and © are not.
      assert.deepEqual(messages(file).map((m) => m.replace(/^.*config\.ini:/, '')), [
        '3: [token x\u2028y]: section name has a control character or a line separator (U+2028, U+2029)',
        '5: [token p\u0007q]: section name has a control character or a line separator (U+2028, U+2029)',
        '7: [token d\u007fe]: section name has a control character or a line separator (U+2028, U+2029)',
        '9: [token c\u0085d]: section name has a control character or a line separator (U+2028, U+2029)',
      ]);
    });
  });

  describe('inline comments (issue 10.3)', () => {
    it('config check warns, with file, line and key, about " #" and " ;" in a value, and reads it unchanged', () => {
      const file = box.write('config.ini', `[account robot]
token_request_url = https://iam.example.org/token     # or: issuer = https://iam.example.org/
client_id = robot-1 ; the robot
client_secret = s3cr3t#not-a-comment
[token t]
account = robot
token_path = /tmp/x
`);
      const result = check(file);
      assert.equal(result.status, 0, result.stdout);
      assert.equal(result.stdout, [
        `${file}:2: key "token_request_url" in [account robot]: warning: the value has " #" in it, which configparser keeps as part of the value (not a comment); put comments on lines of their own`,
        `${file}:3: key "client_id" in [account robot]: warning: the value has " ;" in it, which configparser keeps as part of the value (not a comment); put comments on lines of their own`,
        `${file}: ok, 1 account(s), 1 token(s), 2 warning(s)`,
        '',
      ].join('\n'));
      const account = load(file).config.accounts.get('robot')!;
      assert.equal(account.tokenRequestUrl, 'https://iam.example.org/token     # or: issuer = https://iam.example.org/');
      assert.equal(account.clientId, 'robot-1 ; the robot');
      const json = JSON.parse(runTokenenv(['config', 'check', '--json', '--config', file], { env: env() }).stdout);
      assert.deepEqual(json.warnings.map((w: { line: number; key: string }) => [w.line, w.key]), [[2, 'token_request_url'], [3, 'client_id']]);
    });

    it("the README's INI examples are copy-safe: no value carries a comment", () => {
      const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
      const blocks = [...readme.matchAll(/```ini\n([\s\S]*?)```/g)].map((m) => m[1]!);
      assert.ok(blocks.length > 0, 'the README has INI examples');
      for (const block of blocks) {
        const { warnings } = interpretConfig(parseIni(block, 'README.md'), resolveEnvironment({ env: env() }));
        assert.deepEqual(warnings.map((w) => w.message), []);
      }
    });
  });

  describe('doctor (issue 10.11)', () => {
    it('reports each config problem and warning on a line of its own', function () {
      requirePeer(this, privateTmpAvailable(), 'needs a private /tmp');
      const secret = box.write('open.secret', 'x\n', 0o644);
      const file = box.write('config.ini', `[account robot]\ntoken_request_url = https://iam.example/token  # here\nclient_id = r\nclient_secret_file = ${secret}\n[token t]\naccount = robot\ntoken_path = ${box.path('t.token')}\n`);
      const result = runTokenenv(['doctor', '--config', file], { env: { ...env(), PATH: '/usr/bin:/bin' }, privateTmp: box.tmp });
      assert.equal(result.status, 1);
      assert.match(result.stdout, /^FAIL +config +.*config\.ini: 1 problem\(s\), each below with what to change$/m);
      assert.match(result.stdout, /^FAIL +config +.*:4: key "client_secret_file" in \[account robot\]: .*open\.secret: holds a secret and is readable by every user \(mode 0644\): chmod 600 /m);
      assert.match(result.stdout, /^WARN +config +.*:2: key "token_request_url" in \[account robot\]: the value has " #" in it/m);
      box.write('config.ini', commandConfig(), 0o666);
      const untrusted = runTokenenv(['doctor', '--config', file], { env: { ...env(), PATH: '/usr/bin:/bin' }, privateTmp: box.tmp });
      assert.match(untrusted.stdout, /^FAIL +config +.*config\.ini: writable by every user \(mode 0666\): chmod go-w /m);
    });
  });

  describe('osg-token-renewer config lookup (issue 10.5)', () => {
    it("order: tokenenv's own files, then $OSG_TOKEN_RENEWER_CONFIG_PATH, then /etc/osg/token-renewer/config.ini", () => {
      const paths = configCandidates({ HOME: '/h', XDG_CONFIG_HOME: '/x', TOKENENV_CONFIG: '/t.ini', OSG_TOKEN_RENEWER_CONFIG_PATH: '/o.ini' }).map((c) => c.path);
      assert.deepEqual(paths, ['/t.ini', '/x/tokenenv/config.ini', '/etc/tokenenv/config.ini', '/o.ini', '/etc/osg/token-renewer/config.ini']);
    });

    it("with no config of its own, tokenenv reads osg-token-renewer's file unchanged", function () {
      requirePeer(this, !existsSync('/etc/tokenenv/config.ini'), 'this machine has /etc/tokenenv/config.ini, which comes first');
      const osg = box.write('osg/config.ini', `[account robot]\n\ntoken_request_url = https://iam.example/token\nclient_id = c\nclient_secret = s\n\n[token ce.example.org:9619]\naccount = robot\ntoken_path = ${box.path('osg', 'ce.token')}\n`, 0o640);
      const result = runTokenenv(['config', 'check'], { env: { ...env(), OSG_TOKEN_RENEWER_CONFIG_PATH: osg } });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`^${osg}: ok, 1 account\\(s\\), 1 token\\(s\\)`, 'm'));
      // Yet a config of tokenenv's own comes first.
      const own = box.write('xdgconf/tokenenv/config.ini', '[account a]\ncommand = true\n[token t]\naccount = a\ntoken_path = /tmp/x\n');
      assert.match(runTokenenv(['config', 'check'], { env: { ...env(), OSG_TOKEN_RENEWER_CONFIG_PATH: osg } }).stdout, new RegExp(`^${own}: ok`));
    });

    it("an osg-token-renewer file this user cannot read is skipped: no config, not a broken one", function () {
      requirePeer(this, isRoot, 'needs root to run as another uid');
      const osg = box.write('osg.ini', '[account a]\ncommand = true\n', 0o600);
      const result = runTokenenv(['config', 'check'], { env: { ...env(), HOME: '/nonexistent', OSG_TOKEN_RENEWER_CONFIG_PATH: osg }, uid: OTHER_UID });
      assert.equal(result.status, 2);
      assert.match(result.stderr, new RegExp(`no config file: looked for .*${osg}, /etc/osg/token-renewer/config.ini`));
      assert.doesNotMatch(result.stderr, /EACCES/);
    });
  });
});
