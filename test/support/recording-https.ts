// A loopback HTTP(S) server that records every request (method, path, query, headers, body) and
// answers through per-route handlers, so that one harness can stand in for an FTS3 REST server, a
// WebDAV storage or a Vault server. A handler may be slow on purpose (await a promise) so that a
// test can look at the client while it waits for its answer.
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { TestPki } from './pki.js';

export interface RecordedRequest {
  method: string;
  /** The request target exactly as sent (ARC sends an absolute URL, FTS a path starting `//`). */
  target: string;
  /** The target's path with repeated leading slashes folded into one, percent-decoding left alone. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Every Authorization header value, in order (normally exactly one). */
  authorization: string[];
  body: Buffer;
  /** The body parsed as JSON when it parses, else undefined. */
  json?: unknown;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON. */
  body?: string | Buffer | object;
}

export type Handler = (request: RecordedRequest) => Reply | Promise<Reply>;

export interface Route {
  /** Any method when omitted. */
  method?: string;
  /** A string matches the whole path; a RegExp is tested against the path. */
  path: string | RegExp;
  handle: Handler;
}

export interface RecordingServerOptions {
  /** HTTPS with the test PKI's server certificate (valid for 127.0.0.1 and localhost); HTTP without. */
  pki?: TestPki;
  /** Tried in order; the first match answers. */
  routes?: Route[];
  /** When no route matches. Default: 404 with a JSON message naming the method and path. */
  fallback?: Handler;
}

export interface RecordingServer {
  /** http(s)://127.0.0.1:PORT, without a trailing slash. */
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Requests whose path matches, in order. */
  requestsTo(path: string | RegExp, method?: string): RecordedRequest[];
  close(): Promise<void>;
}

/** A target may be an absolute URL (proxy style) or a path; FTS sends `//whoami`, which `new URL` would read as a host. */
function splitTarget(target: string): { path: string; query: URLSearchParams } {
  const withoutOrigin = /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, '') : target;
  const q = withoutOrigin.indexOf('?');
  const rawPath = q < 0 ? withoutOrigin : withoutOrigin.slice(0, q);
  return { path: rawPath.replace(/^\/+/, '/') || '/', query: new URLSearchParams(q < 0 ? '' : withoutOrigin.slice(q + 1)) };
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

const matches = (route: Route, request: RecordedRequest): boolean =>
  (route.method === undefined || route.method === request.method)
  && (typeof route.path === 'string' ? route.path === request.path : route.path.test(request.path));

function send(res: ServerResponse, reply: Reply, method: string): void {
  const isObject = reply.body !== undefined && typeof reply.body !== 'string' && !Buffer.isBuffer(reply.body);
  const body = reply.body === undefined ? Buffer.alloc(0)
    : isObject ? Buffer.from(JSON.stringify(reply.body)) : Buffer.from(reply.body as string | Buffer);
  const headers: Record<string, string> = { ...(isObject ? { 'content-type': 'application/json' } : {}), ...reply.headers };
  headers['content-length'] ??= String(body.length);
  res.writeHead(reply.status, headers);
  res.end(method === 'HEAD' ? undefined : body);
}

export const jsonReply = (body: object, status = 200): Reply => ({ status, body });

/** Starts the server on a free loopback port. */
export async function startRecordingServer(options: RecordingServerOptions = {}): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const routes = options.routes ?? [];
  const fallback: Handler = options.fallback
    ?? ((r) => jsonReply({ message: `recording server: no route for ${r.method} ${r.path}` }, 404));

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = req.url ?? '/';
      const body = Buffer.concat(chunks);
      const request: RecordedRequest = {
        method: req.method ?? '', target, ...splitTarget(target), headers: req.headers,
        authorization: req.headersDistinct.authorization ?? [], body, json: parseJson(body),
      };
      requests.push(request);
      const route = routes.find((r) => matches(r, request));
      Promise.resolve()
        .then(() => (route ? route.handle(request) : fallback(request)))
        .then((reply) => send(res, reply, request.method))
        .catch((error: unknown) => send(res, jsonReply({ message: `recording server handler failed: ${String(error)}` }, 500), request.method));
    });
  };

  const server: Server = options.pki
    ? createHttpsServer({ cert: readFileSync(options.pki.serverCert), key: readFileSync(options.pki.serverKey) }, listener)
    : createHttpServer(listener);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.pki ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    requestsTo: (path, method) => requests.filter((r) => matches({ path, method, handle: fallback }, r)),
    close: () => new Promise((resolve) => {
      server.closeAllConnections(); // clients keep connections alive
      server.close(() => resolve());
    }),
  };
}
