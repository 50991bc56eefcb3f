/**
 * An H.264-only camera (GStreamer's RTSP server with an H.264 encoder): the session reports
 * 'unsupported codec' naming the codec, and does not come back within seconds: the first
 * retry is 24–36 s away (the whole schedule, at most 3 connections in any 2 minutes, is
 * checked on a virtual clock in test/unit/camera-backoff.test.ts).
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessPeer, startGstServer, type GstServer } from '../support/peers';
import { openCamera } from '../../src/index';
import type { StateChange } from '../../src/camera/types';
import type { CameraError } from '../../src/errors';

describe('GStreamer RTSP server: an H.264-only camera', () => {
  const servers: GstServer[] = [];
  after(async () => { await Promise.all(servers.map((s) => s.stop())); });

  test('unsupported codec, the first retry half a minute away, one connection meanwhile', async (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server', 'gst-h264')) return;
    const server = await startGstServer({ codec: 'h264', duration: 60 });
    servers.push(server);
    const states: StateChange[] = [];
    const errors: CameraError[] = [];
    const session = openCamera(server.url, { transport: 'tcp' });
    try {
      session.on('state', (s) => states.push(s));
      session.on('error', (e) => errors.push(e));
      const end = Date.now() + 15_000;
      while (errors.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.equal(errors[0]?.reason, 'unsupported codec', JSON.stringify(states));
      assert.match(errors[0]!.message, /H264/);
      const retry = states.find((s) => s.state === 'reconnecting');
      assert.ok(retry?.retryInMs !== undefined && retry.retryInMs >= 24_000 && retry.retryInMs <= 36_000, `retry in ${retry?.retryInMs} ms`);
      assert.equal(session.tracks.find((tr) => tr.kind === 'video')?.encoding, 'H264');
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(server.connections(), 1, 'one connection, no retry within seconds');
      assert.equal(errors.length, 1);
    } finally {
      await session.close();
    }
  });
});
