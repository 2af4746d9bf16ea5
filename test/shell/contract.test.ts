// The contract between shell/tokenenv.sh and lib/: every value the script computes with builtins
// that TypeScript also computes (token file names per endpoint, stamp paths, the state directory,
// the default token's file, the command list) is compared on many inputs — long and odd endpoint
// names, unicode, spaces, `..`, slashes — in bash and zsh, in the C and a UTF-8 locale.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tokenFileName, tokenLocation } from '../../lib/discovery/discovery.js';
import { COMMANDS } from '../../lib/cli/registry.js';
import { encodeName } from '../../lib/files/name-encoding.js';
import { stateDirectory } from '../../lib/files/paths.js';
import { stampPath } from '../../lib/files/stamp.js';
import { endpointPurpose } from '../../lib/refresh/targets.js';
import { EUID, q, SCRIPT, SHELLS, ShellLab, useShellLab } from '../support/shell.js';

/** A small deterministic generator, so that a failure can be reproduced. */
function* randomTexts(count: number, seed = 12345): Generator<string> {
  const alphabet = [...'abcXYZ019.-_:/%@~ \t\'"$`\\*?[]{}();&|<>!#=+,', 'é', 'ß', '日', '本', '🎉', '\u00a0', '\u2028', '\r', '\n'];
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
  for (let i = 0; i < count; i++) {
    let text = '';
    const length = 1 + (next() % 40);
    for (let j = 0; j < length; j++) text += alphabet[next() % alphabet.length];
    yield text;
  }
}

const ENDPOINTS = [
  'ce1.example.org:9619', 'CE1.example.org:9619', 'ce1.example.org_9619', 'ce1_example.org:9619', 'ce1.example.org_3A9619',
  'https://arc.example.org', 'https_//arc.example.org', 'https:__arc.example.org', 'davs://se.example.org:2880',
  'a b', 'a-b', 'a_b', 'a.b', 'a%b', 'a_25b', 'a%25b', '..', '../../etc/passwd', '/', 'x/y', '.', '-', '_', '~',
  'ünïcödé.example', 'u\u0308nicode.example', '日本.example:443', 'party 🎉', 'tab\there', 'new\nline', 'cr\rlf',
  '$(id)', '`id`', 'quote\'"', '*', '?', '[a]', '\\', 'x'.repeat(188), 'x'.repeat(189), 'é'.repeat(31), 'é'.repeat(32),
  '_'.repeat(62), '_'.repeat(63), ...randomTexts(300),
];

const TOKEN_PATHS = [
  '/run/user/1000/bt_u1000', '/tmp/bt_u0', `/tmp/bt_u0-${endpointPurpose('https://x.example')}`, '/a//b/c', '/a/./b', '/a/../b',
  '/x', '/', '/a/', 'relative/path', 'rel', '/a/.', '/a/..', '/a b/c d', '/ü/ñ', '/%2F/x', '/_2F/x', '//x', '///',
  `/${'d'.repeat(84)}/x`, `/${'d'.repeat(85)}/x`, `/${'d'.repeat(300)}/x`, `/${'_'.repeat(84)}/x`,
  ...[...randomTexts(200, 777)].map((t) => `/${t}/${t.replace(/\//g, '')}`),
];

/** Runs `body` once, giving it `inputs` NUL-separated on stdin; returns its NUL-separated output. */
async function runOnInputs(lab: ShellLab, shell: 'bash' | 'zsh', locale: string, body: string, inputs: string[]): Promise<string[]> {
  const file = lab.box.path('inputs');
  writeFileSync(file, inputs.map((i) => `${i}\0`).join(''));
  const run = await lab.run(shell, `__tokenenv_load\nwhile IFS= read -r -d '' x; do\n${body}\ndone < ${q(file)}`, { env: { LC_ALL: locale } });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '');
  const out = run.stdout.split('\0');
  assert.equal(out.pop(), '');
  return out;
}

describe('shell ↔ TypeScript contract: encodeName', () => {
  it('distinct texts get distinct names (case, punctuation, unicode, long names are never cut)', () => {
    const names = new Map<string, string>();
    for (const text of new Set(ENDPOINTS)) {
      const name = encodeName(text);
      assert.match(name, /^[A-Za-z0-9._-]*$/, JSON.stringify(text));
      assert.equal(names.get(name), undefined, `${JSON.stringify(text)} and ${JSON.stringify(names.get(name))} share ${name}`);
      names.set(name, text);
    }
    assert.equal(encodeName('ce1.example.org:9619'), 'ce1.example.org_3A9619');
    assert.equal(encodeName('a_b'), 'a_5Fb');
    assert.equal(encodeName('é'), '_C3_A9');
  });
});

