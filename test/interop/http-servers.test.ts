/**
 * Our HTTP MJPEG source against real third-party servers (Debian packages, see
 * .ci/install-peers): FFmpeg's mpjpeg muxer over its HTTP server, VLC's mpjpeg HTTP output,
 * and motion's stream server. A tap between server and client keeps what the server sent;
 * once the server has stopped, the pictures we emitted must all decode (djpeg) and number
 * what the tap counted on the wire within ±2 %.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { openCamera } from '../../src/camera/open';
import type { CameraSession } from '../../src/camera/session';
import { Recorder, until } from '../reliability/support';
import { skipUnlessPeer } from '../support/peers';
import { countSentPictures, skipUnlessMotion, startFfmpegMpjpeg, startMotion, startTap, startVlcMpjpeg, type HttpPeer, type Tap } from '../support/http-peers';

const OPTS = { reconnectMinMs: 300, reconnectMaxMs: 1000, requestTimeoutMs: 5000, statsIntervalMs: 250 };

async function viaTap(t: TestContext, peer: HttpPeer, path: string): Promise<{ tap: Tap; s: CameraSession; r: Recorder }> {
  t.after(() => peer.stop());
  const tap = await startTap(peer.port);
  t.after(() => tap.close());
  const s = openCamera(tap.url(path), OPTS);
  const r = new Recorder(s);
  t.after(() => s.close());
  return { tap, s, r };
}

/** Stops the server, lets our client read all it got, then compares with the wire. */
async function stopAndCompare(peer: HttpPeer, tap: Tap, s: CameraSession, r: Recorder, what: string): Promise<number> {
  await peer.stop();
  await until(() => s.state !== 'playing', `${what}: the client notices the server gone`, 10000);
  await s.close();
  const sent = tap.received().reduce((n, raw) => n + countSentPictures(raw).pictures, 0);
  const got = r.frames.length;
  assert.ok(sent > 0, `${what}: nothing on the wire (server log: ${peer.log()})`);
  assert.ok(Math.abs(got - sent) <= Math.max(1, sent * 0.02), `${what}: we emitted ${got} pictures, the server sent ${sent}`);
  assert.deepEqual(r.badFrames, [], `${what}: undecodable frames`);
  return sent;
}

describe('FFmpeg -f mpjpeg over HTTP (-listen 1)', () => {
  test('as FFmpeg sends it (application/octet-stream): 100 frames, all of them, then end of stream', async (t) => {
    if (!skipUnlessPeer(t, 'ffmpeg', 'djpeg')) return;
    const peer = await startFfmpegMpjpeg({ frames: 100, fps: 25 });
    const { tap, s, r } = await viaTap(t, peer, '/stream');
    await until(() => r.errors.some((e) => e.err.reason === 'end of stream' || e.err.reason === 'connection lost'), 'the stream ends', 20000);
    assert.equal(r.frames.length, 100, `frames (server log: ${peer.log()})`);
    assert.equal(s.getStats().transport, 'http-mjpeg');
    assert.equal(countSentPictures(tap.received()[0]!).pictures, 100);
    assert.deepEqual(r.badFrames, []);
  });

  test('with -content_type multipart/x-mixed-replace, 640x480 at 15 fps: count within ±2 %', async (t) => {
    if (!skipUnlessPeer(t, 'ffmpeg', 'djpeg')) return;
    const peer = await startFfmpegMpjpeg({ width: 640, height: 480, fps: 15, contentType: 'multipart/x-mixed-replace;boundary=ffmpeg' });
    const { tap, s, r } = await viaTap(t, peer, '/stream');
    await until(() => r.frames.length >= 30, '30 frames', 20000);
    assert.deepEqual([s.getStats().width, s.getStats().height], [640, 480]);
    await stopAndCompare(peer, tap, s, r, 'FFmpeg mpjpeg');
  });
});

describe('VLC mpjpeg HTTP output', () => {
  test('count within ±2 %, every frame decodes', async (t) => {
    if (!skipUnlessPeer(t, 'vlc', 'ffmpeg', 'djpeg')) return;
    const peer = await startVlcMpjpeg({ fps: 25 });
    const { tap, s, r } = await viaTap(t, peer, '/stream.mjpg');
    await until(() => r.frames.length >= 40, '40 frames', 30000);
    assert.equal(s.getStats().transport, 'http-mjpeg');
    await stopAndCompare(peer, tap, s, r, 'VLC mpjpeg');
  });
});

describe('motion stream server', () => {
  test('count within ±2 %, every frame decodes', async (t) => {
    if (!skipUnlessPeer(t, 'ffmpeg', 'djpeg') || !skipUnlessMotion(t)) return;
    const peer = await startMotion({ fps: 10 });
    const { tap, s, r } = await viaTap(t, peer, '/');
    await until(() => r.frames.length >= 20, '20 frames', 30000);
    assert.equal(s.getStats().transport, 'http-mjpeg');
    await stopAndCompare(peer, tap, s, r, 'motion');
  });
});
