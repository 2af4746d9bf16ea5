// Loading and checking tokenenv's config (an osg-token-renewer config.ini works unchanged).
// Every problem names file, line and key; `loadConfig` collects them all for `config check`.
import { accessSync, constants, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { resolveEnvironment, type EnvironmentOptions, type TokenEnvironment } from '../core/environment.js';
import { TokenenvError, UsageError, type ErrorCode } from '../core/errors.js';
import { tokenLocation } from '../discovery/discovery.js';
import { resolveOwner } from '../files/owner.js';
import { configCandidates } from '../files/paths.js';
import { MAX_CONFIG_BYTES, readSecretFile, readTrustedFile, secretExposureNote, UntrustedFileError } from '../files/trust.js';
import { IniError, parseIni, type IniDocument } from './ini.js';
import { ACCOUNT_KEYS, DEFAULTS, ENDPOINT_KEYS, SOURCE_TYPES, TOKEN_FORMATS, TOKEN_KEYS, type SourceType, type TokenFormat } from './schema.js';
import { splitCommandLine } from './words.js';

export interface AccountConfig {
  name: string;
  type: SourceType;
  /** Seconds a source command or request may take. */
  timeout: number;
  /** What the account issues (see TokenFormat); unset: JWTs, opaque only without a current JWT. */
  tokenFormat?: TokenFormat;
  passwordFile?: string;
  oidcAccount?: string;
  oidcSock?: string;
  tokenRequestUrl?: string;
  issuer?: string;
  clientId?: string;
  clientSecret?: string;
  clientSecretFile?: string;
  /** Site CAs trusted for the issuer, besides Node's and X509_CERT_DIR (lib/net/trust.ts). */
  caFile?: string;
  caDir?: string;
  vaultServer?: string;
  role?: string;
  htgettokenOptions?: string[];
  command?: string[];
  path?: string;
}

export interface TokenConfig {
  name: string;
  account: string;
  path: string;
  audience?: string;
  scope?: string;
  minLifetime: number;
  refreshInterval: number;
  /** User name or uid that must own the file (root-run services). */
  owner?: string;
}

/** `[endpoint ENDPOINT]`: overrides for the token the shell wrappers use at ENDPOINT. */
export interface EndpointConfig {
  endpoint: string;
  audience?: string;
  scope?: string;
  account?: string;
  minLifetime?: number;
}

export interface Config {
  /** The file read, or undefined for a config made from command-line flags. */
  file?: string;
  accounts: Map<string, AccountConfig>;
  tokens: TokenConfig[];
  endpoints?: Map<string, EndpointConfig>;
}

export interface LoadedConfig {
  config: Config;
  /** Every problem found; the config holds only the sections that were usable (none at all when
   * the file itself may not be trusted). */
  problems: IniError[];
  /** Things that work but probably not as meant (a value that seems to carry a comment, a
   * secret its group can read); each message says "warning:". */
  warnings: IniError[];
}

export class ConfigNotFoundError extends TokenenvError {
  override readonly code: ErrorCode = 'ERR_CONFIG_NOT_FOUND';
  override name = 'ConfigNotFoundError';
}

/** The config file to read: `--config`, $TOKENENV_CONFIG, the user's, /etc/tokenenv/config.ini,
 * then osg-token-renewer's ($OSG_TOKEN_RENEWER_CONFIG_PATH, /etc/osg/token-renewer/config.ini). */
export function findConfigFile(explicit: string | undefined, env: TokenEnvironment['env']): string {
  if (explicit) return explicit;
  const candidates = configCandidates(env);
  for (const { path, origin, foreign } of candidates) {
    if (origin === 'TOKENENV_CONFIG') return path; // named explicitly: a missing file is an error
    if (foreign) {
      // Another tool's file, often readable by its service account only: a user who cannot read
      // it has no config, rather than a broken one.
      if (readable(path)) return path;
      continue;
    }
    // Anything but "no such file" (a directory, no permission) is reported when reading it.
    if (statSync(path, { throwIfNoEntry: false }) !== undefined) return path;
  }
  throw new ConfigNotFoundError(`no config file: looked for ${candidates.map((c) => c.path).join(', ')}; pass --config FILE or use flags such as --oidc-agent ACCOUNT`);
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The config's text when the file may be trusted (lib/files/trust.ts), else the problem. */
function readConfigFile(path: string, euid: number): { text: string; stat: Stats } | { problem: IniError } {
  try {
    return readTrustedFile(path, { euid, maxBytes: MAX_CONFIG_BYTES });
  } catch (error) {
    if (!(error instanceof UntrustedFileError)) throw error;
    // Not there or not readable at all: as before, an error of its own.
    if (error.errno) throw new ConfigNotFoundError(`${path}: cannot read the config (${error.errno})`);
    return { problem: new IniError('UntrustedFileError', { file: path, line: 0 }, `${error.reason}; refusing to use this config`) };
  }
}

const SECTION = /^(account|token|endpoint)\s+(\S.*)$/;
// A name that would break a log line or a terminal (U+2028/U+2029 are line breaks to some readers).
// The control characters (\p{Cc}) as their two ranges, C0 and DEL with C1: a Unicode property
// class costs every command that reads a config 0.2 ms to build at start.
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;

export interface LoadOptions extends EnvironmentOptions {
  /** `--config FILE`. */
  file?: string;
}

/** The config has problems; `problems` has each one with file, line and key. */
export class ConfigError extends TokenenvError {
  override readonly code: ErrorCode = 'ERR_CONFIG';
  override name = 'ConfigError';
  constructor(readonly problems: readonly IniError[]) {
    super(problems.map((p) => p.message).join('\n'));
  }
}

/** loadConfig, with any problem an error: for callers that must not run on half a config. */
export function loadValidConfig(options: LoadOptions = {}): Config {
  const { config, problems } = loadConfig(options);
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** Reads, parses and checks the config file (see findConfigFile); problems are collected. A
 * syntax error is thrown (IniError): nothing of such a file is used. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const environment = resolveEnvironment(options);
  return loadConfigFile(findConfigFile(options.file, environment.env), environment);
}

/** loadConfig for a known file. */
export function loadConfigFile(file: string, environment: TokenEnvironment): LoadedConfig {
  const read = readConfigFile(file, environment.euid);
  if ('problem' in read) return { config: emptyConfig(file), problems: [read.problem], warnings: [] };
  return interpretConfig(parseIni(read.text, file), environment, read.stat);
}

function emptyConfig(file: string): Config {
  return { file, accounts: new Map(), tokens: [], endpoints: new Map() };
}

/** Turns a parsed INI document into accounts and tokens, collecting every problem. `stat` is
 * the config file's, to judge secrets kept in it. */
export function interpretConfig(doc: IniDocument, environment: TokenEnvironment, stat?: Stats): LoadedConfig {
  const problems: IniError[] = [];
  const warnings: IniError[] = [];
  const config = emptyConfig(doc.file);
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (error) {
      if (error instanceof IniError) problems.push(error);
      else throw error;
      return undefined;
    }
  };
  // Tokens and endpoints name accounts: read them once every account is known.
  const tokenSections: [string, string][] = [];
  const endpointSections: [string, string][] = [];
  for (const section of doc.sections) {
    if (UNPRINTABLE.test(section.name)) {
      problems.push(doc.errorAt(section.name, undefined, 'section name has a control character or a line separator (U+2028, U+2029)'));
      continue;
    }
    const match = SECTION.exec(section.name);
    if (!match) {
      problems.push(doc.errorAt(section.name, undefined, 'unknown section: expected [account NAME], [token NAME] or [endpoint ENDPOINT]'));
      continue;
    }
    const [, kind, name] = match as unknown as [string, 'account' | 'token' | 'endpoint', string];
    if (kind === 'endpoint') {
      endpointSections.push([section.name, name.trim()]);
    } else if (kind === 'account') {
      const account = attempt(() => readAccount(doc, section.name, name.trim(), environment, problems, warnings));
      if (account) config.accounts.set(account.name, account);
    } else {
      tokenSections.push([section.name, name.trim()]);
    }
  }
  for (const [section, name] of endpointSections) {
    const endpoint = attempt(() => readEndpoint(doc, section, name, config, problems));
    if (endpoint) config.endpoints!.set(endpoint.endpoint, endpoint);
  }
  for (const [section, name] of tokenSections) {
    const token = attempt(() => readToken(doc, section, name, config, environment, problems));
    if (token) config.tokens.push(token);
  }
  problems.push(...sharedFiles(doc, config.tokens));
  if (stat) checkInlineSecrets(doc, config, stat, problems, warnings);
  warnings.push(...inlineComments(doc));
  problems.sort((a, b) => a.line - b.line);
  warnings.sort((a, b) => a.line - b.line);
  return { config, problems, warnings };
}

/** Where a file really is, so that two spellings of one file compare equal. */
function fileIdentity(path: string): string {
  try {
    return join(realpathSync.native(dirname(path)), basename(path));
  } catch {
    return resolve(path);
  }
}

// Each token has a file of its own: two tokens writing one file would overwrite each other
// (and `[token CE1]` and `[token ce1]`, or `a b` and `a-b`, get the same default file name).
function sharedFiles(doc: IniDocument, tokens: readonly TokenConfig[]): IniError[] {
  const problems: IniError[] = [];
  const owners = new Map<string, TokenConfig>();
  for (const token of tokens) {
    const identity = fileIdentity(token.path);
    const first = owners.get(identity);
    if (!first) {
      owners.set(identity, token);
      continue;
    }
    const section = `token ${token.name}`;
    const firstLine = doc.section(`token ${first.name}`)?.line ?? 0;
    const key = doc.has(section, 'token_path') ? 'token_path' : undefined;
    const fix = key ? 'give each token its own token_path' : 'rename one, or give it a token_path';
    problems.push(doc.errorAt(section, key, `writes the same file as [token ${first.name}] (line ${firstLine}), ${token.path}: ${fix}`));
  }
  return problems;
}

// client_secret kept in the config is exactly as private as the config file.
function checkInlineSecrets(doc: IniDocument, config: Config, stat: Stats, problems: IniError[], warnings: IniError[]): void {
  for (const account of config.accounts.values()) {
    if (!account.clientSecret) continue;
    const { problem, warning } = secretExposureNote(doc.file, stat.mode, 'client_secret');
    const section = `account ${account.name}`;
    if (problem) problems.push(doc.errorAt(section, 'client_secret', `${doc.file} ${problem}, or move the secret to client_secret_file`));
    else if (warning) warnings.push(doc.errorAt(section, 'client_secret', `warning: ${warning}`));
  }
}

// configparser has no inline comments: `url = https://x/token   # or: issuer = …` reads as one
// value, comment included. Say so, without changing what is read (and without the value).
function inlineComments(doc: IniDocument): IniError[] {
  const warnings: IniError[] = [];
  for (const section of [...(doc.defaults ? [doc.defaults] : []), ...doc.sections]) {
    for (const entry of section.entries.values()) {
      const found = /\s([#;])/.exec(entry.value);
      if (!found) continue;
      warnings.push(doc.errorAt(section.name, entry.key,
        `warning: the value has " ${found[1]}" in it, which configparser keeps as part of the value (not a comment); put comments on lines of their own`));
    }
  }
  return warnings;
}

/** A number of seconds; a bad value is recorded as a problem and the default used, so that
 * checking goes on to the rest of the section. */
function positiveSeconds(doc: IniDocument, section: string, key: string, fallback: number, problems: IniError[]): number {
  const raw = doc.get(section, key);
  if (raw === undefined || raw === '') return fallback;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim());
  problems.push(doc.errorAt(section, key, 'expected a whole number of seconds'));
  return fallback;
}

function inferType(doc: IniDocument, section: string): SourceType {
  const explicit = doc.get(section, 'type');
  if (explicit !== undefined) {
    const type = explicit.trim() as SourceType;
    if (!SOURCE_TYPES.includes(type)) throw doc.errorAt(section, 'type', `unknown source type: use one of ${SOURCE_TYPES.join(', ')}`);
    return type;
  }
  if (doc.has(section, 'token_request_url') || doc.has(section, 'client_id')) return 'client-credentials';
  if (doc.has(section, 'command')) return 'command';
  return 'oidc-agent';
}

function checkKeys(doc: IniDocument, section: string, allowed: (key: string) => string | undefined, problems: IniError[]): void {
  const own = doc.section(section)?.entries.keys() ?? [];
  for (const key of own) {
    const problem = allowed(key);
    if (problem) problems.push(doc.errorAt(section, key, problem));
  }
}

function readAccount(doc: IniDocument, section: string, name: string, environment: TokenEnvironment, problems: IniError[], warnings: IniError[]): AccountConfig {
  const type = inferType(doc, section);
  checkKeys(doc, section, (key) => {
    const types = ACCOUNT_KEYS[key];
    if (TOKEN_KEYS.has(key)) return 'belongs in a [token NAME] section';
    if (types === undefined) return 'unknown key';
    if (types !== 'any' && !types.includes(type)) return `does not apply to a ${type} account`;
    return undefined;
  }, problems);
  const get = (key: string) => {
    const value = doc.get(section, key)?.trim();
    return value === '' ? undefined : value;
  };
  const account: AccountConfig = { name, type, timeout: positiveSeconds(doc, section, 'timeout', DEFAULTS.timeout, problems) };
  const set = <K extends keyof AccountConfig>(field: K, value: AccountConfig[K] | undefined) => {
    if (value !== undefined) account[field] = value;
  };
  const format = get('token_format');
  if (format !== undefined && !TOKEN_FORMATS.includes(format as TokenFormat)) {
    problems.push(doc.errorAt(section, 'token_format', `must be ${TOKEN_FORMATS.join(' or ')}`));
  } else {
    set('tokenFormat', format as TokenFormat | undefined);
  }
  set('passwordFile', get('password_file'));
  set('oidcAccount', get('oidc_account'));
  set('oidcSock', get('oidc_sock'));
  set('tokenRequestUrl', get('token_request_url'));
  set('issuer', get('issuer'));
  set('clientId', get('client_id'));
  set('clientSecret', get('client_secret'));
  set('clientSecretFile', get('client_secret_file'));
  set('caFile', get('ca_file'));
  set('caDir', get('ca_dir'));
  set('vaultServer', get('vault_server'));
  set('role', get('role'));
  set('path', get('path'));
  const words = (key: string) => {
    const value = get(key);
    if (value === undefined) return undefined;
    try {
      return splitCommandLine(value);
    } catch (error) {
      throw doc.errorAt(section, key, (error as Error).message);
    }
  };
  set('command', words('command'));
  set('htgettokenOptions', words('htgettoken_options'));
  requireKeys(doc, section, account, problems);
  const secret = secretFileOf(account);
  if (secret) checkSecretFile(doc, section, secret.key, secret.path, environment.euid, problems, warnings);
  return account;
}

/** The file an account keeps its secret in, with its config key. */
function secretFileOf(account: AccountConfig): { key: string; path: string } | undefined {
  if (account.type === 'client-credentials' && account.clientSecretFile) return { key: 'client_secret_file', path: account.clientSecretFile };
  if (account.type === 'oidc-agent' && account.passwordFile) return { key: 'password_file', path: account.passwordFile };
  return undefined;
}

function requireKeys(doc: IniDocument, section: string, account: AccountConfig, problems: IniError[]): void {
  const missing = (what: string) => problems.push(doc.errorAt(section, undefined, `a ${account.type} account needs ${what}`));
  switch (account.type) {
    case 'client-credentials':
      if (!account.clientId) missing('client_id');
      if (!account.tokenRequestUrl && !account.issuer) missing('token_request_url or issuer');
      if (!account.clientSecret && !account.clientSecretFile) missing('client_secret or client_secret_file');
      break;
    case 'htgettoken':
      if (!account.vaultServer && !account.htgettokenOptions) missing('vault_server (or htgettoken_options)');
      break;
    case 'command':
      if (!account.command?.length) missing('command');
      break;
    case 'file':
      if (!account.path) missing('path');
      break;
  }
}

/** A secret file must be readable, and trusted (lib/files/trust.ts). */
function checkSecretFile(doc: IniDocument, section: string, key: string, path: string, euid: number, problems: IniError[], warnings: IniError[]): void {
  try {
    const { warnings: notes } = readSecretFile(path, euid, { read: false });
    for (const note of notes) warnings.push(doc.errorAt(section, key, `warning: ${note}`));
  } catch (error) {
    if (!(error instanceof UntrustedFileError)) throw error;
    problems.push(doc.errorAt(section, key, error.message));
  }
}

/** The file name suffix of a named token: `bt_u<euid>-tokenenv-<slug>`. */
export function tokenPurpose(name: string): string {
  return `tokenenv-${name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '') || 'token'}`;
}

function readToken(doc: IniDocument, section: string, name: string, config: Config, environment: TokenEnvironment, problems: IniError[]): TokenConfig {
  checkKeys(doc, section, (key) => {
    if (TOKEN_KEYS.has(key)) return undefined;
    return ACCOUNT_KEYS[key] !== undefined ? 'belongs in an [account NAME] section' : 'unknown key';
  }, problems);
  const account = doc.get(section, 'account')?.trim();
  if (!account) throw doc.errorAt(section, undefined, 'needs account = NAME');
  if (!config.accounts.has(account)) throw doc.errorAt(section, 'account', `no [account ${account}] section`);
  const explicitPath = doc.get(section, 'token_path')?.trim();
  // Without token_path, the token named "default" goes where discovery looks first; others get
  // the spec's purpose suffix.
  const path = explicitPath || tokenLocation({ ...environment, ...(name === 'default' ? {} : { purpose: tokenPurpose(name) }) }).path;
  const token: TokenConfig = {
    name,
    account,
    path,
    minLifetime: positiveSeconds(doc, section, 'min_lifetime', DEFAULTS.minLifetime, problems),
    refreshInterval: positiveSeconds(doc, section, 'refresh_interval', DEFAULTS.refreshInterval, problems),
  };
  for (const [key, field] of [['audience', 'audience'], ['scope', 'scope'], ['owner', 'owner']] as const) {
    const value = doc.get(section, key)?.trim();
    if (value) token[field] = value;
  }
  if (token.owner) {
    try {
      resolveOwner(token.owner);
    } catch (error) {
      problems.push(doc.errorAt(section, 'owner', `${(error as Error).message}: use an existing user name or a uid`));
    }
  }
  if (explicitPath && !explicitPath.startsWith('/')) problems.push(doc.errorAt(section, 'token_path', 'must be an absolute path'));
  return token;
}

function readEndpoint(doc: IniDocument, section: string, endpoint: string, config: Config, problems: IniError[]): EndpointConfig {
  checkKeys(doc, section, (key) => (ENDPOINT_KEYS.has(key) ? undefined : 'unknown key (an [endpoint] takes audience, scope, account, min_lifetime)'), problems);
  const result: EndpointConfig = { endpoint };
  const get = (key: string) => doc.get(section, key)?.trim() || undefined;
  const audience = get('audience');
  const scope = get('scope');
  const account = get('account');
  if (audience) result.audience = audience;
  if (scope) result.scope = scope;
  if (account) {
    if (!config.accounts.has(account)) throw doc.errorAt(section, 'account', `no [account ${account}] section`);
    result.account = account;
  }
  if (doc.has(section, 'min_lifetime')) result.minLifetime = positiveSeconds(doc, section, 'min_lifetime', DEFAULTS.minLifetime, problems);
  return result;
}

/** A config for one token defined by command-line flags (no file). */
export function adHocConfig(account: AccountConfig, token: Omit<TokenConfig, 'account' | 'name'> & { name?: string }): Config {
  const name = token.name ?? 'default';
  return { accounts: new Map([[account.name, account]]), tokens: [{ ...token, name, account: account.name }] };
}

export function selectTokens(config: Config, names: string[]): TokenConfig[] {
  if (names.length === 0) return config.tokens;
  return names.map((name) => {
    const token = config.tokens.find((t) => t.name === name);
    if (!token) throw new UsageError(`no token named '${name}' in ${config.file ?? 'the configuration'}; known: ${config.tokens.map((t) => t.name).join(', ') || 'none'}`);
    return token;
  });
}
