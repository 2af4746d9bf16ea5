// `type = client-credentials`: the OAuth2 client-credentials grant against token_request_url,
// or the token_endpoint of the issuer's OpenID configuration (remembered for an hour:
// ./issuer-endpoints.ts). The secret comes from
// client_secret_file (preferred) or client_secret, and is never put in a message.
import type { AccountConfig } from '../config/config.js';
import { hasCode } from '../core/errors.js';
import { readSecretFile, UntrustedFileError } from '../files/trust.js';
import { getJson, parseJsonObject, request as httpRequest, type HttpResponse } from '../net/http.js';
import { siteTrust } from '../net/trust.js';
import { tokenEndpointOf, type TokenEndpoint } from './issuer-endpoints.js';
import { redact, SourceError, type SourceContext, type TokenRequest, type TokenSource } from './source.js';

/** The issuer's URL without trailing slashes: the key of its token endpoint. */
function issuerOf(account: AccountConfig): string | undefined {
  return account.issuer?.replace(/\/+$/, '');
}

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

  private async post(url: string, body: URLSearchParams, secret: string, context: SourceContext, deadline: number): Promise<unknown> {
    const basic = Buffer.from(`${encodeURIComponent(this.account.clientId!)}:${encodeURIComponent(secret)}`).toString('base64');
    let response: HttpResponse;
    try {
      response = await httpRequest(url, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: body.toString(),
        ...requestLimits(context, deadline),
        trust: siteTrust(context.env, this.account),
      });
    } catch (error) {
      throw this.failure(error, [secret]);
    }
    const json = parseJsonObject(response.body) ?? {};
    if (response.status < 200 || response.status > 299 || typeof json.error === 'string') {
      const oauth = typeof json.error === 'string'
        ? `: ${json.error}${typeof json.error_description === 'string' ? ` (${json.error_description})` : ''}` : '';
      throw new SourceError(redact(`${this.description}: ${url} answered HTTP ${response.status}${oauth}`, [secret]));
    }
    return json;
  }

  /** The token endpoint: token_request_url, or the issuer's (remembered, or read now). */
  private tokenEndpoint(context: SourceContext, deadline: number): TokenEndpoint {
    if (this.account.tokenRequestUrl) return { url: Promise.resolve(this.account.tokenRequestUrl), forget: () => undefined };
    const issuer = issuerOf(this.account)!;
    const store = { euid: process.geteuid?.() ?? 0, ...(context.stateDir ? { stateDir: context.stateDir } : {}) };
    return tokenEndpointOf(issuer, store, () => this.discover(issuer, context, deadline));
  }

  private async discover(issuer: string, context: SourceContext, deadline: number): Promise<string> {
    const url = `${issuer}/.well-known/openid-configuration`;
    let metadata: Record<string, unknown>;
    try {
      metadata = await getJson(url, { ...requestLimits(context, deadline), trust: siteTrust(context.env, this.account) });
    } catch (error) {
      throw this.failure(error, [], `cannot read the issuer's OpenID configuration: `);
    }
    if (typeof metadata.token_endpoint !== 'string') throw new SourceError(`${this.description}: ${url} names no token_endpoint`);
    return metadata.token_endpoint;
  }

  /** An HttpError as this source's error; anything else as it is. */
  private failure(error: unknown, secrets: string[], what = ''): unknown {
    if (!hasCode(error, 'ERR_HTTP')) return error;
    return new SourceError(redact(`${this.description}: ${what}${error.message}`, secrets), { cause: error });
  }

  async fetch(request: TokenRequest, context: SourceContext): Promise<string> {
    const secret = this.secret();
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (request.scope) body.set('scope', request.scope);
    if (request.audience) body.set('audience', request.audience);
    const deadline = Date.now() + context.timeoutMs;
    const endpoint = this.tokenEndpoint(context, deadline);
    let json: { access_token?: unknown };
    try {
      json = await this.post(await endpoint.url, body, secret, context, deadline) as { access_token?: unknown };
    } catch (error) {
      endpoint.forget();
      throw error;
    }
    if (typeof json.access_token !== 'string') throw new SourceError(`${this.description}: the token endpoint's answer has no access_token`);
    return json.access_token;
  }
}

/** What is left of the source's timeout (one deadline for the OpenID configuration and the
 * grant together), and the caller's cancellation when there is one. */
function requestLimits(context: SourceContext, deadline: number): { timeoutMs: number; signal?: AbortSignal } {
  return { timeoutMs: Math.max(1, deadline - Date.now()), ...(context.signal ? { signal: context.signal } : {}) };
}
