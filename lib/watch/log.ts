// One line per event on stderr. Under systemd (JOURNAL_STREAM set) lines carry a syslog
// priority prefix that journald understands and no timestamp (journald adds its own); on a
// terminal or in a file, an ISO timestamp and the level. Callers never pass a token.
export type Level = 'error' | 'warn' | 'info' | 'debug';

const PRIORITY: Record<Level, number> = { error: 3, warn: 4, info: 6, debug: 7 };

export interface Logger {
  log(level: Level, message: string): void;
}

export function createLogger(write: (line: string) => void, env: Readonly<Record<string, string | undefined>>, now: () => number = () => Date.now()): Logger {
  const journald = Boolean(env.JOURNAL_STREAM);
  return {
    log(level, message) {
      const line = message.replace(/\n/g, ' ');
      write(journald ? `<${PRIORITY[level]}>${line}\n` : `${new Date(now()).toISOString().replace(/\.\d+Z$/, 'Z')} ${level.padEnd(5)} ${line}\n`);
    },
  };
}
