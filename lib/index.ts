// tokenenv: WLCG bearer token discovery, claims and (later) refresh.
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
} from './discovery.js';
export { decodeClaims, secondsLeft, assertLifetime, WLCG_ANY_AUDIENCE, type TokenClaims, type JwtClaims, type OpaqueClaims } from './claims.js';
export { MAX_TOKEN_BYTES, extractToken } from './token-syntax.js';
export { resolveEnvironment, type EnvironmentOptions, type TokenEnvironment } from './environment.js';
export * from './errors.js';
