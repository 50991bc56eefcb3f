/**
 * Our HTTP source against emulations of real firmware that streams Motion-JPEG over HTTP
 * (test/peers/, each written from the device's public source or documentation): the
 * ESP32-CAM CameraWebServer (chunked, delimiter before each part, one stream client at a
 * time), Axis VAPIX mjpg/video.cgi with Digest (HTTP/1.0, close-delimited), mjpg-streamer.
 * Every frame decodes (djpeg) and the count matches what the device sent within ±2 %.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openCamera } from '../../src/camera/open';
import type { CameraSession } from '../../src/camera/session';
import type { CameraOptions } from '../../src/camera/types';
import { Recorder, until } from '../reliability/support';
import { skipUnlessPeer } from '../support/peers';
import { startEsp32Camera } from '../peers/esp32-camera';
import { startAxisCamera } from '../peers/axis-vapix';
import { startMjpgStreamer } from '../peers/mjpg-streamer';
import type { TestContext } from 'node:test';

const FAST: CameraOptions = { reconnectMinMs: 200, reconnectMaxMs: 1000, requestTimeoutMs: 2000, statsIntervalMs: 250 };

function camera(t: TestContext, url: string, o: CameraOptions = {}): { s: CameraSession; r: Recorder } {
  const s = openCamera(url, { ...FAST, ...o });
  const r = new Recorder(s);
  t.after(() => s.close());
  return { s, r };
}

/** frames received vs frames the device sent, once it stopped sending (±2 %) */
function assertCount(received: number, sent: number, what: string): void {
  assert.ok(sent > 0, `${what}: the device sent nothing`);
  assert.ok(Math.abs(received - sent) <= Math.max(1, sent * 0.02), `${what}: received ${received} frames, the device sent ${sent}`);
}

describe('ESP32-CAM CameraWebServer (emulated)', () => {
  test(':81/stream — chunked multipart, every frame decodes, count matches, X-Timestamp feeds the frame clock', async (t) => {
    if (!skipUnlessPeer(t, 'djpeg')) return;
    const esp = await startEsp32Camera({ fps: 25 });
    t.after(() => esp.close());
    const { s, r } = camera(t, esp.streamUrl);
    await until(() => r.frames.length >= 60, '60 frames', 15000);
    await s.close();
    // what was on the wire when the client left: at most the frame in flight
    await until(() => esp.streaming() === 0, 'the device saw the client leave', 5000);
    assertCount(r.frames.length, esp.framesSent(), 'ESP32 stream');
    assert.deepEqual(r.badFrames, []);
    const st = s.getStats();
    assert.equal(st.transport, 'http-mjpeg');
    assert.deepEqual([st.width, st.height, st.ssrc, st.packetsReceived, st.jitterMs, st.senderReport], [320, 240, null, null, null, null]);
    // msg.frame.rtpTimestamp is the part's X-Timestamp on the 90 kHz scale
    r.frames.slice(0, 20).forEach((f, i) => assert.ok(Math.abs(f.rtpTimestamp - Math.round(esp.timestamps[i]! * 90) % 2 ** 32) <= 1, `frame ${i}`));
  });

  test('one stream client at a time: a second one waits (timeout, retries) and gets the stream when the first leaves', async (t) => {
    const esp = await startEsp32Camera({ fps: 20 });
    t.after(() => esp.close());
    const first = camera(t, esp.streamUrl);
    await first.r.playing(8000);
    const second = camera(t, esp.streamUrl, { requestTimeoutMs: 800 });
    await until(() => second.r.states.some((x) => x.state === 'reconnecting' && x.reason === 'timeout'), 'the second client times out waiting', 8000);
    assert.equal(second.r.frames.length, 0);
    await first.s.close();
    await until(() => second.r.frames.length >= 5, 'the second client streams once the first left', 10000);
    assert.equal(second.s.state, 'playing');
  });

  test('/capture as a snapshot URL: polled over one kept connection', async (t) => {
    if (!skipUnlessPeer(t, 'djpeg')) return;
    const esp = await startEsp32Camera({ ledDelayMs: 20 });
    t.after(() => esp.close());
    const { s, r } = camera(t, esp.captureUrl, { snapshotFps: 5 });
    await until(() => r.frames.length >= 8, '8 snapshots', 10000);
    assert.deepEqual(r.badFrames, []);
    assert.equal(s.getStats().transport, 'http-snapshot');
    assert.equal(esp.web.connections(), 1, 'one persistent connection for every poll');
  });

  test('the web UI page (/) is not a JPEG source; an unknown path is not found', async (t) => {
    const esp = await startEsp32Camera();
    t.after(() => esp.close());
    const html = camera(t, esp.web.url('/'));
    await until(() => html.r.errors.length > 0, 'an error', 5000);
    assert.equal(html.r.errors[0]!.err.reason, 'not a JPEG source');
    assert.match(html.r.errors[0]!.err.message, /HTML page/);
    const missing = camera(t, esp.stream.url('/mjpeg'));
    await until(() => missing.r.errors.length > 0, 'an error', 5000);
    assert.equal(missing.r.errors[0]!.err.reason, 'not found');
  });
});

