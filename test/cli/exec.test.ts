// `tokenenv exec --aud A` gets a token of its own (issue 10.6): the user's default token — the
// "any"-audience one discovery finds — is never replaced by an A-only token, with a config or
// with an ad-hoc source.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runTokenenv, tokenenvBin } from '../support/cli.js';
import { mintLab, mintConfig, type MintLab } from '../support/mint.js';

describe('tokenenv exec --aud', function () {
  this.timeout(30_000);
  let lab: MintLab;
  const defaultFile = () => join(lab.box.xdg, `bt_u${process.geteuid!()}`);

  beforeEach(async () => {
    lab = await mintLab();
  });
  afterEach(() => lab.box.remove());

  /** exec with a command that prints the file it got and that token's claims as JSON. */
  function exec(args: string[], env: Record<string, string> = lab.env) {
    const show = 'printf "%s\\n" "$BEARER_TOKEN_FILE"; exec "$1" "$2" inspect --json "$BEARER_TOKEN_FILE"';
    return runTokenenv(['exec', ...args, '--', 'sh', '-c', show, 'sh', process.execPath, tokenenvBin], { env });
  }

  function got(run: { stdout: string }): { file: string; audience: string[] } {
    const [file, ...json] = run.stdout.split('\n');
    return { file: file!, audience: JSON.parse(json.join('\n')).claims.audience };
  }

  for (const [what, extra] of [['with a config', []], ['with an ad-hoc source (--command)', ['--command']]] as const) {
    it(`${what}: the default token is left as it was`, () => {
      const config = lab.box.write('config.ini', mintConfig(lab.mint, { default: { audience: 'https://wlcg.cern.ch/jwt/v1/any' } }));
      const env = { ...lab.env, TOKENENV_CONFIG: config };
      assert.equal(runTokenenv(['refresh'], { env }).status, 0);
      const before = readFileSync(defaultFile(), 'utf8');
      const mtime = statSync(defaultFile()).mtimeMs;

      const args = extra.length ? ['--command', lab.mint.script] : [];
      const run = exec([...args, '--aud', 'A.example.org'], extra.length ? lab.env : env);
      assert.equal(run.status, 0, run.stderr);
      const { file, audience } = got(run);
      assert.deepEqual(audience, ['A.example.org']);
      assert.notEqual(file, defaultFile());
      assert.match(file, /bt_u\d+-tokenenv-aud-a\.example\.org-$/);
      assert.equal(readFileSync(defaultFile(), 'utf8'), before, 'the default token was replaced');
      assert.equal(statSync(defaultFile()).mtimeMs, mtime);
    });
  }

  it('--token NAME with --aud: a usage error, not a silently ignored --aud', () => {
    const config = lab.box.write('config.ini', mintConfig(lab.mint, { default: {} }));
    const run = runTokenenv(['exec', '--token', 'default', '--aud', 'A', '--', 'true'], { env: { ...lab.env, TOKENENV_CONFIG: config } });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^tokenenv: exec: --token default and --aud exclude each other/);
  });
});
