// An in-memory WebDAV storage on the recording server: enough of RFC 4918 (PROPFIND depth 0/1,
// HEAD, GET, PUT, MKCOL, DELETE, OPTIONS) for gfal2's http plugin (davix) to list, stat,
// download and upload. Paths ending in `/` are collections.
import type { Handler, RecordedRequest, Reply } from './recording-https.js';

const xmlEscape = (s: string): string => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

export interface DavEntry {
  href: string;
  collection: boolean;
  size?: number;
}

/** A 207 multistatus body, one response per entry. */
export function multistatus(entries: DavEntry[]): string {
  const responses = entries.map((e) => `<d:response><d:href>${xmlEscape(e.href)}</d:href><d:propstat><d:prop>
<d:resourcetype>${e.collection ? '<d:collection/>' : ''}</d:resourcetype>${e.collection ? '' : `<d:getcontentlength>${e.size ?? 0}</d:getcontentlength>`}
<d:getlastmodified>Mon, 01 Jan 2024 00:00:00 GMT</d:getlastmodified><d:creationdate>2024-01-01T00:00:00Z</d:creationdate>
</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`);
  return `<?xml version="1.0" encoding="utf-8"?>\n<d:multistatus xmlns:d="DAV:">${responses.join('')}</d:multistatus>\n`;
}

export const multistatusReply = (entries: DavEntry[]): Reply =>
  ({ status: 207, headers: { 'content-type': 'application/xml; charset=utf-8' }, body: multistatus(entries) });

export interface DavStore {
  /** Contents by path; collections end in `/` and map to undefined. */
  readonly files: Map<string, Buffer | undefined>;
  handle: Handler;
}

const parentOf = (path: string): string => path.replace(/[^/]+\/?$/, '');

/** A store holding `initial` (path → contents); every parent collection is created. */
export function davStore(initial: Record<string, string | Buffer> = {}): DavStore {
  const files = new Map<string, Buffer | undefined>([['/', undefined]]);
  const addParents = (path: string): void => {
    for (let p = parentOf(path); p !== '' && !files.has(p); p = parentOf(p)) files.set(p, undefined);
  };
  for (const [path, contents] of Object.entries(initial)) {
    addParents(path);
    files.set(path, path.endsWith('/') ? undefined : Buffer.from(contents));
  }
  // A collection may be named with or without its trailing slash.
  const find = (path: string): string | undefined => [path, `${path}/`, path.replace(/\/$/, '')].find((p) => files.has(p));
  const entry = (path: string): DavEntry => ({ href: path, collection: path.endsWith('/'), size: files.get(path)?.length });

  const handle: Handler = (request: RecordedRequest) => {
    const path = decodeURIComponent(request.path);
    const found = find(path);
    switch (request.method) {
      case 'OPTIONS':
        return { status: 200, headers: { dav: '1, 2', allow: 'OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, MKCOL' } };
      case 'PROPFIND': {
        if (!found) return { status: 404 };
        const children = request.headers.depth === '1' && found.endsWith('/')
          ? [...files.keys()].filter((p) => p !== found && parentOf(p) === found) : [];
        return multistatusReply([found, ...children].map(entry));
      }
      case 'HEAD':
      case 'GET': {
        if (!found) return { status: 404 };
        const contents = files.get(found) ?? Buffer.alloc(0);
        return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: contents };
      }
      case 'PUT':
        if (path.endsWith('/') || !files.has(parentOf(path))) return { status: 409 };
        files.set(path, request.body);
        return { status: 201 };
      case 'MKCOL': {
        const dir = path.endsWith('/') ? path : `${path}/`;
        if (found) return { status: 405 };
        if (!files.has(parentOf(dir))) return { status: 409 };
        files.set(dir, undefined);
        return { status: 201 };
      }
      case 'DELETE':
        if (!found) return { status: 404 };
        for (const p of [...files.keys()]) if (p === found || (found.endsWith('/') && p.startsWith(found))) files.delete(p);
        return { status: 204 };
      default:
        return { status: 405 };
    }
  };
  return { files, handle };
}
