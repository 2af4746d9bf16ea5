'use strict';
// Mocha's spec reporter plus the closing line CI reads: "N passed, N failed, N skipped".
// A skipped test may carry `skipReason` (set by test/support/peers.ts); it is printed beside it.
const Mocha = require('mocha');
const { Spec } = Mocha.reporters;
const { EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    const skipped = [];
    runner.on(EVENT_TEST_PENDING, (test) => {
      let holder = test;
      while (holder && !holder.skipReason) holder = holder.parent;
      if (holder) skipped.push(`${test.fullTitle()}: ${holder.skipReason}`);
    });
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = this.stats;
      if (skipped.length) {
        process.stdout.write('\nSkipped, with reasons:\n' + skipped.map((s) => `  - ${s}\n`).join(''));
      }
      process.stdout.write(`\n${passes} passed, ${failures} failed, ${pending} skipped\n`);
    });
  }
}
module.exports = SummaryReporter;
