// The watcher's status file, read by `tokenenv status`: what each token's last check found and
// when the next one is due. Written atomically, batched.
import { readFileSync } from 'node:fs';
import { writeAtomically } from '../files/write.js';
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

/** Writes `snapshot()` to `file` at most once every `intervalMs` after a change is signalled. */
export class StatusFileWriter {
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => WatchStatus,
    private readonly onError: (error: Error) => void,
    private readonly intervalMs = 200,
  ) {}

  changed(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, this.intervalMs);
  }

  async write(): Promise<void> {
    await writeAtomically(this.file, JSON.stringify(this.snapshot(), null, 2) + '\n').catch(this.onError);
  }

  /** Stops batching and writes the final state. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.write();
  }
}
