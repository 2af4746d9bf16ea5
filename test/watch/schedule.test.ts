// The watcher's timing policy, in-process with pinned randomness.
import assert from 'node:assert/strict';
import { backoffMs, DEFAULT_RETRY, MIN_DELAY_MS, nextCheck } from '../../lib/watch/schedule.js';
import { forEachLimited } from '../../lib/core/concurrency.js';
import { Limiter } from '../../lib/watch/limiter.js';

describe('watcher schedule', () => {
  it('backs off from 2 s, doubling, capped at 60 s, with ±20 % jitter', () => {
    const low = () => 0;
    const high = () => 0.999999;
    assert.equal(backoffMs(1, DEFAULT_RETRY, low), 1600);
    assert.ok(Math.abs(backoffMs(1, DEFAULT_RETRY, high) - 2400) < 0.01);
    assert.equal(backoffMs(2, DEFAULT_RETRY, () => 0.5), 4000);
    assert.equal(backoffMs(5, DEFAULT_RETRY, () => 0.5), 32_000);
    assert.equal(backoffMs(6, DEFAULT_RETRY, () => 0.5), 60_000);
    assert.equal(backoffMs(60, DEFAULT_RETRY, () => 0.5), 60_000);
  });

  it('fires before the token stops being fresh, early by at most 30 s or a tenth of the time left', () => {
    assert.deepEqual(nextCheck(1000 + 600, 1000, 30, () => 0), { delayMs: 600_000, early: 0 });
    const late = nextCheck(1000 + 600, 1000, 30, () => 0.999999);
    assert.ok(late.early <= 30 && late.early > 29.99, `early ${late.early}`);
    const short = nextCheck(1000 + 50, 1000, 30, () => 0.999999);
    assert.ok(short.early <= 5 && short.early > 4.99, `a tenth of 50 s, got ${short.early}`);
  });

  it('fires earlier by twice the last fetch time, at most half the time left', () => {
    assert.deepEqual(nextCheck(1000 + 600, 1000, 30, () => 0, 1.5), { delayMs: 597_000, early: 3 });
    assert.deepEqual(nextCheck(1000 + 6, 1000, 30, () => 0, 10), { delayMs: 3000, early: 3 });
  });

  it('fires on a whole second of the clock, so that refreshes due within the same second run together', () => {
    const now = 1000.25;
    for (const random of [0, 0.3, 0.77]) {
      const { delayMs, early } = nextCheck(now + 600, now, 30, () => random);
      const fireAt = now + delayMs / 1000;
      assert.ok(Math.abs(fireAt - Math.round(fireAt)) < 1e-6, `fires at ${fireAt}`);
      // Earlier than the jitter alone (30 s x random) by less than a second; `early` is the whole advance.
      assert.ok(Math.abs(now + 600 - early - fireAt) < 1e-6);
      assert.ok(early - 30 * random < 1 && early - 30 * random >= 0, `random ${random}: early ${early}`);
    }
  });

  it('never schedules sooner than a second, even for a token already past its refresh time', () => {
    assert.equal(nextCheck(900, 1000, 30, () => 0.5).delayMs, MIN_DELAY_MS);
  });

  it('runs at most N tasks at once, the rest in order', async () => {
    const limiter = new Limiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const tasks = [0, 1, 2, 3, 4].map((i) => limiter.run(async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
      return i;
    }));
    while (order.length < 5) {
      await new Promise((resolve) => setImmediate(resolve));
      gates.shift()?.();
    }
    gates.forEach((g) => g());
    assert.deepEqual(await Promise.all(tasks), [0, 1, 2, 3, 4]);
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
  });

  it('forEachLimited: at most N at once, in order, and an item is not touched before a slot is free', async () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const gates: (() => void)[] = [];
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const done = forEachLimited(items, 3, async (i) => {
      running++;
      peak = Math.max(peak, running);
      started.push(i);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
    });
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    await tick();
    assert.deepEqual(started, [0, 1, 2], 'only the first three before any ends');
    gates.shift()!();
    await tick();
    assert.deepEqual(started, [0, 1, 2, 3], 'the fourth once the first ends');
    while (started.length < items.length || gates.length) {
      gates.shift()?.();
      await tick();
    }
    await done;
    assert.equal(peak, 3);
    assert.deepEqual(started, items);
  });
});