describe('Axis VAPIX mjpg/video.cgi (emulated)', () => {
  const AUTH = { username: 'root', password: 'pass:w@rd' };

  test('Digest (Basic also offered): Digest is used; a 50-frame stream arrives whole and ends as end of stream', async (t) => {
    if (!skipUnlessPeer(t, 'djpeg')) return;
    const axis = await startAxisCamera({ ...AUTH, fps: 25 });
    t.after(() => axis.close());
    const { s, r } = camera(t, axis.url('/axis-cgi/mjpg/video.cgi?fps=25&nbrofframes=50'), AUTH);
    await until(() => r.errors.some((e) => e.err.reason === 'end of stream'), 'the stream ends', 15000);
    assert.equal(r.frames.length, 50, 'every image of nbrofframes=50');
    assert.equal(axis.framesSent(), 50);
    assert.deepEqual(r.badFrames, []);
    const answered = axis.requests.filter((q) => q.headers.has('authorization'));
    assert.ok(answered.length >= 1 && answered.every((q) => /^Digest /.test(q.headers.get('authorization')!)), 'Digest, not Basic');
    assert.ok(answered.every((q) => !q.headers.get('authorization')!.includes(AUTH.password)));
    assert.equal(s.getStats().transport, 'http-mjpeg');
  });

  test('a long stream: count within ±2 % of what the camera sent', async (t) => {
    if (!skipUnlessPeer(t, 'djpeg')) return;
    const axis = await startAxisCamera({ ...AUTH, fps: 30 });
    t.after(() => axis.close());
    const { r } = camera(t, axis.url('/axis-cgi/mjpg/video.cgi?fps=30&nbrofframes=100'), AUTH);
    await until(() => r.errors.some((e) => e.err.reason === 'end of stream'), 'the stream ends', 20000);
    assertCount(r.frames.length, axis.framesSent(), 'Axis');
    assert.deepEqual(r.badFrames, []);
  });

  test('a wrong password: auth failed after one answered challenge; no credentials: auth failed at once', async (t) => {
    const axis = await startAxisCamera(AUTH);
    t.after(() => axis.close());
    const { r } = camera(t, axis.url('/axis-cgi/mjpg/video.cgi'), { username: 'root', password: 'wrong' });
    await until(() => r.errors.length >= 1, 'auth failed', 5000);
    assert.equal(r.errors[0]!.err.reason, 'auth failed');
    assert.ok(!r.errors[0]!.err.message.includes('wrong'));
    assert.equal(axis.challenges(), 2, 'the first 401, then the refused answer');
    const none = camera(t, axis.url('/axis-cgi/mjpg/video.cgi'), { username: undefined, password: undefined });
    await until(() => none.r.errors.length >= 1, 'auth failed without credentials', 5000);
    assert.equal(none.r.errors[0]!.err.reason, 'auth failed');
    assert.match(none.r.errors[0]!.err.message, /needs a user name/);
  });
});

describe('mjpg-streamer output_http (emulated)', () => {
  test('?action=stream: HTTP/1.0, delimiter right after the head; every frame decodes, count matches', async (t) => {
    if (!skipUnlessPeer(t, 'djpeg')) return;
    const ms = await startMjpgStreamer({ fps: 25 });
    t.after(() => ms.close());
    const { s, r } = camera(t, ms.url('/?action=stream'));
    await until(() => r.frames.length >= 60, '60 frames', 15000);
    const sentAtStop = ms.framesSent();
    await s.close();
    assertCount(r.frames.length, sentAtStop, 'mjpg-streamer');
    assert.deepEqual(r.badFrames, []);
  });

  test('?action=snapshot: a JPEG without Content-Length that ends at the close, polled; Basic auth from -c', async (t) => {
    if (!skipUnlessPeer(t, 'djpeg')) return;
    const ms = await startMjpgStreamer({ fps: 20, credentials: { username: 'pi', password: 'raspberry' } });
    t.after(() => ms.close());
    const { s, r } = camera(t, ms.url('/?action=snapshot'), { username: 'pi', password: 'raspberry', snapshotFps: 4 });
    await until(() => r.frames.length >= 5, '5 snapshots', 10000);
    assert.deepEqual(r.badFrames, []);
    assert.equal(s.getStats().transport, 'http-snapshot');
    assert.ok(ms.connections() >= 6, 'Connection: close — a new connection per poll');
    const wrong = camera(t, ms.url('/?action=stream'), { username: 'pi', password: 'nope' });
    await until(() => wrong.r.errors.length > 0, 'auth failed', 5000);
    assert.equal(wrong.r.errors[0]!.err.reason, 'auth failed');
  });
});
