// Which file serves which use: default, per-endpoint and per-audience tokens.
import assert from 'node:assert/strict';
import type { AccountConfig, Config, TokenConfig } from '../../lib/config/config.js';
import { audienceToken, callToken, defaultToken, endpointAdvice, endpointPurpose, wrapperToken } from '../../lib/refresh/targets.js';

const account = (name: string): AccountConfig => ({ name, type: 'command', command: ['true'], timeout: 60 } as unknown as AccountConfig);
const token = (name: string, extra: Partial<TokenConfig> = {}): TokenConfig => ({ name, account: 'a', path: `/run/t/${name}`, minLifetime: 300, refreshInterval: 600, ...extra });
const env = { env: { XDG_RUNTIME_DIR: '/run/user/1000' }, euid: 1000, tmpDir: '/tmp' };

function config(tokens: TokenConfig[], accounts = ['a']): Config {
  return { file: '/c.ini', accounts: new Map(accounts.map((n) => [n, account(n)])), tokens, endpoints: new Map() };
}

describe('token targets', () => {
  it('the default token is the one named default, else the only one, else none', () => {
    assert.equal(defaultToken(config([token('x'), token('default')]))?.name, 'default');
    assert.equal(defaultToken(config([token('x')]))?.name, 'x');
    assert.equal(defaultToken(config([token('x'), token('y')])), undefined);
  });

  it('an endpoint token has a file of its own, the endpoint as audience, never the default file', () => {
    const c = config([token('default', { scope: 'storage.read:/', audience: 'https://wlcg.cern.ch/jwt/v1/any' })]);
    const t = wrapperToken(c, 'ce1.example.org:9619', env)!;
    assert.equal(t.audience, 'ce1.example.org:9619');
    assert.equal(t.path, `/run/user/1000/bt_u1000-${endpointPurpose('ce1.example.org:9619')}`);
    assert.notEqual(t.path, c.tokens[0]!.path);
  });

  it('an endpoint token asks for the scope of the operation, not the default token\'s', () => {
    const c = config([token('default', { scope: 'storage.read:/ compute.read' })]);
    const submit = callToken(c, [{ endpoint: 'ce1.example.org:9619', operation: 'condor_submit' }], env)!;
    assert.deepEqual([submit.audience, submit.scope], ['ce1.example.org:9619', 'compute.create compute.modify compute.cancel']);
    const q = callToken(c, [{ endpoint: 'ce1.example.org:9619', operation: 'condor_q' }], env)!;
    assert.equal(q.scope, 'compute.read');
    assert.notEqual(q.path, submit.path, 'a read token and a write token live in files of their own');
    assert.equal(submit.path, `/run/user/1000/bt_u1000-tokenenv-ep-ce1.example.org_3A9619__compute.create_20compute.modify_20compute.cancel`);
    assert.equal(wrapperToken(c, 'ce1.example.org:9619', env)!.scope, undefined, 'no operation: nothing copied from the default token');
  });

  it('a call at two endpoints: one token for both audiences, the union of the scopes', () => {
    const c = config([token('default')]);
    const t = callToken(c, [{ endpoint: 'roots://a:1094', operation: 'read' }, { endpoint: 'roots://b:1094', operation: 'write' }], env)!;
    assert.deepEqual([t.audience, t.scope], ['roots://a:1094 roots://b:1094', 'storage.read:/ storage.modify:/']);
    assert.equal(t.path, '/run/user/1000/bt_u1000-tokenenv-ep-roots_3A_2F_2Fa_3A1094_20roots_3A_2F_2Fb_3A1094__storage.read_3A_2F_20storage.modify_3A_2F');
  });

  it('an [endpoint] section overrides the scope of an operation, but not the file name', () => {
    const c = config([token('default')]);
    c.endpoints!.set('ce1:9619', { endpoint: 'ce1:9619', scope: 'compute.create compute.read' });
    const t = callToken(c, [{ endpoint: 'ce1:9619', operation: 'condor_submit' }], env)!;
    assert.equal(t.scope, 'compute.create compute.read');
    assert.equal(t.path, callToken(config([token('default')]), [{ endpoint: 'ce1:9619', operation: 'condor_submit' }], env)!.path);
    assert.match(endpointAdvice(c, t, [{ endpoint: 'ce1:9619' }]), /^asked for audience ce1:9619 and scope compute\.create compute\.read; to ask for something else, set scope = … \(or audience, account\) in the \[endpoint ce1:9619\] section of \/c\.ini$/);
  });

  it('an [endpoint] section overrides audience, scope and account', () => {
    const c = config([token('default')], ['a', 'b']);
    c.endpoints!.set('ce1:9619', { endpoint: 'ce1:9619', audience: 'any', scope: 'compute.read', account: 'b' });
    const t = wrapperToken(c, 'ce1:9619', env)!;
    assert.deepEqual([t.audience, t.scope, t.account], ['any', 'compute.read', 'b']);
  });

  it('a per-audience token (exec --aud) never uses the default token\'s file', () => {
    const c = config([token('default', { path: '/run/user/1000/bt_u1000' })]);
    const t = audienceToken(c, { audience: 'https://se.example' }, env);
    assert.equal(t.audience, 'https://se.example');
    assert.notEqual(t.path, '/run/user/1000/bt_u1000');
    assert.match(t.path, /^\/run\/user\/1000\/bt_u1000-tokenenv-aud-/);
  });

  it('distinct endpoints, distinct files: case, punctuation, long names are never cut (issue 12, item 10)', () => {
    const endpoints = ['ce_1:9619', 'ce:1:9619', 'ce%1:9619', 'CE_1:9619', 'https://a.example:443', 'https://a.example_443', `${'h'.repeat(180)}:1`, `${'h'.repeat(180)}:2`];
    const paths = endpoints.map((e) => wrapperToken(config([token('default')]), e, env)!.path);
    assert.equal(new Set(paths).size, endpoints.length);
    assert.equal(endpointPurpose('ce1.example.org:9619'), 'tokenenv-ep-ce1.example.org_3A9619');
    // Endpoints and scope cannot be mistaken for each other: `__` never occurs in an encoded name.
    const pairs: [string, string?][] = [['a--b'], ['a', 'b'], ['a__b'], ['a_', '_b'], ['a b', 'c'], ['a', 'b c']];
    assert.equal(new Set(pairs.map(([e, s]) => endpointPurpose(e, s))).size, pairs.length);
  });

  it('an endpoint too long for a file name, or not valid UTF-8: a usage error, not a cut name', () => {
    assert.equal(endpointPurpose('x'.repeat(188)).length, 200);
    assert.throws(() => endpointPurpose('x'.repeat(189)), { code: 'ERR_USAGE', message: /too long for a token file name \(189 characters encoded with its scope, at most 188\)/ });
    assert.throws(() => endpointPurpose('é'.repeat(32)), { code: 'ERR_USAGE' });
    assert.throws(() => endpointPurpose('bad\uFFFDname'), { code: 'ERR_USAGE', message: /not valid UTF-8/ });
  });
});
