/**
 * A camera that offers only H.264 (GStreamer's RTSP server with openh264enc or x264enc and
 * rtph264pay): our client must end the handshake at DESCRIBE with reason `unsupported codec`,
 * a detail that names what the camera offers, the node status showing the reason, no frame,
 * and all of it on the first connection (one handshake, no SETUP).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessPeer, startGstServer, waitFor } from '../support/peers';
import { openCamera } from '../../src/index';
import { statusForState } from '../../src/nodes/status';
import type { StateChange } from '../../src/camera/types';
import type { CameraError } from '../../src/errors';

test('H.264-only camera: unsupported codec naming H264, on the status, within one handshake', async (t) => {
  if (!skipUnlessPeer(t, 'gst-rtsp-server', 'gst-h264')) return;
  const server = await startGstServer({ codec: 'h264', duration: 30 });
  const session = openCamera(server.url, { transport: 'tcp' });
  try {
    const errors: { error: CameraError; connections: number }[] = [];
    const states: StateChange[] = [];
    let frames = 0;
    session.on('frame', () => { frames++; });
    session.on('state', (s: StateChange) => { states.push(s); });
    session.on('error', (e: CameraError) => { errors.push({ error: e, connections: server.connections() }); });
    assert.ok(await waitFor(() => errors.length > 0, 10000), `no error; states ${JSON.stringify(states)}`);
    const first = errors[0]!;
    assert.equal(first.error.reason, 'unsupported codec', first.error.message);
    assert.match(first.error.message, /H264/, 'the detail names the codec the camera offers');
    assert.equal(first.connections, 1, 'more than one connection before the error');
    assert.equal(frames, 0);
    const failed = states.find((s) => s.reason === 'unsupported codec');
    assert.ok(failed, `no state with the reason: ${JSON.stringify(states)}`);
    assert.match(String(statusForState(failed, null).text), /unsupported codec/);
    assert.equal(session.tracks.find((tr) => tr.kind === 'video')?.encoding, 'H264');
  } finally {
    await session.close();
    await server.stop();
  }
});
