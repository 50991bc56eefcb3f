/**
 * Our client against GStreamer's RTSP server (test/peers/gst-rtsp-server.py) when it offers TCP
 * only: 'auto' falls back to TCP on the same connection after 461, thirty sessions in a row
 * each do so cleanly, and 'udp' alone fails with a clear reason.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { peerAvailable, skipUnlessPeer, startGstServer, runClient, assertGoodRun, undecodable, type GstServer } from '../support/peers';
import { reserveUdpRange } from '../support/ports';

const FPS = 25;
const STREAM_MS = 3000;

describe('GStreamer RTSP server: TCP-only', () => {
  let server: GstServer | undefined;
  before(async () => {
    if (!peerAvailable('gst-rtsp-server').ok) return;
    server = await startGstServer({ width: 320, height: 240, fps: FPS, protocols: 'tcp', duration: 60 });
  });
  after(async () => { await server?.stop(); });

  test('auto falls back to TCP after 461 Unsupported transport, on the same connection (one DESCRIBE)', async (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server', 'ffmpeg', 'djpeg')) return;
    const s = server!;
    const [d0, c0] = [s.describes(), s.connections()];
    const logs: string[] = [];
    const run = await runClient(s.url, { transport: 'auto', udpPortRange: await reserveUdpRange(10, t), logger: (l, m) => { if (l === 'info') logs.push(m); } }, { streamMs: STREAM_MS });
    assertGoodRun(run, { width: 320, height: 240 });
    assert.equal(run.stats?.transport, 'tcp');
    assert.equal(s.describes() - d0, 1, 'one DESCRIBE');
    assert.equal(s.connections() - c0, 1, 'one connection');
    assert.ok(logs.some((m) => /^transport tcp \(auto\): the camera refused UDP \(SETUP: 461 /.test(m)), `info line: ${JSON.stringify(logs)}`);
  });

  test('30 sessions in a row in auto: every one gets frames over TCP with exactly one DESCRIBE and no error', async (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server', 'djpeg', 'ffmpeg')) return;
    const s = server!;
    const RUNS = 30;
    const udpPortRange = await reserveUdpRange(10, t);
    const started = Date.now();
    for (let i = 0; i < RUNS; i++) {
      // bounded: a run that has not got a frame in 5 s fails (the whole loop takes ~10 s)
      assert.ok(Date.now() - started < 50000, `loop over its time bound at run ${i + 1}`);
      const d0 = s.describes();
      const run = await runClient(s.url, { transport: 'auto', udpPortRange }, { streamMs: 0, firstFrameTimeoutMs: 5000 });
      assert.ok(run.frames.length >= 1, `run ${i + 1}: no frame; states ${JSON.stringify(run.states)} errors ${run.errors.map((e) => e.message).join(' / ')}`);
      assert.deepEqual(undecodable(run.frames.slice(0, 1), { width: 320, height: 240 }), [], `run ${i + 1}`);
      assert.equal(run.stats?.transport, 'tcp', `run ${i + 1}`);
      assert.deepEqual(run.errors.map((e) => e.message), [], `run ${i + 1}: errors`);
      assert.equal(s.describes() - d0, 1, `run ${i + 1}: DESCRIBEs counted in the server's log`);
    }
  });

  test('udp only against a TCP-only server fails with a clear reason, no frames', async (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server')) return;
    const run = await runClient(server!.url, { transport: 'udp', udpPortRange: await reserveUdpRange(10, t) }, { streamMs: 0, firstFrameTimeoutMs: 3000 });
    assert.equal(run.frames.length, 0);
    const reasons = [...run.states.map((s) => s.reason), ...run.errors.map((e) => e.reason)];
    assert.ok(reasons.includes('unsupported transport'), `reasons: ${JSON.stringify(reasons)}`);
  });
});
