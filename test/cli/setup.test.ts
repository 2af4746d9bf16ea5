// `tokenenv setup` against real parts: the demo issuer's device flow (approved here, as the user
// would in a browser), the real oidc-agent and oidc-gen, and client credentials. The issuer runs
// in this process, so every tokenenv child runs asynchronously.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { startDemoIssuer, type DemoIssuer } from '../../lib/demo/issuer.js';
import { tokenLocation } from '../../lib/discovery/discovery.js';
import { runTokenenvAsync, tokenenvBin, type CliRun } from '../support/cli.js';
import { createAccount, loadedAccounts, startOidcAgent, type OidcAgent } from '../support/oidc-agent.js';
import { requireCommands } from '../support/peers.js';
import { assertNoSecret, Sandbox } from '../support/sandbox.js';

const SCOPES = ['compute.read', 'compute.create', 'compute.modify', 'compute.cancel', 'storage.read:/', 'storage.modify:/', 'read:/', 'write:/', 'wlcg', 'wlcg.groups'];
const DEVICE_CLIENT = { clientId: 'tokenenv-device', clientSecret: 'device-secret-5e8a1c77' };
const ROBOT = { clientId: 'robot', clientSecret: 'robot-secret-93b0d2e4' };
const PASSWORD = 'agent-pw-0a9f3e';

/**
 * Runs `tokenenv setup` on a terminal (util-linux `script` gives it a pty, so it prompts), typing
 * each answer once its prompt has appeared; `onOutput` sees everything shown so far.
 */
function setupOnTerminal(args: string[], env: Record<string, string>, answers: [RegExp, string][], onOutput?: (output: string) => void): Promise<CliRun> {
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, tokenenvBin, 'setup', ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { env: { PATH: process.env.PATH!, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let answered = 0; // answers are looked for after the previous prompt
    child.stdout.on('data', (data) => {
      output += data;
      const next = answers[0];
      if (next && next[0].test(output.slice(answered))) {
        answers.shift();
        answered = output.length;
        child.stdin.write(`${next[1]}\r`);
      }
      onOutput?.(output);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout: output, stderr: '' });
    });
  });
}

