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
});
