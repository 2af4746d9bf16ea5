// End to end: for each WLCG discovery step, the real ARC client (arcls) sends exactly the token
// that `tokenenv discover` prints. Each test also plants tokens at every lower-priority step, so
// both programs must agree on precedence, not just on reading one location.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  arcEnvironment, privateTmp, run, runArcls, startRecordingServer,
  type Env, type PrivateTmp, type RecordingServer, type Wrapper,
} from '../support/arc.js';
import { requireCommands, requirePeer } from '../support/peers.js';

const CLI = fileURLToPath(new URL('../../../bin/tokenenv.cjs', import.meta.url));

/** A JWT-shaped token valid for an hour; nobody verifies its signature here. */
function fakeJwt(subject: string): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: 'https://issuer.tokenenv.test', sub: subject, aud: 'https://wlcg.cern.ch/jwt/v1/any', iat: now, exp: now + 3600 };
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.${randomBytes(64).toString('base64url')}`;
}

function freshDir(path: string, mode: number): string {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  chmodSync(path, mode); // mkdir's mode is cut by the umask
  return path;
}

const STEPS = ['BEARER_TOKEN', 'BEARER_TOKEN_FILE', '$XDG_RUNTIME_DIR/bt_u<uid>', '/tmp/bt_u<uid>'];

describe('e2e: arcls sends the token tokenenv discovers', function () {
  this.timeout(60_000);
  let work: string;
  let arcEnv: Env;
  let server: RecordingServer;
  let sandbox: PrivateTmp | { reason: string };
  let wrap: Wrapper | undefined;
  let uid: number;

  before(async function () {
    requireCommands(this, 'arcls', 'openssl');
    work = mkdtempSync(join(tmpdir(), 'tokenenv-arc-'));
    arcEnv = arcEnvironment(work);
    server = await startRecordingServer();
    // With a private /tmp every step runs in it, so that /tmp/bt_u<uid> holds a decoy too.
    sandbox = await privateTmp(freshDir(join(work, 'tmp'), 0o1777), work);
    wrap = 'wrap' in sandbox ? sandbox.wrap : undefined;
    uid = 'uid' in sandbox ? sandbox.uid : process.geteuid!();
  });

  after(async function () {
    await server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Plants a distinct token at `step` and at every lower-priority step; returns the env and the tokens. */
  function plant(step: number): { env: Env; tokens: string[] } {
    const tokens = STEPS.map((_, i) => fakeJwt(`arc-e2e-step${i + 1}`));
    const env: Env = { ...arcEnv };
    // Files get surrounding whitespace that both programs must strip, and are owned by the test's
    // euid, which is the uid of the readers (also inside a user namespace, where it maps to 0).
    const writeToken = (path: string, token: string): void => writeFileSync(path, ` \t${token}\r\n`, { mode: 0o600 });
    const xdg = freshDir(join(work, 'xdg'), 0o700);
    const fakeTmp = freshDir(join(work, 'tmp'), 0o1777);
    if (step <= 1) env.BEARER_TOKEN = tokens[0]!;
    if (step <= 2) {
      env.BEARER_TOKEN_FILE = join(work, 'token-file');
      writeToken(env.BEARER_TOKEN_FILE, tokens[1]!);
    }
    // For step 4, XDG_RUNTIME_DIR is set but holds no token: a missing step-3 file falls through.
    env.XDG_RUNTIME_DIR = xdg;
    if (step <= 3) writeToken(join(xdg, `bt_u${uid}`), tokens[2]!);
    if (wrap) writeToken(join(fakeTmp, `bt_u${uid}`), tokens[3]!);
    return { env, tokens };
  }

  /** Names a token without printing it, for failure messages. */
  const which = (tokens: string[], value: string | undefined): string => {
    const index = value === undefined ? -1 : tokens.indexOf(value);
    return value === undefined ? 'no bearer token' : index >= 0 ? `the step-${index + 1} token` : `an unknown ${value.length}-character value`;
  };

  STEPS.forEach((name, index) => {
    const step = index + 1;
    it(`step ${step}: ${name}`, async function () {
      if (step === 4) requirePeer(this, wrap !== undefined, 'reason' in sandbox ? sandbox.reason : '');
      const { env, tokens } = plant(step);

      const discovered = await run([process.execPath, CLI, 'discover'], env, wrap);
      assert.equal(discovered.exitCode, 0, `tokenenv discover failed: ${discovered.stderr}`);
      assert.ok(discovered.stdout.endsWith('\n'), 'tokenenv discover ends its output with a newline');
      const token = discovered.stdout.slice(0, -1);
      // Messages name tokens rather than show them: assert.equal's diff would print them.
      assert.ok(token === tokens[step - 1], `tokenenv discover printed ${which(tokens, token)}, not the step-${step} token`);

      const path = `/arc-discovery/step${step}`;
      const arc = await runArcls(server.url + path, env, wrap);
      assert.equal(arc.exitCode, 0, `arcls failed${arc.timedOut ? ' (timed out)' : ''}: ${arc.stderr}`);
      const seen = server.requests.filter((r) => new URL(r.target, server.url).pathname === path);
      assert.ok(seen.length > 0, 'arcls sent no request to the test server');
      for (const { method, authorization } of seen) {
        assert.equal(authorization.length, 1, `arcls ${method} sent ${authorization.length} Authorization headers`);
        const sent = authorization[0]!.startsWith('Bearer ') ? authorization[0]!.slice('Bearer '.length) : undefined;
        assert.ok(sent === token, `arcls ${method} sent ${which(tokens, sent)} as its bearer token, tokenenv discovered ${which(tokens, token)}`);
      }
    });
  });
});
