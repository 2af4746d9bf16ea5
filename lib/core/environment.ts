// Everything discovery depends on outside its arguments, resolved once into a plain value so
// that tests (and callers acting for another user) can inject it.
export interface EnvironmentOptions {
  /** Environment variables; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Effective uid (the spec's `$ID`); default `process.geteuid()`. */
  euid?: number;
  /** Directory of the last discovery step; default `/tmp` (not `os.tmpdir()`: the spec names /tmp). */
  tmpDir?: string;
  /** Clock in seconds since the epoch; default the system clock. */
  now?: () => number;
}

export interface TokenEnvironment {
  env: Readonly<Record<string, string | undefined>>;
  euid: number;
  tmpDir: string;
  now: () => number;
}

export function systemNow(): number {
  return Date.now() / 1000;
}

export function resolveEnvironment(options: EnvironmentOptions = {}): TokenEnvironment {
  const euid = options.euid ?? process.geteuid?.();
  if (euid === undefined) throw new Error('tokenenv needs an effective uid (POSIX systems only); pass options.euid');
  return {
    env: options.env ?? process.env,
    euid,
    tmpDir: options.tmpDir ?? '/tmp',
    now: options.now ?? systemNow,
  };
}

/** An environment variable's value, with the empty string counting as unset (DESIGN.md §1). */
export function envValue(env: TokenEnvironment['env'], name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}
