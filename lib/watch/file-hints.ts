// File-system events as hints for the watcher: a token file deleted or replaced, the config
// edited. Parent directories are watched, filtered, not single files: a single-file watch misses
// writers that delete and then rename (htgettoken), and a file that does not exist yet.
// Token directories: node:fs.watch on each (one inotify watch), with our own filter on the
// entry's name: an event costs a map lookup whatever the directory holds. (chokidar re-reads and
// stats a directory on every event, which makes each refresh cost O(tokens in the directory).)
// The config file: the same directory events (its directory and, for a linked config, its
// target's), and chokidar on the file itself, which also sees an edit of a linked config's target
// when that directory cannot be watched; the watcher debounces reloads, so twice is harmless.
import { existsSync, realpathSync, watch, type FSWatcher } from 'node:fs';
import type { FSWatcher as ConfigWatcher } from 'chokidar';
import { dirname, join, resolve } from 'node:path';

export interface FileHintHandlers {
  /** Something happened to the file at this resolved path (a token file, maybe). */
  onPath(path: string): void;
  /** The config file changed or was removed. */
  onConfig(event: 'changed' | 'removed'): void;
  onError(error: Error): void;
}

export class FileHints {
  private readonly watchers = new Map<string, FSWatcher>();
  private configWatcher?: ConfigWatcher;
  /** Paths whose events mean "the config changed": the config and, if it is a link, its target. */
  private configPaths = new Set<string>();
  private closed = false;

  constructor(private readonly handlers: FileHintHandlers, private readonly configFile: string | undefined) {}

  /** The directories to watch for these token paths (and the config's). */
  directoriesFor(tokenPaths: Iterable<string>): Set<string> {
    const dirs = new Set([...tokenPaths].map((path) => dirname(resolve(path))));
    this.configPaths = new Set(this.configFile ? [this.configFile, realpathOr(this.configFile)] : []);
    for (const path of this.configPaths) dirs.add(dirname(path));
    return dirs;
  }

  async start(tokenPaths: Iterable<string>): Promise<void> {
    this.update(tokenPaths);
    if (!this.configFile) return;
    const { watch: watchConfig } = await import('chokidar');
    // The config's path and, when it is a link, its target: editing either is a change.
    const paths = [...new Set([this.configFile, realpathOr(this.configFile)])];
    this.configWatcher = watchConfig(paths, { ignoreInitial: true, persistent: true, followSymlinks: false });
    this.configWatcher.on('all', (event) => {
      if (!this.closed && event !== 'addDir' && event !== 'unlinkDir') this.handlers.onConfig(existsSync(this.configFile!) ? 'changed' : 'removed');
    });
    this.configWatcher.on('error', (error) => {
      if (!this.closed) this.handlers.onError(new Error(`watching ${this.configFile}: ${(error as Error).message}`));
    });
    await new Promise<void>((ready) => this.configWatcher!.once('ready', () => ready()));
  }

  /** Follows the directories of these token paths from now on. */
  update(tokenPaths: Iterable<string>): void {
    if (this.closed) return;
    const wanted = this.directoriesFor(tokenPaths);
    for (const [dir, watcher] of this.watchers) {
      if (wanted.has(dir)) continue;
      watcher.close();
      this.watchers.delete(dir);
    }
    for (const dir of wanted) if (!this.watchers.has(dir)) this.watchDirectory(dir);
  }

  private watchDirectory(dir: string): void {
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: true }, (_event, name) => this.onEvent(dir, name));
    } catch (error) {
      // A directory that does not exist yet: its tokens' writes fail and say so; it is watched
      // from the next config reload on.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.handlers.onError(new Error(`cannot watch ${dir}: ${(error as Error).message}`));
      return;
    }
    watcher.on('error', (error) => {
      if (!this.closed) this.handlers.onError(new Error(`watching ${dir}: ${error.message}`));
    });
    this.watchers.set(dir, watcher);
  }

  private onEvent(dir: string, name: string | Buffer | null): void {
    if (this.closed || !name) return;
    const path = join(dir, String(name));
    if (this.configPaths.has(path)) {
      this.handlers.onConfig(existsSync(this.configFile!) ? 'changed' : 'removed');
      return;
    }
    this.handlers.onPath(path);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    await this.configWatcher?.close();
  }
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
