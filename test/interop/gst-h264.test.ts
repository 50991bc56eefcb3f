/**
 * An H.264-only camera (GStreamer's RTSP server with openh264enc or x264enc and rtph264pay):
 * the handshake ends at DESCRIBE with reason 'unsupported codec', a detail naming what the
 * camera offers, the node status showing the reason and what to change, no frame, all on the
 * first connection; and the session does not come back within seconds: the first retry is
 * 24–36 s away (the whole schedule, at most 3 connections in any 2 minutes, is checked on a
 * virtual clock in test/unit/camera-backoff.test.ts).
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessPeer, startGstServer, type GstServer } from '../support/peers';
import { openCamera } from '../../src/index';
import { statusForState } from '../../src/nodes/lib/status';
import type { StateChange } from '../../src/camera/types';
import type { CameraError } from '../../src/errors';

describe('GStreamer RTSP server: an H.264-only camera', () => {
  const servers: GstServer[] = [];
  after(async () => { await Promise.all(servers.map((s) => s.stop())); });

  test('unsupported codec naming H264 on the first connection, the first retry half a minute away', async (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server', 'gst-h264')) return;
    const server = await startGstServer({ codec: 'h264', duration: 60 });
    servers.push(server);
    const states: StateChange[] = [];
    const errors: { error: CameraError; connections: number }[] = [];
    let frames = 0;
    const session = openCamera(server.url, { transport: 'tcp' });
    try {
      session.on('frame', () => { frames++; });
      session.on('state', (s) => states.push(s));
      session.on('error', (e) => errors.push({ error: e, connections: server.connections() }));
      const end = Date.now() + 15_000;
      while (errors.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      const first = errors[0];
      assert.ok(first, `no error; states ${JSON.stringify(states)}`);
      assert.equal(first.error.reason, 'unsupported codec', first.error.message);
      assert.match(first.error.message, /H264/, 'the detail names the codec the camera offers');
      assert.equal(first.connections, 1, 'the error comes within the first connection');
      assert.equal(session.tracks.find((tr) => tr.kind === 'video')?.encoding, 'H264');
      const retry = states.find((s) => s.state === 'reconnecting');
      assert.ok(retry?.retryInMs !== undefined && retry.retryInMs >= 24_000 && retry.retryInMs <= 36_000, `retry in ${retry?.retryInMs} ms`);
      assert.match(String(statusForState(retry, null).text), /unsupported codec: enable a Motion-JPEG stream/);
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(server.connections(), 1, 'one connection, no retry within seconds');
      assert.equal(errors.length, 1);
      assert.equal(frames, 0);
    } finally {
      await session.close();
    }
  });
});
