import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../src/camera/backoff';

describe('Backoff', () => {
  test('doubles from 1 s to 30 s with bounded jitter, resets after 60 s healthy', () => {
    const mid = new Backoff({ random: () => 0.5 });
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(() => mid.next('timeout', 0)), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    const lo = new Backoff({ random: () => 0 });
    const hi = new Backoff({ random: () => 0.999999 });
    for (let i = 0; i < 8; i++) {
      const a = lo.next('timeout', 0); const b = hi.next('timeout', 0);
      assert.ok(a >= 800 && a <= 30000 && b <= 30000 && b >= a);
    }
    mid.onPlaying(1000);
    assert.equal(mid.next('stalled', 30000), 30000, 'not healthy long enough');
    mid.onPlaying(40000);
    assert.equal(mid.next('stalled', 100001), 1000, 'reset after 60 s');
  });

  test('after a healthy run, one reset only: a camera that then keeps failing backs off again', () => {
    // Clock injected as nowMs: a day of failures is simulated without waiting.
    const b = new Backoff({ random: () => 0.5 });
    let now = 0;
    for (let i = 0; i < 6; i++) now += b.next('timeout', now);
    b.onPlaying(now);
    now += 3_600_000; // an hour of healthy streaming
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const d = b.next('stalled', now);
      delays.push(d);
      now += d; // failed again straight away, never reached 'playing'
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    // a short run in between (shorter than healthyResetMs) does not reset either
    b.onPlaying(now);
    now += 5000;
    assert.equal(b.next('stalled', now), 30000);
    assert.equal(b.next('stalled', now + 30000), 30000);
  });

  test('repeated auth failures back off to minutes', () => {
    const b = new Backoff({ random: () => 0.5 });
    const d = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(() => b.next('auth failed', 0));
    assert.equal(d[0], 1000);
    assert.ok(d[1]! >= 15000);
    assert.ok(d[4]! >= 120000);
    assert.equal(d[8], 600000);
    b.onPlaying(0);
    assert.equal(b.authFailures, 0);
  });

  // connection start times of a camera that fails every attempt for `reason`, on a virtual clock
  const schedule = (reason: string, random: () => number, untilMs: number): number[] => {
    const b = new Backoff({ random });
    const starts: number[] = [];
    for (let t = 0; t <= untilMs && starts.length < 1000; t += b.next(reason, t)) starts.push(t);
    return starts;
  };
  const mostInWindow = (starts: number[], windowMs: number): number =>
    Math.max(...starts.map((s) => starts.filter((t) => t >= s && t < s + windowMs).length));

  test('a camera without Motion-JPEG: at most 3 connections in any 2 minutes, minutes apart later', () => {
    for (const random of [() => 0, () => 0.5, () => 0.999999]) {
      const starts = schedule('unsupported codec', random, 3_600_000);
      assert.ok(mostInWindow(starts, 120_000) <= 3, `starts ${starts.join(', ')}`);
      assert.ok(starts[1]! >= 24_000, 'even the first retry waits');
      assert.ok(starts.length <= 12, `${starts.length} connections in an hour`);
    }
    // with the default schedule, a failure that retrying can cure comes back within seconds
    assert.ok(mostInWindow(schedule('connection refused', () => 0.5, 120_000), 120_000) >= 8);
  });

  test('a path not found: the first retry is quick, a repeated 404 backs off to minutes', () => {
    const b = new Backoff({ random: () => 0.5 });
    const d = [1, 2, 3, 4, 5, 6, 7, 8].map(() => b.next('not found', 0));
    assert.equal(d[0], 1000);
    assert.ok(d[1]! >= 15000);
    assert.ok(d[4]! >= 120000);
    assert.equal(d[7], 600000);
    b.onPlaying(0);
    assert.equal(b.next('not found', 0) <= 30000, true, 'the camera played: a new 404 starts over');
  });
});
