'use strict';
// Mocha's spec reporter plus the closing line CI reads: "N passed, N failed, N skipped".
// A skipped test may carry `skipReason` (set by test/support/peers.ts); it is printed beside it.
const Mocha = require('mocha');
const { Spec } = Mocha.reporters;
const { EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;

const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const { tmpdir } = require('node:os');

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    // Parallel workers (started after this) inherit the variable and log their skip reasons there.
    const logDir = mkdtempSync(join(tmpdir(), 'tokenenv-skips-'));
    process.env.TOKENENV_SKIP_LOG = join(logDir, 'skips');
    const skipped = [];
    runner.on(EVENT_TEST_PENDING, (test) => {
      let holder = test;
      while (holder && !holder.skipReason) holder = holder.parent;
      if (holder) skipped.push(`${test.fullTitle()}: ${holder.skipReason}`);
    });
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = this.stats;
      let logged = '';
      try { logged = readFileSync(process.env.TOKENENV_SKIP_LOG, 'utf8'); } catch { /* nothing skipped */ }
      rmSync(logDir, { recursive: true, force: true });
      for (const line of logged.split('\n').filter(Boolean)) {
        const [title, reason] = line.split('\t');
        const entry = `${title}: ${reason}`;
        if (!skipped.includes(entry)) skipped.push(entry);
      }
      if (skipped.length) {
        process.stdout.write('\nSkipped, with reasons:\n' + skipped.map((s) => `  - ${s}\n`).join(''));
      }
      process.stdout.write(`\n${passes} passed, ${failures} failed, ${pending} skipped\n`);
    });
  }
}
module.exports = SummaryReporter;
