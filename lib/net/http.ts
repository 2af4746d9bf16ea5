// A small HTTP(S) client for token endpoints, OpenID discovery and JWKS, on node:http and
// node:https. Node's built-in fetch costs ~120 ms to load at first use: a wrapped client call with
// a stale token, or a watcher, would pay it every time. Strict by design:
// - a deadline to connect (TCP and TLS) and one for the whole exchange, redirects and body included;
// - a GET follows at most MAX_REDIRECTS redirects, to the same scheme or from http to https,
//   never from https to http; a POST (a token request, with credentials) follows none;
// - the body is bounded (1 MiB by default): an endless answer is cut and reported;
// - https trusts Node's default CAs, plus the site's (X509_CERT_DIR, an account's ca_file /
//   ca_dir: ./trust.ts), and a certificate that is not trusted says what to set.
// node:http is loaded at the first request, node:https (and with it TLS) only for an https URL.
import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { HttpError } from './errors.js';
import { loadTrustedCas, type SiteTrust } from './trust.js';

export { HttpError, type HttpFailure } from './errors.js';

export const MAX_REDIRECTS = 3;
export const DEFAULT_MAX_BYTES = 1024 * 1024;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface HttpRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Milliseconds for the whole exchange: connection, redirects, headers and body. */
  timeoutMs: number;
  /** Milliseconds to establish each connection (TCP and TLS). Default: 10 s, or less with timeoutMs. */
  connectTimeoutMs?: number;
  signal?: AbortSignal;
  /** Largest body accepted, in bytes. Default 1 MiB. */
  maxBytes?: number;
  /** Site CAs trusted besides Node's default ones, and what to tell the user to set. */
  trust?: SiteTrust;
}

export interface HttpResponse {
  status: number;
  /** The URL that answered (after redirects). */
  url: string;
  body: string;
}

// Codes OpenSSL gives for a chain that ends in a CA nobody trusts here.
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED',
]);

function parseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HttpError(url, 'url', 'not a URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new HttpError(url, 'url', 'not an http(s) URL');
  return parsed;
}

/** Sends one request (following allowed redirects) and reads the whole, bounded answer. */
export async function request(url: string, options: HttpRequest): Promise<HttpResponse> {
  const deadline = Date.now() + options.timeoutMs;
  let current = parseUrl(url);
  for (let redirects = 0; ; redirects++) {
    const hop = await exchange(current, options, deadline);
    if (hop.location === undefined) return { status: hop.status, url: current.href, body: hop.body };
    current = nextHop(current, hop.status, hop.location, redirects, options);
  }
}

function nextHop(from: URL, status: number, location: string, redirects: number, options: HttpRequest): URL {
  const where = `redirects (HTTP ${status}) to ${location}`;
  if ((options.method ?? 'GET') !== 'GET') {
    throw new HttpError(from.href, 'redirect', `${where}: a token request is never redirected (it carries credentials); configure that URL instead`);
  }
  if (redirects >= MAX_REDIRECTS) throw new HttpError(from.href, 'redirect', `${where}: more than ${MAX_REDIRECTS} redirects`);
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new HttpError(from.href, 'redirect', `${where}: not a URL`);
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new HttpError(from.href, 'redirect', `${where}: not an http(s) URL`);
  if (from.protocol === 'https:' && next.protocol === 'http:') throw new HttpError(from.href, 'redirect', `${where}: refusing to leave https for http`);
  return next;
}

interface Hop {
  status: number;
  body: string;
  /** Set when the answer is a redirect. */
  location?: string;
}

type Send = typeof import('node:http').request;

async function connection(url: URL, trust: SiteTrust | undefined): Promise<{ send: Send; agent?: Agent }> {
  if (url.protocol === 'http:') return { send: (await import('node:http')).request };
  const https = await import('node:https');
  const ca = trust ? await loadTrustedCas(trust) : undefined;
  return { send: https.request as unknown as Send, ...(ca ? { agent: agentFor(https, ca) as unknown as Agent } : {}) };
}

// One keep-alive agent per set of trusted CAs: building a TLS context from ~150 CAs costs
// milliseconds, and a watcher talks to the same issuer again and again.
const agents = new Map<readonly string[], unknown>();
function agentFor(https: typeof import('node:https'), ca: readonly string[]): unknown {
  let agent = agents.get(ca);
  if (!agent) {
    agent = new https.Agent({ keepAlive: true, ca: [...ca] });
    agents.set(ca, agent);
  }
  return agent;
}

