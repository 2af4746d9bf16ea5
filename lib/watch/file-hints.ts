// File-system events as hints for the watcher: a token file deleted or replaced, the config
// edited. Parent directories are watched, filtered, not single files: a single-file watch misses
// writers that delete and then rename (htgettoken), and a file that does not exist yet.
import { basename, dirname, resolve } from 'node:path';
import type { FSWatcher } from 'chokidar';

export interface FileHintHandlers {
  /** Something happened to the file at this resolved path (a token file, maybe). */
  onPath(path: string): void;
  /** The config file changed or was removed. */
  onConfig(event: 'changed' | 'removed'): void;
  onError(error: Error): void;
}

export class FileHints {
  private fsWatcher?: FSWatcher;
  private watchedDirs = new Set<string>();
  private closed = false;

  constructor(private readonly handlers: FileHintHandlers, private readonly configFile: string | undefined) {}

  /** The directories to watch for these token paths (and the config's). */
  directoriesFor(tokenPaths: Iterable<string>): Set<string> {
    const dirs = new Set([...tokenPaths].map((path) => dirname(resolve(path))));
    if (this.configFile) dirs.add(dirname(this.configFile));
    return dirs;
  }

  // chokidar follows the directories and the config file; token files are left to the raw events
  // of the directory watches, which report every entry: following 500 token files one by one
  // would cost 500 more watches and stat calls for nothing.
  private interesting(path: string): boolean {
    return this.watchedDirs.has(path) || path === this.configFile;
  }

  async start(tokenPaths: Iterable<string>): Promise<void> {
    const { watch } = await import('chokidar');
    this.watchedDirs = this.directoriesFor(tokenPaths);
    this.fsWatcher = watch([...this.watchedDirs], {
      depth: 0,
      ignoreInitial: true,
      atomic: false, // the default holds back deletions for 100 ms
      ignored: (path: string) => !this.interesting(path),
    });
    this.fsWatcher.on('all', (event, path) => {
      if (!this.closed && resolve(path) === this.configFile) this.handlers.onConfig(event === 'unlink' ? 'removed' : 'changed');
    });
    // Raw events are reported for every entry, always; chokidar's own add/unlink would also depend
    // on what it believed was there (a file written and deleted again before it looked is neither).
    this.fsWatcher.on('raw', (_event, name, details) => this.onRaw(String(name ?? ''), (details as { watchedPath?: string }).watchedPath));
    this.fsWatcher.on('error', (error) => this.handlers.onError(error as Error));
    await new Promise<void>((ready) => this.fsWatcher!.once('ready', () => ready()));
  }

  /** Follows the directories of these token paths from now on. */
  update(tokenPaths: Iterable<string>): void {
    if (!this.fsWatcher) return;
    const wanted = this.directoriesFor(tokenPaths);
    const added = [...wanted].filter((d) => !this.watchedDirs.has(d));
    const removed = [...this.watchedDirs].filter((d) => !wanted.has(d));
    this.watchedDirs = wanted;
    if (added.length) this.fsWatcher.add(added);
    if (removed.length) this.fsWatcher.unwatch(removed);
  }

  private onRaw(name: string, watchedPath: string | undefined): void {
    if (this.closed || !name || !watchedPath) return;
    this.handlers.onPath(basename(watchedPath) === name ? resolve(watchedPath) : resolve(watchedPath, name));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.fsWatcher?.close();
  }
}
