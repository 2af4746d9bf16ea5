// What the config file may say: osg-token-renewer's keys, unchanged, plus tokenenv's own.
export type SourceType = 'oidc-agent' | 'client-credentials' | 'htgettoken' | 'command' | 'file';
export const SOURCE_TYPES: readonly SourceType[] = ['oidc-agent', 'client-credentials', 'htgettoken', 'command', 'file'];

/** Keys of `[account NAME]` sections, and the source types they belong to. */
export const ACCOUNT_KEYS: Record<string, readonly SourceType[] | 'any'> = {
  type: 'any',
  timeout: 'any',
  token_format: 'any',
  // osg-token-renewer
  password_file: ['oidc-agent'],
  token_request_url: ['client-credentials'],
  client_id: ['client-credentials'],
  client_secret: ['client-credentials'],
  // tokenenv
  oidc_account: ['oidc-agent'],
  oidc_sock: ['oidc-agent'],
  issuer: ['client-credentials', 'htgettoken'],
  client_secret_file: ['client-credentials'],
  ca_file: ['client-credentials'],
  ca_dir: ['client-credentials'],
  vault_server: ['htgettoken'],
  role: ['htgettoken'],
  htgettoken_options: ['htgettoken'],
  command: ['command'],
  path: ['file'],
};

/** `token_format`: what an account issues. Unset: JWTs, but an opaque token is accepted when
 * there is no current JWT; `jwt`: JWTs only; `opaque`: opaque tokens may replace a JWT. */
export type TokenFormat = 'jwt' | 'opaque';
export const TOKEN_FORMATS: readonly TokenFormat[] = ['jwt', 'opaque'];

/** Keys of `[token NAME]` sections. */
export const TOKEN_KEYS = new Set([
  // osg-token-renewer
  'account', 'token_path', 'audience', 'scope', 'min_lifetime',
  // tokenenv
  'owner', 'refresh_interval',
]);

/** Keys of `[endpoint ENDPOINT]` sections: what the shell wrappers ask for at that endpoint. */
export const ENDPOINT_KEYS = new Set(['audience', 'scope', 'account', 'min_lifetime']);

export const DEFAULTS = {
  /** Seconds a token must still be valid; below it, refresh. */
  minLifetime: 300,
  /** Seconds between refreshes of opaque tokens, whose expiry is unknown. */
  refreshInterval: 600,
  /** Seconds a source command may run. */
  timeout: 60,
} as const;
