// Site CAs for tokenenv's https calls. Grid services are often signed by CAs that are not in
// Node's store (the IGTF CAs of /etc/grid-security/certificates): besides Node's default CAs,
// tokenenv trusts X509_CERT_DIR when it is set (the variable grid clients read) and an account's
// ca_file (PEM certificates) and ca_dir (a hashed directory, as `openssl rehash` makes).
import { constants, fstatSync, openSync, readdirSync, readFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { HttpError } from './errors.js';

/** Where site CAs come from, and what to tell a user whose issuer is not trusted. */
export interface SiteTrust {
  sources: readonly TrustSource[];
  /** e.g. "set X509_CERT_DIR …, or ca_file / ca_dir in [account NAME]". */
  hint: string;
}

interface TrustSource {
  kind: 'file' | 'dir';
  path: string;
  /** The variable or key that named it, for messages. */
  setting: string;
  /** A missing path is skipped (X509_CERT_DIR is set on many hosts whatever the issuer). */
  optional: boolean;
}

const MAX_CA_FILE_BYTES = 4 * 1024 * 1024;
// Hashed certificate links (`abcd1234.0`), and PEM files; not CRLs (`.r0`) or signing policies.
const CA_ENTRY = /^(?:[0-9a-f]{8}\.\d+|.+\.pem|.+\.crt)$/;

/** The site CAs for an https call made for `account` (or for no account: X509_CERT_DIR only). */
export function siteTrust(env: Readonly<Record<string, string | undefined>>, account?: { name: string; caFile?: string; caDir?: string }): SiteTrust {
  const sources: TrustSource[] = [];
  if (env.X509_CERT_DIR) sources.push({ kind: 'dir', path: env.X509_CERT_DIR, setting: 'X509_CERT_DIR', optional: true });
  if (account?.caFile) sources.push({ kind: 'file', path: account.caFile, setting: `ca_file of [account ${account.name}]`, optional: false });
  if (account?.caDir) sources.push({ kind: 'dir', path: account.caDir, setting: `ca_dir of [account ${account.name}]`, optional: false });
  const where = 'set X509_CERT_DIR to a directory with its CA (hashed, like /etc/grid-security/certificates)';
  return { sources, hint: account ? `${where}, or ca_file / ca_dir in [account ${account.name}]` : where };
}

const loaded = new Map<string, readonly string[] | undefined>();

/**
 * Node's default CAs plus the site's, as one list for `https.Agent({ ca })` (the same array for
 * the same settings); undefined when there are no site CAs (then Node's own store is used as is).
 */
export async function loadTrustedCas(trust: SiteTrust): Promise<readonly string[] | undefined> {
  const key = JSON.stringify(trust.sources);
  if (loaded.has(key)) return loaded.get(key);
  const site = new Set<string>();
  for (const source of trust.sources) for (const pem of readSource(source)) site.add(pem);
  let cas: readonly string[] | undefined;
  if (site.size > 0) {
    const { rootCertificates } = await import('node:tls');
    // `ca` replaces Node's store, which also holds NODE_EXTRA_CA_CERTS: keep that too.
    const extra = process.env.NODE_EXTRA_CA_CERTS ? readOptionalPem(process.env.NODE_EXTRA_CA_CERTS) : [];
    cas = [...rootCertificates, ...extra, ...site];
  }
  loaded.set(key, cas);
  return cas;
}

function readSource(source: TrustSource): string[] {
  if (source.kind === 'file') return [readPem(source.path, source.setting)];
  let names: string[];
  try {
    names = readdirSync(source.path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (source.optional && code === 'ENOENT') return [];
    throw new HttpError(source.path, 'trust', `cannot read the CA directory (${code})`, { message: `${source.setting} ${source.path}: cannot read the CA directory (${code})` });
  }
  // A broken or unreadable entry is skipped: one bad file must not cost every other CA.
  return names.filter((n) => CA_ENTRY.test(n)).sort().flatMap((n) => readOptionalPem(join(source.path, n)));
}

function readOptionalPem(path: string): string[] {
  try {
    return [readPem(path, path)];
  } catch {
    return [];
  }
}

/** A regular file's PEM certificates (bounded; a FIFO or a device is refused without blocking). */
function readPem(path: string, setting: string): string {
  const fail = (reason: string) => new HttpError(path, 'trust', reason, { message: `${setting === path ? '' : `${setting} `}${path}: ${reason}` });
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw fail(`cannot read (${(error as NodeJS.ErrnoException).code})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw fail('not a regular file');
    if (stat.size > MAX_CA_FILE_BYTES) throw fail(`larger than ${MAX_CA_FILE_BYTES / 1024 / 1024} MiB`);
    const text = readFileSync(fd, 'utf8');
    if (!text.includes('-----BEGIN CERTIFICATE-----')) throw fail('holds no PEM certificate');
    return text;
  } finally {
    closeSync(fd);
  }
}
