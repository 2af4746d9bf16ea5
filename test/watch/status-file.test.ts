// lib/watch/status-file.ts: the status file is written at most once a second, and only when
// something other than its timestamp changed.
import assert from 'node:assert/strict';
import { readStatusFile, StatusFileWriter, type WatchStatus } from '../../lib/watch/status-file.js';
import { spyOnFs } from '../support/fs-spy.js';
import { Sandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

describe('lib/watch/status-file', function () {
  this.timeout(20_000);
  let box: Sandbox;
  let renames: number;
  let restore: () => void;
  beforeEach(() => {
    box = new Sandbox();
    renames = 0;
    restore = spyOnFs('renameSync', (_from, to) => {
      if (String(to).endsWith('status.json')) renames++;
    });
  });
  afterEach(() => {
    restore();
    box.remove();
  });

  function status(failures: number): WatchStatus {
    return {
      pid: 1, config: null, startedAt: 1, updatedAt: Date.now() / 1000,
      tokens: [{ name: 't', path: '/p', source: 'file f', lastAt: 1, lastAction: 'kept', lastDetail: null, nextAt: 2, failures }],
    };
  }

  it('a burst of changes over 1.5 s: at most two writes, the last state written', async () => {
    let failures = 0;
    const file = box.path('status.json');
    const writer = new StatusFileWriter(file, () => status(failures), (e) => assert.fail(e));
    const started = Date.now();
    while (Date.now() - started < 1500) {
      failures++;
      writer.changed();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const seconds = (Date.now() - started) / 1000;
    await writer.close();
    // At most one write a second (a slow machine stretches the burst), and the final one.
    assert.ok(renames >= 1 && renames <= Math.ceil(seconds) + 2, `${renames} writes in ${seconds.toFixed(1)} s`);
    assert.equal(readStatusFile(file)!.tokens[0]!.failures, failures);
  });

  it('nothing changed but the time: no write', async () => {
    const file = box.path('status.json');
    const writer = new StatusFileWriter(file, () => status(0), (e) => assert.fail(e), 50);
    writer.changed();
    await waitFor(() => renames === 1, 2000, 'the first write');
    for (let i = 0; i < 5; i++) {
      writer.changed();
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
    await writer.close();
    assert.equal(renames, 1);
  });
});
