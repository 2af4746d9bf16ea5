// Does `tokenenv inspect FILE --verify --for ENDPOINT --op OP` agree with a real XRootD server (5.5.3,
// ztn + SciTokens plugin, scitokens-cpp) on whether it accepts a token? A matrix of audiences,
// scopes and token states; each case is asked of the server (real xrdcp/xrdfs) and of tokenenv.
// Where tokenenv cannot know what the server knows (its base path), it says REFUSED: such a case
// is marked `conservative`, and no case may have tokenenv accept what the server refuses.
// The server lists only its own audience (roots://127.0.0.1:PORT), as a site configures it;
// scitokens-cpp adds the WLCG "any" audience for WLCG-profile tokens by itself.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WLCG_ANY_AUDIENCE } from '../../lib/token/claims.js';
import { repoRoot } from '../support/cli.js';
import { run } from '../support/run.js';
import { requireCommands, requirePeer } from '../support/peers.js';
import { createTestPki, type TestPki } from '../support/pki.js';
import { startSigningIssuer, type SigningIssuer } from '../support/signing-issuer.js';
import { startXrootd, xrootdUnavailable, type XrootdOperation, type XrootdServer } from '../support/xrootd.js';

type Maker = (ctx: { url: string; sign: SigningIssuer['sign'] }) => Promise<string> | string;

interface Case {
  name: string;
  token: Maker;
  op: XrootdOperation;
  path: string;
  /** What the server decides (pinned: a change in the installed server shows up here). */
  server: boolean;
  /** tokenenv refuses although the server accepts, because it cannot know the server's base path. */
  conservative?: true;
}

const now = (): number => Math.floor(Date.now() / 1000);
const signed = (claims: Record<string, unknown>): Maker => ({ url, sign }) => sign({ aud: url, ...claims });

/** The token with its payload changed (scope widened) and the old signature kept. */
function tampered(token: string): string {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
  return `${header}.${Buffer.from(JSON.stringify({ ...claims, scope: 'storage.read:/ storage.modify:/' })).toString('base64url')}.${signature}`;
}

