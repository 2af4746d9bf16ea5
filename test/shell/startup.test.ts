// Shell start-up (issue 13, goal 2): the lines the README tells users to put in ~/.bashrc or
// ~/.zshrc are what `tokenenv init` prints, they start no process, and a shell with them starts
// at most 3 ms (of CPU) slower than one without. The wall-clock figure is in `npm run bench`.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { repoRoot, runTokenenvAsync } from '../support/cli.js';
import { execvedPrograms, q, runProcess, SHELLS, useShellLab, type ShellName } from '../support/shell.js';

const README = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

/** argv of an interactive shell reading `rc` (bash) or `$dir/.zshrc` (zsh, ZDOTDIR=dir) and nothing else. */
function interactive(shell: ShellName, rcDir: string): string[] {
  return shell === 'bash' ? ['bash', '--rcfile', join(rcDir, '.bashrc'), '-i', '-c'] : ['zsh', '-d', '-i', '-c'];
}

for (const shell of SHELLS) {
  describe(`shell start-up in ${shell}`, function () {
    this.timeout(120_000);
    const ctx = useShellLab(shell);

    /** The start-up lines as `tokenenv init` prints them, written to an rc file in `dir`. */
    async function rcWithInit(dir: string): Promise<string> {
      const init = await runTokenenvAsync(['init', shell], { env: ctx.lab.env });
      assert.equal(init.status, 0, init.stderr);
      writeFileSync(join(dir, shell === 'bash' ? '.bashrc' : '.zshrc'), init.stdout);
      return init.stdout;
    }

    it('the README recommends `tokenenv init` once, and shows the very lines it prints', async () => {
      assert.ok(README.includes(`tokenenv init bash >> ~/.bashrc`), 'README: the set-up line for bash');
      assert.ok(README.includes(`tokenenv init zsh >> ~/.zshrc`), 'README: the set-up line for zsh');
      const lines = (await rcWithInit(ctx.lab.work)).trimEnd().split('\n');
      const shown = /```sh\n(# tokenenv shell integration \(tokenenv init bash\)[^\n]*\n[^`]*)```/.exec(README)?.[1]?.trimEnd().split('\n');
      assert.ok(shown, 'README shows the lines init prints');
      assert.equal(shown.length, lines.length);
      assert.equal(shown[0], lines[0]!.replace(shell, 'bash'));
      assert.match(lines[1]!, /^TOKENENV_BIN='\/[^']+\/bin\/tokenenv\.cjs'$/);
      assert.match(shown[1]!, /^TOKENENV_BIN='\/[^']+\/bin\/tokenenv\.cjs'$/);
      assert.match(lines[2]!, /^source '\/[^']+\/shell\/tokenenv\.sh'$/);
      assert.match(shown[2]!, /^source '\/[^']+\/shell\/tokenenv\.sh'$/);
    });

    it('a new interactive shell with those lines executes no program, and has the wrappers', async function () {
      await rcWithInit(ctx.lab.home);
      const trace = ctx.lab.box.path('trace');
      const argv = ['strace', '-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '-o', trace, ...interactive(shell, ctx.lab.home), 'typeset -f condor_submit >/dev/null && echo wrapped'];
      const run = await runProcess(argv, { ...ctx.lab.env, ZDOTDIR: ctx.lab.home });
      assert.equal(run.stdout, 'wrapped\n', run.stderr);
      assert.deepEqual(execvedPrograms(trace).map((p) => basename(p)), [shell]);
    });

    it('the start-up costs at most 3 ms of CPU (children\'s user + system time, median of rounds)', async () => {
      await rcWithInit(ctx.lab.home);
      const empty = ctx.lab.box.path('empty-rc');
      mkdirSync(empty, { mode: 0o700 });
      writeFileSync(join(empty, shell === 'bash' ? '.bashrc' : '.zshrc'), '');
      // bash's `times` prints the children's CPU time: one parent per round, alternating.
      const starts = 25;
      const round = async (dir: string) => {
        const start = interactive(shell, dir).map(q).join(' ');
        const script = `for i in $(seq ${starts}); do ZDOTDIR=${q(dir)} ${start} exit >/dev/null 2>&1; done; times`;
        const run = await runProcess(['bash', '-c', script], ctx.lab.env);
        const [, children] = run.stdout.trim().split('\n');
        const [user, system] = children!.split(' ').map((t) => { const [m, s] = t.split('m'); return Number(m) * 60 + Number(s!.replace('s', '')); });
        return ((user! + system!) / starts) * 1000;
      };
      const differences: number[] = [];
      for (let i = 0; i < 7; i++) {
        const without = await round(empty);
        const withIt = await round(ctx.lab.home);
        differences.push(withIt - without);
      }
      const added = median(differences);
      assert.ok(added <= 3, `a shell with tokenenv starts ${added.toFixed(2)} ms (CPU) slower: over 3 ms`);
    });
  });
}
