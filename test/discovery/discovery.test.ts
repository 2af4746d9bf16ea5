// WLCG discovery conformance: every rule of DESIGN.md §1, each case run three ways — the sync
// library, the async library and the `tokenenv discover` command (with a private /tmp).
import { requirePeer } from '../support/peers.js';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  discoverToken, discoverTokenSync, explainDiscovery, tokenLocation, InvalidTokenError, NoTokenFoundError,
  TokenFileError, TokenTooLargeError, UsageError, type DiscoveredToken, type DiscoveryOptions,
} from '../../lib/index.js';
import { privateTmpAvailable, runTokenenv } from '../support/cli.js';
import { assertNoSecret, fakeToken, isRoot, Sandbox } from '../support/sandbox.js';

const EUID = process.geteuid!();
const OTHER_UID = 4242;
const KIB64 = 64 * 1024;

interface Setup {
  env: Record<string, string>;
  /** Tokens that must never show in errors or explanations. */
  secrets: string[];
  /** Runs just before discovery (e.g. starts a FIFO writer); returns a cleanup. */
  before?: () => () => void;
}

type Expectation =
  | { token: string; step: 1 | 2 | 3 | 4; warning?: RegExp; reason?: RegExp }
  | { error: new (...args: never[]) => Error; exit: number; message: RegExp };

interface Case {
  name: string;
  /** Needs root (chown to another uid); skipped otherwise. */
  root?: boolean;
  purpose?: string;
  /** Only through the library (e.g. an injected euid). */
  libraryOnly?: boolean;
  setup(box: Sandbox): { setup: Setup; expect: Expectation };
}

const name = (purpose?: string) => `bt_u${EUID}${purpose ? `-${purpose}` : ''}`;

function tokenIn(box: Sandbox, where: 'file' | 'xdg' | 'tmp', content: string | Buffer, mode = 0o600, uid?: number): string {
  const path = where === 'file' ? box.path('given-token') : join(where === 'xdg' ? box.xdg : box.tmp, name());
  return box.write(path, content, mode, uid);
}

/** A token at every step below `step`, so that precedence is really checked. */
function lowerSteps(box: Sandbox, env: Record<string, string>, secrets: string[], from: 2 | 3 | 4): void {
  if (from <= 2) {
    const t = fakeToken('file');
    env.BEARER_TOKEN_FILE = tokenIn(box, 'file', t);
    secrets.push(t);
  }
  if (from <= 3) {
    const t = fakeToken('xdg');
    tokenIn(box, 'xdg', t);
    env.XDG_RUNTIME_DIR = box.xdg;
    secrets.push(t);
  }
  const t = fakeToken('tmp');
  tokenIn(box, 'tmp', t);
  secrets.push(t);
}

function fileCase(caseName: string, content: string | Buffer, expect: (token: string) => Expectation, token = fakeToken()): Case {
  return {
    name: caseName,
    setup(box) {
      const env = { BEARER_TOKEN_FILE: tokenIn(box, 'file', content) };
      return { setup: { env, secrets: [token] }, expect: expect(token) };
    },
  };
}

const invalid = (message: RegExp): Expectation => ({ error: InvalidTokenError, exit: 4, message });

function whitespaceCases(): Case[] {
  const spaces: [string, string][] = [[' ', 'space'], ['\f', 'form feed'], ['\n', 'newline'], ['\r', 'carriage return'], ['\t', 'tab'], ['\v', 'vertical tab']];
  return spaces.map(([ch, label]) => {
    const token = fakeToken();
    return fileCase(`strips ${label} (C isspace) on both sides`, `${ch}${ch}${token}${ch}`, () => ({ token, step: 2 }), token);
  });
}

