// `type = oidc-agent` (osg-token-renewer's only kind of account): `oidc-token` with --aud,
// --scope and --time. With password_file, an account that is not loaded is loaded first with
// `oidc-add --pw-file`, as osg-token-renewer does; the password never appears in argv.
import type { AccountConfig } from '../config/config.js';
import { envValue } from '../core/environment.js';
import { readSecretFile, UntrustedFileError } from '../files/trust.js';
import { assertSuccess, runSourceCommand } from './run.js';
import { redact, SourceError, type SourceContext, type TokenRequest, type TokenSource } from './source.js';

export class OidcAgentSource implements TokenSource {
  readonly description: string;
  private readonly shortname: string;

  constructor(private readonly account: AccountConfig) {
    this.shortname = account.oidcAccount ?? account.name;
    this.description = `oidc-agent account ${this.shortname}`;
  }

  private agentEnv(context: SourceContext): Record<string, string> {
    const socket = this.account.oidcSock ?? envValue(context.env, 'OIDC_SOCK');
    if (!socket) {
      throw new SourceError(`${this.description}: no oidc-agent: OIDC_SOCK is not set (start one with: eval $(oidc-agent-service use), or set oidc_sock in the account)`);
    }
    return { OIDC_SOCK: socket };
  }

  private async loaded(context: SourceContext, env: Record<string, string>): Promise<boolean> {
    const result = await runSourceCommand(this.description, ['oidc-add', '--loaded'], context, [], env);
    if (result.exitCode !== 0) this.agentFailure('oidc-add', result.stderr + result.stdout);
    return result.stdout.split(/\s+/).includes(this.shortname);
  }

  private async load(context: SourceContext, env: Record<string, string>): Promise<void> {
    // oidc-add reads the file itself: judge it first (owner, mode, a FIFO that would hang it).
    try {
      readSecretFile(this.account.passwordFile!, process.geteuid?.() ?? 0, { read: false });
    } catch (error) {
      if (error instanceof UntrustedFileError) throw new SourceError(`${this.description}: password_file ${error.message}`);
      throw error;
    }
    const result = await runSourceCommand(this.description, ['oidc-add', `--pw-file=${this.account.passwordFile}`, this.shortname], context, [], env);
    assertSuccess(`${this.description}: loading it with password_file ${this.account.passwordFile}`, 'oidc-add', result);
  }

  private agentFailure(command: string, output: string): never {
    if (/socket|connect|agent.*(running|reach)/i.test(output)) {
      throw new SourceError(`${this.description}: ${command} cannot reach oidc-agent at OIDC_SOCK: is the agent running?`);
    }
    throw new SourceError(`${this.description}: ${command} failed: ${redact(output.trim().split('\n').slice(-1)[0] ?? '')}`);
  }

  async fetch(request: TokenRequest, context: SourceContext): Promise<string> {
    const env = this.agentEnv(context);
    if (this.account.passwordFile && !(await this.loaded(context, env))) await this.load(context, env);
    const argv = ['oidc-token', '--name=tokenenv'];
    if (request.audience) argv.push(`--aud=${request.audience}`);
    if (request.scope) argv.push(`--scope=${request.scope}`);
    if (request.minLifetime) argv.push(`--time=${request.minLifetime}`);
    argv.push(this.shortname);
    const result = await runSourceCommand(this.description, argv, context, [], env);
    if (result.exitCode !== 0 && /socket|connect/i.test(result.stderr)) this.agentFailure('oidc-token', result.stderr);
    assertSuccess(this.description, 'oidc-token', result);
    return result.stdout;
  }
}
