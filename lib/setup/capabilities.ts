// What `tokenenv setup` asks for, in users' terms: the capability table of OSG's "Requesting
// tokens" as WLCG (or SciTokens) scopes, and the audience rules (an HTCondor-CE is host:9619).
import { UsageError } from '../core/errors.js';
import { WLCG_ANY_AUDIENCE } from '../token/claims.js';

/** What users ask for (the capability table of OSG's "Requesting tokens"), as WLCG scopes. */
export const CAPABILITIES: Record<string, { what: string; wlcg: string[]; scitokens?: string[] }> = {
  'htcondor-read': { what: 'query jobs (condor_q)', wlcg: ['compute.read'] },
  'htcondor-write': { what: 'submit, edit, remove jobs', wlcg: ['compute.create', 'compute.modify', 'compute.cancel'] },
  'storage-read': { what: 'read files (xrdcp, gfal)', wlcg: ['storage.read:/'], scitokens: ['read:/'] },
  'storage-write': { what: 'write files', wlcg: ['storage.modify:/'], scitokens: ['write:/'] },
};
export const DEFAULT_ISSUER = 'https://wlcg.cloud.cnaf.infn.it/'; // the WLCG INDIGO IAM instance
export const DEFAULT_CAPABILITIES = 'htcondor-read,htcondor-write';
export const CE_PORT = 9619;

export function issuerUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    // reported below
  }
  if (!url || !/^https?:$/.test(url.protocol)) throw new UsageError(`setup: --issuer: not an http(s) URL: ${text || '(empty)'}`);
  return text;
}

export function unique(words: string[]): string {
  return [...new Set(words)].join(' ');
}

export function capabilityScopes(text: string, scitokens: boolean): string[] {
  const names = text.split(/[\s,]+/).filter(Boolean);
  if (!names.length) throw new UsageError(`setup: --can: name at least one of ${Object.keys(CAPABILITIES).join(', ')}`);
  return names.flatMap((name) => {
    const capability = CAPABILITIES[name];
    if (!capability) throw new UsageError(`setup: --can: unknown capability '${name}'; use ${Object.keys(CAPABILITIES).join(', ')}`);
    return scitokens && capability.scitokens ? capability.scitokens : capability.wlcg;
  });
}

/** HTCondor-CE audience rule: `<CE FQDN>:<CE PORT>`, port 9619 by default. */
export function ceAudience(ce: string): string {
  const match = /^([A-Za-z0-9][A-Za-z0-9.-]*)(?::(\d{1,5}))?$/.exec(ce);
  if (!match) throw new UsageError(`setup: --ce: expected HOST or HOST:PORT, not ${ce}`);
  return `${match[1]}:${match[2] ?? CE_PORT}`;
}

/** An answer to the audience question: a URL as it is, a host[:port] as a CE, nothing for any. */
export function audienceAnswer(text: string): string {
  const words = text.split(/[\s,]+/).filter(Boolean);
  if (!words.length || words.join(' ') === 'any') return WLCG_ANY_AUDIENCE;
  return unique(words.map((w) => (w.includes('://') ? w : ceAudience(w))));
}

