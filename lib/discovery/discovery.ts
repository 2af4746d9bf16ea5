// WLCG Bearer Token Discovery (DESIGN.md §1). The four steps are planned once, then run by a
// generator that asks for file reads; a sync and an async driver answer those reads, so both
// APIs share one implementation of every rule.
import { isAbsolute } from 'node:path';
import { envValue, resolveEnvironment, type EnvironmentOptions, type TokenEnvironment } from '../core/environment.js';
import { isTokenenvError, NoTokenFoundError, TokenTooLargeError, UsageError, type ErrorCode, type TokenenvError } from '../core/errors.js';
import { readTokenFile, readTokenFileSync, type TokenFileOutcome, type TokenFileRequest } from '../files/read.js';
import { extractToken, MAX_TOKEN_BYTES } from '../token/syntax.js';

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
  /** The error's stable code (lib/core/errors.ts). */
  errorCode?: ErrorCode;
  steps: DiscoveryStep[];
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

const NO_WARNINGS: string[] = [];

// One step's plan and, once run, its outcome. Step 1's value and the read request are private,
// so a record can be logged or serialised as it is. Kept lean: discovery runs in shell hooks.
class StepRecord implements DiscoveryStep {
  outcome: DiscoveryStep['outcome'] = 'not consulted';
  reason = '';
  warnings = NO_WARNINGS;
  readonly path?: string;
  readonly #value: string | undefined;
  readonly #file: TokenFileRequest | undefined;

  constructor(readonly step: DiscoveryStep['step'], readonly source: DiscoverySource, skipped: string | undefined,
    value?: string, file?: TokenFileRequest) {
    if (skipped !== undefined) this.skip(skipped);
    if (file) this.path = file.path;
    this.#value = value;
    this.#file = file;
  }