function syntaxCases(): Case[] {
  const t = fakeToken();
  const cases: [string, string | Buffer, RegExp][] = [
    ['refuses a leading non-breaking space: not C isspace', Buffer.concat([Buffer.from([0xc2, 0xa0]), Buffer.from(t)]), /non-breaking space \(U\+00A0\) at offset 0/],
    ['refuses a trailing non-breaking space', Buffer.concat([Buffer.from(t), Buffer.from([0xc2, 0xa0])]), new RegExp(`non-breaking space \\(U\\+00A0\\) at offset ${t.length}`)],
    ['refuses a leading byte order mark: not C isspace', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(t)]), /byte order mark \(U\+FEFF\) at offset 0/],
    ['refuses an interior newline, naming its offset', `${t}\n${t}\n`, new RegExp(`interior newline at offset ${t.length}`)],
    ['refuses an interior CRLF', `${t}\r\n${t}\r\n`, new RegExp(`interior carriage return at offset ${t.length}`)],
    ['refuses a NUL byte', `${t}\0x`, new RegExp(`NUL byte at offset ${t.length}`)],
    ['refuses an interior space', `ab ${t}`, /interior space at offset 2/],
    ['refuses a double-quoted token', `"${t}"\n`, /enclosed in quotes/],
    ['refuses a single quote inside', `${t}'x`, /single quote at offset/],
    ['refuses a Bearer prefix', `Bearer ${t}\n`, /HTTP scheme 'Bearer '/],
    ['refuses JSON, telling to extract access_token', `{"access_token":"${t}","expires_in":600}`, /JSON object: extract its access_token/],
    ['refuses a leading =', `=${t}`, /starts with '=' at offset 0/],
    ['refuses = before more characters', `${t}=x`, /'=' at offset \d+ is followed by more characters/],
    ['refuses other characters (comma)', `${t},x`, /U\+002C at offset/],
    ['refuses non-ASCII bytes', `${t}\u00e9`, /non-ASCII byte 0xC3 at offset/],
    ['refuses control characters', `${t}\u0007`, /control character 0x07 at offset/],
  ];
  return cases.map(([caseName, content, message]) => fileCase(caseName, content, () => invalid(message), t));
}

