import type { AccountConfig } from '../config/config.js';
import type { TokenSource } from './source.js';

export { SourceError, redact, type TokenSource, type TokenRequest, type SourceContext } from './source.js';

/** The source of an account, with only its own type's code loaded: a client-credentials refresh
 * need not load the command runner, nor a command source the HTTP client. */
export async function createSource(account: AccountConfig): Promise<TokenSource> {
  switch (account.type) {
    case 'oidc-agent': return new (await import('./oidc-agent.js')).OidcAgentSource(account);
    case 'client-credentials': return new (await import('./client-credentials.js')).ClientCredentialsSource(account);
    case 'htgettoken': return new (await import('./htgettoken.js')).HtgettokenSource(account);
    case 'command': return new (await import('./command.js')).CommandSource(account.command ?? [], account.name);
    case 'file': return new (await import('./file.js')).FileSource(account.path!, account.name);
  }
}
