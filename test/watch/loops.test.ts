// The watcher never loops hot: a fetch that does not make the token fresh counts as a failure
// for the backoff, and the watcher's own writes are not hints. Five tokens that can never be
// fresh, or only for a while, watched together for 3 s with a 1 s retry base: each source is
// called at most 3 times (today's main: 16–44 calls a second).
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import type { AccountConfig, Config, TokenConfig } from '../../lib/config/config.js';
import { TokenWatcher } from '../../lib/watch/watcher.js';
import { fakeJwt, Sandbox } from '../support/sandbox.js';
import { waitFor } from '../support/wait.js';

const now = () => Math.floor(Date.now() / 1000);

describe('watcher: no hot loops', function () {
  this.timeout(30_000);
  let box: Sandbox;
  let watcher: TokenWatcher | undefined;

  beforeEach(() => {
    box = new Sandbox();
    chmodSync(box.xdg, 0o700);
  });
  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
    box.remove();
  });

  const calls = (name: string) => (existsSync(box.path(`calls.${name}`)) ? readFileSync(box.path(`calls.${name}`), 'utf8').split('\n').filter(Boolean).length : 0);

  /** A command account printing line N of `tokens.NAME` on its N-th call (the last line after that). */
  function printer(name: string, tokens: string[]): AccountConfig {
    box.write(`tokens.${name}`, `${tokens.join('\n')}\n`);
    const script = box.write(`print.${name}.sh`, `#!/bin/sh
echo . >> ${box.path(`calls.${name}`)}
n=$(wc -l < ${box.path(`calls.${name}`)})
line=$(sed -n "\${n}p" ${box.path(`tokens.${name}`)})
[ -n "$line" ] || line=$(tail -n 1 ${box.path(`tokens.${name}`)})
echo "$line"
`, 0o755);
    return { name, type: 'command', timeout: 10, command: [script] };
  }

  it('a cached token below min_lifetime, a JWT without iat, a JWT without exp, a fresh token each time that is never fresh, and the README\'s file source', async () => {
    const cached = fakeJwt({ aud: 'https://wlcg.cern.ch/jwt/v1/any', iat: now() - 1000, exp: now() + 100 });
    // Another tool keeps this file "fresh" for us, with less left than our min_lifetime.
    const condorFile = box.write('creds/scitokens.use', `${fakeJwt({ iat: now() - 900, exp: now() + 200 })}\n`);
    const accounts: AccountConfig[] = [
      printer('cached', [cached]),
      printer('no-iat', [fakeJwt({ exp: now() + 100 })]),
      printer('no-exp', [fakeJwt({ iat: now() })]),
      // Each call returns a different token (so each is written, and each write is a file event),
      // none of which can be fresh.
      printer('rewritten', Array.from({ length: 50 }, (_, i) => fakeJwt({ iat: now() - 1000, exp: now() + 100 + i }))),
      { name: 'condor', type: 'file', timeout: 10, path: condorFile },
    ];
    const tokens: TokenConfig[] = accounts.map((a) => ({ name: a.name, account: a.name, path: box.path(`${a.name}.token`), minLifetime: 300, refreshInterval: 600 }));
    const config: Config = { accounts: new Map(accounts.map((a) => [a.name, a])), tokens };
    watcher = new TokenWatcher({
      config, env: { PATH: process.env.PATH, XDG_RUNTIME_DIR: box.xdg, HOME: box.path('home') },
      stateDir: box.path('state'), retry: { baseMs: 1000, capMs: 60_000 }, jitterSeconds: 0,
    });
    let events = 0;
    watcher.on('refreshed', () => events++).on('failed', () => events++).on('kept', () => events++);
    await watcher.start();
    const started = Date.now();
    await waitFor(() => Date.now() - started >= 3000, 4000, '3 s of watching');
    const counts = Object.fromEntries(['cached', 'no-iat', 'no-exp', 'rewritten'].map((n) => [n, calls(n)]));
    for (const [name, count] of Object.entries(counts)) assert.ok(count >= 1 && count <= 3, `${name}: ${count} source calls in 3 s (${JSON.stringify(counts)})`);
    // The file source is not a process; its attempts are the watcher's events for it.
    const status = watcher.status().tokens.find((t) => t.name === 'condor')!;
    assert.ok(status.failures >= 1 && status.failures <= 3, `condor: ${status.failures} attempts`);
    assert.ok(events <= 20, `${events} refresh events in 3 s`);
    // What can be fresh for a while is: those tokens are written once and kept.
    assert.equal(counts['no-iat'], 1);
    assert.equal(counts['no-exp'], 1);
  });
});
