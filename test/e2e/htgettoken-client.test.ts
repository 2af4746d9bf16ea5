// End to end: the real htgettoken (2.2) against a loopback stand-in of the Vault endpoints it
// calls, which hands out real JWTs from the demo issuer (a client-credentials grant per request,
// as Vault's oauthapp plugin would exchange its stored refresh token). First htgettoken on its
// own, then tokenenv's own htgettoken source.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { decodeJwt } from 'jose';
import type { AccountConfig } from '../../lib/config/config.js';
import { startDemoIssuer, type DemoIssuer } from '../../lib/demo/issuer.js';
import { HtgettokenSource } from '../../lib/sources/htgettoken.js';
import { runTokenenvAsync, type CliRun } from '../support/cli.js';
import { requireCommands, requirePeer } from '../support/peers.js';
import { createTestPki } from '../support/pki.js';
import { run, type Env, type RunResult } from '../support/run.js';
import { HTGETTOKEN, startVaultStandIn, type VaultStandIn, type VaultTokenRequest } from '../support/vault.js';

const CLIENT = { clientId: 'vault-oauthapp', clientSecret: 'vault-oauthapp-secret' };
const SCOPES = ['storage.read:/', 'storage.modify:/data', 'compute.read'];
const WLCG_ANY = 'https://wlcg.cern.ch/jwt/v1/any';

/** What a token says, by its claims; never the token. */
function claimsOf(token: string): { aud: unknown; scope: unknown } {
  const { aud, scope } = decodeJwt(token.trim());
  return { aud, scope };
}

