// Harness for the real gfal2 command-line clients (Debian gfal2-util-scripts 1.8.0 on gfal2
// 2.21.3, http plugin: davix over neon) against the WebDAV stand-in. Findings from runs:
// - The token comes only from $BEARER_TOKEN, sent as `Authorization: Bearer <value>` verbatim:
//   no trimming (leading blanks are sent; a trailing newline makes the request malformed and the
//   server answers 400), and an empty value sends a bare `Bearer `. BEARER_TOKEN_FILE and
//   $XDG_RUNTIME_DIR/bt_u<uid> are ignored.
// - Without a token it first POSTs an `application/macaroon-request` to the URL (asking the
//   storage for a macaroon, RETRIEVE_BEARER_TOKEN=true in /etc/gfal2.d/http_plugin.conf), then
//   goes on anonymously.
// - CA: $X509_CERT_DIR (hashed dir), also OpenSSL's SSL_CERT_DIR/SSL_CERT_FILE; default
//   /etc/grid-security/certificates. A client certificate is tried from $X509_USER_PROXY or
//   /tmp/x509up_u<uid>: hence a proxy path that does not exist.
// - Methods: gfal-ls PROPFIND (Depth 0, then 1); upload PROPFIND+HEAD on the destination three
//   times, then PUT; download PROPFIND, HEAD, GET. file:// needs gfal2-plugin-file.
// - The gfal-* scripts run the first of python, python3, python2 on PATH that imports gfal2,
//   else /usr/bin/python (absent on Debian 12): a python3 earlier on PATH without gfal2 (pyenv,
//   a venv) makes them fail with "exec: /usr/bin/python: not found". $GFAL_PYTHONBIN overrides.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestPki } from './pki.js';
import type { Env } from './run.js';

/** The directory of gfal2's plugins (multiarch), if gfal2 is installed. */
function pluginDir(): string | undefined {
  const lib = '/usr/lib';
  const candidates = [join(lib, 'gfal2-plugins'), ...readdirSync(lib).map((d) => join(lib, d, 'gfal2-plugins'))];
  return candidates.find((d) => existsSync(d));
}

/** True when gfal2's plugin `name` (http, file, xrootd) is installed. */
export function hasGfalPlugin(name: string): boolean {
  const dir = pluginDir();
  return dir !== undefined && existsSync(join(dir, `libgfal_plugin_${name}.so`));
}

/**
 * A complete environment (not to be merged into process.env) for gfal-*: private HOME and XDG
 * dirs, the test CA in X509_CERT_DIR, no proxy, Debian's python. Creates `dir/home` and `dir/xdg`.
 */
export function gfalEnvironment(dir: string, pki: TestPki): Env {
  const home = join(dir, 'home');
  const xdg = join(dir, 'xdg');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  mkdirSync(xdg, { recursive: true, mode: 0o700 });
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_RUNTIME_DIR: xdg,
    X509_CERT_DIR: pki.caDir,
    X509_USER_PROXY: join(dir, 'no-proxy'),
    ...(existsSync('/usr/bin/python3') ? { GFAL_PYTHONBIN: '/usr/bin/python3' } : {}),
  };
}
