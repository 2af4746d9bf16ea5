// `type = file`: copies a token that another tool keeps fresh (HTCondor's
// $_CONDOR_CREDS/scitokens.use, a service account's file).
import { readTokenFile } from '../files/read.js';
import { SourceError, type SourceContext, type TokenRequest, type TokenSource } from './source.js';

export class FileSource implements TokenSource {
  readonly description: string;

  constructor(private readonly path: string, accountName: string) {
    this.description = `file source ${accountName} (${path})`;
  }

  async fetch(_request: TokenRequest, _context: SourceContext): Promise<string> {
    const outcome = await readTokenFile({ path: this.path, implicit: false, euid: process.geteuid?.() ?? -1 });
    if (outcome.kind === 'missing') throw new SourceError(`${this.description}: ${outcome.reason}`);
    if (outcome.kind === 'error') throw new SourceError(`${this.description}: ${outcome.error.message}`);
    return outcome.bytes.toString('latin1');
  }
}
