import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  rtcpIntervalMs, rtcpBandwidthFromSessionKbps, updateAvgRtcpSize, COMPENSATION, type RtcpIntervalParams,
} from '../../src/rtcp/interval';

/** Small seeded PRNG (mulberry32) so the statistics are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// One camera and us, b=AS:200 → RTCP 1250 B/s, our RR+SDES ≈ 60 B + 28 B of UDP/IP.
const RECEIVER: RtcpIntervalParams = {
  members: 2, senders: 1, rtcpBandwidthBytesPerSec: rtcpBandwidthFromSessionKbps(200), weSent: false, avgRtcpSize: 88, initial: false,
};

describe('rtcpIntervalMs (RFC 3550 A.7)', () => {
  test('e − 3/2 compensation constant', () => {
    assert.ok(Math.abs(COMPENSATION - 1.21828) < 1e-5);
  });

  test('deterministic with an injected random: ends and middle of [0.5, 1.5]', () => {
    assert.equal(rtcpIntervalMs(RECEIVER, () => 0), (5000 * 0.5) / COMPENSATION);
    assert.equal(rtcpIntervalMs(RECEIVER, () => 0.5), 5000 / COMPENSATION);
    assert.equal(rtcpIntervalMs(RECEIVER, () => 1), (5000 * 1.5) / COMPENSATION);
    assert.equal(rtcpIntervalMs({ ...RECEIVER, initial: true }, () => 0.5), 2500 / COMPENSATION);
  });

  test('statistics over 20000 draws: bounds, mean, initial halved', () => {
    for (const initial of [false, true]) {
      const min = initial ? 2500 : 5000;
      const rnd = seeded(initial ? 7 : 42);
      let lo = Infinity;
      let hi = -Infinity;
      let sum = 0;
      const n = 20000;
      for (let i = 0; i < n; i++) {
        const t = rtcpIntervalMs({ ...RECEIVER, initial }, rnd);
        lo = Math.min(lo, t);
        hi = Math.max(hi, t);
        sum += t;
      }
      const mean = sum / n;
      // RFC: T ∈ [0.5·Td, 1.5·Td] / (e − 3/2), Td = max(min time, size·n/bw) = min time here.
      assert.ok(lo >= (min * 0.5) / COMPENSATION, `min ${lo}`);
      assert.ok(hi <= (min * 1.5) / COMPENSATION, `max ${hi}`);
      assert.ok(lo < (min * 0.52) / COMPENSATION && hi > (min * 1.48) / COMPENSATION, 'draws cover the range');
      assert.ok(Math.abs(mean - min / COMPENSATION) < 0.01 * (min / COMPENSATION), `mean ${mean}`);
    }
  });

  test('bandwidth-limited: many receivers share 75 % (senders ≤ 25 %)', () => {
    // 100 members, 1 sender, 500 B/s RTCP, 100 B packets: receivers get 375 B/s for 99 members.
    const p = { members: 100, senders: 1, rtcpBandwidthBytesPerSec: 500, weSent: false, avgRtcpSize: 100, initial: false };
    assert.ok(Math.abs(rtcpIntervalMs(p, () => 0.5) - ((100 * 99) / 375) * 1000 / COMPENSATION) < 1e-6);
    // As a sender: 125 B/s for 1 sender → 0.8 s < 5 s minimum.
    assert.equal(rtcpIntervalMs({ ...p, weSent: true }, () => 0.5), 5000 / COMPENSATION);
  });

  test('without the split (senders > 25 %) all members share the whole bandwidth', () => {
    // 2 members, 1 sender, 10 B/s: Td = 88·2/10 = 17.6 s.
    const p = { ...RECEIVER, rtcpBandwidthBytesPerSec: 10 };
    assert.ok(Math.abs(rtcpIntervalMs(p, () => 0.5) - 17600 / COMPENSATION) < 1e-6);
  });

  test('bad inputs degrade to the minimum interval, never NaN', () => {
    for (const bad of [0, -1, NaN, Infinity]) {
      const t = rtcpIntervalMs({ ...RECEIVER, rtcpBandwidthBytesPerSec: bad }, () => 0.5);
      assert.equal(t, 5000 / COMPENSATION, String(bad));
    }
    assert.equal(rtcpIntervalMs({ ...RECEIVER, members: NaN, avgRtcpSize: NaN }, () => 0.5), 5000 / COMPENSATION);
    assert.equal(rtcpIntervalMs(RECEIVER, () => NaN), 5000 / COMPENSATION);
    assert.equal(rtcpIntervalMs(RECEIVER, () => 7), (5000 * 1.5) / COMPENSATION);
  });
});

describe('RTCP bandwidth helpers', () => {
  test('5 % of b=AS', () => {
    assert.equal(rtcpBandwidthFromSessionKbps(200), 1250);
    assert.equal(rtcpBandwidthFromSessionKbps(0), 0);
  });

  test('avg_rtcp_size moving average with 1/16 weight and 28 bytes of UDP/IP', () => {
    assert.equal(updateAvgRtcpSize(100, 72), 100);
    assert.equal(updateAvgRtcpSize(0, 132), 10);
    assert.equal(updateAvgRtcpSize(0, 16, 48), 4); // IPv6 overhead
  });
});
