// A reader that reads one token file as fast as it can, as jobs starting during a refresh do,
// and counts what it saw: missing, empty, torn (anything but one whole JWT and its newline).
// Prints "ready" when it has started; on SIGTERM, its counts as one JSON line.
// Usage: node reader-loop.js FILE
import { readFileSync } from 'node:fs';

const file = process.argv[2]!;
const WHOLE = /^[\w-]+\.[\w-]+\.[\w-]+\n$/;
const counts = { reads: 0, missing: 0, empty: 0, torn: 0 };

function readSome(): void {
  for (let i = 0; i < 200; i++) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      counts.reads++;
      counts.missing++;
      continue;
    }
    counts.reads++;
    if (text === '') counts.empty++;
    else if (!WHOLE.test(text)) counts.torn++;
  }
  setImmediate(readSome); // lets SIGTERM in
}

process.on('SIGTERM', () => process.stdout.write(`${JSON.stringify(counts)}\n`, () => process.exit(0)));
process.stdout.write('ready\n');
readSome();
