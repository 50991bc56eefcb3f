import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startDemoCamera } from '../../src/sim/demo-camera';
import { openCamera } from '../support/camera-session';
import type { CameraSession } from '../../src/camera/session';
import type { StateChange, StatsReport } from '../../src/camera/types';

function untilState(cam: CameraSession, pred: (c: StateChange) => boolean, timeoutMs = 8000): Promise<StateChange> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { cam.off('state', on); reject(new Error(`state not reached (now ${cam.state})`)); }, timeoutMs);
    const on = (c: StateChange): void => { if (pred(c)) { clearTimeout(t); cam.off('state', on); resolve(c); } };
    cam.on('state', on);
  });
}
function frames(cam: CameraSession, n: number, timeoutMs = 8000): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const t = setTimeout(() => { cam.off('frame', on); reject(new Error(`only ${got} frames (state ${cam.state})`)); }, timeoutMs);
    const on = (): void => { if (++got >= n) { clearTimeout(t); cam.off('frame', on); resolve(); } };
    cam.on('frame', on);
  });
}

describe('CameraSession against the demo camera', () => {
  for (const transport of ['tcp', 'udp'] as const) {
    test(`${transport}: frames and stats`, async () => {
      const demo = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 25 });
      const cam = openCamera(demo.url, { transport, statsIntervalMs: 200 });
      try {
        await frames(cam, 5);
        const stats = await new Promise<StatsReport>((r) => cam.once('stats', r));
        assert.equal(stats.transport, transport);
        assert.equal(stats.state, 'playing');
        assert.ok(stats.packetsReceived > 0 && stats.framesEmitted >= 5);
        assert.equal(stats.width, 160);
        assert.ok(cam.latestFrame && cam.latestFrame.info.width === 160);
      } finally { await cam.close(); await demo.close(); }
    });
  }

  test('digest 401 on a keep-alive mid-session is answered, stream continues', async () => {
    const demo = await startDemoCamera({ port: 0, width: 160, height: 120, auth: 'digest', username: 'u', password: 'pw', sessionTimeoutSec: 2 });
    const cam = openCamera(demo.url, { username: 'u', password: 'pw' });
    const states: string[] = [];
    cam.on('state', (c) => states.push(c.state));
    try {
      await frames(cam, 2);
      demo.setFaults({ keepAlive401: true });
      await new Promise((r) => setTimeout(r, 3500));
      await frames(cam, 2);
      assert.ok(!states.includes('reconnecting'), states.join(','));
    } finally { await cam.close(); await demo.close(); }
  });

  test('dropped connection → reconnect with backoff → frames again', async () => {
    const demo = await startDemoCamera({ port: 0, width: 160, height: 120 });
    const cam = openCamera(demo.url, { reconnectMinMs: 100, reconnectMaxMs: 300 });
    try {
      await frames(cam, 2);
      demo.setFaults({ dropConnectionAfterMs: 1 });
      await untilState(cam, (c) => c.state === 'reconnecting');
      demo.setFaults({});
      await untilState(cam, (c) => c.state === 'playing');
      await frames(cam, 2);
    } finally { await cam.close(); await demo.close(); }
  });

  test('camera that requires audio SETUP before PLAY', async () => {
    const demo = await startDemoCamera({ port: 0, width: 160, height: 120, audio: true, requireAudioSetup: true });
    const cam = openCamera(demo.url);
    try {
      await frames(cam, 2);
      assert.equal(cam.tracks.length, 2);
    } finally { await cam.close(); await demo.close(); }
  });

  test('loss, reordering and duplicates over UDP: frames keep coming, drops counted', async () => {
    const demo = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 25, faults: { lossPercent: 2, reorder: true, duplicatePercent: 2 } });
    const cam = openCamera(demo.url, { transport: 'udp' });
    try {
      await frames(cam, 10, 10000);
      const s = cam.getStats();
      assert.ok(s.packetsReceived > 0);
    } finally { await cam.close(); await demo.close(); }
  });
});
