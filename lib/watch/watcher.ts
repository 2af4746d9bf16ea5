// TokenWatcher: keeps every configured token fresh in one process. A timer per token at the
// moment it stops being fresh (minus jitter) is the source of truth; file-system events are
// hints: a token file deleted or replaced is checked at once, an edited config is reloaded.
// Nothing polls: an idle watcher sleeps until the next timer or event.
import { EventEmitter } from 'node:events';
import { existsSync, lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadValidConfig, selectTokens, type AccountConfig, type Config, type TokenConfig } from '../config/config.js';
import { resolveEnvironment, type EnvironmentOptions, type TokenEnvironment } from '../core/environment.js';
import { formatDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { refreshTokenFile, type RefreshResult } from '../refresh/refresh.js';
import { sameFile, type FileIdentity } from '../files/write.js';
import { FileHints } from './file-hints.js';
import { forEachLimited } from '../core/concurrency.js';
import { Limiter } from './limiter.js';
import type { Logger } from './log.js';
import { backoffMs, DEFAULT_JITTER_SECONDS, DEFAULT_RETRY, nextCheck, type RetryPolicy } from './schedule.js';
import { StatusFileWriter, type WatchStatus } from './status-file.js';

export type { RetryPolicy } from './schedule.js';
export type { TokenStatus, WatchStatus } from './status-file.js';

export interface WatcherOptions extends EnvironmentOptions {
  /** A config file to load and to reload on change (default: the usual lookup). */
  configFile?: string;
  /** A fixed configuration instead of a file: never reloaded. */
  config?: Config;
  /** Only these tokens (default: all). */
  names?: string[];
  /** One line per event (the CLI logs to stderr); default: no log, listen to the events. */
  log?: Logger;
  /** Where to keep a status file for `tokenenv status` (default: none). */
  statusFile?: string;
  /** tokenenv's private directory for locks (default: $XDG_RUNTIME_DIR/tokenenv…). */
  stateDir?: string;
  retry?: RetryPolicy;
  /** Largest random advance of a refresh, in seconds. */
  jitterSeconds?: number;
}

export interface ReloadSummary {
  reason: string;
  added: number;
  removed: number;
  changed: number;
  watched: number;
}

/** A refresh attempt's result, with why it ran (`timer`, `start`, `file deleted`…). */
export interface WatchResult extends RefreshResult {
  reason: string;
  /** When the watcher looks at this token next (epoch seconds). */
  nextAt: number;
}

export interface TokenWatcherEvents {
  refreshed: [WatchResult];
  kept: [WatchResult];
  failed: [WatchResult];
  /** A token file deleted or replaced by someone else was written again. */
  restored: [WatchResult];
  reloaded: [ReloadSummary];
  /** A config edit that could not be used (the previous config stays), or file watching failed. */
  error: [Error];
}

interface Entry {
  token: TokenConfig;
  account: AccountConfig;
  timer?: NodeJS.Timeout;
  nextAt: number | null;
  running?: Promise<void>;
  /** A hint arrived while running: check once more afterwards. */
  again: boolean;
  /** How early the pending timer fires before the token stops being fresh, in seconds. */
  early: number;
  /** How long the last fetch took, in seconds: timers fire earlier by twice that. */
  fetchSeconds: number;
  failures: number;
  last?: RefreshResult & { at: number };
  hintTimer?: NodeJS.Timeout;
  /** The token file this watcher wrote last: events about it are our own write echoed back. */
  written?: FileIdentity;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const HINT_DEBOUNCE_MS = 20;
/** Refreshes run at once at most: 500 tokens at start must not hit the issuer all together. */
const PARALLEL_REFRESHES = 8;

interface ResolvedOptions {
  environment: TokenEnvironment;
  retry: RetryPolicy;
  jitterSeconds: number;
  log: Logger;
}

const SILENT: Logger = { log: () => undefined };

export class TokenWatcher extends EventEmitter<TokenWatcherEvents> {
  private readonly resolved: ResolvedOptions;
  private readonly entries = new Map<string, Entry>();
  /** Entries by resolved token path, for file events. */
  private readonly byPath = new Map<string, Entry>();
  private readonly abort = new AbortController();
  private readonly limiter = new Limiter(PARALLEL_REFRESHES);
  private hints?: FileHints;
  private statusWriter?: StatusFileWriter;
  private configFile?: string;
  private started = false;
  private closed = false;
  private readonly startedAt: number;
  private reloadTimer?: NodeJS.Timeout;

  constructor(private readonly options: WatcherOptions = {}) {
    super();
    // The environment is read once, here.
    this.resolved = {
      environment: resolveEnvironment(options),
      retry: options.retry ?? DEFAULT_RETRY,
      jitterSeconds: options.jitterSeconds ?? DEFAULT_JITTER_SECONDS,
      log: options.log ?? SILENT,
    };
    this.startedAt = this.resolved.environment.now();
  }

  private get log(): Logger {
    return this.resolved.log;
  }

  /** Loads the config (a problem is fatal here), brings every token up to date, starts watching. */
  async start(): Promise<this> {
    if (this.started) throw new UsageError('TokenWatcher: start() was already called');
    this.started = true;
    const config = this.readConfig();
    this.configFile = config.file ? resolve(config.file) : undefined;
    if (this.options.statusFile) {
      this.statusWriter = new StatusFileWriter(this.options.statusFile, () => this.status(),
        (error) => this.log.log('warn', `status file not written: ${error.message}`));
    }
    const { pending } = this.apply(config);
    // First bring every token up to date, then watch, then check each once more (cheaply: only
    // what changed meanwhile costs a source call). Watching first would feed the watcher an event
    // for each file written at start: with hundreds of tokens in one directory, a storm.
    await this.runAll(pending);
    if (this.closed) return this;
    this.hints = new FileHints({
      onPath: (path) => this.onTokenPath(path),
      onConfig: (event) => this.onConfigEvent(event),
      onError: (error) => this.problem(`file watching: ${error.message}`, error),
    }, this.configFile);
    await this.hints.start(this.tokenPaths());
    // Unless the file is still the one written by the first pass, or a retry is already due
    // (a failing or unfresh source must not be called twice in a row).
    for (const entry of this.entries.values()) {
      if (entry.failures === 0 && !this.isOwnWrite(entry)) void this.run(entry, 'file check after start');
    }
    this.log.log('info', `watching ${this.entries.size} token(s)${this.configFile ? ` from ${this.configFile}` : ''}`);
    return this;
  }

  private tokenPaths(): string[] {
    return [...this.entries.values()].map((e) => e.token.path);
  }

  private readConfig(): Config {
    if (this.options.config) return this.options.config;
    return loadValidConfig({ ...this.resolved.environment, ...(this.options.configFile ? { file: this.options.configFile } : {}) });
  }

  /** Logs a problem, and emits it as 'error' when someone listens (an unheard 'error' would throw). */
  private problem(message: string, error: Error): void {
    this.log.log('error', message);
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /** Makes the entries match `config`; returns the new and changed ones, to be checked. */
  private apply(config: Config): { added: number; removed: number; changed: number; pending: [Entry, string][] } {
    const wanted = selectTokens(config, this.options.names ?? []);
    const counts = { added: 0, removed: 0, changed: 0, pending: [] as [Entry, string][] };
    const names = new Set(wanted.map((t) => t.name));
    for (const [name, entry] of this.entries) {
      if (names.has(name)) continue;
      this.cancel(entry);
      this.entries.delete(name);
      this.byPath.delete(resolve(entry.token.path));
      counts.removed++;
    }
    // A section is unchanged when its JSON is: computed here rather than kept with each entry
    // (half a kilobyte a token), and once per account object, not once per token.
    const accountJson = new Map<AccountConfig, string>();
    const jsonOf = (account: AccountConfig) => accountJson.get(account) ?? accountJson.set(account, JSON.stringify(account)).get(account)!;
    for (const token of wanted) {
      const account = config.accounts.get(token.account)!;
      const existing = this.entries.get(token.name);
      if (existing && JSON.stringify(existing.token) === JSON.stringify(token) && jsonOf(existing.account) === jsonOf(account)) continue;
      if (existing) {
        this.cancel(existing);
        counts.changed++;
      } else {
        counts.added++;
      }
      const entry: Entry = { token, account, nextAt: null, again: false, early: 0, fetchSeconds: 0, failures: 0 };
      this.entries.set(token.name, entry);
      if (existing) this.byPath.delete(resolve(existing.token.path));
      this.byPath.set(resolve(token.path), entry);
      counts.pending.push([entry, existing ? 'config changed' : this.hints ? 'added to the config' : 'start']);
    }
    return counts;
  }

  private cancel(entry: Entry): void {
    clearTimeout(entry.timer);
    clearTimeout(entry.hintTimer);
    entry.timer = undefined;
    entry.nextAt = null;
  }

  /** Re-reads the config file; on a problem, reports it and keeps the current configuration. */
  async reload(reason = 'reload requested'): Promise<void> {
    if (this.closed || this.options.config) return;
    let config: Config;
    try {
      config = this.readConfig();
    } catch (error) {
      this.problem(`config not reloaded (${reason}), keeping the previous one: ${(error as Error).message}`, error as Error);
      return;
    }
    const { added, removed, changed, pending } = this.apply(config);
    this.log.log('info', `config reloaded (${reason}): ${added} added, ${removed} removed, ${changed} changed, ${this.entries.size} watched`);
    this.hints?.update(this.tokenPaths());
    void this.runAll(pending);
    this.statusWriter?.changed();
    this.emit('reloaded', { reason, added, removed, changed, watched: this.entries.size });
  }

  /** Checks `pending` a few at a time: 20,000 tokens at start must not become 20,000 waiting
   * checks (each a chain of promises and closures) held at once. */
  private async runAll(pending: [Entry, string][]): Promise<void> {
    await forEachLimited(pending, PARALLEL_REFRESHES, ([entry, reason]) => this.run(entry, reason));
  }

  private async run(entry: Entry, reason: string): Promise<void> {
    if (this.closed) return;
    if (entry.running) {
      entry.again = true;
      return entry.running;
    }
    clearTimeout(entry.timer);
    entry.running = this.limiter.run(() => this.attempt(entry, reason)).finally(() => {
      entry.running = undefined;
      if (entry.again && !this.closed && this.entries.get(entry.token.name) === entry) {
        entry.again = false;
        if (!this.isOwnWrite(entry)) void this.run(entry, 'file changed during a refresh');
      }
    });
    return entry.running;
  }

  private async attempt(entry: Entry, reason: string): Promise<void> {
    if (this.closed) return;
    let result: RefreshResult;
    const started = this.resolved.environment.now();
    try {
      // A timer fires early by its jitter (plus timer slack): it must refresh, not find the token
      // still fresh by a second and come back.
      const refreshWithin = reason === 'timer' ? entry.early + 2 : 0;
      result = await refreshTokenFile(entry.token, entry.account, {
        ...this.resolved.environment, signal: this.abort.signal, refreshWithin,
        onWritten: (_path, file) => { entry.written = file; },
        ...(this.options.stateDir ? { stateDir: this.options.stateDir } : {}),
      });
    } catch (error) {
      result = {
        name: entry.token.name, path: entry.token.path, action: 'failed', secondsLeft: null,
        detail: (error as Error).message, sourceCalled: false, freshUntil: null,
      };
    }
    if (this.closed || this.entries.get(entry.token.name) !== entry) return;
    const now = this.resolved.environment.now();
    if (result.action === 'refreshed') entry.fetchSeconds = Math.max(0, now - started);
    // A file event after our own write finds nothing to do: keep the last real result.
    const echo = result.action === 'kept' && reason.startsWith('file ');
    if (!echo) entry.last = { ...result, at: now };
    // An attempt that leaves the token not fresh (a failure, or a fetched token that cannot be
    // fresh: a cached one below min_lifetime) is a failure for the backoff: never a hot loop.
    const fresh = result.action !== 'failed' && result.freshUntil !== null && result.freshUntil > now;
    entry.failures = fresh ? 0 : entry.failures + 1;
    const delayMs = this.nextDelayMs(entry, result, now, fresh);
    this.schedule(entry, delayMs);
    this.logResult(entry, result, reason, delayMs, echo);
    this.statusWriter?.changed();
    const event: WatchResult = { ...result, reason, nextAt: now + delayMs / 1000 };
    this.emit(result.action, event);
    if (result.action === 'refreshed' && reason === 'file deleted') this.emit('restored', event);
  }

  /** When to look again: just before the token stops being fresh, or after a backoff. */
  private nextDelayMs(entry: Entry, result: RefreshResult, now: number, fresh: boolean): number {
    if (!fresh || result.freshUntil === null) return backoffMs(entry.failures, this.resolved.retry);
    const { delayMs, early } = nextCheck(result.freshUntil, now, this.resolved.jitterSeconds, Math.random, entry.fetchSeconds);
    entry.early = early;
    return delayMs;
  }

  private schedule(entry: Entry, delayMs: number): void {
    clearTimeout(entry.timer);
    entry.nextAt = this.resolved.environment.now() + delayMs / 1000;
    entry.timer = setTimeout(() => void this.run(entry, 'timer'), Math.min(delayMs, MAX_TIMER_MS));
  }

  private logResult(entry: Entry, result: RefreshResult, reason: string, delayMs: number, echo: boolean): void {
    // A check prompted by a file event that found nothing to do is usually our own write echoed
    // back by the file system: not worth a line.
    if (echo) return;
    const left = result.secondsLeft === null ? 'expiry unknown' : result.secondsLeft > 0 ? `${formatDuration(result.secondsLeft)} left` : 'expired';
    const name = `token ${entry.token.name}`;
    if (result.action === 'failed' || entry.failures > 0) {
      this.log.log('error', `${name}: refresh failed (${reason}, attempt ${entry.failures}): ${result.detail}; ${left}; retry in ${formatDuration(delayMs / 1000)}`);
    } else {
      this.log.log('info', `${name}: ${result.action} (${reason}), ${left}, next check in ${formatDuration(delayMs / 1000)} (${result.path})`);
    }
  }

  private onTokenPath(path: string): void {
    const entry = this.byPath.get(path);
    if (!entry || this.closed) return;
    // Debounced: a writer's create, write and rename come as several events.
    clearTimeout(entry.hintTimer);
    entry.hintTimer = setTimeout(() => {
      entry.hintTimer = undefined;
      if (entry.running) entry.again = true;
      else if (!this.isOwnWrite(entry)) void this.run(entry, existsSync(entry.token.path) ? 'file changed' : 'file deleted');
    }, HINT_DEBOUNCE_MS);
  }

  /** Whether the token file is still the one this watcher wrote last (an event about it is our
   * own write echoed back, not a hint). */
  private isOwnWrite(entry: Entry): boolean {
    try {
      const { dev, ino, size, mtimeMs } = lstatSync(entry.token.path);
      return sameFile(entry.written, { dev, ino, size, mtimeMs });
    } catch {
      return false;
    }
  }

  private onConfigEvent(event: 'changed' | 'removed'): void {
    if (this.closed) return;
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.reload(`config file ${event}`), 50);
  }

  /** How many tokens are watched. */
  get tokenCount(): number {
    return this.entries.size;
  }

  /** What every token's last check found and when the next one is due. */
  status(): WatchStatus {
    return {
      pid: process.pid,
      config: this.configFile ?? null,
      startedAt: this.startedAt,
      updatedAt: this.resolved.environment.now(),
      tokens: [...this.entries.values()].map((e) => ({
        name: e.token.name,
        path: e.token.path,
        source: `${e.account.type} ${e.account.name}`,
        lastAt: e.last?.at ?? null,
        lastAction: e.last?.action ?? null,
        lastDetail: e.last?.detail ?? null,
        nextAt: e.nextAt,
        failures: e.failures,
      })),
    };
  }

  /** Resolves when no check is running. */
  async settled(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.running).filter(Boolean));
  }

  /** Stops timers and watching, cancels running sources, and resolves once every source process
   * is gone and every lock released. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    clearTimeout(this.reloadTimer);
    for (const entry of this.entries.values()) this.cancel(entry);
    await this.hints?.close();
    await Promise.allSettled([...this.entries.values()].map((e) => e.running));
    await this.statusWriter?.close();
  }
}