const CASES: Case[] = [
  // Precedence.
  {
    name: 'step 1: BEARER_TOKEN wins over every file',
    setup(box) {
      const token = fakeToken('env');
      const env: Record<string, string> = { BEARER_TOKEN: token };
      const secrets = [token];
      lowerSteps(box, env, secrets, 2);
      return { setup: { env, secrets }, expect: { token, step: 1 } };
    },
  },
  {
    name: 'step 2: BEARER_TOKEN_FILE wins over the implicit locations',
    setup(box) {
      const token = fakeToken('given');
      const env: Record<string, string> = {};
      const secrets = [token];
      lowerSteps(box, env, secrets, 3);
      env.BEARER_TOKEN_FILE = box.write('explicit', `${token}\n`);
      return { setup: { env, secrets }, expect: { token, step: 2 } };
    },
  },
  {
    name: 'step 3: $XDG_RUNTIME_DIR/bt_u<euid> wins over /tmp',
    setup(box) {
      const token = fakeToken('xdg');
      const env: Record<string, string> = { XDG_RUNTIME_DIR: box.xdg };
      tokenIn(box, 'xdg', `${token}\n`);
      const secrets = [token];
      const low = fakeToken('tmp');
      tokenIn(box, 'tmp', low);
      secrets.push(low);
      return { setup: { env, secrets }, expect: { token, step: 3 } };
    },
  },
  {
    name: 'step 4: /tmp/bt_u<euid>',
    setup(box) {
      const token = fakeToken('tmp');
      tokenIn(box, 'tmp', `${token}\n`);
      return { setup: { env: {}, secrets: [token] }, expect: { token, step: 4 } };
    },
  },
  {
    name: 'no token anywhere: exit 3 listing every step',
    setup: () => ({ setup: { env: {}, secrets: [] }, expect: { error: NoTokenFoundError, exit: 3, message: /BEARER_TOKEN is not set.*BEARER_TOKEN_FILE is not set.*XDG_RUNTIME_DIR is not set.*bt_u\d+: does not exist/ } }),
  },
  // Whitespace and syntax.
  ...whitespaceCases(),
  fileCase('CRLF line ending is whitespace', 'TOKEN\r\n', () => ({ token: 'TOKEN', step: 2 }), 'TOKEN'),
  fileCase('accepts every b64token character and trailing padding', 'AZaz09-._~+/==\n', () => ({ token: 'AZaz09-._~+/==', step: 2 }), 'AZaz09-._~+/=='),
  ...syntaxCases(),
  // Empty values.
  {
    name: 'BEARER_TOKEN set to the empty string counts as unset',
    setup(box) {
      const token = fakeToken();
      return { setup: { env: { BEARER_TOKEN: '', BEARER_TOKEN_FILE: tokenIn(box, 'file', token) }, secrets: [token] }, expect: { token, step: 2, reason: /BEARER_TOKEN is set to the empty string/ } };
    },
  },
  {
    name: 'BEARER_TOKEN holding only whitespace: next step',
    setup(box) {
      const token = fakeToken();
      return { setup: { env: { BEARER_TOKEN: ' \t\n', BEARER_TOKEN_FILE: tokenIn(box, 'file', token) }, secrets: [token] }, expect: { token, step: 2, reason: /BEARER_TOKEN holds only whitespace/ } };
    },
  },
  {
    name: 'BEARER_TOKEN_FILE set to the empty string counts as unset',
    setup(box) {
      const token = fakeToken();
      tokenIn(box, 'tmp', token);
      return { setup: { env: { BEARER_TOKEN_FILE: '' }, secrets: [token] }, expect: { token, step: 4 } };
    },
  },
  {
    name: 'empty BEARER_TOKEN_FILE: next step',
    setup(box) {
      const token = fakeToken();
      tokenIn(box, 'tmp', token);
      return { setup: { env: { BEARER_TOKEN_FILE: tokenIn(box, 'file', '') }, secrets: [token] }, expect: { token, step: 4, reason: /given-token is empty/ } };
    },
  },
  {
    name: 'XDG_RUNTIME_DIR set to the empty string: step 3 skipped',
    setup(box) {
      const token = fakeToken();
      tokenIn(box, 'tmp', token);
      return { setup: { env: { XDG_RUNTIME_DIR: '' }, secrets: [token] }, expect: { token, step: 4, reason: /XDG_RUNTIME_DIR is set to the empty string/ } };
    },
  },
  {
    name: 'XDG_RUNTIME_DIR relative: ignored as the XDG spec says',
    setup(box) {
      const token = fakeToken();
      tokenIn(box, 'tmp', token);
      return { setup: { env: { XDG_RUNTIME_DIR: 'relative/dir' }, secrets: [token] }, expect: { token, step: 4, reason: /not an absolute path/ } };
    },
  },
  {
    name: 'step 3 file missing: step 4',
    setup(box) {
      const token = fakeToken();
      tokenIn(box, 'tmp', token);
      return { setup: { env: { XDG_RUNTIME_DIR: box.xdg }, secrets: [token] }, expect: { token, step: 4, reason: /xdg\/bt_u\d+: does not exist/ } };
    },
  },
  {
    name: 'step 3 file empty: step 4',
    setup(box) {
      const token = fakeToken();
      tokenIn(box, 'xdg', '\n');
      tokenIn(box, 'tmp', token);
      return { setup: { env: { XDG_RUNTIME_DIR: box.xdg }, secrets: [token] }, expect: { token, step: 4, reason: /holds only whitespace/ } };
    },
  },
  // Files.
  {
    name: 'BEARER_TOKEN_FILE missing: next step, recorded, with a warning',
    setup(box) {
      const token = fakeToken();
      tokenIn(box, 'tmp', token);
      return { setup: { env: { BEARER_TOKEN_FILE: box.path('nope') }, secrets: [token] }, expect: { token, step: 4, reason: /nope: does not exist/, warning: /BEARER_TOKEN_FILE=\S+nope: does not exist; using the next discovery step$/m } };
    },
  },
  {
    name: 'BEARER_TOKEN_FILE a dangling symlink: next step, recorded, with a warning',
    setup(box) {
      const token = fakeToken();
      tokenIn(box, 'tmp', token);
      const link = box.symlink(box.path('gone'), 'link');
      return { setup: { env: { BEARER_TOKEN_FILE: link }, secrets: [token] }, expect: { token, step: 4, reason: /link: dangling symbolic link/, warning: /BEARER_TOKEN_FILE=\S+link: dangling symbolic link; using the next discovery step$/m } };
    },
  },
  {
    name: 'step 3 a dangling symlink: step 4',
    setup(box) {
      const token = fakeToken();
      tokenIn(box, 'tmp', token);
      box.symlink(box.path('gone'), join(box.xdg, name()));
      return { setup: { env: { XDG_RUNTIME_DIR: box.xdg }, secrets: [token] }, expect: { token, step: 4, reason: /dangling symbolic link/ } };
    },
  },
  {
    name: 'BEARER_TOKEN_FILE a directory: error, no fall-through',
    setup(box) {
      const token = fakeToken();
      tokenIn(box, 'tmp', token);
      return { setup: { env: { BEARER_TOKEN_FILE: box.xdg }, secrets: [token] }, expect: { error: TokenFileError, exit: 4, message: /xdg: is a directory/ } };
    },
  },
  {
    name: 'a directory at step 3: error',
    setup(box) {
      mkdirSync(join(box.xdg, name()));
      return { setup: { env: { XDG_RUNTIME_DIR: box.xdg }, secrets: [] }, expect: { error: TokenFileError, exit: 4, message: /is a directory/ } };
    },
  },
  {
    name: 'BEARER_TOKEN_FILE a pipe (process substitution) is read',
    setup(box) {
      const token = fakeToken('pipe');
      const fifo = box.path('fifo');
      spawnSync('mkfifo', [fifo]);
      chmodSync(fifo, 0o666);
      return { setup: { env: { BEARER_TOKEN_FILE: fifo }, secrets: [token], before: () => writer(fifo, `${token}\n`) }, expect: { token, step: 2 } };
    },
  },
  {
    name: 'a FIFO at step 4 is refused without blocking',
    setup(box) {
      spawnSync('mkfifo', ['-m', '600', join(box.tmp, name())]);
      return { setup: { env: {}, secrets: [] }, expect: { error: TokenFileError, exit: 4, message: /is a FIFO: only BEARER_TOKEN_FILE may name a pipe/ } };
    },
  },
  fileCase('a token of exactly 64 KiB is read', 'a'.repeat(KIB64), () => ({ token: 'a'.repeat(KIB64), step: 2 }), 'a'.repeat(KIB64)),
  fileCase('a file of 64 KiB + 1 byte is refused', 'a'.repeat(KIB64 + 1), () => ({ error: TokenTooLargeError, exit: 4, message: /given-token: larger than 65536 bytes/ })),
  {
    name: 'an endless pipe is read no further than the bound',
    setup(box) {
      const fifo = box.path('fifo');
      spawnSync('mkfifo', ['-m', '666', fifo]);
      return { setup: { env: { BEARER_TOKEN_FILE: fifo }, secrets: [], before: () => writer(fifo, null) }, expect: { error: TokenTooLargeError, exit: 4, message: /fifo: larger than 65536 bytes/ } };
    },
  },
  {
    name: 'BEARER_TOKEN over 64 KiB is refused',
    setup: () => ({ setup: { env: { BEARER_TOKEN: 'a'.repeat(KIB64 + 1) }, secrets: [] }, expect: { error: TokenTooLargeError, exit: 4, message: /BEARER_TOKEN: larger than 65536 bytes/ } }),
  },
  // Ownership and permissions.
  {
    name: '/tmp/bt_u<euid> owned by another user is refused (planted token)',
    root: true,
    setup(box) {
      tokenIn(box, 'tmp', fakeToken(), 0o600, OTHER_UID);
      return { setup: { env: {}, secrets: [] }, expect: { error: TokenFileError, exit: 4, message: new RegExp(`owned by uid ${OTHER_UID}, not by uid ${EUID}`) } };
    },
  },
  {
    name: 'a step 3 file owned by another user is refused, not skipped',
    root: true,
    setup(box) {
      const low = fakeToken();
      tokenIn(box, 'xdg', fakeToken(), 0o600, OTHER_UID);
      tokenIn(box, 'tmp', low);
      return { setup: { env: { XDG_RUNTIME_DIR: box.xdg }, secrets: [low] }, expect: { error: TokenFileError, exit: 4, message: /owned by uid 4242/ } };
    },
  },
  {
    name: 'an explicit BEARER_TOKEN_FILE owned by another user is trusted',
    root: true,
    setup(box) {
      const token = fakeToken();
      return { setup: { env: { BEARER_TOKEN_FILE: tokenIn(box, 'file', token, 0o644, OTHER_UID) }, secrets: [token] }, expect: { token, step: 2 } };
    },
  },
  {
    name: 'an implicit file readable by others is used with a warning',
    setup(box) {
      const token = fakeToken();
      tokenIn(box, 'tmp', token, 0o644);
      return { setup: { env: {}, secrets: [token] }, expect: { token, step: 4, warning: /accessible by group or others \(mode 0644\): chmod 600/ } };
    },
  },
  {
    name: 'an implicit file writable by everyone is refused',
    setup(box) {
      tokenIn(box, 'tmp', fakeToken(), 0o666);
      return { setup: { env: {}, secrets: [] }, expect: { error: TokenFileError, exit: 4, message: /writable by every user \(mode 0666\)/ } };
    },
  },
  {
    name: 'an implicit symlink owned by the user is followed',
    setup(box) {
      const token = fakeToken();
      const target = box.write('real-token', token);
      box.symlink(target, join(box.tmp, name()));
      return { setup: { env: {}, secrets: [token] }, expect: { token, step: 4 } };
    },
  },
  {
    name: 'an implicit symlink planted by another user is refused',
    root: true,
    setup(box) {
      const target = box.write('real-token', fakeToken());
      box.symlink(target, join(box.tmp, name()), OTHER_UID);
      return { setup: { env: {}, secrets: [] }, expect: { error: TokenFileError, exit: 4, message: /symbolic link owned by uid 4242/ } };
    },
  },
  // Purpose.
  {
    name: 'purpose: steps 3 and 4 read bt_u<euid>-<purpose>',
    purpose: 'xfer',
    setup(box) {
      const token = fakeToken('purpose');
      tokenIn(box, 'xdg', fakeToken('plain'));
      box.write(join(box.tmp, name('xfer')), token);
      return { setup: { env: { XDG_RUNTIME_DIR: box.xdg }, secrets: [token] }, expect: { token, step: 4, reason: new RegExp(`${name('xfer')}: does not exist`) } };
    },
  },
  {
    name: 'purpose does not change BEARER_TOKEN_FILE',
    purpose: 'xfer',
    setup(box) {
      const token = fakeToken();
      return { setup: { env: { BEARER_TOKEN_FILE: tokenIn(box, 'file', token) }, secrets: [token] }, expect: { token, step: 2 } };
    },
  },
  {
    name: 'an invalid purpose is a usage error',
    purpose: '../etc',
    setup: () => ({ setup: { env: {}, secrets: [] }, expect: { error: UsageError, exit: 2, message: /invalid token purpose/ } }),
  },
];

