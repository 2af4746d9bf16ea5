// From a command line's host or URL to the endpoint and audience a token is asked for.
import assert from 'node:assert/strict';
import { endpointAudience, parseEndpoint } from '../../lib/token/endpoint.js';
import { ENDPOINT_CASES } from '../support/endpoints.js';

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
