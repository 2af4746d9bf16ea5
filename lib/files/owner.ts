// `owner = NAME|UID` in a [token] section: root-run services write files owned by that user, as
// osg-token-renewer's service account does. Names resolve through NSS (`id`), so LDAP users work.
import { TokenenvError } from '../core/errors.js';
import type { FileOwner } from './write.js';

export function resolveOwner(spec: string): FileOwner {
  const numeric = /^\d+$/.test(spec);
  const uid = numeric ? Number(spec) : lookup('-u', spec);
  if (uid === undefined) throw new TokenenvError(`owner ${spec}: no such user`);
  return { uid, gid: lookup('-g', spec) ?? uid };
}

/** `id -u NAME` or `id -g NAME`; undefined when there is no such user. */
function lookup(flag: '-u' | '-g', spec: string): number | undefined {
  try {
    // Loaded here: config loading imports this module, and node:child_process costs every
    // command 2–3 ms at start for tokens that mostly have no owner.
    const { execFileSync } = process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
    const out = execFileSync('id', [flag, spec], { stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }).trim();
    return /^\d+$/.test(out) ? Number(out) : undefined;
  } catch {
    return undefined;
  }
}