describe('tokenenv setup', function () {
  this.timeout(60_000);
  let issuer: DemoIssuer;
  let box: Sandbox;
  let env: Record<string, string>;

  before(async () => {
    issuer = await startDemoIssuer({
      clients: [{ ...DEVICE_CLIENT, grantTypes: ['device_code', 'refresh_token'], scopes: SCOPES }, { ...ROBOT, scopes: SCOPES }],
      registration: { scopes: SCOPES },
    });
  });
  after(() => issuer?.close());
  beforeEach(() => {
    box = new Sandbox();
    chmodSync(box.xdg, 0o700);
    mkdirSync(box.path('tmpdir'), { mode: 0o700 });
    env = { XDG_RUNTIME_DIR: box.xdg, XDG_CONFIG_HOME: box.path('config'), HOME: box.path('home'), TMPDIR: box.path('tmpdir') };
    issuer.resetCounters();
  });
  afterEach(() => box.remove());

  const setup = (args: string[], extraEnv: Record<string, string> = {}) => runTokenenvAsync(['setup', ...args], { env: { ...env, ...extraEnv } });
  const tokenFile = (name: string) => tokenLocation({ env, purpose: `tokenenv-${name}` }).path;
  /** Where discovery looks: the first token setup writes goes there, as [token default]. */
  const discovered = () => tokenLocation({ env }).path;
  async function verified(path: string, audience: string): Promise<JWTPayload> {
    const token = readFileSync(path, 'utf8').trim();
    return (await jwtVerify(token, createRemoteJWKSet(new URL(issuer.jwksUri)), { issuer: issuer.url, audience })).payload;
  }
  function assertClean(run: CliRun, path: string): void {
    const output = run.stdout + run.stderr;
    assertNoSecret(output, readFileSync(path, 'utf8').trim());
    for (const secret of [DEVICE_CLIENT.clientSecret, ROBOT.clientSecret, PASSWORD]) assert.ok(!output.includes(secret), 'a secret in the output');
    // The client file with the secret is gone; nothing else was left in TMPDIR either.
    assert.deepEqual(readdirSync(box.path('tmpdir')), []);
  }

  describe('oidc-agent account, device flow (real oidc-agent and oidc-gen)', () => {
    let agent: OidcAgent;
    let agentEnv: Record<string, string>;

    before(async function () {
      requireCommands(this, 'oidc-agent', 'oidc-gen', 'oidc-add', 'oidc-token');
      agent = await startOidcAgent(new Sandbox('tokenenv-setup-agent-').path('agent'));
    });
    after(() => agent?.stop());
    // oidc-gen and oidc-add keep account configurations under the agent's HOME.
    beforeEach(() => {
      agentEnv = { HOME: agent.home, OIDC_SOCK: agent.socket };
    });

    /** setup, approving the device code as soon as it is printed. */
    function setupApproving(args: string[]): Promise<CliRun & { code?: string }> {
      let code: string | undefined;
      let approval: Promise<void> | undefined;
      return runTokenenvAsync(['setup', ...args], {
        env: { ...env, ...agentEnv },
        onStdout: (stdout) => {
          const match = /and enter the code:\s+(\S+)/.exec(stdout);
          if (match && !approval) {
            code = match[1]!;
            approval = issuer.approveDeviceCode(code);
          }
        },
      }).then(async (run) => {
        await approval;
        return { ...run, code };
      });
    }

    it('creates the account, writes a 0600 config, and fetches the first token as asked', async () => {
      const passwordFile = box.write('wlcg.pw', `${PASSWORD}\n`);
      const secretFile = box.write('client.secret', `${DEVICE_CLIENT.clientSecret}\n`);
      const run = await setupApproving(['wlcg', '--issuer', issuer.url, '--can', 'htcondor-read,htcondor-write,storage-read', '--groups',
        '--ce', 'ce1.example.org', '--client-id', DEVICE_CLIENT.clientId, '--client-secret-file', secretFile, '--password-file', passwordFile]);
      assert.equal(run.status, 0, run.stdout + run.stderr);

      // The user was shown where to go and what to type.
      assert.match(run.stdout, new RegExp(`Open this URL in a browser, on any device:\\s+${issuer.url}/device\\b`));
      assert.match(run.code!, /^[A-Z]{4}-[A-Z]{4}$/);
      assert.ok(!run.stdout.includes('\x1b['), 'no QR code escapes');
      const device = issuer.tokenRequestLog().find((r) => r.grantType === 'urn:ietf:params:oauth:grant-type:device_code' && r.status === 200);
      assert.ok(device, 'the device code was redeemed');
      assert.equal(device.clientId, DEVICE_CLIENT.clientId);
      assert.deepEqual(await loadedAccounts(agent), ['wlcg']);

      // The user config, created with its directory.
      const configFile = box.path('config', 'tokenenv', 'config.ini');
      assert.equal(statSync(configFile).mode & 0o777, 0o600);
      assert.equal(statSync(box.path('config', 'tokenenv')).mode & 0o777, 0o700);
      const scope = 'compute.read compute.create compute.modify compute.cancel storage.read:/ wlcg.groups';
      assert.equal(readFileSync(configFile, 'utf8'), `[account wlcg]
password_file = ${passwordFile}

[token default]
account = wlcg
audience = ce1.example.org:9619
scope = ${scope}
`);

      // The token: HTCondor-CE audience rule, the scopes the capabilities stand for.
      const payload = await verified(discovered(), 'ce1.example.org:9619');
      assert.equal(payload.scope, scope);
      assert.equal(payload.aud, 'ce1.example.org:9619');

      // Shown the way inspect shows it, with the next steps; never the token or a secret.
      assert.match(run.stdout, /The first token \(refreshed, [^)]+ left\):/);
      assert.match(run.stdout, /^Audience {3}ce1\.example\.org:9619$/m);
      assert.match(run.stdout, new RegExp(`^Scopes {5}${scope.replace(/[./]/g, '\\$&')}$`, 'm'));
      assert.match(run.stdout, new RegExp(`^Issuer {5}${issuer.url}$`, 'm'));
      assert.match(run.stdout, /tokenenv watch/);
      assert.match(run.stdout, /tokenenv init bash >> ~\/\.bashrc/);
      assert.match(run.stdout, /Discovery finds this token \(.*\): grid clients and tokenenv discover use it as it is\.\n$/);
      assertClean(run, discovered());
    });

    it('without --client-id: dynamic client registration, and the registered client\'s secret is never shown', async () => {
      const passwordFile = box.write('dyn.pw', `${PASSWORD}\n`);
      const run = await setupApproving(['dyn', '--issuer', issuer.url, '--can', 'storage-read', '--password-file', passwordFile]);
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /\(dynamic client registration\)/);
      const device = issuer.tokenRequestLog().find((r) => r.grantType === 'urn:ietf:params:oauth:grant-type:device_code' && r.status === 200);
      assert.ok(device?.clientId && ![DEVICE_CLIENT.clientId, ROBOT.clientId].includes(device.clientId), 'a newly registered client');
      assert.ok(!/client_secret|registration_access_token/.test(run.stdout + run.stderr), run.stdout);
      assert.equal((await verified(discovered(), 'https://wlcg.cern.ch/jwt/v1/any')).scope, 'storage.read:/');
      assertClean(run, discovered());
    });

    it('re-running replaces just its two sections, keeps the rest byte for byte, and reuses the account unless --force', async () => {
      const refreshToken = await issuer.mintRefreshToken(DEVICE_CLIENT.clientId, { scope: `openid offline_access ${SCOPES.join(' ')}` });
      await createAccount(agent, { name: 'again', issuerUrl: issuer.url, ...DEVICE_CLIENT, refreshToken, password: PASSWORD, scopes: ['openid', 'offline_access', ...SCOPES] });
      const before = '# my tokens; hands off\r\n[account other]\r\ncommand = /bin/true\r\n\r\n[token again]\r\naccount = other\r\n'
        + 'scope = old\r\n  continued\r\n\r\n; keep this comment\r\n[token other]\r\naccount = other\r\nrefresh_interval = 60\r\n';
      const configFile = box.write('tokens.ini', before, 0o640);
      const args = ['again', '--yes', '--config', configFile, '--issuer', issuer.url, '--can', 'storage-read,storage-write', '--scitokens', '--aud', 'https://se.example.org:1094'];
      const first = await setup(args, agentEnv);
      assert.equal(first.status, 0, first.stdout + first.stderr);
      assert.match(first.stdout, /Using the existing oidc-agent account again/);
      assert.equal(issuer.tokenRequests('urn:ietf:params:oauth:grant-type:device_code'), 0, 'no new login');
      const expected = '# my tokens; hands off\r\n[account other]\r\ncommand = /bin/true\r\n\r\n'
        + '[token again]\r\naccount = again\r\naudience = https://se.example.org:1094\r\nscope = read:/ write:/\r\n'
        + '\r\n; keep this comment\r\n[token other]\r\naccount = other\r\nrefresh_interval = 60\r\n'
        + '\r\n[account again]\r\n';
      assert.equal(readFileSync(configFile, 'utf8'), expected);
      assert.equal(statSync(configFile).mode & 0o777, 0o640, 'an existing file keeps its mode');
      assert.equal((await verified(tokenFile('again'), 'https://se.example.org:1094')).scope, 'read:/ write:/');
      assert.match(first.stdout, new RegExp(`--config ${configFile}`));

      const second = await setup(args, agentEnv);
      assert.equal(second.status, 0, second.stdout + second.stderr);
      assert.equal(readFileSync(configFile, 'utf8'), expected);
      assert.match(second.stdout, /The first token \(kept/);

      // --force: a new login, and now a password_file; the rest of the file is still untouched.
      const passwordFile = box.write('again.pw', `${PASSWORD}\n`);
      const secretFile = box.write('client.secret', `${DEVICE_CLIENT.clientSecret}\n`);
      const forced = await setupApproving([...args, '--force', '--client-id', DEVICE_CLIENT.clientId, '--client-secret-file', secretFile, '--password-file', passwordFile]);
      assert.equal(forced.status, 0, forced.stdout + forced.stderr);
      assert.equal(issuer.tokenRequests('urn:ietf:params:oauth:grant-type:device_code') > 0, true, 'a new login');
      assert.equal(readFileSync(configFile, 'utf8'), expected.replace('[account again]\r\n', `[account again]\r\npassword_file = ${passwordFile}\r\n`));
    });

    it('on a terminal: asks, with defaults, re-asks a bad answer, and reads the password without echo', async function () {
      requireCommands(this, 'script');
      const secretFile = box.write('client.secret', `${DEVICE_CLIENT.clientSecret}\n`);
      let approval: Promise<void> | undefined;
      const run = await setupOnTerminal(['typed', '--client-id', DEVICE_CLIENT.clientId, '--client-secret-file', secretFile], { ...env, ...agentEnv }, [
        [/Token issuer \(your IAM instance\) \[https:\/\/wlcg\.cloud\.cnaf\.infn\.it\/\]: /, issuer.url],
        [/Capabilities \[htcondor-read,htcondor-write\]: /, 'storage-read,bogus'],
        [/Capabilities \[htcondor-read,htcondor-write\]: /, ''],
        [/Audience: .*\[any\]: /, ''],
        [/Password to encrypt the oidc-agent account typed .*: /, PASSWORD],
        [/The same password again: /, PASSWORD],
      ], (output) => {
        const match = /and enter the code:\s+(\S+)/.exec(output);
        if (match && !approval) approval = issuer.approveDeviceCode(match[1]!);
      });
      await approval;
      assert.equal(run.status, 0, run.stdout);
      assert.match(run.stdout, /unknown capability 'bogus'/);
      assert.ok(!run.stdout.includes(PASSWORD), 'the password was echoed');
      assert.match(run.stdout, /Creating the oidc-agent account typed at \S+ \(client tokenenv-device\)/);
      const configFile = box.path('config', 'tokenenv', 'config.ini');
      assert.equal(readFileSync(configFile, 'utf8'), `[account typed]

[token default]
account = typed
audience = https://wlcg.cern.ch/jwt/v1/any
scope = compute.read compute.create compute.modify compute.cancel
`);
      assert.ok((await loadedAccounts(agent)).includes('typed'));
      await verified(discovered(), 'https://wlcg.cern.ch/jwt/v1/any');
    });

    it('without --password-file and without a terminal: exit 2 naming --password-file', async () => {
      const run = await setup(['fresh', '--issuer', issuer.url, '--can', 'htcondor-read'], agentEnv);
      assert.equal(run.status, 2);
      assert.match(run.stderr, /--password-file FILE is needed/);
      assert.ok(!existsSync(box.path('config', 'tokenenv', 'config.ini')));
    });
  });

  it('--client-credentials: a service client, no oidc-agent, the token endpoint from the issuer', async () => {
    const secretFile = box.write('robot.secret', `${ROBOT.clientSecret}\n`);
    const configFile = box.path('etc', 'config.ini');
    const run = await setup(['robot', '--client-credentials', '--client-id', ROBOT.clientId, '--client-secret-file', secretFile,
      '--issuer', issuer.url, '--can', 'htcondor-read', '--ce', 'ce2.example.org:9620', '--config', configFile, '--token-path', box.path('robot.token')]);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.equal(readFileSync(configFile, 'utf8'), `[account robot]
issuer = ${issuer.url}
client_id = robot
client_secret_file = ${secretFile}

[token robot]
account = robot
token_path = ${box.path('robot.token')}
audience = ce2.example.org:9620
scope = compute.read
`);
    assert.equal((await verified(box.path('robot.token'), 'ce2.example.org:9620')).scope, 'compute.read');
    assert.deepEqual(issuer.tokenRequestLog().map((r) => r.grantType), ['client_credentials']);
    assert.match(run.stdout, /^Client {5}robot$/m);
    assertClean(run, box.path('robot.token'));
  });

  // Issue 10.4: the first token setup creates is the one discovery finds; a later one ends with
  // the line that uses it, and `discover --token NAME` finds it by its config name.
  it('the first token is [token default], found by discovery; the next ends with the line that uses it', async () => {
    const secretFile = box.write('robot.secret', `${ROBOT.clientSecret}\n`);
    const robot = (name: string, extra: string[] = []) => setup([name, '--client-credentials', '--client-id', ROBOT.clientId, '--client-secret-file', secretFile,
      '--issuer', issuer.url, '--can', 'storage-read', ...extra]);
    const first = await robot('robot');
    assert.equal(first.status, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /^Wrote \[account robot\] and \[token default\] to /m);
    const found = await runTokenenvAsync(['discover', '--path'], { env });
    assert.equal(found.status, 0, found.stderr);
    assert.equal(found.stdout, `${discovered()}\n`);
    const doctor = await runTokenenvAsync(['doctor'], { env });
    assert.match(doctor.stdout, /^ok +discovery +token found at step 3/m);

    const second = await robot('robot2', ['--aud', 'https://se.example.org:1094']);
    assert.equal(second.status, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /^Wrote \[account robot2\] and \[token robot2\] to /m);
    const last = second.stdout.trimEnd().split('\n').at(-1)!;
    assert.equal(last, `  export BEARER_TOKEN_FILE=${tokenFile('robot2')}`);
    const byName = await runTokenenvAsync(['discover', '--token', 'robot2', '--json'], { env });
    assert.equal(byName.status, 0, byName.stderr);
    assert.deepEqual(JSON.parse(byName.stdout).claims.audience, ['https://se.example.org:1094']);
    // The printed line, pasted: programs now use that token.
    const used = await runTokenenvAsync(['inspect', '--json'], { env: { ...env, BEARER_TOKEN_FILE: last.replace(/^ *export BEARER_TOKEN_FILE=/, '') } });
    assert.deepEqual(JSON.parse(used.stdout).claims.audience, ['https://se.example.org:1094']);

    // Running setup robot again rewrites the section it wrote the first time.
    const again = await robot('robot', ['--can', 'htcondor-read']);
    assert.equal(again.status, 0, again.stdout + again.stderr);
    const config = readFileSync(box.path('config', 'tokenenv', 'config.ini'), 'utf8');
    assert.match(config, /\[token default\]\naccount = robot\naudience = https:\/\/wlcg\.cern\.ch\/jwt\/v1\/any\nscope = compute\.read\n/);
    assert.ok(!config.includes('[token robot]'));
  });

  describe('errors', () => {
    it('no oidc-agent (OIDC_SOCK unset): a clear error, nothing written', async () => {
      const passwordFile = box.write('pw', `${PASSWORD}\n`);
      const run = await setup(['wlcg', '--issuer', issuer.url, '--can', 'storage-read', '--password-file', passwordFile]);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /^tokenenv: setup: no oidc-agent: OIDC_SOCK is not set\. Start one \(eval \$\(oidc-agent-service use\)\)/);
      assert.ok(!existsSync(box.path('config')));
    });

    it('no --issuer and no terminal: exit 2 naming --issuer', async () => {
      const run = await setup(['wlcg', '--can', 'storage-read']);
      assert.equal(run.status, 2);
      assert.match(run.stderr, /^tokenenv: setup: --issuer URL is needed/);
    });

    it('an unknown capability: exit 2 naming it and the known ones', async () => {
      const run = await setup(['wlcg', '--issuer', issuer.url, '--can', 'storage-read,htcondor-admin']);
      assert.equal(run.status, 2);
      assert.match(run.stderr, /--can: unknown capability 'htcondor-admin'; use htcondor-read, htcondor-write, storage-read, storage-write/);
    });

    it('a config file that cannot be parsed is not touched', async () => {
      const configFile = box.write('broken.ini', 'no section header\n');
      const secretFile = box.write('robot.secret', `${ROBOT.clientSecret}\n`);
      const run = await setup(['robot', '--client-credentials', '--client-id', ROBOT.clientId, '--client-secret-file', secretFile,
        '--issuer', issuer.url, '--can', 'htcondor-read', '--config', configFile]);
      assert.equal(run.status, 2);
      assert.match(run.stderr, /broken\.ini:1: no \[section\] header/);
      assert.equal(readFileSync(configFile, 'utf8'), 'no section header\n');
      assert.equal(issuer.tokenRequests(), 0);
    });
  });
});
