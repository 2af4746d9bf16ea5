// What a command line names → the audience a wrapper asks for: one table for lib/token/endpoint.ts
// (test/token/endpoint.test.ts) and shell/tokenenv.sh's builtins (test/shell/clients.test.ts).
import type { EndpointKind } from '../../lib/token/endpoint.js';

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
  ['condor', 'ce1.example.org:', 'ce1.example.org:9619'],
  ['condor', 'ce1.example.org/', 'ce1.example.org:9619'],
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
