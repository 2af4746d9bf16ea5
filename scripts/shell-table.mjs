// Writes the client and operations tables of lib/token/operations.ts into shell/tokenenv.sh
// (between their BEGIN/END markers). Run after `npx tsc -p .`; test/token/operations.test.ts fails until the
// script's copy is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { renderShellClients, renderShellTable } = await import(join(root, 'dist', 'lib', 'token', 'operations.js'));
const script = join(root, 'shell', 'tokenenv.sh');
let text = readFileSync(script, 'utf8');
for (const [name, render] of [['client table', renderShellClients], ['operations table', renderShellTable]]) {
  const block = new RegExp(`^# BEGIN ${name}[^\\n]*\\n[\\s\\S]*?^# END ${name}\\n`, 'm');
  if (!block.test(text)) throw new Error(`${script}: no "# BEGIN ${name}" … "# END ${name}" block`);
  text = text.replace(block, render());
}
writeFileSync(script, text);
console.log(`${script}: client and operations tables written`);
