// Every concrete `tokenenv …` command line that the README's examples and the --help texts print
// names a real command with options it knows (issue 10.1: they must work as printed). Lines with
// placeholders (NAME, FILE, [options]) are synopses, not commands, and are left out; the demo's,
// doctor's and setup's printed lines are run for real by their own tests.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../lib/cli/registry.js';
import { repoRoot, runTokenenv } from '../support/cli.js';

const NAMES = new Set([...COMMANDS.map((c) => c.name), 'help']);

/** `tokenenv …` invocations in `text`, cut at shell syntax and comments; concrete ones only. */
function invocations(text: string): string[] {
  const found: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^\s*\$ /, '').replace(/(^|\s)#.*$/, '');
    for (const match of line.matchAll(/(?:^|[\s"(`:])tokenenv ([a-z][-a-z]*(?: [^\s"`|;&)<>]+)*)/g)) {
      const command = match[1]!.trim();
      if (/[A-Z[\]|…]|\.\.\./.test(command)) continue; // a synopsis
      if (!NAMES.has(command.split(' ')[0]!)) continue; // prose: "tokenenv locks it"
      found.push(command);
    }
  }
  return found;
}

describe('commands printed by the README and --help', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```(?:sh|console)\n([\s\S]*?)```/g)].map((m) => m[1]!).join('\n');
  // Inline code too: the "coming from" tables put tokenenv's command next to each tool's.
  const spans = [...readme.matchAll(/`(tokenenv [^`\n]+)`/g)].map((m) => m[1]!).join('\n');
  const helpTexts = [runTokenenv(['--help']).stdout, ...COMMANDS.map((c) => runTokenenv(['help', c.name]).stdout)].join('\n');
  const commands = [...new Set([...invocations(blocks), ...invocations(spans), ...invocations(helpTexts)])];

  it('finds the commands to check', () => {
    assert.ok(commands.includes('discover --explain'), commands.join('\n'));
    assert.ok(commands.includes('shell-path'));
    assert.ok(commands.some((c) => c.startsWith('demo')));
    // From the "coming from htgettoken or oidc-agent" table.
    assert.ok(commands.includes('discover --export'), commands.join('\n'));
  });

  it('each one names a command and options it knows', () => {
    for (const command of commands) {
      const words = command.split(' ');
      // --help after the arguments: exit 0 only when every option before it parses.
      const run = runTokenenv([...words, '--help']);
      assert.equal(run.status, 0, `tokenenv ${command}: ${run.stderr}`);
    }
  });
});
