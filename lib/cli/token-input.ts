// Where `inspect` and `discover --token` get a token from, besides discovery: a FILE, standard
// input, or a token of the config by its [token NAME]. Each comes with its origin for --json.
import { NoTokenFileError, UsageError } from '../core/errors.js';
import { readOpenedSync, readTokenFileSync, type TokenFileRequest } from '../files/read.js';
import { extractToken } from '../token/syntax.js';
import { shown, type CliIo } from './io.js';
import type { TokenOrigin } from './summary.js';

export interface LoadedToken {
  token: string;
  origin: TokenOrigin;
  /** The origin for a person: "PATH (discovery step 3)", "standard input", … */
  label: string;
}

function read(request: TokenFileRequest, where: string, fromStdin: boolean, hint = ''): { token: string; warnings: string[] } {
  // Standard input is read from fd 0: /dev/stdin cannot be opened when it is a socket.
  const outcome = fromStdin ? readOpenedSync(0, request) : readTokenFileSync(request);
  if (outcome.kind === 'missing') throw new NoTokenFileError(`${where}: ${outcome.reason}${hint}`);
  if (outcome.kind === 'error') throw outcome.error;
  const token = extractToken(outcome.bytes, where);
  if (token === undefined) throw new NoTokenFileError(`${where}: empty, no token in it${hint}`);
  return { token, warnings: outcome.warnings };
}

/** The token in FILE, or on standard input for `-`: trusted as given, like BEARER_TOKEN_FILE. */
export function tokenFromArgument(arg: string): LoadedToken {
  const stdin = arg === '-';
  const where = stdin ? 'standard input' : arg;
  const { token, warnings } = read({ path: where, implicit: false, euid: process.geteuid?.() ?? -1 }, where, stdin);
  return { token, label: where, origin: { step: null, source: stdin ? 'stdin' : 'file', path: stdin ? null : arg, warnings } };
}

/** The file of `[token NAME]` in the config, with the owner and mode checks of discovery's own
 * locations (a token tokenenv writes), unless the token names another owner. */
export async function tokenFromConfig(name: string, io: CliIo, configFile: string | undefined): Promise<LoadedToken> {
  // The config module loads only here: `inspect FILE` and plain `inspect` do without it.
  const { loadValidConfig } = await import('../config/config.js');
  const config = loadValidConfig({ env: io.env, ...(configFile ? { file: configFile } : {}) });
  const entry = config.tokens.find((t) => t.name === name);
  if (!entry) {
    throw new UsageError(`--token: no token named ${shown(name)} in ${config.file}; known: ${config.tokens.map((t) => t.name).join(', ') || 'none'}`);
  }
  const request = { path: entry.path, implicit: entry.owner === undefined, euid: process.geteuid?.() ?? -1 };
  const refresh = `tokenenv refresh${configFile ? ` --config ${configFile}` : ''} ${name}`;
  const { token, warnings } = read(request, entry.path, false, ` (token ${name}; fetch it with: ${refresh})`);
  return { token, label: `${entry.path} (token ${name})`, origin: { step: null, source: 'config', path: entry.path, warnings } };
}