  get value(): string | undefined { return this.#value; }
  get file(): TokenFileRequest | undefined { return this.#file; }

  skip(reason: string): void {
    this.outcome = 'skipped';
    this.reason = reason;
  }
}

type DiscoveryVariable = 'BEARER_TOKEN' | 'BEARER_TOKEN_FILE' | 'XDG_RUNTIME_DIR';

// Built once: discovery runs in shell hooks, and most calls skip two or three steps.
const reasonsUnset = (name: DiscoveryVariable) => ({
  unset: `${name} is not set`,
  empty: `${name} is set to the empty string, which counts as unset`,
});
const UNSET_REASONS: Record<DiscoveryVariable, { unset: string; empty: string }> = {
  BEARER_TOKEN: reasonsUnset('BEARER_TOKEN'),
  BEARER_TOKEN_FILE: reasonsUnset('BEARER_TOKEN_FILE'),
  XDG_RUNTIME_DIR: reasonsUnset('XDG_RUNTIME_DIR'),
};

function unsetReason(env: TokenEnvironment['env'], name: DiscoveryVariable): string {
  return env[name] === '' ? UNSET_REASONS[name].empty : UNSET_REASONS[name].unset;
}

function planSteps(environment: TokenEnvironment, purpose?: string): StepRecord[] {
  const { env, euid, tmpDir } = environment;
  const name = tokenFileName(euid, purpose);
  const token = envValue(env, 'BEARER_TOKEN');
  const tokenFile = envValue(env, 'BEARER_TOKEN_FILE');
  const runtimeDir = envValue(env, 'XDG_RUNTIME_DIR');
  const implicit = (path: string): TokenFileRequest => ({ path, implicit: true, euid });
  return [
    new StepRecord(1, 'BEARER_TOKEN', token === undefined ? unsetReason(env, 'BEARER_TOKEN') : undefined, token),
    new StepRecord(2, 'BEARER_TOKEN_FILE', tokenFile === undefined ? unsetReason(env, 'BEARER_TOKEN_FILE') : undefined,
      undefined, tokenFile === undefined ? undefined : { path: tokenFile, implicit: false, euid }),
    runtimeDir === undefined
      ? new StepRecord(3, 'XDG_RUNTIME_DIR', unsetReason(env, 'XDG_RUNTIME_DIR'))
      : !isAbsolute(runtimeDir)
        // The XDG Base Directory spec: relative paths in these variables are invalid and ignored.
        ? new StepRecord(3, 'XDG_RUNTIME_DIR', 'XDG_RUNTIME_DIR is not an absolute path, ignored')
        : new StepRecord(3, 'XDG_RUNTIME_DIR', undefined, undefined, implicit(inDirectory(runtimeDir, name))),
    new StepRecord(4, '/tmp', undefined, undefined, implicit(inDirectory(tmpDir, name))),
  ];
}

function inDirectory(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** Marks the steps after `index` as not consulted, naming what they would have read. */
function closeSteps(steps: StepRecord[], index: number): void {
  for (let i = index + 1; i < steps.length; i++) {
    const step = steps[i]!;
    if (step.outcome === 'not consulted') step.reason = `${step.path ?? step.source}: not consulted, an earlier step decided`;
  }
}

type Found = { token: string; index: number };

/** Runs the steps; yields each file to read and receives what reading it gave. */
function* discoverySequence(steps: StepRecord[]): Generator<TokenFileRequest, Found, TokenFileOutcome> {
  const fail = (index: number, error: TokenenvError): never => {
    steps[index]!.outcome = 'failed';
    steps[index]!.reason = error.message;
    closeSteps(steps, index);
    error.steps = steps;
    throw error;
  };
  for (let index = 0; index < steps.length; index++) {
    const step = steps[index]!;
    if (step.outcome === 'skipped') continue;
    let bytes: Uint8Array;
    let where: string;
    const file = step.file;
    if (file) {
      const outcome = yield file;
      if (outcome.kind === 'missing') {
        step.skip(`${file.path}: ${outcome.reason}`);
        // The spec moves on; a variable naming a missing file is still worth a word (a typo, a
        // token that was deleted): a lower-priority token is about to be used instead.
        if (!file.implicit) step.warnings = [`BEARER_TOKEN_FILE=${file.path}: ${outcome.reason}; using the next discovery step`];
        continue;
      }
      if (outcome.kind === 'error') return fail(index, outcome.error);
      bytes = outcome.bytes;
      step.warnings = outcome.warnings;
      where = file.path;
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
      step.skip(bytes.length === 0 ? `${where} is empty` : `${where} holds only whitespace`);
      continue;
    }
    step.outcome = 'used';
    step.reason = `${where} holds a valid token (${token.length} bytes)`;
    closeSteps(steps, index);
    return { token, index };
  }
  throw new NoTokenFoundError(steps);
}

/** A discovery result; the token is a getter over a private field, so it never shows in logs or JSON. */
class DiscoveryResult implements DiscoveredToken {
  readonly step: DiscoveredToken['step'];
  readonly source: DiscoverySource;
  readonly path?: string;
  readonly warnings: string[];
  readonly #token: string;

  constructor(readonly steps: DiscoveryStep[], { token, index }: Found) {
    const step = steps[index]!;
    this.step = step.step;
    this.source = step.source;
    if (step.path !== undefined) this.path = step.path;
    // Warnings of every step: a skipped step can have one too (a missing BEARER_TOKEN_FILE).
    this.warnings = steps.some((s) => s !== step && s.warnings.length > 0) ? steps.flatMap((s) => s.warnings) : step.warnings;
    this.#token = token;
  }

  get token(): string {
    return this.#token;
  }
}

/** WLCG bearer token discovery, synchronously (the fast path of scripts and shell hooks). */
export function discoverTokenSync(options: DiscoveryOptions = {}): DiscoveredToken {
  const steps = planSteps(resolveEnvironment(options), options.purpose);
  const sequence = discoverySequence(steps);
  let next = sequence.next();
  while (!next.done) next = sequence.next(readTokenFileSync(next.value));
  return new DiscoveryResult(steps, next.value);
}

/** WLCG bearer token discovery. Rejects with a TokenenvError subclass naming the step's variable or path. */
export async function discoverToken(options: DiscoveryOptions = {}): Promise<DiscoveredToken> {
  const steps = planSteps(resolveEnvironment(options), options.purpose);
  const sequence = discoverySequence(steps);
  let next = sequence.next();
  while (!next.done) next = sequence.next(await readTokenFile(next.value));
  return new DiscoveryResult(steps, next.value);
}

/** Every step of discovery with what it looked at and why; never throws for a missing or bad token. */
export function explainDiscovery(options: DiscoveryOptions = {}): DiscoveryExplanation {
  try {
    const found = discoverTokenSync(options);
    return { found: true, step: found.step, ...(found.path === undefined ? {} : { path: found.path }), steps: found.steps };
  } catch (error) {
    const steps = isTokenenvError(error) ? error.steps : undefined;
    if (!steps) throw error;
    return { found: false, error: (error as Error).message, errorCode: (error as TokenenvError).code, steps };
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
