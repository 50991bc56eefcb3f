/**
 * camera/rate-gate, the one frame-rate limit (rtsp-mjpeg in's maxFps over RTP time, a live
 * viewer's maxFps and ?fps=, the motion analysis rate), with the same slack for all.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RateGate, gateSlackMs } from '../../src/camera/rate-gate';
import { FrameRateGate } from '../../src/nodes/lib/frame-gate';

/** frame times of a `fps` source with a fixed ± jitter pattern, ms */
const times = (fps: number, n: number, jitter: number): number[] => Array.from({ length: n }, (_, i) => (i * 1000) / fps + (i % 3 === 1 ? -jitter : i % 3 === 2 ? jitter : 0));

describe('RateGate', () => {
  test('the average is the limit, whatever the source rate', () => {
    for (const [src, limit] of [[30, 10], [25, 10], [25, 7], [60, 25], [11, 10]] as const) {
      const g = new RateGate(limit);
      const kept = times(src, src * 20, 0).filter((t) => g.admit(t)).length;
      assert.ok(Math.abs(kept - limit * 20) <= 1, `${src} → ${limit}: ${kept} in 20 s`);
      assert.equal(g.passed + g.skipped, src * 20);
    }
  });
  test('a source at exactly the limit keeps every frame despite a few ms of jitter', () => {
    const g = new RateGate(25);
    assert.equal(times(25, 250, 6).filter((t) => g.admit(t)).length, 250);
  });
  test('slack: a quarter interval, at most 10 ms', () => {
    assert.equal(gateSlackMs(20), 5);
    assert.equal(gateSlackMs(200), 10);
    assert.equal(gateSlackMs(0), 0);
  });
  test('restart() and a gap start a new grid; 0 keeps all', () => {
    const g = new RateGate(1);
    assert.deepEqual([0, 500, 1000].map((t) => g.admit(t)), [true, false, true]);
    g.restart();
    assert.equal(g.admit(1100), true);
    const all = new RateGate(0);
    assert.ok([0, 1, 2].every((t) => all.admit(t)));
  });
});

describe('the gates agree', () => {
  test('rtsp-mjpeg in (RTP time) keeps what a viewer and the motion rate keep (arrival time) for the same frame times', () => {
    // a camera whose RTP timestamps carry its capture jitter (±4 ms at 25 fps), limited to 25
    // and to 10: the RTP-time gate once had 0.5 ms of slack and dropped the early frames
    for (const limit of [25, 10]) {
      const t = times(25, 100, 4);
      const rtp = new FrameRateGate(limit);
      const byRtp = t.map((ms) => rtp.admit({ rtpTimestamp: Math.round(ms * 90) >>> 0, ssrc: 1, receivedAt: 0 }));
      const arrival = new RateGate(limit);
      const byArrival = t.map((ms) => arrival.admit(ms));
      assert.deepEqual(byRtp, byArrival, `limit ${limit}`);
      if (limit === 25) assert.ok(byRtp.every(Boolean), 'a 25 fps camera at maxFps 25 loses no frame');
    }
  });
});
