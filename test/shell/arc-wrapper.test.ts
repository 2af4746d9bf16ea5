// End to end, nothing stubbed: the real arcls, called through the wrapper in bash and zsh, sends a
// token that tokenenv got from the real oidc-agent, which refreshed it at the demo issuer with the
// audience the wrapper derived from arcls's URL. The issuer lives in this process: every child
// process here is spawned asynchronously.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startDemoIssuer, type DemoIssuer } from '../../lib/demo/issuer.js';
import { arcEnvironment, startRecordingServer, type RecordingServer } from '../support/arc.js';
import { createAccount, loadedAccounts, startOidcAgent, unloadAccount, type OidcAgent } from '../support/oidc-agent.js';
import { requireCommands } from '../support/peers.js';
import { assertNoSecret, Sandbox } from '../support/sandbox.js';
import { q, SHELLS, ShellLab } from '../support/shell.js';

const CLIENT = { clientId: 'shell-e2e', clientSecret: 'shell-e2e-secret-5b2c7d' };
const SCOPES = ['storage.read:/', 'storage.modify:/', 'compute.read'];

describe('e2e: arcls through the shell wrapper, token from the real oidc-agent', function () {
  this.timeout(60_000);
  let issuer: DemoIssuer;
  let agent: OidcAgent;
  let agentBox: Sandbox;
  let passwordFile: string;
  let server: RecordingServer;

  before(async function () {
    requireCommands(this, 'arcls', 'openssl', 'oidc-agent', 'oidc-gen', 'oidc-add', 'oidc-token');
    issuer = await startDemoIssuer({ accessTokenLifetime: 1200, clients: [{ ...CLIENT, scopes: SCOPES }] });
    agentBox = new Sandbox('tokenenv-shell-agent-');
    agent = await startOidcAgent(agentBox.path('agent'));
    const refreshToken = await issuer.mintRefreshToken(CLIENT.clientId, { scope: `openid offline_access ${SCOPES.join(' ')}` });
    ({ passwordFile } = await createAccount(agent, {
      name: 'wlcg', issuerUrl: issuer.url, ...CLIENT, refreshToken, password: 'pw-for-shell-tests', scopes: ['openid', 'offline_access', ...SCOPES],
    }));
    server = await startRecordingServer();
  });
  after(async () => {
    await server?.close();
    await agent?.stop();
    await issuer?.close();
    agentBox?.remove();
  });

  for (const shell of SHELLS) {
    describe(shell, () => {
      let lab: ShellLab;
      let env: Record<string, string>;

      beforeEach(async function () {
        requireCommands(this, shell);
        lab = new ShellLab();
        rmSync(join(lab.stubs, 'arcls')); // the real one
        lab.configure({}, {}, `[account wlcg]\npassword_file = ${passwordFile}\n\n[token default]\naccount = wlcg\nscope = storage.read:/\n`);
        const arc = arcEnvironment(lab.box.path('arc'));
        // oidc-add (tokenenv loads the account with password_file) finds the account under
        // $HOME/.oidc-agent: HOME is the agent's, with ARC's client.conf copied in.
        mkdirSync(join(agent.home, '.arc'), { recursive: true, mode: 0o700 });
        copyFileSync(join(arc.HOME!, '.arc', 'client.conf'), join(agent.home, '.arc', 'client.conf'));
        env = { ...lab.env, ...arc, PATH: lab.env.PATH!, HOME: agent.home, OIDC_SOCK: agent.socket };
        // Unloaded, so that tokenenv has to load it (oidc-add --pw-file) as osg-token-renewer does.
        if ((await loadedAccounts(agent)).includes('wlcg')) await unloadAccount(agent, 'wlcg');
        issuer.resetCounters();
      });
      afterEach(() => lab?.remove());

      it(`arcls URL: Authorization carries a token of the demo issuer with aud = the URL's origin`, async () => {
        const path = `/shell-e2e/${shell}/dir`;
        const run = await lab.run(shell, `arcls -t 10 ${q(server.url + path)}`, { env, timeoutMs: 45_000 });
        assert.equal(run.status, 0, `arcls through the wrapper failed: ${run.stderr}`);

        const tokenFile = lab.tokenFile(server.url, 'arcls');
        assert.ok(existsSync(tokenFile), `no token file ${tokenFile}`);
        const token = lab.token(tokenFile);
        assertNoSecret(run.stdout + run.stderr, token);

        const seen = server.requests.filter((r) => new URL(r.target, server.url).pathname === path);
        assert.ok(seen.length > 0, 'arcls sent no request');
        for (const { method, authorization } of seen) {
          assert.equal(authorization.length, 1, `${method}: ${authorization.length} Authorization headers`);
          assert.ok(authorization[0] === `Bearer ${token}`, `${method}: the bearer token is not the content of ${tokenFile}`);
        }
        const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(issuer.jwksUri)), { issuer: issuer.url, audience: server.url });
        assert.equal(payload.aud, server.url);
        assert.equal(payload.iss, issuer.url);
        assert.equal(payload.scope, 'storage.read:/');

        // The agent asked the issuer for exactly that audience, once (loading the account with
        // oidc-add makes a refresh of its own, without an audience).
        const refreshes = issuer.tokenRequestLog().filter((r) => r.grantType === 'refresh_token');
        assert.deepEqual(refreshes.filter((r) => r.audience !== undefined).map((r) => [r.audience, r.scope, r.status]), [[server.url, 'storage.read:/', 200]], JSON.stringify(refreshes));
        assert.deepEqual(await loadedAccounts(agent), ['wlcg'], 'tokenenv loaded the account with its password_file');
        assert.ok(!existsSync(lab.tokenFile()), 'the default token was not made for an endpoint call');

        // Again, in a new shell: the fast path, the same token, no new request to the issuer.
        const before = server.requests.length;
        const again = await lab.run(shell, `arcls -t 10 ${q(server.url + path)}`, { env, timeoutMs: 45_000 });
        assert.equal(again.status, 0, again.stderr);
        const second = server.requests.slice(before);
        assert.ok(second.length > 0 && second.every((r) => r.authorization[0] === `Bearer ${token}`), 'the second call sent the same token');
        assert.equal(issuer.tokenRequests('refresh_token'), refreshes.length, 'no new token was fetched');
      });
    });
  }
});
