// The `--explain` record for people: one line per discovery step.
import type { DiscoveryStep } from '../discovery/discovery.js';

export function formatSteps(steps: DiscoveryStep[]): string {
  return steps
    .map((s) => {
      const lines = [`step ${s.step} ${s.source.padEnd(17)} ${s.outcome.padEnd(13)} ${s.reason}`];
      for (const warning of s.warnings) lines.push(`       warning: ${warning}`);
      return lines.join('\n');
    })
    .join('\n') + '\n';
}
