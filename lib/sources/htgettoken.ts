// `type = htgettoken`: runs htgettoken non-interactively (--nooidc: no browser; a vault token or
// Kerberos ticket must already allow it) into a temporary file that only we can read.
// htgettoken finds the token in Vault under a credkey: from --credkey, or the file its first
// (browser) run saved, ~/.config/htgettoken/credkey-ISSUER-ROLE. Without one it can only fail,
// after trying Kerberos and ssh-agent, with "Failure getting token"; the error then says so.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountConfig } from '../config/config.js';
import { splitCommandLine } from '../config/words.js';
import { assertSuccess, runSourceCommand } from './run.js';
import { readTokenFile } from '../files/read.js';
import { SourceError, type SourceContext, type TokenRequest, type TokenSource } from './source.js';

/** The value of htgettoken option `long` (or `short`) in `args`, the last one given. */
function optionValue(args: readonly string[], long: string, short?: string): string | undefined {
  let value: string | undefined;
  args.forEach((arg, i) => {
    if (arg === long || (short && arg === short)) value = args[i + 1];
    else if (arg.startsWith(`${long}=`)) value = arg.slice(long.length + 1);
    else if (short && arg.startsWith(short) && arg.length > short.length) value = arg.slice(short.length);
  });
  return value;
}

export class HtgettokenSource implements TokenSource {
  readonly description: string;

  constructor(private readonly account: AccountConfig) {
    this.description = `htgettoken account ${account.name}`;
  }

  /** Where htgettoken would find a credkey, or undefined when it has none. */
  private credkeySource(env: SourceContext['env']): string | undefined {
    // htgettoken reads $HTGETTOKENOPTS before its command line.
    const args = [...splitCommandLine(env.HTGETTOKENOPTS ?? ''), ...(this.account.htgettokenOptions ?? [])];
    if (optionValue(args, '--credkey')) return '--credkey';
    const home = env.HOME || homedir();
    const dir = (optionValue(args, '--configdir', '-c') ?? '~/.config/htgettoken').replace(/^~(?=\/|$)/, home);
    const file = join(dir, `credkey-${optionValue(args, '--issuer', '-i') ?? this.account.issuer ?? 'default'}-${optionValue(args, '--role', '-r') ?? this.account.role ?? 'default'}`);
    return existsSync(file) ? file : undefined;
  }

  async fetch(request: TokenRequest, context: SourceContext): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'tokenenv-htgettoken-')); // 0700
    const out = join(dir, 'token');
    try {
      const argv = ['htgettoken', '--nooidc', '-o', out];
      if (this.account.vaultServer) argv.push('-a', this.account.vaultServer);
      if (this.account.issuer) argv.push('-i', this.account.issuer);
      if (this.account.role) argv.push('-r', this.account.role);
      if (request.audience) argv.push(`--audience=${request.audience}`);
      if (request.scope) argv.push(`--scopes=${request.scope}`);
      if (request.minLifetime) argv.push(`--minsecs=${request.minLifetime}`);
      argv.push(...(this.account.htgettokenOptions ?? []));
      const result = await runSourceCommand(this.description, argv, context);
      if (result.exitCode !== 0 && !this.credkeySource(context.env)) {
        const issuer = this.account.issuer ?? 'default';
        const role = this.account.role ?? 'default';
        throw new SourceError(`${this.description}: htgettoken knows no credkey for issuer ${issuer}, role ${role}, so it cannot find the token in Vault: ` +
          `add --credkey=NAME to htgettoken_options, or run htgettoken -a ${this.account.vaultServer ?? 'VAULT'} -i ${issuer} once with a browser ` +
          `(it saves ~/.config/htgettoken/credkey-${issuer}-${role}) (htgettoken exited with status ${result.exitCode})`);
      }
      assertSuccess(this.description, 'htgettoken', result);
      // Bounded like every token read (64 KiB), and only a regular file.
      const outcome = await readTokenFile({ path: out, implicit: false, regularOnly: true, euid: process.geteuid?.() ?? -1 });
      if (outcome.kind === 'missing') throw new SourceError(`${this.description}: htgettoken wrote no token file`);
      if (outcome.kind === 'error') throw new SourceError(`${this.description}: ${outcome.error.message}`);
      return outcome.bytes.toString('latin1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
