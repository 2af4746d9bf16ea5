// Writes the operations table of lib/token/operations.ts into shell/tokenenv.sh (between its
// BEGIN/END markers). Run after `npx tsc -p .`; test/token/operations.test.ts fails until the
// script's copy is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { renderShellTable } = await import(join(root, 'dist', 'lib', 'token', 'operations.js'));
const script = join(root, 'shell', 'tokenenv.sh');
const text = readFileSync(script, 'utf8');
const block = /^# BEGIN operations table[^\n]*\n[\s\S]*?^# END operations table\n/m;
if (!block.test(text)) throw new Error(`${script}: no "# BEGIN operations table" … "# END operations table" block`);
writeFileSync(script, text.replace(block, renderShellTable()));
console.log(`${script}: operations table written`);
