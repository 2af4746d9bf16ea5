// WLCG Bearer Token Discovery (DESIGN.md §1). The four steps are planned once, then run by a
// generator that asks for file reads; a sync and an async driver answer those reads, so both
// APIs share one implementation of every rule.
import { isAbsolute, join } from 'node:path';
import { envValue, resolveEnvironment, type EnvironmentOptions, type TokenEnvironment } from './environment.js';
import { NoTokenFoundError, TokenenvError, TokenTooLargeError, UsageError } from './errors.js';
import { readTokenFile, readTokenFileSync, type TokenFileOutcome, type TokenFileRequest } from './token-file.js';
import { extractToken, MAX_TOKEN_BYTES } from './token-syntax.js';

export type DiscoverySource = 'BEARER_TOKEN' | 'BEARER_TOKEN_FILE' | 'XDG_RUNTIME_DIR' | '/tmp';

export interface DiscoveryStep {
  step: 1 | 2 | 3 | 4;
  source: DiscoverySource;
  /** The file looked at (file steps), when there is one. */
  path?: string;
  outcome: 'used' | 'skipped' | 'failed' | 'not consulted';
  /** Why it was used or skipped; never contains the token. */
  reason: string;
  warnings: string[];
}

export interface DiscoveryOptions extends EnvironmentOptions {
  /** Token purpose: steps 3–4 then read `bt_u<euid>-<purpose>`. */
  purpose?: string;
}

export interface DiscoveredToken {
  /** The token. Not enumerable, so logging or serialising a result never shows it. */
  readonly token: string;
  step: 1 | 2 | 3 | 4;
  source: DiscoverySource;
  path?: string;
  warnings: string[];
  /** Every step, in order, with what was looked at and why it was used or skipped. */
  steps: DiscoveryStep[];
}

export interface DiscoveryExplanation {
  found: boolean;
  step?: 1 | 2 | 3 | 4;
  path?: string;
  /** The error message when discovery stopped with an error (never contains the token). */
  error?: string;
  steps: DiscoveryStep[];
}

interface PlannedStep extends DiscoveryStep {
  /** Step 1's value; kept off the public record. */
  value?: string;
  file?: TokenFileRequest;
}

const PURPOSE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `bt_u<euid>` or `bt_u<euid>-<purpose>`, the spec's file name. */
export function tokenFileName(euid: number, purpose?: string): string {
  if (purpose === undefined || purpose === '') return `bt_u${euid}`;
  if (!PURPOSE.test(purpose) || purpose.length > 200) {
    throw new UsageError(`invalid token purpose: use letters, digits, '.', '_' and '-' (starting with a letter or digit)`);
  }
  return `bt_u${euid}-${purpose}`;
}

function unsetReason(env: TokenEnvironment['env'], name: string): string {
  return env[name] === '' ? `${name} is set to the empty string, which counts as unset` : `${name} is not set`;
}

function planSteps(environment: TokenEnvironment, purpose?: string): PlannedStep[] {
  const { env, euid, tmpDir } = environment;
  const name = tokenFileName(euid, purpose);
  const base = { outcome: 'not consulted' as const, reason: 'an earlier step decided', warnings: [] };
  const token = envValue(env, 'BEARER_TOKEN');
  const tokenFile = envValue(env, 'BEARER_TOKEN_FILE');
  const runtimeDir = envValue(env, 'XDG_RUNTIME_DIR');
  const steps: PlannedStep[] = [
    token === undefined
      ? { ...base, step: 1, source: 'BEARER_TOKEN', outcome: 'skipped', reason: unsetReason(env, 'BEARER_TOKEN') }
      : { ...base, step: 1, source: 'BEARER_TOKEN', value: token },
    tokenFile === undefined
      ? { ...base, step: 2, source: 'BEARER_TOKEN_FILE', outcome: 'skipped', reason: unsetReason(env, 'BEARER_TOKEN_FILE') }
      : { ...base, step: 2, source: 'BEARER_TOKEN_FILE', path: tokenFile, file: { path: tokenFile, implicit: false, euid } },
  ];
  if (runtimeDir === undefined) {
    steps.push({ ...base, step: 3, source: 'XDG_RUNTIME_DIR', outcome: 'skipped', reason: unsetReason(env, 'XDG_RUNTIME_DIR') });
  } else if (!isAbsolute(runtimeDir)) {
    // The XDG Base Directory spec: relative paths in these variables are invalid and ignored.
    steps.push({ ...base, step: 3, source: 'XDG_RUNTIME_DIR', outcome: 'skipped', reason: 'XDG_RUNTIME_DIR is not an absolute path, ignored' });
  } else {
    const path = join(runtimeDir, name);
    steps.push({ ...base, step: 3, source: 'XDG_RUNTIME_DIR', path, file: { path, implicit: true, euid } });
  }
  const tmpPath = join(tmpDir, name);
  steps.push({ ...base, step: 4, source: '/tmp', path: tmpPath, file: { path: tmpPath, implicit: true, euid } });
  return steps;
}

