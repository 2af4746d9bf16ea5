// From what a command line names (an HTCondor-CE host, an ARC CE, an FTS server, a storage URL)
// to the endpoint a token is asked for: one parser for the wrappers' audiences (shell/tokenenv.sh
// does the same with builtins; test/token/endpoint.test.ts checks both on one table) and for
// `inspect --for`. Servers compare audiences as exact strings (scitokens-cpp, HTCondor): no
// default ports are added to URLs, no trailing slash, the scheme kept as written.

/** HTCondor-CE's default port: `-pool ce.example.org` means ce.example.org:9619. */
export const HTCONDOR_CE_PORT = '9619';

export interface Endpoint {
  /** As written, without `://`; undefined for HTCondor's host:port. */
  scheme?: string;
  /** A host name, an IPv4 address or a bracketed IPv6 literal (`[::1]`). */
  host: string;
  port?: string;
  /** What follows the host and port (e.g. `//data/file` for XRootD), '' when nothing does. */
  path: string;
  /** The audience a wrapper asks for at this endpoint: `scheme://host[:port]`, or `host:port` for HTCondor. */
  audience: string;
}

/**
 * What names the endpoint: `condor` (host[:port] of an HTCondor-CE, as -pool/-name take it;
 * `schedd@host` and a URL are accepted), `service` (an ARC CE or FTS server: a URL, https when the
 * scheme is left out), `storage` (a data URL; a local path or file:// names no endpoint).
 */
export type EndpointKind = 'condor' | 'service' | 'storage';

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

function splitHostPort(authority: string): { host: string; port?: string } {
  const bracketed = /^(\[[^\]]*\])(?::(.*))?$/.exec(authority);
  if (bracketed) return { host: bracketed[1]!, ...(bracketed[2] !== undefined ? { port: bracketed[2] } : {}) };
  const colon = authority.lastIndexOf(':');
  // An unbracketed IPv6 address is not host:port; leave it whole.
  if (colon < 0 || authority.indexOf(':') !== colon) return { host: authority };
  return { host: authority.slice(0, colon), port: authority.slice(colon + 1) };
}

/** The endpoint `text` names, or undefined when it names none (a local path, an empty host). */
export function parseEndpoint(text: string, kind: EndpointKind): Endpoint | undefined {
  const scheme = SCHEME.exec(text)?.[1];
  if (kind === 'storage' && (scheme === undefined || scheme.toLowerCase() === 'file')) return undefined;
  const rest = scheme === undefined ? text : text.slice(text.indexOf('://') + 3);
  const slash = rest.indexOf('/');
  const authority = (slash < 0 ? rest : rest.slice(0, slash)).replace(/^.*@/, ''); // user@host, schedd@host
  const path = slash < 0 ? '' : rest.slice(slash);
  if (!authority) return undefined;
  const { host, port } = splitHostPort(authority);
  if (kind === 'condor') {
    // The shell's rule, kept simple enough for builtins: a port is whatever follows the last ':'
    // outside brackets; none (or an empty one) means 9619.
    const audience = authority.endsWith(':') ? `${authority}${HTCONDOR_CE_PORT}`
      : authority.endsWith(']') || !authority.includes(':') ? `${authority}:${HTCONDOR_CE_PORT}` : authority;
    return { host, port: port || HTCONDOR_CE_PORT, path, audience };
  }
  const protocol = scheme ?? 'https';
  return { scheme: protocol, host, ...(port !== undefined ? { port } : {}), path, audience: `${protocol}://${authority}` };
}

/**
 * The audience a server at `endpoint` (as given to `inspect --for`) accepts besides the WLCG "any"
 * audience: a URL's `scheme://host[:port]`, else HTCondor's `host:port`.
 */
export function endpointAudience(endpoint: string): string {
  return parseEndpoint(endpoint, SCHEME.test(endpoint) ? 'service' : 'condor')?.audience ?? endpoint;
}