/** Writes `content` into a FIFO from another process (null: an endless stream). */
function writer(fifo: string, content: string | null): () => void {
  const script = content === null ? 'exec yes aaaaaaaaaaaaaaaa > "$0"' : 'printf %s "$1" > "$0"';
  const child: ChildProcess = spawn('sh', ['-c', script, fifo, content ?? ''], { stdio: 'ignore' });
  return () => child.kill('SIGKILL');
}

function runLibrary(sync: boolean, box: Sandbox, setup: Setup, purpose?: string): Promise<DiscoveredToken> {
  const options: DiscoveryOptions = { env: setup.env, tmpDir: box.tmp, ...(purpose ? { purpose } : {}) };
  return sync ? Promise.resolve().then(() => discoverTokenSync(options)) : discoverToken(options);
}

function checkSecrets(text: string, secrets: string[]): void {
  for (const secret of secrets) assertNoSecret(text, secret);
}

describe('WLCG bearer token discovery (conformance)', () => {
  let box: Sandbox;
  beforeEach(() => { box = new Sandbox(); });
  afterEach(() => box.remove());

  for (const c of CASES) {
    describe(c.name, () => {
      beforeEach(function () {
        if (c.root) requirePeer(this, isRoot, 'needs root (files owned by other users)');
      });

      for (const sync of [true, false]) {
        it(sync ? 'discoverTokenSync' : 'discoverToken', async () => {
          const { setup, expect } = c.setup(box);
          const cleanup = setup.before?.();
          try {
            const outcome = await runLibrary(sync, box, setup, c.purpose).then((r) => ({ ok: r }), (e: Error) => ({ err: e }));
            if ('token' in expect) {
              if ('err' in outcome) throw outcome.err;
              assert.equal(outcome.ok.token, expect.token);
              assert.equal(outcome.ok.step, expect.step);
              if (expect.warning) assert.match(outcome.ok.warnings.join('\n'), expect.warning);
              else assert.deepEqual(outcome.ok.warnings, []);
              if (expect.reason) assert.match(outcome.ok.steps.map((s) => s.reason).join('\n'), expect.reason);
              checkSecrets(JSON.stringify(outcome.ok), setup.secrets);
            } else {
              assert.ok('err' in outcome, 'expected an error');
              assert.ok(outcome.err instanceof expect.error, `expected ${expect.error.name}, got ${outcome.err.name}: ${outcome.err.message}`);
              assert.match(outcome.err.message, expect.message);
              checkSecrets(outcome.err.message + JSON.stringify((outcome.err as { steps?: unknown }).steps ?? []), setup.secrets);
            }
          } finally {
            cleanup?.();
          }
        });
      }

      it('tokenenv discover', function () {
        requirePeer(this, privateTmpAvailable(), 'needs a private /tmp (root or user namespaces, unshare)');
        const { setup, expect } = c.setup(box);
        const cleanup = setup.before?.();
        try {
          const args = ['discover', '--explain', ...(c.purpose ? ['--purpose', c.purpose] : [])];
          const run = runTokenenv(args, { env: setup.env, privateTmp: box.tmp });
          checkSecrets(run.stderr, setup.secrets);
          if ('token' in expect) {
            assert.equal(run.status, 0, run.stderr);
            assert.equal(run.stdout, `${expect.token}\n`);
            assert.match(run.stderr, new RegExp(`step ${expect.step} \\S+ +used`));
            if (expect.warning) assert.match(run.stderr, expect.warning);
          } else {
            assert.equal(run.status, expect.exit, run.stderr);
            assert.equal(run.stdout, '');
            assert.match(run.stderr, expect.message);
            assert.equal(run.stderr.trim().split('\n').filter((l) => l.startsWith('tokenenv:')).length, 1, 'one error line');
          }
        } finally {
          cleanup?.();
        }
      });
    });
  }
});