async function exchange(url: URL, options: HttpRequest, deadline: number): Promise<Hop> {
  if (options.signal?.aborted) throw new HttpError(url.href, 'aborted', 'request cancelled');
  const { send, agent } = await connection(url, options.trust);
  const remaining = deadline - Date.now();
  if (remaining <= 0) throw timedOut(url, options);
  const attempt = (retry: boolean): Promise<Hop> => exchangeOnce(send, agent, url, options, deadline).catch((error: unknown) => {
    // A kept-alive connection the server closed just as we reused it: try once on a new one.
    if (retry && onReusedConnection.has(error as HttpError) && Date.now() < deadline) return attempt(false);
    throw error;
  });
  return attempt(true);
}

/** Network errors on a kept-alive connection that was reused. */
const onReusedConnection = new WeakSet<HttpError>();

function timedOut(url: URL, options: HttpRequest): HttpError {
  return new HttpError(url.href, 'timeout', `no complete answer within ${seconds(options.timeoutMs)}`);
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function exchangeOnce(send: Send, agent: Agent | undefined, url: URL, options: HttpRequest, deadline: number): Promise<Hop> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const connectMs = Math.min(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, options.timeoutMs);
  return new Promise<Hop>((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
    const requestOptions: RequestOptions = { method: options.method ?? 'GET', headers, ...(agent ? { agent } : {}) };
    let req: ClientRequest;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (error: HttpError | undefined, hop?: Hop) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) {
        if (req.reusedSocket && error.failure === 'network') onReusedConnection.add(error);
        req.destroy();
        reject(error);
      } else {
        resolve(hop!);
      }
    };
    const onAbort = () => finish(new HttpError(url.href, 'aborted', 'request cancelled'));
    try {
      req = send(url, requestOptions);
    } catch (error) {
      reject(new HttpError(url.href, 'url', (error as Error).message));
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    timers.push(setTimeout(() => finish(timedOut(url, options)), Math.max(0, deadline - Date.now())));
    const connectTimer = setTimeout(() => finish(new HttpError(url.href, 'connect-timeout', `no connection within ${seconds(connectMs)}`,
      { message: `cannot reach ${url.href}: no connection within ${seconds(connectMs)}` })), connectMs);
    timers.push(connectTimer);
    req.once('socket', (socket) => {
      if (!socket.connecting) return clearTimeout(connectTimer);
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    req.on('error', (error: NodeJS.ErrnoException) => finish(networkError(url, error, options.trust)));
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && status !== 304 && location) {
        res.resume();
        finish(undefined, { status, body: '', location });
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (declared > maxBytes) return finish(tooLarge(url, maxBytes));
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) return finish(tooLarge(url, maxBytes));
        chunks.push(chunk);
      });
      res.on('end', () => finish(undefined, { status, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (error: NodeJS.ErrnoException) => finish(networkError(url, error, options.trust)));
      res.on('close', () => {
        if (!res.complete) finish(new HttpError(url.href, 'network', 'the answer was cut off'));
      });
    });
    req.end(options.body);
  });
}

function tooLarge(url: URL, maxBytes: number): HttpError {
  return new HttpError(url.href, 'too-large', `the answer is larger than ${maxBytes >= 1024 * 1024 ? `${maxBytes / 1024 / 1024} MiB` : `${maxBytes} bytes`}: refused`);
}

function networkError(url: URL, error: NodeJS.ErrnoException, trust: SiteTrust | undefined): HttpError {
  const code = error.code ?? error.message;
  if (UNTRUSTED.has(code)) {
    const reason = `the certificate of ${url.host} is not signed by a trusted CA (${code}): ${trust?.hint ?? 'set X509_CERT_DIR to a directory with the CA'}`;
    return new HttpError(url.href, 'untrusted', reason, { cause: error, message: reason });
  }
  if (/^(CERT_|ERR_TLS_CERT)/.test(code)) {
    const reason = `the certificate of ${url.host} is not accepted (${code})`;
    return new HttpError(url.href, 'certificate', reason, { cause: error, message: reason });
  }
  return new HttpError(url.href, 'network', `cannot connect (${code})`, { cause: error, message: `cannot reach ${url.href}: ${code}` });
}

/** GETs `url` and parses its JSON body; a status other than 2xx or a body that is not a JSON
 * object is an HttpError naming the URL. */
export async function getJson(url: string, options: Omit<HttpRequest, 'method' | 'body'>): Promise<Record<string, unknown>> {
  const response = await request(url, { ...options, headers: { accept: 'application/json', ...options.headers } });
  if (response.status < 200 || response.status > 299) throw new HttpError(response.url, 'status', `answered HTTP ${response.status}`, { message: `${response.url} answered HTTP ${response.status}` });
  const json = parseJsonObject(response.body);
  if (!json) throw new HttpError(response.url, 'format', 'the answer is not a JSON object');
  return json;
}

/** The body as a JSON object, or undefined. */
export function parseJsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}
