// `tokenenv demo`: the whole product on one machine, nothing outside a temporary directory
// touched. A local issuer, the watcher refreshing short-lived tokens, a wrapped client call, an
// oidc-agent account when oidc-agent is installed, and the exact lines that try it all in
// another terminal. However it ends — Ctrl-C, SIGTERM, SIGHUP, its output pipe closing (`| head`,
// `| tee` then Ctrl-C), an error — the directory (with its client secret) goes with it.
import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { resolveEnvironment } from '../../core/environment.js';
import { ExitCode } from '../exit-codes.js';
import { createLogger } from '../../watch/log.js';
import { TokenWatcher } from '../../watch/watcher.js';
import { claimInstance, watcherFiles } from '../../watch/instance.js';
import { stateDirectory } from '../../files/paths.js';
import { parseCommandArgs, parseSeconds, type CliIo, type Command } from '../io.js';
import type { DemoSession } from '../../demo/session.js';

const OPTIONS = {
  lifetime: { type: 'string' },
  duration: { type: 'string' },
  'no-agent': { type: 'boolean' },
} as const;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The demo's output (stdout): once its reader is gone (EPIPE), nothing more is written and the
 * demo stops. */
class Output {
  closed = false;
  constructor(private readonly io: CliIo, private readonly onClosed: () => void) {
    // Output that went through the stream (a non-blocking descriptor) reports EPIPE here.
    process.stdout.on('error', (error) => this.failed(error));
  }

  write(text: string): void {
    if (this.closed) return;
    try {
      this.io.stdout(text);
    } catch (error) {
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPIPE' && code !== 'ECONNRESET' && code !== 'EBADF') throw error;
    if (this.closed) return;
    this.closed = true;
    this.onClosed();
  }
}

/** The lines to paste in another terminal; the demo runs some of them itself, as printed. */
export function anotherTerminal(session: DemoSession): { setup: string[]; tries: string[]; wrapped: string[]; agent: string[] } {
  return {
    setup: [
      `export XDG_RUNTIME_DIR=${session.dir} TOKENENV_CONFIG=${session.configFile} PATH="${session.bin}:$PATH"`,
      'unset BEARER_TOKEN BEARER_TOKEN_FILE',
    ],
    tries: ['tokenenv discover --explain >/dev/null', 'tokenenv inspect --verify', 'tokenenv status'],
    wrapped: ['source "$(tokenenv shell-path)"', 'condor_q -pool ce.example.org'],
    agent: session.agent ? [`export OIDC_SOCK=${session.agent.socket}`, `oidc-token ${session.agent.account} | tokenenv inspect -`] : [],
  };
}

function banner(session: DemoSession, lifetime: number): string {
  const lines = anotherTerminal(session);
  const tokens = session.agent ? 'three tokens (two by client credentials, one from oidc-agent)' : 'two tokens (by client credentials)';
  return `tokenenv demo: a local OpenID issuer at ${session.issuer.url} issues ${lifetime} s tokens;
the watcher keeps ${tokens} fresh, refreshing each ${session.minLifetime} s before it expires.
oidc-agent: ${session.agent ? `a private agent holds the account ${session.agent.account}, made by oidc-gen against the demo issuer` : session.agentNote}.
Everything is in ${session.dir} (bin/: this tokenenv and a stand-in condor_q);
it goes when the demo stops (Ctrl-C).

In another terminal (bash or zsh), paste:

${[...lines.setup, ...lines.tries, ...lines.wrapped, ...lines.agent, `rm ${session.tokenFile}`].map((l) => `  ${l}`).join('\n')}

discover and inspect show the token the grid clients would use; status, every token and this
demo's watcher; condor_q runs through the shell wrapper, with a token for ce.example.org:9619;
${session.agent ? 'oidc-token asks the agent; ' : ''}after rm, watch the watcher put the token back.

`;
}

/** Runs `lines` in bash as a user would paste them, with the demo's environment; its output,
 * indented. `signal` ends it with the demo. */
function runInShell(lines: string[], env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', lines.join('\n')], { env, stdio: ['ignore', 'pipe', 'pipe'], signal });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', (error) => resolve(error.name === 'AbortError' ? '' : `  (bash: ${error.message})\n`));
    child.on('close', (status) => resolve(`${output.replace(/\n$/, '').replace(/^/gm, '  | ')}\n${status ? `  (exit ${status})\n` : ''}`));
  });
}