for (const shell of SHELLS) {
  for (const locale of ['C', 'C.UTF-8']) {
    describe(`shell ↔ TypeScript contract in ${shell}, LC_ALL=${locale}`, function () {
      this.timeout(60_000);
      const ctx = useShellLab(shell);

      it('the token file of every endpoint; too long a name gets none (the slow path then reports it)', async () => {
        const env = ctx.lab.env;
        const expected = ENDPOINTS.map((endpoint) => {
          try {
            return tokenLocation({ env, euid: EUID, tmpDir: '/tmp', purpose: endpointPurpose(endpoint) }).path;
          } catch {
            return '';
          }
        });
        const actual = await runOnInputs(ctx.lab, shell, locale, `__tokenenv_conventional_file "$x"; printf '%s\\0' "$__tokenenv_f"`, ENDPOINTS);
        ENDPOINTS.forEach((endpoint, i) => assert.equal(actual[i], expected[i], JSON.stringify(endpoint)));
        assert.equal(actual.filter((f) => f === '').length, 3, 'the names over 188 encoded characters');
      });

      it('the token file of endpoints with the scope asked for (`__` before the scope)', async () => {
        const env = ctx.lab.env;
        const scopes = ['compute.read', 'storage.read:/ storage.modify:/', 'fts', 'a__b', '_', 'x'.repeat(150)];
        const pairs = [...new Set(ENDPOINTS)].slice(0, 60).flatMap((endpoint) => scopes.map((scope) => [endpoint, scope] as const));
        const expected = pairs.map(([endpoint, scope]) => {
          try {
            return tokenLocation({ env, euid: EUID, tmpDir: '/tmp', purpose: endpointPurpose(endpoint, scope) }).path;
          } catch {
            return '';
          }
        });
        const actual = await runOnInputs(ctx.lab, shell, locale, `IFS= read -r -d '' y\n__tokenenv_conventional_file "$x" "$y"; printf '%s\\0' "$__tokenenv_f"`, pairs.flat());
        pairs.forEach((pair, i) => assert.equal(actual[i], expected[i], JSON.stringify(pair)));
        const seen = new Map<string, readonly [string, string]>();
        pairs.forEach((pair, i) => {
          if (!actual[i]) return;
          assert.equal(seen.get(actual[i]!), undefined, `${JSON.stringify(pair)} and ${JSON.stringify(seen.get(actual[i]!))} share a file`);
          seen.set(actual[i]!, pair);
        });
      });

      it('the stamp of every token path; paths that get none agree too', async () => {
        const stateDir = stateDirectory(ctx.lab.env);
        const actual = await runOnInputs(ctx.lab, shell, locale, `if __tokenenv_stamp_path "$x"; then printf '%s\\0' "$__tokenenv_s"; else printf '\\0'; fi`, TOKEN_PATHS);
        TOKEN_PATHS.forEach((path, i) => assert.equal(actual[i], stampPath(stateDir, path) ?? '', JSON.stringify(path)));
        assert.ok(actual.filter(Boolean).length > 200);
      });

      it('the state directory and the default token file, for every kind of environment', async () => {
        const variants: Record<string, string | undefined>[] = [
          {},
          { XDG_RUNTIME_DIR: undefined },
          { XDG_RUNTIME_DIR: '' },
          { XDG_RUNTIME_DIR: 'relative/run' },
          { XDG_RUNTIME_DIR: '/run/user/1000/' },
          { XDG_RUNTIME_DIR: '/run//user/./1000' },
          { XDG_RUNTIME_DIR: undefined, XDG_CACHE_HOME: '/cache/home' },
          { XDG_RUNTIME_DIR: undefined, XDG_CACHE_HOME: '/cache/home/' },
          { XDG_RUNTIME_DIR: undefined, XDG_CACHE_HOME: 'relative/cache' },
          { XDG_RUNTIME_DIR: undefined, XDG_CACHE_HOME: '', HOME: '/home/u/' },
          { BEARER_TOKEN_FILE: '/some/file' },
          { BEARER_TOKEN_FILE: 'relative file' },
          { BEARER_TOKEN_FILE: '' },
          { XDG_RUNTIME_DIR: undefined, BEARER_TOKEN_FILE: '/x/ü y' },
        ];
        for (const variant of variants) {
          const env = { ...ctx.lab.env, ...variant };
          for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
          const run = await ctx.lab.run(shell, '__tokenenv_load; __tokenenv_state_dir; __tokenenv_conventional_file ""; printf "%s\\0%s\\0" "$__tokenenv_d" "$__tokenenv_f"', { env: { ...variant, LC_ALL: locale } });
          assert.equal(run.status, 0, run.stderr);
          const location = tokenLocation({ env: env as Record<string, string>, euid: EUID, tmpDir: '/tmp' }).path;
          assert.deepEqual(run.stdout.split('\0').slice(0, 2), [stateDirectory(env as Record<string, string>), location], JSON.stringify(variant));
        }
      });
    });
  }

  describe(`shell ↔ TypeScript contract in ${shell}: names`, function () {
    this.timeout(60_000);
    const ctx = useShellLab(shell);

    it('completion offers exactly the commands of lib/cli/registry.ts (and help)', async () => {
      const run = await ctx.lab.run(shell, 'printf "%s\\n" "$__tokenenv_commands"');
      assert.deepEqual(run.stdout.trim().split(' ').sort(), [...COMMANDS.map((c) => c.name), 'help'].sort());
    });

    it('the default token file name is the spec\'s bt_u$ID', async () => {
      const run = await ctx.lab.run(shell, '__tokenenv_load; __tokenenv_conventional_file ""; printf "%s" "$__tokenenv_f"');
      assert.equal(run.stdout, `${ctx.lab.xdg}/${tokenFileName(EUID)}`);
      assert.match(SCRIPT, /tokenenv\.sh$/);
    });
  });
}