describe('discovery details', () => {
  let box: Sandbox;
  beforeEach(() => { box = new Sandbox(); });
  afterEach(() => box.remove());

  it('uses the effective uid in the file name', () => {
    const token = fakeToken();
    box.write(join(box.tmp, 'bt_u4242'), token);
    // Owned by us, not by 4242: the injected euid is the one the ownership check compares with.
    assert.throws(() => discoverTokenSync({ env: {}, tmpDir: box.tmp, euid: 4242 }), /bt_u4242: owned by uid \d+, not by uid 4242/);
    assert.throws(() => discoverTokenSync({ env: {}, tmpDir: box.tmp, euid: EUID }), NoTokenFoundError);
  });

  it('an unreadable file stops discovery with an error naming the path', function () {
    requirePeer(this, isRoot && privateTmpAvailable(), 'needs root and a private /tmp (unshare)');
    // Root reads everything, so the command runs as another uid that owns an unreadable file.
    const uid = 65534;
    const path = join(box.tmp, `bt_u${uid}`);
    box.write(path, fakeToken(), 0o000, uid);
    const low = box.write('low', fakeToken(), 0o644);
    const run = runTokenenv(['discover'], { env: { XDG_RUNTIME_DIR: '' }, privateTmp: box.tmp, uid });
    assert.equal(run.status, 4, run.stderr);
    assert.match(run.stderr, new RegExp(`/tmp/bt_u${uid}: cannot open: permission denied \\(EACCES\\)`));
    assert.ok(low);
  });

  it('an unreadable BEARER_TOKEN_FILE does not fall through to lower steps', function () {
    requirePeer(this, isRoot && privateTmpAvailable(), 'needs root and a private /tmp (unshare)');
    const uid = 65534;
    const secret = box.write('secret', fakeToken(), 0o600); // owned by root: unreadable for uid
    box.write(join(box.tmp, `bt_u${uid}`), fakeToken(), 0o600, uid);
    const run = runTokenenv(['discover'], { env: { BEARER_TOKEN_FILE: secret }, privateTmp: box.tmp, uid });
    assert.equal(run.status, 4, run.stderr);
    assert.match(run.stderr, /secret: cannot open: permission denied \(EACCES\)/);
    assert.equal(run.stdout, '');
  });

  it('a missing file at step 3 moves on to step 4 and leaves Error.stackTraceLimit as it was', () => {
    const token = fakeToken();
    box.write(join(box.tmp, `bt_u${EUID}`), token);
    const before = Error.stackTraceLimit;
    try {
      Error.stackTraceLimit = 7;
      const found = discoverTokenSync({ env: { XDG_RUNTIME_DIR: box.xdg }, tmpDir: box.tmp });
      assert.equal(found.step, 4);
      assert.match(found.steps[2]!.reason, /bt_u\d+: does not exist/);
      assert.equal(Error.stackTraceLimit, 7);
      // An error thrown afterwards still carries its stack.
      assert.match(new Error('x').stack!, /\n\s+at /);
    } finally {
      Error.stackTraceLimit = before;
    }
  });

  it('the result never shows the token when logged or serialised', () => {
    const token = fakeToken();
    const result = discoverTokenSync({ env: { BEARER_TOKEN: token }, tmpDir: box.tmp });
    assert.equal(result.token, token);
    assertNoSecret(JSON.stringify(result), token);
    assertNoSecret(String(Object.keys(result)), token);
  });

  it('explainDiscovery lists all four steps and never the token', () => {
    const token = fakeToken();
    const explanation = explainDiscovery({ env: { BEARER_TOKEN_FILE: box.write('f', token), XDG_RUNTIME_DIR: box.xdg }, tmpDir: box.tmp });
    assert.equal(explanation.found, true);
    assert.deepEqual(explanation.steps.map((s) => [s.step, s.outcome]), [[1, 'skipped'], [2, 'used'], [3, 'not consulted'], [4, 'not consulted']]);
    assert.match(explanation.steps[3]!.reason, /bt_u\d+: not consulted/);
    assertNoSecret(JSON.stringify(explanation), token);
    const bad = explainDiscovery({ env: { BEARER_TOKEN: `x ${token}` }, tmpDir: box.tmp });
    assert.equal(bad.found, false);
    assert.match(bad.error!, /BEARER_TOKEN: not a valid bearer token: interior space at offset 1/);
    assertNoSecret(JSON.stringify(bad), token);
  });

  it('tokenLocation: where a writer must write so readers find it', () => {
    const env = { BEARER_TOKEN_FILE: '/data/tok', XDG_RUNTIME_DIR: '/run/user/7' };
    assert.deepEqual(tokenLocation({ env, euid: 7 }), { path: '/data/tok', source: 'BEARER_TOKEN_FILE' });
    assert.deepEqual(tokenLocation({ env: { XDG_RUNTIME_DIR: '/run/user/7' }, euid: 7 }), { path: '/run/user/7/bt_u7', source: 'XDG_RUNTIME_DIR' });
    assert.deepEqual(tokenLocation({ env: {}, euid: 7 }), { path: '/tmp/bt_u7', source: '/tmp' });
    assert.deepEqual(tokenLocation({ env, euid: 7, purpose: 'ce1' }), { path: '/run/user/7/bt_u7-ce1', source: 'XDG_RUNTIME_DIR' });
  });
});
