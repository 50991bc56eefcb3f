/**
 * camera/rate-gate, the one frame-rate limit (rtsp-mjpeg in's maxFps over RTP time, a live
 * viewer's maxFps and ?fps=, the motion analysis rate), with the same slack for all; and
 * camera/rate-window, the one fps calculator (the session's stats, the live view's status,
 * rtcp stats over its interval).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RateGate, gateSlackMs } from '../../src/camera/rate-gate';
import { FrameRateGate } from '../../src/nodes/lib/frame-gate';
import { RateWindow, rateBetween } from '../../src/camera/rate-window';
import { MjpegViewers } from '../../src/http/mjpeg-viewers';
import { statsPayload } from '../../src/nodes/lib/stats-payload';
import type { CameraStats } from '../../src/nodes/lib/camera-contract';

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

describe('fps and bitrate', () => {
  test('rateBetween: growth over time, rounded; counters that went down restart from zero; no time, no rate', () => {
    assert.deepEqual(rateBetween({ t: 0, frames: 0, bytes: 0 }, { t: 3000, frames: 37, bytes: 375000 }), { fps: 12.33, bitrateKbps: 1000 });
    assert.deepEqual(rateBetween({ t: 0, frames: 500, bytes: 9e9 }, { t: 1000, frames: 50, bytes: 1000 }), { fps: 50, bitrateKbps: 8 });
    assert.equal(rateBetween({ t: 5, frames: 0, bytes: 0 }, { t: 5, frames: 1, bytes: 1 }), null);
  });
  test('RateWindow: over the window ending now; nothing before 200 ms of history', () => {
    const w = new RateWindow(1000);
    assert.deepEqual(w.rates({ t: 0, frames: 0, bytes: 0 }), { fps: 0, bitrateKbps: 0 });
    for (let i = 0; i <= 50; i++) w.add({ t: i * 100, frames: i, bytes: i * 1000 });
    assert.deepEqual(w.rates({ t: 5000, frames: 50, bytes: 50000 }), { fps: 10, bitrateKbps: 80 });
    assert.deepEqual(w.latest, { t: 5000, frames: 50, bytes: 50000 });
  });
  test('the live view, the session window and rtcp stats give the same rate for the same frames', () => {
    let now = 0;
    const hub = new MjpegViewers({ maxViewers: 1, maxFps: 0, snapshotTimeoutMs: 100, now: () => now });
    const window = new RateWindow(1000);
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    // 12.5 fps for 3 s
    for (let i = 0; i < 38; i++) {
      now = i * 80;
      hub.push(jpeg);
      window.add({ t: now, frames: i + 1, bytes: 0 });
    }
    const session = window.rates({ t: now, frames: 38, bytes: 0 }).fps;
    assert.equal(session, 12.5);
    assert.equal(hub.fps(), Math.round(session));
    const stats = { framesEmitted: 38, bytesReceived: 0, fps: 0, bitrateKbps: 0, jitterMs: 0 } as CameraStats;
    assert.equal(statsPayload(stats, { t: -80, frames: 0, bytes: 0 }, now).payload.fps, session);
    // a second without frames: no rate any more
    now += 1000;
    assert.equal(hub.fps(), 0);
    hub.close();
  });
});
