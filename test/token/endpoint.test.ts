// From a command line's host or URL to the endpoint and audience a token is asked for.
import assert from 'node:assert/strict';
import { endpointAudience, parseEndpoint, type EndpointKind } from '../../lib/token/endpoint.js';

/** [kind, what the call names, the audience asked for (undefined: no endpoint)] */
export const ENDPOINT_CASES: Array<[EndpointKind, string, string | undefined]> = [
  ['condor', 'ce1.example.org', 'ce1.example.org:9619'],
  ['condor', 'ce1.example.org:9620', 'ce1.example.org:9620'],
  ['condor', 'schedd@ce1.example.org', 'ce1.example.org:9619'],
  ['condor', 'user@ce1.example.org:1234', 'ce1.example.org:1234'],
  ['condor', 'https://ce1.example.org:9619/path', 'ce1.example.org:9619'],
  ['condor', '[2001:db8::1]', '[2001:db8::1]:9619'],
  ['condor', '[2001:db8::1]:9620', '[2001:db8::1]:9620'],
  ['condor', '192.0.2.7', '192.0.2.7:9619'],
  ['service', 'https://arc.example.org/arex', 'https://arc.example.org'],
  ['service', 'arc2.example.org:8443/arex', 'https://arc2.example.org:8443'],
  ['service', 'https://fts.example:8446', 'https://fts.example:8446'],
  ['service', 'https://[::1]:8446/', 'https://[::1]:8446'],
  ['storage', 'root://se.example.org//data/file', 'root://se.example.org'],
  ['storage', 'roots://se.example.org:1094//data/file', 'roots://se.example.org:1094'],
  ['storage', 'root://se.example.org:1094/', 'root://se.example.org:1094'],
  ['storage', 'davs://se.example.org:2880/dir/file', 'davs://se.example.org:2880'],
  ['storage', 'https://se.example.org/dir/', 'https://se.example.org'],
  ['storage', 'https://se.example.org', 'https://se.example.org'],
  ['storage', 'roots://alice@se.example.org:1094//data', 'roots://se.example.org:1094'],
  ['storage', 'roots://[::1]:1094//data/x', 'roots://[::1]:1094'],
  ['storage', 'https://[2001:db8::2]/x', 'https://[2001:db8::2]'],
  ['storage', 'root://127.0.0.1:1094//tmp', 'root://127.0.0.1:1094'],
  ['storage', '/local/file', undefined],
  ['storage', 'local/file', undefined],
  ['storage', 'file:///local/file', undefined],
  ['storage', '-', undefined],
];

describe('endpoints from command lines', () => {
  for (const [kind, text, audience] of ENDPOINT_CASES) {
    it(`${kind} ${text} → ${audience ?? 'no endpoint'}`, () => {
      assert.equal(parseEndpoint(text, kind)?.audience, audience);
    });
  }

  it('keeps host, port and path apart (IPv6 literals bracketed, the path as written)', () => {
    assert.deepEqual(parseEndpoint('roots://[::1]:1094//data/x', 'storage'), { scheme: 'roots', host: '[::1]', port: '1094', path: '//data/x', audience: 'roots://[::1]:1094' });
    assert.deepEqual(parseEndpoint('davs://u@se:2880/a', 'storage'), { scheme: 'davs', host: 'se', port: '2880', path: '/a', audience: 'davs://se:2880' });
    assert.deepEqual(parseEndpoint('ce1', 'condor'), { host: 'ce1', port: '9619', path: '', audience: 'ce1:9619' });
  });

  it('root:// and roots:// are different audiences; no default port is added to URLs', () => {
    assert.notEqual(parseEndpoint('root://se:1094//a', 'storage')!.audience, parseEndpoint('roots://se:1094//a', 'storage')!.audience);
    assert.equal(parseEndpoint('https://se/a', 'storage')!.port, undefined);
  });

  it('inspect --for: a URL by scheme://host[:port], anything else as an HTCondor-CE', () => {
    assert.equal(endpointAudience('roots://127.0.0.1:1094//data/a'), 'roots://127.0.0.1:1094');
    assert.equal(endpointAudience('ce1.example.org'), 'ce1.example.org:9619');
    assert.equal(endpointAudience('ce1.example.org:9619'), 'ce1.example.org:9619');
  });
});
