// Every command's --json against the README's "JSON output" examples (issue 10.16): the same
// keys at every level, values of the documented type (or null), and discover and inspect in one
// shape for the same facts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemoIssuer, type DemoIssuer } from '../../lib/demo/issuer.js';
import { COMMAND_LOADERS } from '../../lib/cli/commands/index.js';
import { command as discoverCommand } from '../../lib/cli/commands/discover.js';
import { COMMANDS } from '../../lib/cli/registry.js';
import { repoRoot, runTokenenvAsync } from '../support/cli.js';
import { mintConfig, mintLab, type MintLab } from '../support/mint.js';
import { reap, startTokenenv, waitFor, type RunningCommand } from '../support/wait.js';

/** The README's examples, by command. */
function documented(): Map<string, unknown> {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const examples = new Map<string, unknown>();
  for (const match of readme.matchAll(/<!-- json: ([a-z ]+) -->\n```json\n([\s\S]*?)```/g)) examples.set(match[1]!, JSON.parse(match[2]!));
  return examples;
}

// Maps whose keys are data, not shape.
const FREE_FORM = new Set(['payload', 'malformed']);

function assertShape(actual: unknown, doc: unknown, path: string): void {
  if (actual === null || doc === null) return; // null: unknown, or not asked for
  if (Array.isArray(doc)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array, got ${JSON.stringify(actual)}`);
    if (doc.length && actual.length) for (const item of actual) assertShape(item, doc[0], `${path}[]`);
    return;
  }
  if (typeof doc === 'object') {
    assert.ok(typeof actual === 'object' && !Array.isArray(actual), `${path}: expected an object`);
    if (FREE_FORM.has(path.split('.').pop()!)) return;
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(doc as object).sort(), `${path}: keys differ from the README`);
    for (const [key, value] of Object.entries(doc as object)) assertShape((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    return;
  }
  assert.equal(typeof actual, typeof doc, `${path}: ${JSON.stringify(actual)} is not a ${typeof doc}`);
}

describe('--json output matches the README', function () {
  this.timeout(30_000);
  const examples = documented();
  let lab: MintLab;
  let issuer: DemoIssuer;
  let watcher: RunningCommand | undefined;
  let env: Record<string, string>;

  before(async () => {
    issuer = await startDemoIssuer({ clients: [{ clientId: 'j', clientSecret: 'j-secret-77d1', scopes: ['compute.read', 'storage.read:/'] }] });
  });
  after(() => issuer?.close());
  beforeEach(async () => {
    lab = await mintLab();
    env = { ...lab.env, TOKENENV_CONFIG: lab.box.write('config.ini', mintConfig(lab.mint, { default: {} })) };
  });
  afterEach(async () => {
    await reap(watcher);
    lab.box.remove();
  });

  async function json(args: string[], input?: string): Promise<unknown> {
    const run = await runTokenenvAsync(args, { env, ...(input === undefined ? {} : { input }) });
    assert.ok(run.stdout.startsWith('{') || run.stdout.startsWith('['), `${args.join(' ')}: ${run.stderr}`);
    return JSON.parse(run.stdout);
  }

  it('the README documents every command that has --json', async () => {
    const withJson: string[] = [];
    for (const { name } of COMMANDS) {
      const { usage } = name === 'discover' ? discoverCommand : await COMMAND_LOADERS[name]!();
      if (!usage.includes('--json')) continue;
      // `config check|show`: one example per action.
      const actions = /^tokenenv \S+ ([a-z|]+) /.exec(usage)?.[1]?.split('|');
      withJson.push(...(actions ? actions.map((action) => `${name} ${action}`) : [name]));
    }
    assert.deepEqual([...examples.keys()].sort(), withJson.sort());
  });

  it('config show: the documented keys, each of the documented type', async () => {
    const shown = await json(['config', 'show', '--json']) as { accounts: Record<string, unknown>[]; tokens: Record<string, unknown>[] };
    const doc = examples.get('config show') as { accounts: Record<string, unknown>[]; tokens: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(shown).sort(), Object.keys(doc).sort());
    const always = { accounts: ['name', 'type', 'timeout'], tokens: ['name', 'account', 'path', 'minLifetime', 'refreshInterval'] };
    for (const list of ['accounts', 'tokens'] as const) {
      assert.ok(shown[list].length > 0, `no ${list}`);
      for (const item of shown[list]) {
        for (const key of always[list]) assert.ok(key in item, `config show: ${list}[] has no ${key}`);
        for (const [key, value] of Object.entries(doc[list][0]!)) {
          if (key in item) assert.equal(typeof item[key], typeof value, `config show: ${list}[].${key} is not a ${typeof value}`);
        }
      }
    }
  });

  it('refresh, discover, doctor and config check', async () => {
    assertShape(await json(['refresh', '--json']), examples.get('refresh'), 'refresh');
    assertShape(await json(['discover', '--json']), examples.get('discover'), 'discover');
    assertShape(await json(['doctor', '--json']), examples.get('doctor'), 'doctor');
    lab.box.write('config.ini', `${mintConfig(lab.mint, { default: {} })}min_lifetime = soon\n`);
    assertShape(await json(['config', 'check', '--json']), examples.get('config check'), 'config check');
  });

  it('inspect: the shape of discover, plus payload, verification and for', async () => {
    const response = await fetch(issuer.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('j:j-secret-77d1').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', audience: 'ce1.example.org:9619', scope: 'compute.read' }),
    });
    const token = ((await response.json()) as { access_token: string }).access_token;
    const inspected = await json(['inspect', '--json', '--verify', '--for', 'ce1.example.org', '--op', 'condor_q', '-'], token) as Record<string, unknown>;
    assertShape(inspected, examples.get('inspect'), 'inspect');
    assert.equal((inspected.verification as { ok: boolean }).ok, true);
    // One shape for the same facts: discover's keys are inspect's, with the same claims.
    await json(['refresh', '--json']);
    const viaDiscovery = await json(['discover', '--json']) as Record<string, unknown>;
    const plain = await json(['inspect', '--json']) as Record<string, unknown>;
    assert.deepEqual(Object.keys(viaDiscovery), Object.keys(plain).filter((k) => !['payload', 'verification', 'for'].includes(k)));
    const { secondsLeft: _a, ...claimsA } = viaDiscovery.claims as Record<string, unknown>;
    const { secondsLeft: _b, ...claimsB } = plain.claims as Record<string, unknown>;
    assert.deepEqual(claimsA, claimsB);
    assert.deepEqual([plain.step, plain.source, plain.path], [viaDiscovery.step, viaDiscovery.source, viaDiscovery.path]);
  });

  it('status, with a watcher running', async () => {
    watcher = startTokenenv(['watch'], env);
    await waitFor(async () => ((await json(['status', '--json'])) as { watcher: unknown }).watcher !== null, 15_000, 'status to see the watcher');
    assertShape(await json(['status', '--json']), examples.get('status'), 'status');
  });
});
