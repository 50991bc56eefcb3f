import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../src/camera/backoff';
import { allocateUdpPair } from '../../src/transport/port-allocator';
import * as dgram from 'node:dgram';

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

describe('UDP port allocator', () => {
  test('even/odd pair in range, skips a taken pair, released on close', async () => {
    const taken = dgram.createSocket('udp4');
    await new Promise<void>((r) => taken.bind(53000, () => r()));
    const p = await allocateUdpPair({ range: [53000, 53003], random: () => 0 });
    assert.equal(p.rtpPort, 53002);
    assert.equal(p.rtcpPort, 53003);
    assert.ok(p.recvBufferSize > 0, 'granted receive buffer reported');
    await assert.rejects(allocateUdpPair({ range: [53002, 53003] }), /no free UDP port pair/);
    p.close();
    taken.close();
    const again = await allocateUdpPair({ range: [53002, 53003] });
    assert.equal(again.rtpPort, 53002);
    again.close();
  });
});
