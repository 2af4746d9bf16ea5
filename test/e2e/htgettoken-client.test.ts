// End to end: the real htgettoken (2.2) against a loopback stand-in of the Vault endpoints it
// calls, which hands out real JWTs from the demo issuer (a client-credentials grant per request,
// as Vault's oauthapp plugin would exchange its stored refresh token). First htgettoken on its
// own, then tokenenv's own htgettoken source.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { decodeJwt } from 'jose';
import type { AccountConfig } from '../../lib/config/config.js';
import { startDemoIssuer, type DemoIssuer } from '../../lib/demo/issuer.js';
import { HtgettokenSource } from '../../lib/sources/htgettoken.js';
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
});