export const MATRIX: Case[] = [
  // audiences (scope storage.read:/, read)
  { name: 'aud = the endpoint', token: signed({}), op: 'read', path: '/data/a.txt', server: true },
  { name: 'aud = a list naming the endpoint', token: ({ url, sign }) => sign({ aud: ['https://other.example', url] }), op: 'read', path: '/data/a.txt', server: true },
  { name: 'aud = the WLCG any audience (WLCG token)', token: signed({ aud: WLCG_ANY_AUDIENCE }), op: 'read', path: '/data/a.txt', server: true },
  { name: 'aud = the any audience in a SciTokens token (no wlcg.ver)', token: signed({ aud: WLCG_ANY_AUDIENCE, 'wlcg.ver': undefined, scope: 'read:/' }), op: 'read', path: '/data/a.txt', server: false },
  { name: 'aud = another endpoint', token: signed({ aud: 'roots://127.0.0.1:1' }), op: 'read', path: '/data/a.txt', server: false },
  { name: 'no aud', token: signed({ aud: undefined }), op: 'read', path: '/data/a.txt', server: false },
  { name: 'aud = host only', token: signed({ aud: '127.0.0.1' }), op: 'read', path: '/data/a.txt', server: false },
  { name: 'aud = host:port without scheme', token: ({ url, sign }) => sign({ aud: url.replace('roots://', '') }), op: 'read', path: '/data/a.txt', server: false },
  { name: 'aud = the endpoint with a trailing slash', token: ({ url, sign }) => sign({ aud: `${url}/` }), op: 'read', path: '/data/a.txt', server: false },
  { name: 'aud = root:// instead of roots://', token: ({ url, sign }) => sign({ aud: url.replace('roots:', 'root:') }), op: 'read', path: '/data/a.txt', server: false },
  // scopes (aud = the endpoint)
  { name: 'storage.read:/ → list', token: signed({ scope: 'storage.read:/' }), op: 'list', path: '/data/sub', server: true },
  { name: 'storage.read:/ → write', token: signed({ scope: 'storage.read:/' }), op: 'write', path: '/data/w1.txt', server: false },
  { name: 'storage.read:/ storage.create:/ → write', token: signed({ scope: 'storage.read:/ storage.create:/' }), op: 'write', path: '/data/w2.txt', server: true },
  { name: 'storage.read:/ storage.modify:/ → write', token: signed({ scope: 'storage.read:/ storage.modify:/' }), op: 'write', path: '/data/w3.txt', server: true },
  { name: 'storage.create:/ → write (xrdcp stats first)', token: signed({ scope: 'storage.create:/' }), op: 'write', path: '/data/w4.txt', server: false },
  { name: 'storage.modify:/ → write (xrdcp stats first)', token: signed({ scope: 'storage.modify:/' }), op: 'write', path: '/data/w5.txt', server: false },
  { name: 'storage.create:/ → mkdir', token: signed({ scope: 'storage.create:/' }), op: 'mkdir', path: '/data/d1', server: true },
  { name: 'storage.modify:/ → mkdir', token: signed({ scope: 'storage.modify:/' }), op: 'mkdir', path: '/data/d2', server: true },
  { name: 'storage.read:/ → mkdir', token: signed({ scope: 'storage.read:/' }), op: 'mkdir', path: '/data/d3', server: false },
  { name: 'storage.create:/ → delete', token: signed({ scope: 'storage.create:/' }), op: 'delete', path: '/data/x1.txt', server: false },
  { name: 'storage.modify:/ → delete', token: signed({ scope: 'storage.modify:/' }), op: 'delete', path: '/data/x2.txt', server: true },
  { name: 'read:/ (SciTokens scope) → read', token: signed({ scope: 'read:/' }), op: 'read', path: '/data/a.txt', server: true },
  { name: 'compute.read → read', token: signed({ scope: 'compute.read' }), op: 'read', path: '/data/a.txt', server: false },
  { name: 'storage.read:/other (wrong path) → read', token: signed({ scope: 'storage.read:/other' }), op: 'read', path: '/data/a.txt', server: false },
  { name: 'storage.read:/data (relative to base_path: /data/data) → read /data/a.txt', token: signed({ scope: 'storage.read:/data' }), op: 'read', path: '/data/a.txt', server: false },
  { name: 'storage.read:/sub → read /data/sub/a.txt', token: signed({ scope: 'storage.read:/sub' }), op: 'read', path: '/data/sub/a.txt', server: true, conservative: true },
  // states (aud = the endpoint, storage.read:/)
  { name: 'expired', token: signed({ iat: now() - 600, nbf: now() - 600, exp: now() - 60 }), op: 'read', path: '/data/a.txt', server: false },
  { name: 'tampered (payload changed, old signature)', token: async (ctx) => tampered(await signed({})(ctx)), op: 'read', path: '/data/a.txt', server: false },
  { name: 'signed with a key the issuer does not publish', token: ({ url, sign }) => sign({ aud: url }, { unpublishedKey: true }), op: 'read', path: '/data/a.txt', server: false },
  { name: 'opaque (not a JWT)', token: () => 'opaque-0123456789abcdef', op: 'read', path: '/data/a.txt', server: false },
];

// Runs `tokenenv inspect FILE ARGS…` for each case through the CLI's main() in one Node process
// that trusts the issuer's CA; returns each exit status and the verdict lines of its output.
const INSPECT_ALL = `
const { main } = await import(process.argv[1]);
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const results = [];
for (const c of cases) {
  let out = '';
  const io = { stdout: (t) => { out += t; }, stderr: (t) => { out += t; }, env: process.env, now: () => Date.now() / 1000 };
  const status = await main(['inspect', c.file, ...c.args], io);
  results.push({ status, output: out.split('\\n').filter((l) => /^(For|Signature|Format) |^ +(no|ok):|^tokenenv:/.test(l)).join(' | ') });
}
process.stdout.write(JSON.stringify(results));
`;

