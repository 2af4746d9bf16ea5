// `type = client-credentials`: the OAuth2 client-credentials grant against token_request_url,
// or the token_endpoint of the issuer's OpenID configuration. The secret comes from
// client_secret_file (preferred) or client_secret, and is never put in a message.
import type { AccountConfig } from '../config/config.js';
import { readSecretFile, UntrustedFileError } from '../files/trust.js';
import { redact, SourceError, type SourceContext, type TokenRequest, type TokenSource } from './source.js';

export class ClientCredentialsSource implements TokenSource {
  readonly description: string;

  constructor(private readonly account: AccountConfig) {
    this.description = `client-credentials account ${account.name}`;
  }

  private secret(): string {
    if (this.account.clientSecret) return this.account.clientSecret;
    const file = this.account.clientSecretFile!;
    try {
      // Bounded, never a FIFO, and only a file nobody else could have written or can read.
      return readSecretFile(file, process.geteuid?.() ?? 0).text.split('\n')[0]!.trim();
    } catch (error) {
      if (error instanceof UntrustedFileError) throw new SourceError(`${this.description}: client_secret_file ${error.message}`);
      throw error;
    }
  }

  private async post(url: string, body: URLSearchParams, secret: string, context: SourceContext): Promise<unknown> {
    const basic = Buffer.from(`${encodeURIComponent(this.account.clientId!)}:${encodeURIComponent(secret)}`).toString('base64');
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: requestSignal(context),
      });
    } catch (error) {
      throw new SourceError(`${this.description}: cannot reach ${url}: ${networkReason(error)}`);
    }
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Not JSON: reported below by status.
    }
    if (!response.ok || typeof json.error === 'string') {
      const oauth = typeof json.error === 'string'
        ? `: ${json.error}${typeof json.error_description === 'string' ? ` (${json.error_description})` : ''}` : '';
      throw new SourceError(redact(`${this.description}: ${url} answered HTTP ${response.status}${oauth}`, [secret]));
    }
    return json;
  }

  private async tokenEndpoint(context: SourceContext): Promise<string> {
    if (this.account.tokenRequestUrl) return this.account.tokenRequestUrl;
    const issuer = this.account.issuer!.replace(/\/+$/, '');
    const url = `${issuer}/.well-known/openid-configuration`;
    let metadata: { token_endpoint?: unknown };
    try {
      const response = await fetch(url, { headers: { accept: 'application/json' }, signal: requestSignal(context) });
      if (!response.ok) throw new SourceError(`${this.description}: ${url} answered HTTP ${response.status}`);
      metadata = (await response.json()) as { token_endpoint?: unknown };
    } catch (error) {
      if (error instanceof SourceError) throw error;
      throw new SourceError(`${this.description}: cannot read the issuer's OpenID configuration at ${url}: ${networkReason(error)}`);
    }
    if (typeof metadata.token_endpoint !== 'string') throw new SourceError(`${this.description}: ${url} names no token_endpoint`);
    return metadata.token_endpoint;
  }

  async fetch(request: TokenRequest, context: SourceContext): Promise<string> {
    const secret = this.secret();
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (request.scope) body.set('scope', request.scope);
    if (request.audience) body.set('audience', request.audience);
    const json = await this.post(await this.tokenEndpoint(context), body, secret, context) as { access_token?: unknown };
    if (typeof json.access_token !== 'string') throw new SourceError(`${this.description}: the token endpoint's answer has no access_token`);
    return json.access_token;
  }
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === 'TimeoutError') return 'timed out';
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/** The request's deadline, and the caller's cancellation when there is one. */
function requestSignal(context: SourceContext): AbortSignal {
  const timeout = AbortSignal.timeout(context.timeoutMs);
  return context.signal ? AbortSignal.any([context.signal, timeout]) : timeout;
}
