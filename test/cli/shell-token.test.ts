// `tokenenv shell-token`, the wrappers' slow path: one token per group of --endpoint/--op pairs,
// groups separated by --next, one path per line; what the error says when a token cannot be had.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { runTokenenv } from '../support/cli.js';
import { mintConfig, mintLab, type MintLab } from '../support/mint.js';

describe('tokenenv shell-token', function () {
  this.timeout(30_000);
  let lab: MintLab;
  let config: string;
  const euid = process.geteuid!();
  const run = (...args: string[]) => runTokenenv(['shell-token', '--config', config, ...args], { env: { ...lab.env, PATH: process.env.PATH } });

  beforeEach(async () => {
    lab = await mintLab();
    config = lab.box.path('config.ini');
    writeFileSync(config, mintConfig(lab.mint, { default: { scope: 'storage.read:/ compute.read' } }), { mode: 0o600 });
  });
  afterEach(() => lab.box.remove());

  it('--endpoint with --op: a token for the endpoint with the operation\'s scope, not the default token\'s', () => {
    const result = run('--endpoint', 'ce1.example.org:9619', '--op', 'condor_submit');
    assert.equal(result.status, 0, result.stderr);
    const file = result.stdout.trim();
    assert.equal(file, join(lab.box.xdg, `bt_u${euid}-tokenenv-ep-ce1.example.org_3A9619__compute.create_20compute.modify_20compute.cancel`));
    const { aud, scope } = decodeJwt(readFileSync(file, 'utf8').trim());
    assert.deepEqual([aud, scope], ['ce1.example.org:9619', 'compute.create compute.modify compute.cancel']);
  });

  it('--next: several tokens in one call, one path per line, in order (an empty group is the default token)', () => {
    const result = run('--next', '--endpoint', 'https://src.example', '--op', 'read', '--next', '--endpoint', 'davs://dst.example:2880', '--op', 'create');
    assert.equal(result.status, 0, result.stderr);
    const files = result.stdout.split('\n').slice(0, -1);
    assert.equal(files.length, 3);
    assert.equal(files[0], join(lab.box.xdg, `bt_u${euid}`));
    assert.deepEqual(files.slice(1).map((f) => decodeJwt(readFileSync(f, 'utf8').trim()).scope), ['storage.read:/', 'storage.modify:/']);
    assert.equal(lab.mint.calls, 3);
  });

  it('a refused token: the error names the endpoint, the audience and scope asked for, and the [endpoint] section that would change them', () => {
    lab.mint.mode = 'garbage';
    const result = run('--endpoint', 'ce1.example.org:9619', '--op', 'condor_submit');
    assert.equal(result.status, 1);
    assert.match(result.stderr, new RegExp(`^tokenenv: endpoint ce1\\.example\\.org:9619 \\(condor_submit\\): .*\\(asked for audience ce1\\.example\\.org:9619 and scope compute\\.create compute\\.modify compute\\.cancel; ` +
      `to ask for something else, set scope = … \\(or audience, account\\) in an \\[endpoint ce1\\.example\\.org:9619\\] section of ${config.replace(/[.]/g, '\\.')}\\)\\n$`));
  });

  it('usage errors: an unknown operation, --op without its --endpoint', () => {
    const unknown = run('--endpoint', 'ce1:9619', '--op', 'condor_frobnicate');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /--op condor_frobnicate: not an operation/);
    const orphan = run('--op', 'read');
    assert.equal(orphan.status, 2);
    assert.match(orphan.stderr, /--op must follow its --endpoint/);
  });
});