async function inspectAll(cases: Array<{ token: string; args: string[] }>, work: string, caFile: string): Promise<Array<{ status: number; output: string }>> {
  const input = cases.map((c, i) => {
    const file = join(work, `inspect-${i}.token`);
    writeFileSync(file, `${c.token}\n`, { mode: 0o600 });
    return { file, args: c.args };
  });
  const result = await run([process.execPath, '--input-type=commonjs', '-e', `(async () => {${INSPECT_ALL}})()`, join(repoRoot, 'dist', 'lib', 'cli', 'main.js')],
    { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, NODE_EXTRA_CA_CERTS: caFile }, undefined, 60_000, JSON.stringify(input));
  if (result.exitCode !== 0) throw new Error(`inspect runner: exit ${result.exitCode}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

describe('e2e: inspect --for agrees with a real XRootD server (matrix)', function () {
  this.timeout(120_000);
  let work: string;
  let pki: TestPki;
  let issuer: SigningIssuer;
  let server: XrootdServer;
  const outcomes = new Map<string, { server: boolean; serverWhy: string; tokenenv: boolean; tokenenvWhy: string }>();

  before(async function () {
    requireCommands(this, 'xrootd', 'xrdcp', 'xrdfs', 'openssl', 'unshare', 'setpriv');
    const unavailable = xrootdUnavailable();
    requirePeer(this, unavailable === undefined, unavailable ?? '');
    work = mkdtempSync(join(tmpdir(), 'tokenenv-xrootd-matrix-'));
    pki = createTestPki(join(work, 'pki'));
    issuer = await startSigningIssuer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) });
    server = await startXrootd({ pki, issuers: [{ url: issuer.url, caFile: pki.caCert }], audiences: (port) => [`roots://127.0.0.1:${port}`] });
    const tokens = await Promise.all(MATRIX.map((c) => c.token({ url: server.url, sign: issuer.sign })));
    // tokenenv: every case in one process (the CLI's own main(), one process start instead of 30);
    // the server: one at a time (decide() reads its log).
    const verdicts = await inspectAll(MATRIX.map((c, i) => ({ token: tokens[i]!, args: ['--verify', '--for', server.urlOf(c.path), '--op', c.op] })), work, pki.caCert);
    for (const [i, c] of MATRIX.entries()) {
      const decision = await server.decide(tokens[i], c.op, c.path);
      outcomes.set(c.name, { server: decision.accepted, serverWhy: decision.reason, tokenenv: verdicts[i]!.status === 0, tokenenvWhy: `exit ${verdicts[i]!.status}: ${verdicts[i]!.output}` });
    }
  });

  after(async () => {
    await server?.stop();
    await issuer?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const c of MATRIX) {
    const expected = c.server && !c.conservative;
    it(`${c.name} (${c.op}): server ${c.server ? 'accepts' : 'refuses'}, tokenenv ${expected ? 'accepts' : 'refuses'}${c.conservative ? ' (conservative)' : ''}`, () => {
      const o = outcomes.get(c.name)!;
      assert.equal(o.server, c.server, `server: ${o.serverWhy}`);
      assert.equal(o.tokenenv, expected, `tokenenv: ${o.tokenenvWhy}`);
    });
  }

  it('tokenenv never accepts what the server refuses, and agrees on every case but the conservative ones', () => {
    const unsafe = [...outcomes].filter(([, o]) => o.tokenenv && !o.server).map(([name]) => name);
    assert.deepEqual(unsafe, []);
    const agreed = [...outcomes.values()].filter((o) => o.tokenenv === o.server).length;
    assert.equal(agreed, MATRIX.length - MATRIX.filter((c) => c.conservative).length, `${agreed} of ${MATRIX.length} agree`);
  });
});