function publicStep({ value: _value, file: _file, ...step }: PlannedStep): DiscoveryStep {
  if (step.outcome === 'not consulted' && step.path) return { ...step, reason: `${step.path}: not consulted, an earlier step decided` };
  return step;
}

type Found = { token: string; index: number };

/** Runs the steps; yields each file to read and receives what reading it gave. */
function* discoverySequence(steps: PlannedStep[]): Generator<TokenFileRequest, Found, TokenFileOutcome> {
  const fail = (index: number, error: TokenenvError): never => {
    steps[index]!.outcome = 'failed';
    steps[index]!.reason = error.message;
    error.steps = steps.map(publicStep);
    throw error;
  };
  for (const [index, step] of steps.entries()) {
    if (step.outcome === 'skipped') continue;
    let bytes: Uint8Array;
    let where: string;
    if (step.file) {
      const outcome = yield step.file;
      if (outcome.kind === 'missing') {
        step.outcome = 'skipped';
        step.reason = `${step.file.path}: ${outcome.reason}`;
        continue;
      }
      if (outcome.kind === 'error') return fail(index, outcome.error);
      bytes = outcome.bytes;
      step.warnings = outcome.warnings;
      where = step.file.path;
    } else {
      bytes = Buffer.from(step.value!, 'utf8');
      where = step.source;
      if (bytes.length > MAX_TOKEN_BYTES) return fail(index, new TokenTooLargeError(where, MAX_TOKEN_BYTES));
    }
    let token: string | undefined;
    try {
      token = extractToken(bytes, where);
    } catch (error) {
      return fail(index, error as TokenenvError);
    }
    if (token === undefined) {
      step.outcome = 'skipped';
      step.reason = bytes.length === 0 ? `${where} is empty` : `${where} holds only whitespace`;
      continue;
    }
    step.outcome = 'used';
    step.reason = `${where} holds a valid token (${token.length} bytes)`;
    return { token, index };
  }
  throw new NoTokenFoundError(steps.map(publicStep));
}

function foundToken(steps: PlannedStep[], { token, index }: Found): DiscoveredToken {
  const step = steps[index]!;
  const result: Omit<DiscoveredToken, 'token'> = {
    step: step.step,
    source: step.source,
    ...(step.path === undefined ? {} : { path: step.path }),
    warnings: steps.flatMap((s) => s.warnings),
    steps: steps.map(publicStep),
  };
  return Object.defineProperty(result, 'token', { value: token, enumerable: false }) as DiscoveredToken;
}

/** WLCG bearer token discovery, synchronously (the fast path of scripts and shell hooks). */
export function discoverTokenSync(options: DiscoveryOptions = {}): DiscoveredToken {
  const steps = planSteps(resolveEnvironment(options), options.purpose);
  const sequence = discoverySequence(steps);
  let next = sequence.next();
  while (!next.done) next = sequence.next(readTokenFileSync(next.value));
  return foundToken(steps, next.value);
}

/** WLCG bearer token discovery. Rejects with a TokenenvError subclass naming the step's variable or path. */
export async function discoverToken(options: DiscoveryOptions = {}): Promise<DiscoveredToken> {
  const steps = planSteps(resolveEnvironment(options), options.purpose);
  const sequence = discoverySequence(steps);
  let next = sequence.next();
  while (!next.done) next = sequence.next(await readTokenFile(next.value));
  return foundToken(steps, next.value);
}

/** Every step of discovery with what it looked at and why; never throws for a missing or bad token. */
export function explainDiscovery(options: DiscoveryOptions = {}): DiscoveryExplanation {
  try {
    const found = discoverTokenSync(options);
    return { found: true, step: found.step, ...(found.path === undefined ? {} : { path: found.path }), steps: found.steps };
  } catch (error) {
    const steps = error instanceof TokenenvError ? error.steps : undefined;
    if (!steps) throw error;
    return { found: false, error: (error as Error).message, steps };
  }
}

export interface TokenLocation {
  path: string;
  source: Exclude<DiscoverySource, 'BEARER_TOKEN'>;
}

/**
 * The file a writer should write so that readers find it: BEARER_TOKEN_FILE, else
 * `$XDG_RUNTIME_DIR/bt_u<euid>`, else `/tmp/bt_u<euid>`. With a purpose, BEARER_TOKEN_FILE
 * (the user's default token) is left alone and the purpose-suffixed file is chosen.
 */
export function tokenLocation(options: DiscoveryOptions = {}): TokenLocation {
  const environment = resolveEnvironment(options);
  const steps = planSteps(environment, options.purpose);
  const usable = steps.filter((s) => s.file && !(options.purpose && s.source === 'BEARER_TOKEN_FILE'));
  const first = usable[0]!;
  return { path: first.path!, source: first.source as TokenLocation['source'] };
}
