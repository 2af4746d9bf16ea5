// Loading and checking tokenenv's config (an osg-token-renewer config.ini works unchanged).
// Every problem names file, line and key; `loadConfig` collects them all for `config check`.
import { readFileSync, statSync } from 'node:fs';
import { resolveEnvironment, type EnvironmentOptions, type TokenEnvironment } from '../core/environment.js';
import { TokenenvError, UsageError, type ErrorCode } from '../core/errors.js';
import { tokenLocation } from '../discovery/discovery.js';
import { configCandidates } from '../files/paths.js';
import { IniError, parseIni, type IniDocument } from './ini.js';
import { ACCOUNT_KEYS, DEFAULTS, ENDPOINT_KEYS, SOURCE_TYPES, TOKEN_KEYS, type SourceType } from './schema.js';
import { splitCommandLine } from './words.js';

export interface AccountConfig {
  name: string;
  type: SourceType;
  /** Seconds a source command or request may take. */
  timeout: number;
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
  /** Every problem found; the config holds only the sections that were usable. */
  problems: IniError[];
}

export class ConfigNotFoundError extends TokenenvError {
  override readonly code: ErrorCode = 'ERR_CONFIG_NOT_FOUND';
  override name = 'ConfigNotFoundError';
}

/** The config file to read: `--config`, $TOKENENV_CONFIG, the user's, /etc/tokenenv/config.ini. */
export function findConfigFile(explicit: string | undefined, env: TokenEnvironment['env']): string {
  if (explicit) return explicit;
  const candidates = configCandidates(env);
  for (const { path, origin } of candidates) {
    if (origin === 'TOKENENV_CONFIG') return path; // named explicitly: a missing file is an error
    // Anything but "no such file" (a directory, no permission) is reported when reading it.
    if (statSync(path, { throwIfNoEntry: false }) !== undefined) return path;
  }
  throw new ConfigNotFoundError(`no config file: looked for ${candidates.map((c) => c.path).join(', ')}; pass --config FILE or use flags such as --oidc-agent ACCOUNT`);
}

function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigNotFoundError(`${path}: cannot read the config (${(error as NodeJS.ErrnoException).code})`);
  }
}

const SECTION = /^(account|token|endpoint)\s+(\S.*)$/;

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

/** Reads, parses and checks the config file (see findConfigFile); problems are collected. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const environment = resolveEnvironment(options);
  const file = findConfigFile(options.file, environment.env);
  const doc = parseIni(readConfigText(file), file);
  return interpretConfig(doc, environment);
}

/** Turns a parsed INI document into accounts and tokens, collecting every problem. */
export function interpretConfig(doc: IniDocument, environment: TokenEnvironment): LoadedConfig {
  const problems: IniError[] = [];
  const config: Config = { file: doc.file, accounts: new Map(), tokens: [], endpoints: new Map() };
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
    const match = SECTION.exec(section.name);
    if (!match) {
      problems.push(doc.errorAt(section.name, undefined, 'unknown section: expected [account NAME], [token NAME] or [endpoint ENDPOINT]'));
      continue;
    }
    const [, kind, name] = match as unknown as [string, 'account' | 'token' | 'endpoint', string];
    if (kind === 'endpoint') {
      endpointSections.push([section.name, name.trim()]);
    } else if (kind === 'account') {
      const account = attempt(() => readAccount(doc, section.name, name.trim(), problems));
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
  problems.sort((a, b) => a.line - b.line);
  return { config, problems };
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

function readAccount(doc: IniDocument, section: string, name: string, problems: IniError[]): AccountConfig {
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
  return account;
}

function requireKeys(doc: IniDocument, section: string, account: AccountConfig, problems: IniError[]): void {
  const missing = (what: string) => problems.push(doc.errorAt(section, undefined, `a ${account.type} account needs ${what}`));
  switch (account.type) {
    case 'client-credentials':
      if (!account.clientId) missing('client_id');
      if (!account.tokenRequestUrl && !account.issuer) missing('token_request_url or issuer');
      if (!account.clientSecret && !account.clientSecretFile) missing('client_secret or client_secret_file');
      if (account.clientSecretFile) checkReadable(doc, section, 'client_secret_file', account.clientSecretFile, problems);
      if (account.caFile) checkReadable(doc, section, 'ca_file', account.caFile, problems);
      break;
    case 'oidc-agent':
      if (account.passwordFile) checkReadable(doc, section, 'password_file', account.passwordFile, problems);
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

function checkReadable(doc: IniDocument, section: string, key: string, path: string, problems: IniError[]): void {
  try {
    readFileSync(path).fill(0);
  } catch (error) {
    problems.push(doc.errorAt(section, key, `${path}: cannot read (${(error as NodeJS.ErrnoException).code})`));
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