export const command: Command = {
  usage: `tokenenv demo [--lifetime SECONDS] [--duration SECONDS] [--no-agent]

The whole product on this machine: a real OpenID provider (oidc-provider) on 127.0.0.1 issuing
short-lived tokens, the watcher keeping them fresh in a temporary directory, a wrapped client
call (a stand-in condor_q through the shell wrappers), and, when oidc-agent is installed, a
private oidc-agent with an account created by oidc-gen against the demo issuer. It prints the
lines to paste in another terminal (discover, inspect, status, the wrapper, oidc-token). Nothing
outside the temporary directory is touched; Ctrl-C (or SIGTERM, SIGHUP, its output pipe
closing) stops it and removes the directory.

  --lifetime S   token lifetime, at least 5 (default 60; min_lifetime is a third of it)
  --duration S   stop by itself after S seconds (default: run until Ctrl-C)
  --no-agent     no oidc-agent account, even when oidc-agent is installed`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseCommandArgs('demo', args, OPTIONS);
    const lifetime = parseSeconds('--lifetime', values.lifetime, 5) ?? 60;
    const duration = parseSeconds('--duration', values.duration, 1);
    const { startDemoSession } = await import('../../demo/session.js');
    const environment = resolveEnvironment({ env: io.env });

    let stop: (why: string) => void = () => undefined;
    const output = new Output(io, () => stop('output closed'));
    const log = createLogger((line) => output.write(line), io.env);
    let session: DemoSession | undefined;
    // The last resort: whatever ends the process, the directory (and its secret) goes.
    const atExit = () => session?.removeNow();
    process.on('exit', atExit);
    let signalled = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      // A second signal while stopping: no more waiting.
      if (++signalled > 1) {
        atExit();
        process.exit(130);
      }
      stop(signal);
    };
    for (const signal of SIGNALS) process.on(signal, onSignal);
    const detach = () => {
      for (const signal of SIGNALS) process.off(signal, onSignal);
      process.off('exit', atExit);
    };

    try {
      session = await startDemoSession({
        lifetime, agent: !values['no-agent'], env: io.env, euid: environment.euid,
        cli: { node: process.execPath, script: realpathSync(process.argv[1] ?? 'tokenenv') },
      });
    } catch (error) {
      detach();
      throw error;
    }
    const open = session;
    // The watcher sees the demo's directory as the runtime dir (its state, so that `status` with
    // the printed XDG_RUNTIME_DIR finds it), and never the user's own tokens.
    const { BEARER_TOKEN: _t, BEARER_TOKEN_FILE: _f, ...userEnv } = io.env;
    const demoEnv = { ...userEnv, XDG_RUNTIME_DIR: open.dir, TOKENENV_CONFIG: open.configFile, PATH: `${open.bin}:${io.env.PATH ?? ''}` };
    // A watcher as `tokenenv watch` runs one: its pid and status files, for `tokenenv status`.
    const stateDir = stateDirectory(demoEnv);
    const { pidFile, statusFile } = watcherFiles(stateDir, open.configFile);
    let release = () => undefined as void;
    try {
      release = claimInstance(stateDir, pidFile, environment.euid, open.configFile);
    } catch (error) {
      await open.close();
      detach();
      throw error;
    }
    const watcher = new TokenWatcher({ env: demoEnv, log, configFile: open.configFile, statusFile });

    let starting: Promise<void> | undefined;
    let stopped: Promise<void> | undefined;
    let finish: (code: number) => void = () => undefined;
    const finished = new Promise<number>((resolve) => { finish = resolve; });
    let timer: NodeJS.Timeout | undefined;
    const ending = new AbortController();
    stop = (why) => {
      stopped ??= (async () => {
        clearTimeout(timer);
        ending.abort();
        log.log('info', `${why}: stopping the demo`);
        await starting?.catch(() => undefined);
        await watcher.close();
        release();
        await open.close();
        log.log('info', 'demo stopped, temporary files removed');
        detach();
        finish(ExitCode.ok);
      })();
    };

    output.write(banner(open, lifetime));
    try {
      await (starting = watcher.start().then(() => undefined));
    } catch (error) {
      if (stopped) return finished;
      release();
      await open.close();
      detach();
      throw error;
    }
    if (duration !== undefined) timer = setTimeout(() => stop(`${duration} s elapsed`), duration * 1000);
    if (!stopped) {
      const lines = anotherTerminal(open).wrapped;
      output.write(`A wrapped client call, as in another terminal (${lines.join('; ')}):\n`);
      const shown = await runInShell(lines, demoEnv as NodeJS.ProcessEnv, ending.signal);
      if (!stopped) output.write(shown);
    }
    return finished;
  },
};
