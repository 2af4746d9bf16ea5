// `type = htgettoken`: runs htgettoken non-interactively (--nooidc: no browser; a vault token or
// Kerberos ticket must already allow it) into a temporary file that only we can read.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountConfig } from '../config/config.js';
import { assertSuccess, runSourceCommand } from './run.js';
import { type SourceContext, type TokenRequest, type TokenSource } from './source.js';

export class HtgettokenSource implements TokenSource {
  readonly description: string;

  constructor(private readonly account: AccountConfig) {
    this.description = `htgettoken account ${account.name}`;
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
      assertSuccess(this.description, 'htgettoken', result);
      return await readFile(out, 'latin1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
