// Which processes show a secret in their argv or environment: /proc/PID/{cmdline,environ}, as
// `ps e` would (root reads every process's; another user only its own).
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcScan {
  /** "PID cmdline" or "PID environ" for each process showing one of the secrets. */
  found: string[];
  /** Every command line seen, for checking that the scan saw what it looked for. */
  scanned: string[];
}

export function processesShowing(secrets: string[]): ProcScan {
  const found: string[] = [];
  const scanned: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    for (const what of ['cmdline', 'environ'] as const) {
      let text: string;
      try {
        text = readFileSync(`/proc/${pid}/${what}`, 'latin1');
      } catch {
        continue; // gone, or not ours to read
      }
      if (what === 'cmdline') scanned.push(text.replace(/\0/g, ' '));
      if (secrets.some((s) => text.includes(s))) found.push(`${pid} ${what}`);
    }
  }
  return { found, scanned };
}
