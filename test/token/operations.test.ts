// The operation → scope table: what wrappers ask for, and what `inspect --op` says a server needs.
import assert from 'node:assert/strict';
import { decodeClaims, type JwtClaims } from '../../lib/token/claims.js';
import { wouldAccept } from '../../lib/token/acceptance.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENTS, DATA_OPERATIONS, OPERATION_SCOPES, OPERATIONS, operationNeed, renderShellClients, renderShellTable, requestFor } from '../../lib/token/operations.js';
import { repoRoot } from '../support/cli.js';
import { fakeJwt } from '../support/sandbox.js';

const WRITE = 'compute.create compute.modify compute.cancel';

function claims(scope: string): JwtClaims {
  const c = decodeClaims(fakeJwt({ aud: 'https://wlcg.cern.ch/jwt/v1/any', 'wlcg.ver': '1.0', scope, exp: Math.floor(Date.now() / 1000) + 600 }));
  assert.ok(c.format === 'jwt');
  return c;
}

describe('operation → scope table', () => {
  const REQUESTS: Array<[string, string]> = [
    ['condor_q', 'compute.read'], ['condor_status', 'compute.read'], ['condor_ping', 'compute.read'], ['condor_history', 'compute.read'],
    ['condor_submit', WRITE], ['condor_rm', WRITE], ['condor_hold', WRITE], ['condor_release', WRITE],
    ['condor_ce_q', 'compute.read'], ['condor_ce_status', 'compute.read'], ['condor_ce_ping', 'compute.read'],
    ['condor_ce_submit', WRITE], ['condor_ce_rm', WRITE], ['condor_ce_hold', WRITE], ['condor_ce_release', WRITE], ['condor_ce_trace', WRITE],
    ['arcsub', 'compute.create'], ['arcstat', 'compute.read'], ['arcinfo', 'compute.read'], ['arcget', 'compute.read'], ['arcsync', 'compute.read'],
    ['arckill', 'compute.cancel'], ['arcclean', 'compute.cancel'], ['arcrenew', 'compute.modify'], ['arcresume', 'compute.modify'],
    ['read', 'storage.read:/'], ['list', 'storage.read:/'], ['create', 'storage.modify:/'], ['write', 'storage.read:/ storage.modify:/'],
    ['delete', 'storage.modify:/'], ['mkdir', 'storage.modify:/'], ['rename', 'storage.modify:/'],
    ['gfal-ls', 'storage.read:/'], ['gfal-rm', 'storage.modify:/'], ['gfal-mkdir', 'storage.modify:/'], ['arcls', 'storage.read:/'],
    ['fts-rest-whoami', 'fts'], ['fts-rest-transfer-submit', 'fts'],
  ];
  for (const [operation, scope] of REQUESTS) {
    it(`${operation} asks for ${scope}`, () => {
      assert.equal(operationNeed(operation)?.request, scope);
      assert.equal(OPERATION_SCOPES[operation], scope);
    });
  }

  it('every operation\'s own request is accepted for it (a wrapper never asks for a token its server would refuse)', () => {
    for (const [name, need] of Object.entries(OPERATIONS)) {
      assert.ok(wouldAccept(claims(need.request), 'https://se.example', name).accepted, name);
    }
  });

  it('copies: sources read, destinations by client (xrdcp stats first, so it also reads)', () => {
    assert.deepEqual([CLIENTS['gfal-copy']!.destination, CLIENTS.xrdcp!.destination, CLIENTS.arccp!.destination, CLIENTS['fts-rest-transfer-submit']!.destination],
      ['create', 'write', 'create', 'create']);
  });

  it('a call\'s request is the union of its operations, each scope once', () => {
    assert.equal(requestFor(['read', 'create']), 'storage.read:/ storage.modify:/');
    assert.equal(requestFor(['write', 'read']), 'storage.read:/ storage.modify:/');
    assert.equal(requestFor(['condor_q', 'condor_submit']), `compute.read ${WRITE}`);
  });

  it('what a server accepts: HTCondor and ARC per command, data operations as XRootD 5.5.3 decides', () => {
    const ok = (scope: string, op: string) => wouldAccept(claims(scope), 'https://se.example', op).accepted;
    assert.ok(ok('compute.read', 'condor_q'));
    assert.ok(!ok('compute.read', 'condor_submit'));
    assert.ok(ok('compute.create', 'condor_submit'));
    assert.ok(ok('compute.cancel', 'condor_rm'));
    assert.ok(!ok('compute.create', 'arckill'));
    assert.ok(ok('storage.read:/ storage.create:/', 'write'));
    assert.ok(!ok('storage.create:/', 'write'), 'xrdcp cannot stat the destination');
    assert.ok(!ok('storage.modify:/', 'write'));
    assert.ok(ok('storage.create:/', 'create'));
    assert.ok(ok('storage.create:/', 'mkdir'));
    assert.ok(!ok('storage.create:/', 'delete'));
    assert.ok(ok('storage.modify:/', 'delete'));
    assert.ok(ok('read:/', 'read'), 'SciTokens read:/');
    assert.ok(ok('write:/ read:/', 'write'), 'SciTokens write:/');
    assert.ok(!ok('storage.read:/data', 'read'), 'a path below / depends on the server\'s base path');
  });

  it('shell/tokenenv.sh carries the current table (else: node scripts/shell-table.mjs)', () => {
    const script = readFileSync(join(repoRoot, 'shell', 'tokenenv.sh'), 'utf8');
    const block = /^# BEGIN operations table[^\n]*\n[\s\S]*?^# END operations table\n/m.exec(script)?.[0];
    assert.equal(block, renderShellTable());
    const clients = /^# BEGIN client table[^\n]*\n[\s\S]*?^# END client table\n/m.exec(script)?.[0];
    assert.equal(clients, renderShellClients());
  });

  it('the data operations are the ones inspect documents', () => {
    assert.deepEqual(Object.keys(DATA_OPERATIONS), ['read', 'list', 'create', 'write', 'mkdir', 'rename', 'delete', 'modify', 'session']);
  });
});
