// `type = htgettoken`: runs htgettoken non-interactively (--nooidc: no browser; a vault token or
// Kerberos ticket must already allow it) into a temporary file that only we can read.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccountConfig } from '../config/config.js';
import { assertSuccess, runSourceCommand } from './run.js';
import { readTokenFile } from '../files/read.js';
import { SourceError, type SourceContext, type TokenRequest, type TokenSource } from './source.js';

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
