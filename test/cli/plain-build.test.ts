// The CLI as plain ES modules (dist/lib/cli, what tsc builds and the package ships) behaves like
// the bundle: --version, --help without loading commands, and a command loaded on demand.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../lib/cli/main.js';
import { COMMANDS } from '../../lib/cli/registry.js';
import { COMMAND_LOADERS } from '../../lib/cli/commands/index.js';
import { repoRoot } from '../support/cli.js';

function captured() {
  let out = '';
  let err = '';
  return { io: { stdout: (t: string) => { out += t; }, stderr: (t: string) => { err += t; }, env: {}, now: () => Date.now() / 1000 }, out: () => out, err: () => err };
}

describe('the CLI as plain ES modules', () => {
  it('--version reads package.json', async () => {
    const { io, out } = captured();
    assert.equal(await main(['--version'], io), 0);
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    assert.equal(out(), `tokenenv ${version}\n`);
  });

  it('--help lists every command of the registry, and the registry names every command module', async () => {
    const { io, out } = captured();
    assert.equal(await main(['--help'], io), 0);
    for (const { name } of COMMANDS) assert.match(out(), new RegExp(`^  ${name} +\\S`, 'm'));
    const modules = Object.keys(COMMAND_LOADERS).sort();
    assert.deepEqual(modules, COMMANDS.map((c) => c.name).filter((n) => n !== 'discover').sort());
  });

  it('runs a command loaded on demand, with its exit code from the error code', async () => {
    const { io, err } = captured();
    assert.equal(await main(['config', 'check', '--config', '/nonexistent/tokenenv.ini'], io), 2);
    assert.equal((await COMMAND_LOADERS['shell-path']!()).usage.split(/\s+/)[1], 'shell-path');
    assert.match(err(), /^tokenenv: \/nonexistent\/tokenenv\.ini: cannot read the config/);
  });
});
