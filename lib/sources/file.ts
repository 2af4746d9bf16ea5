// `type = file`: copies a token that another tool keeps fresh (HTCondor's
// $_CONDOR_CREDS/scitokens.use, a service account's file). Only a regular file: a FIFO or a
// device there would block or stream without end; the read is bounded (64 KiB) and has the
// account's deadline.
import { readTokenFile } from '../files/read.js';
import { SourceError, withinDeadline, type SourceContext, type TokenRequest, type TokenSource } from './source.js';

export class FileSource implements TokenSource {
  readonly description: string;

  constructor(private readonly path: string, accountName: string) {
    this.description = `file source ${accountName} (${path})`;
  }

  async fetch(_request: TokenRequest, context: SourceContext): Promise<string> {
    const read = readTokenFile({ path: this.path, implicit: false, regularOnly: true, euid: process.geteuid?.() ?? -1 });
    const outcome = await withinDeadline(read, context, this.description);
    if (outcome.kind === 'missing') throw new SourceError(`${this.description}: ${outcome.reason}`);
    if (outcome.kind === 'error') throw new SourceError(`${this.description}: ${outcome.error.message}`);
    return outcome.bytes.toString('latin1');
  }
}
