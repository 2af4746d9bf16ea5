import type { AccountConfig } from '../config/config.js';
import { ClientCredentialsSource } from './client-credentials.js';
import { CommandSource } from './command.js';
import { FileSource } from './file.js';
import { HtgettokenSource } from './htgettoken.js';
import { OidcAgentSource } from './oidc-agent.js';
import type { TokenSource } from './source.js';

export { SourceError, redact, type TokenSource, type TokenRequest, type SourceContext } from './source.js';

export function createSource(account: AccountConfig): TokenSource {
  switch (account.type) {
    case 'oidc-agent': return new OidcAgentSource(account);
    case 'client-credentials': return new ClientCredentialsSource(account);
    case 'htgettoken': return new HtgettokenSource(account);
    case 'command': return new CommandSource(account.command ?? [], account.name);
    case 'file': return new FileSource(account.path!, account.name);
  }
}
