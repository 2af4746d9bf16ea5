// Issuers' token endpoints, as their OpenID configuration names them, remembered for an hour:
// - in the process: refreshes running at once share one reading, and a watcher reads an issuer's
//   configuration once an hour instead of before every grant;
// - in tokenenv's private state directory, when the caller names it: a one-shot refresh (a
//   wrapper's slow path) makes its grant without asking the issuer first, one round trip
//   instead of two.
// A grant that fails forgets the endpoint, so that an issuer that moved it is followed at the
// next attempt. A remembered file is believed only in the private directory, owned by this user,
// written by no one else and naming this very issuer: a planted endpoint would receive the
// client's secret.
import { join } from 'node:path';
import { fnv1a64 } from '../core/fnv.js';
import { ensurePrivateDirectory } from '../files/private-dir.js';
import { unlinkQuietly } from '../files/remove.js';
import { readTrustedFile } from '../files/trust.js';

export const ENDPOINT_TTL_MS = 3600_000;
const MAX_FILE_BYTES = 64 * 1024;

/** Where endpoints are remembered across processes: tokenenv's private state directory. */
export interface EndpointStore {
  stateDir?: string;
  euid: number;
}

export interface TokenEndpoint {
  url: Promise<string>;
  /** After a failed grant: read the issuer's configuration again next time. */
  forget(): void;
}

const known = new Map<string, { url: Promise<string>; until: number }>();

/** Forgets what this process remembers (tests; the files stay). */
export function forgetKnownEndpoints(): void {
  known.clear();
}

function fileOf(issuer: string, stateDir: string): string {
  return join(stateDir, 'issuers', `${fnv1a64(issuer)}.json`);
}

/** The endpoint remembered in the state directory, and until when, when the file may be believed. */
function readRemembered(issuer: string, store: EndpointStore): { url: string; until: number } | undefined {
  if (!store.stateDir) return undefined;
  try {
    const { text } = readTrustedFile(fileOf(issuer, store.stateDir), { euid: store.euid, maxBytes: MAX_FILE_BYTES });
    const entry = JSON.parse(text) as { issuer?: unknown; token_endpoint?: unknown; until?: unknown };
    const now = Date.now();
    if (entry.issuer !== issuer || typeof entry.token_endpoint !== 'string' || typeof entry.until !== 'number') return undefined;
    if (entry.until <= now || entry.until > now + ENDPOINT_TTL_MS) return undefined;
    return /^https?:$/.test(new URL(entry.token_endpoint).protocol) ? { url: entry.token_endpoint, until: entry.until } : undefined;
  } catch {
    return undefined; // none, unreadable, untrusted or malformed: read the configuration again
  }
}

async function remember(issuer: string, endpoint: string, store: EndpointStore): Promise<void> {
  if (!store.stateDir) return;
  try {
    ensurePrivateDirectory(join(store.stateDir, 'issuers'), store.euid);
    const { writeAtomically } = await import('../files/write.js');
    const entry = { issuer, token_endpoint: endpoint, until: Date.now() + ENDPOINT_TTL_MS };
    writeAtomically(fileOf(issuer, store.stateDir), `${JSON.stringify(entry)}\n`, { durable: false });
  } catch {
    // Only a shortcut: the next process reads the configuration again.
  }
}

function drop(issuer: string, url: Promise<string>, store: EndpointStore): void {
  if (known.get(issuer)?.url === url) known.delete(issuer);
  if (store.stateDir) unlinkQuietly(fileOf(issuer, store.stateDir));
}

/** The token endpoint of `issuer` (without trailing slashes): remembered, or read now by
 * `discover` and then remembered. */
export function tokenEndpointOf(issuer: string, store: EndpointStore, discover: () => Promise<string>): TokenEndpoint {
  const entry = known.get(issuer);
  let url: Promise<string>;
  if (entry && entry.until > Date.now()) {
    url = entry.url;
  } else {
    const remembered = readRemembered(issuer, store);
    url = remembered ? Promise.resolve(remembered.url)
      : discover().then(async (found) => {
        await remember(issuer, found, store);
        return found;
      });
    known.set(issuer, { url, until: remembered?.until ?? Date.now() + ENDPOINT_TTL_MS });
    url.catch(() => drop(issuer, url, store));
  }
  return { url, forget: () => drop(issuer, url, store) };
}
