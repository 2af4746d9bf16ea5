// Real peers (oidc-agent, the ARC client, zsh, shellcheck...) are Debian packages that .ci/run
// installs. On a developer's machine a missing peer skips the test with a reason; with
// TOKENENV_REQUIRE_PEERS=1 (set by .ci/run) a missing peer fails it instead.
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';

export function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v "$1"`, 'sh', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function peersRequired(): boolean {
  return process.env.TOKENENV_REQUIRE_PEERS === '1';
}

/** Skip (or, in CI, fail) the current test or hook when `ok` is false. */
export function requirePeer(ctx: Mocha.Context, ok: boolean, reason: string): void {
  if (ok) return;
  if (peersRequired()) throw new Error(`required peer missing (TOKENENV_REQUIRE_PEERS=1): ${reason}`);
  // In a hook the reason belongs to the whole suite; the reporter looks up the parents.
  const runnable = ctx.test as (Mocha.Runnable & { type?: string }) | undefined;
  const holder = (runnable?.type === 'hook' ? runnable.parent : runnable) as { skipReason?: string } | undefined;
  if (holder) holder.skipReason = reason;
  // In parallel runs the test object the reporter sees is a copy made in another process.
  const log = process.env.TOKENENV_SKIP_LOG;
  if (log && runnable) appendFileSync(log, `${runnable.fullTitle()}\t${reason}\n`);
  ctx.skip();
}

/** requirePeer for a list of commands that must be on PATH. */
export function requireCommands(ctx: Mocha.Context, ...names: string[]): void {
  const missing = names.filter((n) => !hasCommand(n));
  requirePeer(ctx, missing.length === 0, `not installed: ${missing.join(', ')}`);
}
