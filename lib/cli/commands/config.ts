import { findConfigFile, loadConfigFile, type AccountConfig, type LoadedConfig, type TokenConfig } from '../../config/config.js';
import { IniError } from '../../config/ini.js';
import { resolveEnvironment } from '../../core/environment.js';
import { UsageError } from '../../core/errors.js';
import { ExitCode } from '../exit-codes.js';
import { parseCommandArgs, type CliIo, type Command } from '../io.js';

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
} as const;

const MASK = '********';

function accountView(account: AccountConfig): Record<string, unknown> {
  const view: Record<string, unknown> = { ...account };
  if (account.clientSecret) view.clientSecret = MASK;
  return view;
}

function tokenView(token: TokenConfig): Record<string, unknown> {
  return { ...token };
}

// Back to the config file's own key names, so that `config show` output can be pasted back.
function iniKey(field: string, section: 'account' | 'token'): string {
  if (section === 'token' && field === 'path') return 'token_path';
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function showText(file: string, accounts: AccountConfig[], tokens: TokenConfig[]): string {
  const lines = [`# ${file} (effective values; secrets masked)`];
  const value = (v: unknown) => (Array.isArray(v) ? v.map((w) => (/\s/.test(String(w)) ? JSON.stringify(w) : w)).join(' ') : String(v));
  for (const account of accounts) {
    lines.push('', `[account ${account.name}]`);
    for (const [key, v] of Object.entries(accountView(account))) if (key !== 'name') lines.push(`${iniKey(key, 'account')} = ${value(v)}`);
  }
  for (const token of tokens) {
    lines.push('', `[token ${token.name}]`);
    for (const [key, v] of Object.entries(tokenView(token))) if (key !== 'name') lines.push(`${iniKey(key, 'token')} = ${value(v)}`);
  }
  return lines.join('\n') + '\n';
}

export const command: Command = {
  usage: `tokenenv config check|show [--config FILE] [--json]

  check   reports every problem with file, line and key: unknown keys and sections, a token
          naming a missing account, an unreadable password or secret file, a bad number, two
          tokens writing one file, an owner that does not exist; a config or secret file that
          someone else could have written (not yours or root's, or writable by group or
          others), a secret readable by every user. Warns about a value that seems to carry
          an inline comment (configparser keeps it in the value) and a secret its group can
          read. Exit 0 when the config is usable (warnings allowed), 2 when it is not.
  show    prints the effective configuration (defaults filled in, token paths resolved),
          with secrets masked.`,

  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandArgs('config', args, OPTIONS, 1);
    const action = positionals[0];
    if (action !== 'check' && action !== 'show') throw new UsageError('config: expected check or show');
    const environment = resolveEnvironment({ env: io.env });
    const file = findConfigFile(values.config, environment.env);
    let problems: IniError[];
    let warnings: IniError[] = [];
    let loaded: LoadedConfig | undefined;
    try {
      loaded = loadConfigFile(file, environment);
      ({ problems, warnings } = loaded);
    } catch (error) {
      if (!(error instanceof IniError)) throw error;
      problems = [error];
    }
    if (action === 'check') {
      if (values.json) {
        const view = (p: IniError) => ({ line: p.line, section: p.section ?? null, key: p.key ?? null, message: p.message });
        io.stdout(JSON.stringify({ file, ok: problems.length === 0, problems: problems.map(view), warnings: warnings.map(view) }, null, 2) + '\n');
      } else {
        for (const note of [...problems, ...warnings].sort((a, b) => a.line - b.line)) io.stdout(`${note.message}\n`);
        const { config } = loaded ?? {};
        const notes = warnings.length ? `, ${warnings.length} warning(s)` : '';
        io.stdout(problems.length === 0
          ? `${file}: ok, ${config?.accounts.size ?? 0} account(s), ${config?.tokens.length ?? 0} token(s)${notes}\n`
          : `${file}: ${problems.length} problem(s)${notes}\n`);
      }
      return problems.length === 0 ? ExitCode.ok : ExitCode.usage;
    }
    for (const problem of problems) io.stderr(`tokenenv: ${problem.message}\n`);
    if (!loaded || problems.some((p) => p.kind === 'UntrustedFileError')) return ExitCode.usage;
    const accounts = [...loaded.config.accounts.values()];
    if (values.json) io.stdout(JSON.stringify({ file, accounts: accounts.map(accountView), tokens: loaded.config.tokens.map(tokenView) }, null, 2) + '\n');
    else io.stdout(showText(file, accounts, loaded.config.tokens));
    return problems.length === 0 ? ExitCode.ok : ExitCode.usage;
  },
};