describe('e2e: the real htgettoken against a Vault stand-in', function () {
  this.timeout(60_000);
  let work: string;
  let issuer: DemoIssuer;
  let vault: VaultStandIn;
  let env: Env;
  let vaultTokenFile: string;

  /** Vault's part: exchange for an access token at the issuer, with the scopes and audience asked for. */
  async function mintAtIssuer(request: VaultTokenRequest): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    // Without `scopes` (the /creds/ path) Vault hands out the token of the user's login: all scopes.
    form.set('scope', request.scopes ? request.scopes.split(/[ ,]+/).join(' ') : SCOPES.join(' '));
    if (request.audiences) form.set('audience', request.audiences);
    const response = await fetch(issuer.tokenEndpoint, {
      method: 'POST', body: form,
      headers: { authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}` },
    });
    const body = await response.json() as { access_token?: string; error?: string };
    if (!body.access_token) throw new Error(`issuer refused: ${body.error ?? response.status}`);
    return body.access_token;
  }

  before(async function () {
    requirePeer(this, existsSync(HTGETTOKEN), `htgettoken is not installed at ${HTGETTOKEN} (see ../shared/peers/README.md)`);
    requireCommands(this, 'openssl');
    work = mkdtempSync(join(tmpdir(), 'tokenenv-htgettoken-'));
    const pki = createTestPki(join(work, 'pki'));
    issuer = await startDemoIssuer({ clients: [{ ...CLIENT, scopes: SCOPES }] });
    vault = await startVaultStandIn(pki, { mint: mintAtIssuer });
    vaultTokenFile = join(work, 'vault-token');
    writeFileSync(vaultTokenFile, `${vault.vaultToken}\n`, { mode: 0o600 });
    const home = join(work, 'home');
    mkdirSync(home, { mode: 0o700 });
    env = {
      PATH: `${dirname(HTGETTOKEN)}:${process.env.PATH ?? '/usr/bin:/bin'}`, LANG: 'C.UTF-8', HOME: home, X509_CERT_DIR: pki.caDir,
      KRB5CCNAME: `FILE:${join(work, 'no-kerberos-ticket')}`, // a real ticket of the machine's would be tried
    };
  });

  after(async function () {
    await vault?.close();
    await issuer?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const failed = (r: RunResult): string => `exit ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}: ${r.stderr}${r.stdout}`;
  /** htgettoken's non-interactive command line; returns its result, the output file and the token requests it made. */
  async function htgettoken(out: string, ...args: string[]) {
    const before = vault.server.requests.length;
    const result = await run([HTGETTOKEN, '-a', vault.url, '-i', 'demo', '-r', 'default', '--nooidc', '-o', out, ...args], env);
    return { result, requests: vault.server.requests.slice(before) };
  }

  it('--credkey and --vaulttokeninfile: GET …/creds/<issuer>/<credkey>:<role> with X-Vault-Token, token written 0600', async () => {
    const out = join(work, 'creds.token');
    const { result, requests } = await htgettoken(out, '--credkey', 'alice', '--vaulttokeninfile', vaultTokenFile);
    assert.equal(result.exitCode, 0, failed(result));
    assert.deepEqual(requests.map((r) => r.target), ['/v1/secret/oauth/creds/demo/alice:default?minimum_seconds=60']);
    assert.ok(requests[0]!.headers['x-vault-token'] === vault.vaultToken, 'X-Vault-Token is not the vault token from the file');
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.match(readFileSync(out, 'utf8'), /^[\w.-]+\n$/);
    assert.deepEqual(claimsOf(readFileSync(out, 'utf8')), { aud: WLCG_ANY, scope: [...SCOPES].join(' ') });
  });

  it('--audience, --scopes and --minsecs: GET …/sts/… with audiences, scopes and minimum_seconds', async () => {
    const out = join(work, 'sts.token');
    const { result, requests } = await htgettoken(out, '--credkey=alice', `--vaulttokeninfile=${vaultTokenFile}`,
      '--audience=https://se.tokenenv.test:1094', '--scopes=storage.read:/ storage.modify:/data', '--minsecs=300');
    assert.equal(result.exitCode, 0, failed(result));
    assert.deepEqual(vault.tokenRequests().slice(-1).map(({ vaultToken, ...asked }) => ({ ...asked, vaultTokenOk: vaultToken === vault.vaultToken })), [{
      kind: 'sts', issuer: 'demo', credkey: 'alice', role: 'default', minimumSeconds: '300',
      scopes: 'storage.read:/ storage.modify:/data', audiences: 'https://se.tokenenv.test:1094', vaultTokenOk: true,
    }]);
    assert.equal(requests.length, 1);
    assert.deepEqual(claimsOf(readFileSync(out, 'utf8')), { aud: 'https://se.tokenenv.test:1094', scope: 'storage.read:/ storage.modify:/data' });
  });

  it('reads the credkey from ~/.config/htgettoken/credkey-<issuer>-<role>; --vaulttokenminttl looks the vault token up first', async () => {
    const config = join(env.HOME!, '.config', 'htgettoken');
    mkdirSync(config, { recursive: true });
    writeFileSync(join(config, 'credkey-demo-default'), 'bob\n');
    const out = join(work, 'credkey-file.token');
    const { result, requests } = await htgettoken(out, `--vaulttokeninfile=${vaultTokenFile}`, '--vaulttokenminttl=10m');
    assert.equal(result.exitCode, 0, failed(result));
    assert.deepEqual(requests.map((r) => `${r.method} ${r.target}`), [
      'GET /v1/auth/token/lookup-self', 'GET /v1/secret/oauth/creds/demo/bob:default?minimum_seconds=60']);
    rmSync(join(config, 'credkey-demo-default'));
  });

  it('a vault token that Vault refuses: exit 1, and the old token file is left as it was', async () => {
    const out = join(work, 'kept.token');
    writeFileSync(out, 'the old token\n', { mode: 0o600 });
    const refused = join(work, 'refused-vault-token');
    writeFileSync(refused, 'hvs.refused\n', { mode: 0o600 });
    const { result, requests } = await htgettoken(out, '--credkey=alice', `--vaulttokeninfile=${refused}`, '--nokerberos', '--nossh');
    assert.equal(result.exitCode, 1, failed(result));
    assert.match(result.stderr, new RegExp(`Failure getting token from ${vault.url}`));
    assert.deepEqual(requests.map((r) => r.headers['x-vault-token']), ['hvs.refused']);
    assert.equal(readFileSync(out, 'utf8'), 'the old token\n');
  });

  describe("tokenenv's htgettoken source (lib/sources/htgettoken.ts)", () => {
    const account = (options: string[]): AccountConfig => ({
      name: 'vault', type: 'htgettoken', timeout: 30, vaultServer: vault.url, issuer: 'demo', role: 'default', htgettokenOptions: options,
    });

    it('gets a token of the audience and scope asked for, given --credkey and --vaulttokeninfile in htgettoken_options', async () => {
      const source = new HtgettokenSource(account(['--credkey=alice', `--vaulttokeninfile=${vaultTokenFile}`]));
      const token = await source.fetch({ audience: 'https://ce.tokenenv.test:9619', scope: 'compute.read', minLifetime: 600 }, { env, timeoutMs: 30_000 });
      assert.deepEqual(claimsOf(token), { aud: 'https://ce.tokenenv.test:9619', scope: 'compute.read' });
      const [asked] = vault.tokenRequests().slice(-1);
      assert.deepEqual({ ...asked, vaultToken: asked!.vaultToken === vault.vaultToken }, {
        kind: 'sts', issuer: 'demo', credkey: 'alice', role: 'default', minimumSeconds: '600',
        scopes: 'compute.read', audiences: 'https://ce.tokenenv.test:9619', vaultToken: true,
      });
    });

    it('fails with a message naming the account when Vault refuses the vault token', async () => {
      const refused = join(work, 'refused-for-source');
      writeFileSync(refused, 'hvs.refused\n', { mode: 0o600 });
      const source = new HtgettokenSource(account(['--credkey=alice', `--vaulttokeninfile=${refused}`, '--nokerberos', '--nossh']));
      await assert.rejects(source.fetch({ scope: 'compute.read' }, { env, timeoutMs: 30_000 }),
        /htgettoken account vault: htgettoken exited with status 1: htgettoken: Failure getting token from/);
    });
  });

  describe('through `tokenenv refresh` with a config (the real htgettoken, the Vault stand-in)', () => {
    let runtime: string;
    let config: string;
    let refusedFile: string;
    const tokenFile = (name: string) => join(work, `refresh-${name}.token`);
    const AUDIENCE = 'roots://se.tokenenv.test:1094';

    before(() => {
      runtime = join(work, 'runtime');
      mkdirSync(runtime, { mode: 0o700 });
      chmodSync(runtime, 0o700);
      refusedFile = join(work, 'refused-for-refresh');
      writeFileSync(refusedFile, 'hvs.refused\n', { mode: 0o600 });
      config = join(work, 'refresh.ini');
      const account = (name: string, options: string) => [`[account ${name}]`, 'type = htgettoken', `vault_server = ${vault.url}`, 'issuer = demo', 'role = default', `htgettoken_options = ${options}`, ''];
      const token = (name: string, account: string) => [`[token ${name}]`, `account = ${account}`, `token_path = ${tokenFile(name)}`, `audience = ${AUDIENCE}`, 'scope = storage.read:/', 'min_lifetime = 60', ''];
      writeFileSync(config, [
        ...account('vault', `--credkey=alice --vaulttokeninfile=${vaultTokenFile}`),
        ...account('refused', `--credkey=alice --vaulttokeninfile=${refusedFile} --nokerberos --nossh`),
        ...account('nokey', `--vaulttokeninfile=${vaultTokenFile} --nokerberos --nossh`),
        ...token('good', 'vault'), ...token('bad', 'refused'), ...token('nocredkey', 'nokey'),
      ].join('\n'), { mode: 0o600 });
    });

    const refresh = (...args: string[]): Promise<CliRun> =>
      runTokenenvAsync(['refresh', '--config', config, ...args], { env: { ...env, XDG_RUNTIME_DIR: runtime } });
    const requestsSoFar = () => vault.tokenRequests().length;

    it('refresh: a new token with the audience and scope of the config, written 0600', async () => {
      const before = requestsSoFar();
      const run = await refresh('good');
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /good.*refreshed/);
      assert.equal(requestsSoFar(), before + 1);
      assert.equal(statSync(tokenFile('good')).mode & 0o777, 0o600);
      assert.deepEqual(claimsOf(readFileSync(tokenFile('good'), 'utf8')), { aud: AUDIENCE, scope: 'storage.read:/' });
    });

    it('keep: a fresh token is kept, htgettoken is not run', async () => {
      const before = { requests: requestsSoFar(), content: readFileSync(tokenFile('good'), 'utf8') };
      const run = await refresh('good');
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /good.*kept/);
      assert.equal(requestsSoFar(), before.requests);
      assert.ok(readFileSync(tokenFile('good'), 'utf8') === before.content);
    });

    it('failure: Vault refuses the vault token: exit 1, the account and htgettoken\'s reason named, no file', async () => {
      const run = await refresh('bad');
      assert.equal(run.status, 1, run.stdout + run.stderr);
      assert.match(run.stdout + run.stderr, /htgettoken account refused: htgettoken exited with status 1: htgettoken: Failure getting token from/);
      assert.equal(existsSync(tokenFile('bad')), false);
    });

    it('old token kept: a forced refresh that fails leaves the valid token in place and says so', async () => {
      const good = readFileSync(tokenFile('good'), 'utf8');
      writeFileSync(tokenFile('bad'), good, { mode: 0o600 });
      const run = await refresh('bad', '--force');
      assert.equal(run.status, 1, run.stdout + run.stderr);
      assert.match(run.stdout + run.stderr, /Failure getting token from .*; the current token was kept/);
      assert.ok(readFileSync(tokenFile('bad'), 'utf8') === good, 'the old token was replaced');
    });

    it('no credkey known: the error says what htgettoken lacks and how to give it one', async () => {
      const run = await refresh('nocredkey');
      assert.equal(run.status, 1, run.stdout + run.stderr);
      assert.match(run.stdout + run.stderr, /htgettoken account nokey: htgettoken knows no credkey for issuer demo, role default, so it cannot find the token in Vault: add --credkey=NAME to htgettoken_options, or run htgettoken -a https:\/\/127\.0\.0\.1:\d+ -i demo once with a browser \(it saves ~\/\.config\/htgettoken\/credkey-demo-default\)/);
    });
  });
});
