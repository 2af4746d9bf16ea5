// tokenenv: WLCG bearer token discovery, claims, verification, refresh and a watcher that keeps
// token files fresh. The CLI (lib/cli) is a client of exactly this API.
export {
  discoverToken,
  discoverTokenSync,
  explainDiscovery,
  tokenLocation,
  tokenFileName,
  type DiscoveredToken,
  type DiscoveryExplanation,
  type DiscoveryOptions,
  type DiscoverySource,
  type DiscoveryStep,
  type TokenLocation,
} from './discovery/discovery.js';
export { decodeClaims, secondsLeft, assertLifetime, WLCG_ANY_AUDIENCE, type TokenClaims, type JwtClaims, type OpaqueClaims } from './token/claims.js';
export { MAX_TOKEN_BYTES, extractToken } from './token/syntax.js';
export { verifyToken, type Verification } from './token/verify.js';
export { wouldAccept, OPERATION_SCOPES, type Acceptance, type AcceptanceOptions } from './token/acceptance.js';
export { OPERATIONS, DATA_OPERATIONS, CLIENTS, operationNeed, requestFor, type OperationNeed, type ClientSpec } from './token/operations.js';
export { parseEndpoint, endpointAudience, type Endpoint, type EndpointKind } from './token/endpoint.js';
export { resolveEnvironment, type EnvironmentOptions, type TokenEnvironment } from './core/environment.js';
export { loadConfig, loadValidConfig, findConfigFile, ConfigError, type Config, type AccountConfig, type TokenConfig, type EndpointConfig, type LoadOptions, type LoadedConfig } from './config/config.js';
export { IniError } from './config/ini.js';
export { UntrustedFileError } from './files/trust.js';
export { refreshToken, refreshAll, type ConfigRefreshOptions, type RefreshTarget } from './refresh/api.js';
export type { RefreshResult, RefreshAction, RefreshOptions } from './refresh/refresh.js';
export { TokenWatcher, type WatcherOptions, type TokenWatcherEvents, type WatchResult, type ReloadSummary, type WatchStatus, type TokenStatus } from './watch/watcher.js';
export type { Logger, Level } from './watch/log.js';
export * from './core/errors.js';
