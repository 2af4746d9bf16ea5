// lib/net/http.ts: the HTTP(S) client behind token endpoints, OpenID discovery and JWKS.
// Against loopback servers that misbehave on purpose: endless and trickling bodies, silence,
// redirects, a TLS port that never finishes its handshake.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { getJson, HttpError, request } from '../../lib/net/http.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function listen(server: Server | TcpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Fails unless `promise` rejects with an HttpError of `failure`; returns it. */
async function failsWith(promise: Promise<unknown>, failure: string): Promise<HttpError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof HttpError, `not an HttpError: ${(error as Error).stack}`);
    assert.equal(error.failure, failure, error.message);
    assert.equal(error.code, 'ERR_HTTP');
    return error;
  }
  assert.fail(`expected a '${failure}' failure, got an answer`);
}

describe('lib/net/http: a bounded HTTP client', function () {
  this.timeout(20_000);
  let server: Server;
  let base: string;
  let handler: Handler;
  const sockets = new Set<Socket>();

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => handler(req, res, body));
    });
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('GETs JSON, and POSTs a form with its headers', async () => {
    handler = (req, res, body) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, body, auth: req.headers.authorization ?? null, length: req.headers['content-length'] ?? null }));
    };
    assert.deepEqual(await getJson(`${base}/x`, { timeoutMs: 5000 }), { method: 'GET', body: '', auth: null, length: null });
    const posted = await request(`${base}/token`, { method: 'POST', body: 'grant_type=client_credentials', headers: { authorization: 'Basic eDp5' }, timeoutMs: 5000 });
    assert.equal(posted.status, 200);
    assert.deepEqual(JSON.parse(posted.body), { method: 'POST', body: 'grant_type=client_credentials', auth: 'Basic eDp5', length: '29' });
  });

  it('an endless body is cut at the bound and reported with the URL', async () => {
    let sent = 0;
    handler = (_req, res) => {
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const more = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed) res.once('drain', more);
      };
      res.on('close', () => undefined);
      more();
    };
    const error = await failsWith(request(`${base}/endless`, { timeoutMs: 10_000 }), 'too-large');
    assert.match(error.message, new RegExp(`^${base}/endless: the answer is larger than 1 MiB: refused$`));
    assert.ok(sent < 8 * 1024 * 1024, `the server could send ${sent} bytes before the client gave up`);
  });

  it('a declared length over the bound is refused before the body is read; a smaller bound holds', async () => {
    handler = (_req, res) => {
      res.setHeader('content-length', String(4 * 1024 * 1024));
      res.write('{');
    };
    await failsWith(request(`${base}/big`, { timeoutMs: 5000 }), 'too-large');
    handler = (_req, res) => res.end('x'.repeat(2000));
    await failsWith(request(`${base}/small`, { timeoutMs: 5000, maxBytes: 1000 }), 'too-large');
  });

  it('the whole-request deadline holds against silence and against a trickle', async () => {
    handler = () => undefined; // never answers
    let started = Date.now();
    const silent = await failsWith(request(`${base}/silent`, { timeoutMs: 300 }), 'timeout');
    assert.ok(Date.now() - started < 2000);
    assert.match(silent.message, /\/silent: no complete answer within 0\.3 s$/);
    handler = (_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 50);
    };
    started = Date.now();
    await failsWith(request(`${base}/trickle`, { timeoutMs: 500 }), 'timeout');
    assert.ok(Date.now() - started < 2500);
  });

  it('a TLS port that never finishes its handshake: the connect deadline holds', async () => {
    const mute = createTcpServer((socket) => { sockets.add(socket); });
    const port = await listen(mute);
    try {
      const started = Date.now();
      const error = await failsWith(request(`https://127.0.0.1:${port}/`, { timeoutMs: 10_000, connectTimeoutMs: 300 }), 'connect-timeout');
      assert.ok(Date.now() - started < 3000);
      assert.match(error.message, /^cannot reach https:\/\/127\.0\.0\.1:\d+\/: no connection within 0\.3 s$/);
    } finally {
      for (const s of sockets) s.destroy();
      mute.close();
    }
  });

  it('a refused connection names the URL and the reason', async () => {
    const closed = createTcpServer();
    const port = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const error = await failsWith(request(`http://127.0.0.1:${port}/token`, { timeoutMs: 5000 }), 'network');
    assert.equal(error.message, `cannot reach http://127.0.0.1:${port}/token: ECONNREFUSED`);
  });

  it('cancellation through the signal', async () => {
    handler = () => undefined;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await failsWith(request(`${base}/slow`, { timeoutMs: 10_000, signal: controller.signal }), 'aborted');
  });

  describe('redirects', () => {
    it('a GET follows up to 3 redirects, and no more', async () => {
      handler = (req, res) => {
        const n = Number(req.url!.slice(1));
        if (n > 0) {
          res.writeHead(302, { location: `/${n - 1}` });
          res.end();
        } else {
          res.end('{"arrived":true}');
        }
      };
      assert.deepEqual(await getJson(`${base}/3`, { timeoutMs: 5000 }), { arrived: true });
      const error = await failsWith(request(`${base}/4`, { timeoutMs: 5000 }), 'redirect');
      assert.match(error.message, /more than 3 redirects$/);
    });

    it('never for a POST (a token request carries credentials)', async () => {
      handler = (_req, res) => {
        res.writeHead(307, { location: `${base}/elsewhere` });
        res.end();
      };
      const post = await failsWith(request(`${base}/token`, { method: 'POST', body: 'a=b', timeoutMs: 5000 }), 'redirect');
      assert.match(post.message, new RegExp(`^${base}/token: redirects \\(HTTP 307\\) to ${base}/elsewhere: a token request is never redirected`));
      assert.equal(post.reason, `redirects (HTTP 307) to ${base}/elsewhere: a token request is never redirected (it carries credentials); configure that URL instead`);
    });
  });

  it('loads no fetch (undici) and, for an http URL, no TLS', async () => {
    handler = (_req, res) => res.end('{}');
    const module = fileURLToPath(new URL('../../lib/net/http.js', import.meta.url));
    const script = `import(${JSON.stringify(module)}).then(async (m) => { await m.getJson(${JSON.stringify(`${base}/x`)}, { timeoutMs: 5000 });
      const loaded = process.moduleLoadList.join(' '); console.log(JSON.stringify({ undici: loaded.includes('undici'), tls: /NativeModule (tls|https)\\b/.test(loaded) })); })`;
    const child = await new Promise<string>((resolve, reject) => {
      const proc = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      proc.stdout.on('data', (d) => { out += d; });
      proc.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
    });
    assert.deepEqual(JSON.parse(child), { undici: false, tls: false });
  });
});
