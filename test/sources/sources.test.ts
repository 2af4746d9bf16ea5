// Each source through `tokenenv refresh`, against real parts: the demo issuer (oidc-provider on
// loopback) for client credentials, the real oidc-agent fed by that issuer, and recording stubs
// for htgettoken, which is not packaged here.
import assert from 'node:assert/strict';
import { chmodSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { startDemoIssuer, type DemoIssuer } from '../../lib/demo/issuer.js';
import { runTokenenvAsync } from '../support/cli.js';
import { createAccount, loadedAccounts, startOidcAgent, unloadAccount, type OidcAgent } from '../support/oidc-agent.js';
import { requireCommands } from '../support/peers.js';
import { assertNoSecret, fakeJwt, Sandbox } from '../support/sandbox.js';

const CE = 'ce.example.org:9619';
const SCOPES = ['compute.read', 'compute.create', 'compute.modify', 'compute.cancel', 'storage.read:/', 'wlcg'];
const CLIENT = { clientId: 'robot', clientSecret: 'robot-secret-4c1f9a' };

describe('token sources', function () {
  this.timeout(60_000);
  let issuer: DemoIssuer;
  let box: Sandbox;
  let env: Record<string, string>;

  before(async () => {
    issuer = await startDemoIssuer({ accessTokenLifetime: 1200, clients: [{ ...CLIENT, scopes: SCOPES }] });
  });
  after(() => issuer?.close());
  beforeEach(() => {
    box = new Sandbox();
    chmodSync(box.xdg, 0o700);
    env = { XDG_RUNTIME_DIR: box.xdg, HOME: box.path('home') };
    issuer.resetCounters();
  });
  afterEach(() => box.remove());

  const tokenPath = () => box.path('t.token');
  const refresh = (...args: string[]) => runTokenenvAsync(['refresh', '--config', box.path('config.ini'), ...args], { env });
  async function verified(audience: string): Promise<JWTPayload> {
    const token = readFileSync(tokenPath(), 'utf8').trim();
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(issuer.jwksUri)), { issuer: issuer.url, audience });
    return payload;
  }

  describe('client-credentials', () => {
    function configure(account: string, token = `audience = ${CE}\nscope = compute.read compute.create`) {
      box.write('config.ini', `[account robot]\n${account}\n\n[token t]\naccount = robot\ntoken_path = ${tokenPath()}\n${token}\n`);
    }

    it('token_request_url, client_id, client_secret (osg-token-renewer keys): a token with the audience and scopes asked for', async () => {
      configure(`token_request_url = ${issuer.tokenEndpoint}\nclient_id = ${CLIENT.clientId}\nclient_secret = ${CLIENT.clientSecret}`);
      const run = await refresh();
      assert.equal(run.status, 0, run.stdout + run.stderr);
      const payload = await verified(CE);
      assert.equal(payload.aud, CE);
      assert.equal(payload.scope, 'compute.read compute.create');
      const [request] = issuer.tokenRequestLog();
      assert.equal(request!.grantType, 'client_credentials');
      assert.equal(request!.clientAuth, 'basic');
      assert.equal(request!.audience, CE);
    });

    it('issuer discovery and a secret file', async () => {
      const secretFile = box.write('robot.secret', `${CLIENT.clientSecret}\n`);
      configure(`issuer = ${issuer.url}\nclient_id = ${CLIENT.clientId}\nclient_secret_file = ${secretFile}`, 'audience = https://se.example:1094\nscope = storage.read:/');
      const run = await refresh();
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.equal((await verified('https://se.example:1094')).scope, 'storage.read:/');
    });

    it('a wrong secret: the OAuth error, never the secret', async () => {
      const secretFile = box.write('robot.secret', 'wrong-secret-7d2e1b\n');
      configure(`issuer = ${issuer.url}\nclient_id = ${CLIENT.clientId}\nclient_secret_file = ${secretFile}`);
      const run = await refresh();
      assert.equal(run.status, 1);
      assert.match(run.stdout, /answered HTTP 401: invalid_client/);
      assert.ok(!(run.stdout + run.stderr).includes('wrong-secret'));
      assert.ok(!(run.stdout + run.stderr).includes(CLIENT.clientSecret));
    });

    it('a scope the client may not have: invalid_scope, reported', async () => {
      configure(`token_request_url = ${issuer.tokenEndpoint}\nclient_id = ${CLIENT.clientId}\nclient_secret = ${CLIENT.clientSecret}`, 'scope = storage.modify:/');
      const run = await refresh();
      assert.equal(run.status, 1);
      assert.match(run.stdout, /HTTP 400: invalid_scope/);
    });

    it('an outage keeps the old token, and the next refresh recovers', async () => {
      configure(`token_request_url = ${issuer.tokenEndpoint}\nclient_id = ${CLIENT.clientId}\nclient_secret = ${CLIENT.clientSecret}`);
      box.write(tokenPath(), fakeJwt({ aud: CE, scope: 'compute.read compute.create', iat: Math.floor(Date.now() / 1000) - 900, exp: Math.floor(Date.now() / 1000) + 200 }) + '\n');
      const old = readFileSync(tokenPath(), 'utf8');
      issuer.setOutage(true);
      const down = await refresh();
      assert.equal(down.status, 1);
      assert.match(down.stdout, /HTTP 503: temporarily_unavailable.*the current token was kept/);
      assert.equal(readFileSync(tokenPath(), 'utf8'), old);
      issuer.setOutage(false);
      const up = await refresh();
      assert.equal(up.status, 0, up.stdout);
      await verified(CE);
    });

    it('an unreachable issuer is named', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      configure(`token_request_url = http://127.0.0.1:${port}/token\nclient_id = ${CLIENT.clientId}\nclient_secret = ${CLIENT.clientSecret}`);
      const run = await refresh();
      assert.equal(run.status, 1);
      assert.match(run.stdout, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}/token: ECONNREFUSED`));
    });
  });

  describe('oidc-agent (real agent)', () => {
    let agent: OidcAgent;
    let passwordFile: string;

    before(async function () {
      requireCommands(this, 'oidc-agent', 'oidc-gen', 'oidc-add', 'oidc-token');
      const dir = new Sandbox('tokenenv-agent-');
      agent = await startOidcAgent(dir.path('agent'));
      const refreshToken = await issuer.mintRefreshToken(CLIENT.clientId, { scope: `openid offline_access ${SCOPES.join(' ')}` });
      ({ passwordFile } = await createAccount(agent, {
        name: 'wlcg', issuerUrl: issuer.url, ...CLIENT, refreshToken, password: 'pw-for-tests', scopes: ['openid', 'offline_access', ...SCOPES],
      }));
    });
    after(() => agent?.stop());

    function configure(extra = '') {
      box.write('config.ini', `[account wlcg]\npassword_file = ${passwordFile}\n${extra}\n[token t]\naccount = wlcg\ntoken_path = ${tokenPath()}\naudience = ${CE}\nscope = compute.read compute.create\nmin_lifetime = 600\n`);
    }
    // oidc-add finds the account configurations under $HOME/.oidc-agent.
    const agentEnv = () => ({ ...env, HOME: agent.home, OIDC_SOCK: agent.socket });

    it('osg-token-renewer config: loads the account with its password_file, then fetches with --aud and --scope', async () => {
      await unloadAccount(agent, 'wlcg');
      configure();
      const run = await runTokenenvAsync(['refresh', '--config', box.path('config.ini')], { env: agentEnv() });
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.deepEqual(await loadedAccounts(agent), ['wlcg']);
      const payload = await verified(CE);
      assert.equal(payload.scope, 'compute.read compute.create');
      const refreshes = issuer.tokenRequestLog().filter((r) => r.grantType === 'refresh_token');
      assert.equal(refreshes.at(-1)!.audience, CE);
      assertNoSecret(run.stdout + run.stderr, readFileSync(tokenPath(), 'utf8').trim());
    });

    it('ad-hoc: --oidc-agent ACCOUNT --aud --scope to the discovery location', async () => {
      const run = await runTokenenvAsync(['refresh', '--oidc-agent', 'wlcg', '--aud', 'https://se.example:1094', '--scope', 'storage.read:/'], { env: agentEnv() });
      assert.equal(run.status, 0, run.stdout + run.stderr);
      const inspect = await runTokenenvAsync(['inspect', '--json'], { env: agentEnv() });
      const { claims } = JSON.parse(inspect.stdout); // the shape of discover --json
      assert.deepEqual(claims.audience, ['https://se.example:1094']);
      assert.deepEqual(claims.scopes, ['storage.read:/']);
      assert.equal(claims.issuer, issuer.url);
    });

    it('no agent: a clear error', async () => {
      configure();
      const run = await refresh();
      assert.equal(run.status, 1);
      assert.match(run.stdout, /oidc-agent account wlcg: no oidc-agent: OIDC_SOCK is not set/);
    });

    it('an issuer outage: the agent\'s error, the old token kept', async () => {
      configure();
      box.write(tokenPath(), fakeJwt({ aud: CE, scope: 'compute.read compute.create', iat: Math.floor(Date.now() / 1000) - 900, exp: Math.floor(Date.now() / 1000) + 200 }) + '\n');
      issuer.setOutage(true);
      try {
        const run = await runTokenenvAsync(['refresh', '--config', box.path('config.ini')], { env: agentEnv() });
        assert.equal(run.status, 1);
        assert.match(run.stdout, /oidc-token exited with status 1: .*temporarily_unavailable.*the current token was kept/);
      } finally {
        issuer.setOutage(false);
      }
    });
  });

  describe('htgettoken (recording stub)', () => {
    it('runs non-interactively into a private temporary file, stdin closed', async () => {
      const bin = box.path('bin');
      const record = box.path('htgettoken.args');
      const token = fakeJwt({ aud: CE, scope: 'compute.read', exp: Math.floor(Date.now() / 1000) + 3600 });
      box.write(join(bin, 'htgettoken'), `#!/bin/sh
printf '%s\\n' "$@" > ${record}
readlink /proc/self/fd/0 >> ${record}
while [ $# -gt 0 ]; do case "$1" in -o) out=$2; shift;; esac; shift; done
printf '%s\\n' '${token}' > "$out"
`, 0o755);
      box.write('config.ini', `[account fnal]\ntype = htgettoken\nvault_server = htvault.example.org\nissuer = fermilab\nrole = analysis\nhtgettoken_options = --credkey "robot/x y"\n\n[token t]\naccount = fnal\ntoken_path = ${tokenPath()}\naudience = ${CE}\nscope = compute.read\nmin_lifetime = 900\n`);
      const run = await runTokenenvAsync(['refresh', '--config', box.path('config.ini')], { env: { ...env, PATH: `${bin}:${process.env.PATH}` } });
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.equal(readFileSync(tokenPath(), 'utf8'), `${token}\n`);
      const argv = readFileSync(record, 'utf8').trim().split('\n');
      const outIndex = argv.indexOf('-o');
      assert.match(argv[outIndex + 1]!, /tokenenv-htgettoken-[^/]+\/token$/);
      assert.deepEqual(argv.slice(0, outIndex).concat(argv.slice(outIndex + 2)), [
        '--nooidc', '-a', 'htvault.example.org', '-i', 'fermilab', '-r', 'analysis',
        `--audience=${CE}`, '--scopes=compute.read', '--minsecs=900', '--credkey', 'robot/x y', '/dev/null',
      ]);
    });
  });

  describe('command and file', () => {
    it('a command gets the request in its environment, not in argv', async () => {
      const record = box.path('env.txt');
      const token = fakeJwt({ aud: ['A', 'B'], scope: 's1 s2', exp: Math.floor(Date.now() / 1000) + 3600 });
      const script = box.write('mint.sh', `#!/bin/sh\necho "$TOKENENV_AUDIENCE|$TOKENENV_SCOPE|$TOKENENV_MIN_LIFETIME|$#" > ${record}\necho '${token}'\n`, 0o755);
      box.write('config.ini', `[account c]\ncommand = ${script}\n[token t]\naccount = c\ntoken_path = ${tokenPath()}\naudience = A B\nscope = s1 s2\nmin_lifetime = 120\n`);
      const run = await refresh();
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.equal(readFileSync(record, 'utf8'), 'A B|s1 s2|120|0\n');
    });

    it("a file source copies another tool's token, and reports a missing one", async () => {
      const creds = box.write('creds/scitokens.use', fakeJwt({ aud: CE, exp: Math.floor(Date.now() / 1000) + 3600 }) + '\n');
      box.write('config.ini', `[account condor]\ntype = file\npath = ${creds}\n[token t]\naccount = condor\ntoken_path = ${tokenPath()}\n`);
      assert.equal((await refresh()).status, 0);
      assert.equal(readFileSync(tokenPath(), 'utf8'), readFileSync(creds, 'utf8'));
      box.write('config.ini', `[account condor]\ntype = file\npath = ${box.path('gone.use')}\n[token t]\naccount = condor\ntoken_path = ${box.path('u.token')}\n`);
      const run = await refresh();
      assert.equal(run.status, 1);
      assert.match(run.stdout, /file source condor \(.*gone\.use\): does not exist/);
    });
  });
});
