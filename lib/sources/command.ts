// `type = command`: any argv that prints a token on stdout.
import { assertSuccess, runSourceCommand } from './run.js';
import { SourceError, type SourceContext, type TokenRequest, type TokenSource } from './source.js';

export class CommandSource implements TokenSource {
  readonly description: string;

  constructor(private readonly argv: string[], accountName: string) {
    if (argv.length === 0) throw new SourceError(`account ${accountName}: empty command`);
    this.description = `command source ${accountName}`;
  }

  async fetch(request: TokenRequest, context: SourceContext): Promise<string> {
    // The request travels in the environment, not in argv, so a wrapper script can use it.
    const extra: Record<string, string> = {};
    if (request.audience) extra.TOKENENV_AUDIENCE = request.audience;
    if (request.scope) extra.TOKENENV_SCOPE = request.scope;
    if (request.minLifetime !== undefined) extra.TOKENENV_MIN_LIFETIME = String(request.minLifetime);
    const result = await runSourceCommand(this.description, this.argv, context, [], extra);
    assertSuccess(this.description, this.argv[0]!, result);
    return result.stdout;
  }
}
