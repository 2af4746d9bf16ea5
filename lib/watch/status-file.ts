// The watcher's status file, read by `tokenenv status`: what each token's last check found and
// when the next one is due. Written atomically, batched, only when it changed.
import { readFileSync } from 'node:fs';
import type { RefreshAction } from '../refresh/refresh.js';

export interface TokenStatus {
  name: string;
  path: string;
  source: string;
  lastAt: number | null;
  lastAction: RefreshAction | null;
  lastDetail: string | null;
  nextAt: number | null;
  failures: number;
}

export interface WatchStatus {
  pid: number;
  config: string | null;
  startedAt: number;
  updatedAt: number;
  tokens: TokenStatus[];
}

export function readStatusFile(file: string): WatchStatus | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as WatchStatus;
  } catch {
    return undefined;
  }
}

/**
 * Writes `snapshot()` to `file` after a change is signalled: batched (at most once every
 * `intervalMs`, and never more than 1/20 of the time: with 20,000 tokens one write costs tens of
 * milliseconds), and only when something other than `updatedAt` changed.
 */
export class StatusFileWriter {
  private timer?: NodeJS.Timeout;
  private closed = false;
  /** A digest of the last written content without updatedAt (the content itself is megabytes
   * with tens of thousands of tokens, not worth keeping). */
  private lastDigest?: string;
  private lastWriteAt = 0;
  private lastCostMs = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly snapshot: () => WatchStatus,
    private readonly onError: (error: Error) => void,
    private readonly intervalMs = 1000,
  ) {}

  changed(): void {
    if (this.timer || this.closed) return;
    const spacing = Math.max(this.intervalMs, 20 * this.lastCostMs);
    // A short wait even after a quiet spell: the results of parallel refreshes come together.
    const wait = Math.max(BATCH_MS, this.lastWriteAt + spacing - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, wait);
  }

  /** Writes the current state now, unless it is what the file already says. */
  write(): Promise<void> {
    this.writing = this.writing.then(() => this.writeNow());
    return this.writing;
  }

  private async writeNow(): Promise<void> {
    // Loaded here, not with the module: `tokenenv status` reads the file and writes nothing.
    const [{ createHash }, { writeAtomically }] = await Promise.all([import('node:crypto'), import('../files/write.js')]);
    const started = Date.now();
    // Spacing counts from the start of a write (or of a comparison: it serialises everything too).
    this.lastWriteAt = started;
    const { updatedAt, ...rest } = this.snapshot();
    const content = JSON.stringify(rest);
    const digest = createHash('sha256').update(content).digest('base64');
    if (digest === this.lastDigest) return;
    // updatedAt first, then the rest: one serialisation serves both the comparison and the file.
    try {
      writeAtomically(this.file, `{"updatedAt":${JSON.stringify(updatedAt)},${content.slice(1)}\n`, { durable: false });
      this.lastDigest = digest;
    } catch (error) {
      this.onError(error as Error);
    }
    this.lastCostMs = Date.now() - started;
  }

  /** Stops batching and writes the final state. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.write();
  }
}

const BATCH_MS = 100;
