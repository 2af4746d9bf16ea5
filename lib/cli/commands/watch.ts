import { resolve } from 'node:path';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { findConfigFile } from '../../config/config.js';
import { resolveEnvironment } from '../../core/environment.js';
import { ExitCode } from '../exit-codes.js';
import { stateDirectory } from '../../files/paths.js';
import { claimInstance, watcherFiles } from '../../watch/instance.js';
import { createLogger } from '../../watch/log.js';
import { TokenWatcher } from '../../watch/watcher.js';
import { parseCommandArgs, type CliIo, type Command } from '../io.js';

const OPTIONS = {
  config: { type: 'string', short: 'c' },
} as const;

export const command: Command = {
  usage: `tokenenv watch [--config FILE] [NAME...]

Refreshes each token just before it stops being fresh (exp − min_lifetime, minus a little
jitter); opaque tokens every refresh_interval. A token file deleted or replaced by someone else
is checked and restored at once; an edited config is reloaded without a restart. A failing
source keeps the old token while it is valid and is retried with capped exponential backoff.
Logs go to stderr, one line per event (with syslog priorities under systemd); never a token.

Signals: SIGHUP reloads the config; SIGTERM and SIGINT stop cleanly (exit 0).
One watcher per config file: a second one says the first is running and exits 1.
See also: tokenenv status, tokenenv systemd.`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs('watch', args, OPTIONS, Infinity);
    keepYoungGenerationSmall();
    const environment = resolveEnvironment({ env: io.env });
    const configFile = resolve(findConfigFile(values.config, environment.env));
    const stateDir = stateDirectory(environment.env);
    const { pidFile, statusFile } = watcherFiles(stateDir, configFile);
    const release = claimInstance(stateDir, pidFile, environment.euid, configFile);
    const log = createLogger(io.stderr, io.env);
    const watcher = new TokenWatcher({ env: io.env, log, configFile, names: positionals, statusFile });
    optimiseEarlyWithManyTokens(watcher);
    collectAfterBursts(watcher);
    // Signals are handled from the start: a SIGTERM during start-up still stops cleanly.
    let stopping: Promise<void> | undefined;
    let stopped!: () => void;
    const finished = new Promise<void>((resolve) => { stopped = resolve; });
    const stop = (signal: string) => {
      log.log('info', `${signal}: stopping`);
      stopping ??= watcher.close().finally(() => {
        release();
        log.log('info', 'stopped');
        stopped();
      });
    };
    const hup = () => void watcher.reload('SIGHUP');
    const term = () => stop('SIGTERM');
    const int = () => stop('SIGINT');
    process.on('SIGHUP', hup);
    process.on('SIGTERM', term);
    process.on('SIGINT', int);
    try {
      await watcher.start();
    } catch (error) {
      await watcher.close();
      release();
      throw error;
    }
    await finished;
    process.off('SIGHUP', hup);
    process.off('SIGTERM', term);
    process.off('SIGINT', int);
    return ExitCode.ok;
  },
};

// V8 is tuned for short scripts; a watcher runs for weeks and does the same refresh again and
// again. The flags below are read whenever V8 grows the heap or re-arms a function's budget, so
// setting them at run time applies from then on. Settings that work only from Node's start are
// in the watcher's systemd unit (WATCHER_PROCESS in systemd.ts).

/**
 * The young generation would grow to its 32 MB maximum during the first pass and never be given
 * back: half the watcher's memory, for no speed (500 tokens at 55 MB instead of 85 MB, same CPU).
 */
function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

const MANY_TOKENS = 100;

/**
 * V8 optimises a function once it has run a budget of bytecode: with the default budget the
 * refresh code gets there after ~2,000 refreshes, and until then a refresh costs up to twice the
 * CPU. A budget 17x smaller gets there within ~300, for the same CPU in all (measured: 1,000
 * tokens 1.5 -> 1.1 ms each; 3,000 tokens the same total). Set at the first refresh, so that
 * start-up code is not optimised, and only with many tokens: a watcher of a few would also
 * optimise code that runs once after it (file watching, chokidar's modules), 4.5 MB more for
 * nothing.
 */
function optimiseEarlyWithManyTokens(watcher: TokenWatcher): void {
  const check = () => {
    if (watcher.tokenCount < MANY_TOKENS) return;
    setFlagsFromString('--interrupt-budget=4000');
    watcher.off('reloaded', check);
  };
  watcher.once('refreshed', check);
  watcher.on('reloaded', check);
}

/** Refreshes that make a burst, and the pause that ends one. */
const BURST_REFRESHES = MANY_TOKENS;
const BURST_PAUSE_MS = 2000;

/** Garbage that a refresh cycle may leave for V8's own collections: a forced collection must
 * give back more than this to be worth optimising the refresh code again. */
const CYCLE_GARBAGE_BYTES = 32 * 1024 * 1024;

/**
 * The first pass and a reload that adds tokens leave garbage that stays until V8's next major
 * collection. V8 starts one when the heap reaches a limit, and its memory reducer only after one
 * has run: a watcher that then sits idle can keep it for hours (500 tokens added by a reload:
 * 10 MB more, for good). So one full collection when such a burst is over: 21 ms at 1,000
 * tokens, 114 ms at 20,000.
 *
 * After a refresh cycle only when it left more than CYCLE_GARBAGE_BYTES (tens of thousands of
 * tokens): a forced collection also drops the object shapes that only optimised code holds, and
 * V8 then optimises the refresh code again in the next cycle (measured at 1,000 tokens: 1.2
 * instead of 0.8 ms of CPU per refresh, in V8's compiler threads), while the 8 MB that such a
 * cycle leaves go with V8's own collections.
 */
function collectAfterBursts(watcher: TokenWatcher): void {
  let collect: (() => void) | undefined;
  let grew = true;
  let heapAfterCollection = 0;
  let refreshes = 0;
  let pause: NodeJS.Timeout | undefined;
  const burstOver = () => {
    pause = undefined;
    refreshes = 0;
    const worthIt = grew || getHeapStatistics().used_heap_size - heapAfterCollection > CYCLE_GARBAGE_BYTES;
    grew = false;
    if (!worthIt) return;
    if (!collect) {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    }
    // Compacting, so that the pages the garbage leaves half-empty go back to the system.
    setFlagsFromString('--compact-on-every-full-gc');
    collect();
    setFlagsFromString('--no-compact-on-every-full-gc');
    heapAfterCollection = getHeapStatistics().used_heap_size;
  };
  const count = () => {
    if (++refreshes < BURST_REFRESHES) return;
    if (pause) {
      pause.refresh();
      return;
    }
    pause = setTimeout(burstOver, BURST_PAUSE_MS);
    pause.unref();
  };
  watcher.on('refreshed', count);
  watcher.on('failed', count);
  watcher.on('reloaded', ({ added, changed }) => {
    if (added + changed > 0) grew = true;
  });
}
