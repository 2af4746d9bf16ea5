// `tokenenv watch`: one process keeping every configured token fresh. A timer per token at the
// moment it stops being fresh (minus jitter) is the source of truth; file-system events are
// hints: a token file deleted or replaced is checked at once, an edited config is reloaded.
// Nothing polls: an idle watcher sleeps until the next timer or event.
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { FSWatcher } from 'chokidar';
import { loadConfig, selectTokens, type AccountConfig, type Config, type TokenConfig } from '../config/config.js';
import { resolveEnvironment, type EnvironmentOptions, type TokenEnvironment } from '../environment.js';
import { formatDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import { refreshToken, type RefreshAction, type RefreshResult } from '../refresh.js';
import { writeAtomically } from '../store.js';
import type { Logger } from './log.js';

export interface TokenStatus {
  name: string;
  path: string;
  source: string;
  lastAt: number | null;
  lastAction: RefreshAction | null;
  lastDetail: string | null;
  nextAt: number | null;
  failures: number;
}

export interface WatchStatus {
  pid: number;
  config: string | null;
  startedAt: number;
  updatedAt: number;
  tokens: TokenStatus[];
}

export interface RetryPolicy {
  /** First retry after a failure, in ms; doubles each time. */
  baseMs: number;
  /** Longest wait between retries, in ms. */
  capMs: number;
}

export interface WatcherOptions extends EnvironmentOptions {
  log: Logger;
  /** A config file to load and to reload on change (default: the usual lookup). */
  configFile?: string;
  /** A fixed configuration instead of a file (exec, demo): never reloaded. */
  config?: Config;
  /** Only these tokens (default: all). */
  names?: string[];
  /** Where the status file goes (the CLI sets it; none when undefined). */
  statusFile?: string;
  stateDir?: string;
  retry?: RetryPolicy;
  /** Largest random advance of a refresh, in seconds, so that many tokens do not fire at once. */
  jitterSeconds?: number;
  /** Called after every refresh attempt (exec and tests). */
  onResult?: (result: RefreshResult) => void;
}

interface Entry {
  token: TokenConfig;
  account: AccountConfig;
  /** JSON of token and account, to tell a changed section on reload. */
  signature: string;
  timer?: NodeJS.Timeout;
  nextAt: number | null;
  running?: Promise<void>;
  /** A hint arrived while running: check once more afterwards. */
  again: boolean;
  /** How early the pending timer fires before the token stops being fresh, in seconds. */
  early: number;
  failures: number;
  last?: RefreshResult & { at: number };
  hintTimer?: NodeJS.Timeout;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const HINT_DEBOUNCE_MS = 20;
/** Refreshes run at once at most: 500 tokens at start must not hit the issuer all together. */
const PARALLEL_REFRESHES = 8;

export class TokenWatcher {
  private readonly environment: TokenEnvironment;
  private readonly entries = new Map<string, Entry>();
  /** Entries by resolved token path, for file events. */
  private readonly byPath = new Map<string, Entry>();
  private readonly abort = new AbortController();
  private readonly retry: RetryPolicy;
  private fsWatcher?: FSWatcher;
  private watchedDirs = new Set<string>();
  private configFile?: string;
  private stopped = false;
  private readonly startedAt: number;
  private statusTimer?: NodeJS.Timeout;
  private reloadTimer?: NodeJS.Timeout;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: WatcherOptions) {
    this.environment = resolveEnvironment(options);
    this.retry = options.retry ?? { baseMs: 2000, capMs: 60_000 };
    this.startedAt = this.environment.now();
  }

  private get log(): Logger {
    return this.options.log;
  }

  /** Loads the config (a problem is fatal at start), checks every token, starts watching. */
  async start(): Promise<void> {
    const config = this.readConfig();
    this.configFile = config.file ? resolve(config.file) : undefined;
    const { pending } = this.apply(config);
    // First bring every token up to date, then watch, then check each once more (cheaply: only
    // what changed meanwhile costs a source call). Watching first would feed the watcher an event
    // for each file written at start: with hundreds of tokens in one directory, a storm.
    await Promise.all(pending.map(([entry, reason]) => this.run(entry, reason)));
    await this.watchFiles();
    for (const entry of this.entries.values()) void this.run(entry, 'file check after start');
    this.log.log('info', `watching ${this.entries.size} token(s)${this.configFile ? ` from ${this.configFile}` : ''}`);
  }

  private readConfig(): Config {
    if (this.options.config) return this.options.config;
    const { config, problems } = loadConfig({ ...this.options, ...(this.options.configFile ? { file: this.options.configFile } : {}) });
    if (problems.length) throw new UsageError(problems.map((p) => p.message).join('\n'));
    return config;
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
    for (const token of wanted) {
      const account = config.accounts.get(token.account)!;
      const signature = JSON.stringify([token, account]);
      const existing = this.entries.get(token.name);
      if (existing?.signature === signature) continue;
      if (existing) {
        this.cancel(existing);
        counts.changed++;
      } else {
        counts.added++;
      }
      const entry: Entry = { token, account, signature, nextAt: null, again: false, early: 0, failures: 0 };
      this.entries.set(token.name, entry);
      if (existing) this.byPath.delete(resolve(existing.token.path));
      this.byPath.set(resolve(token.path), entry);
      counts.pending.push([entry, existing ? 'config changed' : this.fsWatcher ? 'added to the config' : 'start']);
    }
    return counts;
  }

  private cancel(entry: Entry): void {
    clearTimeout(entry.timer);
    clearTimeout(entry.hintTimer);
    entry.timer = undefined;
    entry.nextAt = null;
  }

  /** Re-reads the config file; on a problem, logs it and keeps the current configuration. */
  async reload(reason: string): Promise<void> {
    if (this.stopped || this.options.config) return;
    let config: Config;
    try {
      config = this.readConfig();
    } catch (error) {
      this.log.log('error', `config not reloaded (${reason}), keeping the previous one: ${(error as Error).message}`);
      return;
    }
    const { added, removed, changed, pending } = this.apply(config);
    this.log.log('info', `config reloaded (${reason}): ${added} added, ${removed} removed, ${changed} changed, ${this.entries.size} watched`);
    await this.updateWatchedDirs();
    for (const [entry, why] of pending) void this.run(entry, why);
    this.statusChanged();
  }

  private async run(entry: Entry, reason: string): Promise<void> {
    if (this.stopped) return;
    if (entry.running) {
      entry.again = true;
      return entry.running;
    }
    clearTimeout(entry.timer);
    entry.running = this.attempt(entry, reason).finally(() => {
      entry.running = undefined;
      if (entry.again && !this.stopped && this.entries.get(entry.token.name) === entry) {
        entry.again = false;
        void this.run(entry, 'file changed during a refresh');
      }
    });
    return entry.running;
  }

  private async slot(): Promise<void> {
    if (this.active < PARALLEL_REFRESHES) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  private async attempt(entry: Entry, reason: string): Promise<void> {
    await this.slot();
    try {
      await this.attemptNow(entry, reason);
    } finally {
      this.release();
    }
  }

  private async attemptNow(entry: Entry, reason: string): Promise<void> {
    if (this.stopped) return;
    let result: RefreshResult;
    try {
      // A timer fires early by its jitter (plus timer slack): it must refresh, not find the token
      // still fresh by a second and come back.
      const refreshWithin = reason === 'timer' ? entry.early + 2 : 0;
      result = await refreshToken(entry.token, entry.account, { ...this.options, signal: this.abort.signal, refreshWithin });
    } catch (error) {
      result = {
        name: entry.token.name, path: entry.token.path, action: 'failed', secondsLeft: null,
        detail: (error as Error).message, sourceCalled: false, freshUntil: null,
      };
    }
    if (this.stopped || this.entries.get(entry.token.name) !== entry) return;
    const now = this.environment.now();
    // A file event after our own write finds nothing to do: keep the last real result.
    const echo = result.action === 'kept' && reason.startsWith('file ');
    if (!echo) entry.last = { ...result, at: now };
    entry.failures = result.action === 'failed' ? entry.failures + 1 : 0;
    const delayMs = this.nextDelayMs(entry, result, now);
    this.schedule(entry, delayMs);
    this.logResult(entry, result, reason, delayMs, echo);
    this.options.onResult?.(result);
    this.statusChanged();
  }

  /** When to look again: just before the token stops being fresh, or after a backoff. */
  private nextDelayMs(entry: Entry, result: RefreshResult, now: number): number {
    if (result.action === 'failed' || result.freshUntil === null) {
      const backoff = Math.min(this.retry.capMs, this.retry.baseMs * 2 ** Math.max(0, entry.failures - 1));
      return backoff * (0.8 + Math.random() * 0.4);
    }
    const remaining = result.freshUntil - now;
    entry.early = Math.random() * Math.min(this.options.jitterSeconds ?? 30, Math.max(0, remaining) * 0.1);
    return Math.max(1000, (remaining - entry.early) * 1000);
  }

  private schedule(entry: Entry, delayMs: number): void {
    clearTimeout(entry.timer);
    entry.nextAt = this.environment.now() + delayMs / 1000;
    entry.timer = setTimeout(() => void this.run(entry, 'timer'), Math.min(delayMs, MAX_TIMER_MS));
  }

  private logResult(entry: Entry, result: RefreshResult, reason: string, delayMs: number, echo: boolean): void {
    const left = result.secondsLeft === null ? 'expiry unknown' : result.secondsLeft > 0 ? `${formatDuration(result.secondsLeft)} left` : 'expired';
    const next = `next check in ${formatDuration(delayMs / 1000)}`;
    const name = `token ${entry.token.name}`;
    // A check prompted by a file event that found nothing to do is usually our own write echoed
    // back by the file system: not worth a line.
    if (echo) return;
    if (result.action === 'failed') {
      this.log.log('error', `${name}: refresh failed (${reason}, attempt ${entry.failures}): ${result.detail}; ${left}; retry in ${formatDuration(delayMs / 1000)}`);
    } else {
      this.log.log('info', `${name}: ${result.action} (${reason}), ${left}, ${next} (${result.path})`);
    }
  }

  /** A hint from the file system: check the token soon (debounced). */
  private hint(entry: Entry): void {
    clearTimeout(entry.hintTimer);
    entry.hintTimer = setTimeout(() => {
      entry.hintTimer = undefined;
      void this.run(entry, existsSync(entry.token.path) ? 'file changed' : 'file deleted');
    }, HINT_DEBOUNCE_MS);
  }

  // chokidar follows the directories and the config file; token files are left to the raw events
  // of the directory watches, which report every entry: following 500 token files one by one
  // would cost 500 more watches and stat calls for nothing.
  private interesting(path: string): boolean {
    return this.watchedDirs.has(path) || path === this.configFile;
  }

  private wantedDirs(): Set<string> {
    const dirs = new Set([...this.entries.values()].map((e) => dirname(resolve(e.token.path))));
    if (this.configFile) dirs.add(dirname(this.configFile));
    return dirs;
  }

  // Parent directories, filtered, not single files: a single-file watch misses writers that
  // delete and then rename (htgettoken), and a file that does not exist yet.
  private async watchFiles(): Promise<void> {
    const { watch } = await import('chokidar');
    this.watchedDirs = this.wantedDirs();
    this.fsWatcher = watch([...this.watchedDirs], {
      depth: 0,
      ignoreInitial: true,
      atomic: false, // the default holds back deletions for 100 ms
      ignored: (path: string) => !this.interesting(path),
    });
    this.fsWatcher.on('all', (event, path) => this.onFileEvent(event, resolve(path)));
    // Raw events are reported for every entry, always; chokidar's own add/unlink would also depend
    // on what it believed was there (a file written and deleted again before it looked is neither).
    this.fsWatcher.on('raw', (_event, name, details) => this.onRawEvent(String(name ?? ''), (details as { watchedPath?: string }).watchedPath));
    this.fsWatcher.on('error', (error) => this.log.log('warn', `file watching: ${(error as Error).message}`));
    await new Promise<void>((ready) => this.fsWatcher!.once('ready', () => ready()));
  }

  private async updateWatchedDirs(): Promise<void> {
    if (!this.fsWatcher) return;
    const wanted = this.wantedDirs();
    const added = [...wanted].filter((d) => !this.watchedDirs.has(d));
    const removed = [...this.watchedDirs].filter((d) => !wanted.has(d));
    this.watchedDirs = wanted;
    if (added.length) this.fsWatcher.add(added);
    if (removed.length) this.fsWatcher.unwatch(removed);
  }

  private onRawEvent(name: string, watchedPath: string | undefined): void {
    if (this.stopped || !name || !watchedPath) return;
    const path = basename(watchedPath) === name ? resolve(watchedPath) : resolve(watchedPath, name);
    const entry = this.byPath.get(path);
    if (entry) this.hint(entry);
  }

  private onFileEvent(event: string, path: string): void {
    if (this.stopped || path !== this.configFile) return;
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.reload(`config file ${event === 'unlink' ? 'removed' : 'changed'}`), 50);
  }

  status(): WatchStatus {
    return {
      pid: process.pid,
      config: this.configFile ?? null,
      startedAt: this.startedAt,
      updatedAt: this.environment.now(),
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

  /** Status writes are batched: at most one every 200 ms. */
  private statusChanged(): void {
    if (!this.options.statusFile || this.statusTimer || this.stopped) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      void this.writeStatus();
    }, 200);
  }

  private async writeStatus(): Promise<void> {
    if (!this.options.statusFile) return;
    await writeAtomically(this.options.statusFile, JSON.stringify(this.status(), null, 2) + '\n').catch((error: Error) =>
      this.log.log('warn', `status file not written: ${error.message}`));
  }

  /** Every check that is running (tests and exec wait on it). */
  async settled(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.running).filter(Boolean));
  }

  /** Stops timers and watching, cancels running sources, and waits for them to let go. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    clearTimeout(this.statusTimer);
    clearTimeout(this.reloadTimer);
    for (const entry of this.entries.values()) this.cancel(entry);
    await this.fsWatcher?.close();
    await Promise.allSettled([...this.entries.values()].map((e) => e.running));
    await this.writeStatus();
  }
}
