/**
 * Transport 'http' end to end without external peers: openCamera over the RTSP-over-HTTP
 * tunnel (GET + POST) to the demo camera behind a tunnel front (test/support/fake-tunnel-server.ts
 * with relayTo), with Basic on the HTTP requests and Digest on the RTSP ones. Frames decode,
 * stats say 'http', the RTSP requests really went through the POST, TEARDOWN reaches the
 * camera and both tunnel connections are closed after close(). Also: a refused tunnel GET
 * ends with its reason, never with the password.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { openCamera } from '../support/camera-session';
import { startDemoCamera } from '../../src/sim/demo-camera';
import type { CameraError } from '../../src/errors';
import type { FrameInfo, StateChange } from '../../src/camera/types';
import { startFakeTunnelServer } from '../support/fake-tunnel-server';
import { decodeJpeg } from '../support/djpeg';
import { closeAfter } from '../support/cleanup';
import { until } from '../support/node-red-helper-lite';

const USER = 'admin';
const PASSWORD = 'tun:n3l p@ss%';

describe("transport 'http' (RTSP over HTTP tunnel)", () => {
  test('frames through the tunnel decode; Basic on the HTTP requests, Digest on RTSP; TEARDOWN sent and both connections closed', async (t) => {
    const cam = closeAfter(t, await startDemoCamera({ port: 0, width: 160, height: 120, fps: 15, auth: 'digest', username: USER, password: PASSWORD }));
    const front = closeAfter(t, await startFakeTunnelServer({ auth: { mode: 'basic', user: USER, password: PASSWORD }, relayTo: { host: '127.0.0.1', port: cam.port } }));
    const logs: string[] = [];
    const session = openCamera(`rtsp://127.0.0.1:${front.port}/demo`, {
      transport: 'http', username: USER, password: PASSWORD, statsIntervalMs: 100,
      logger: (_l, m) => logs.push(m),
    });
    const frames: { jpeg: Buffer; info: FrameInfo }[] = [];
    const errors: CameraError[] = [];
    session.on('frame', (jpeg: Buffer, info: FrameInfo) => frames.push({ jpeg, info }));
    session.on('error', (e: CameraError) => errors.push(e));
    try {
      await until(() => frames.length >= 5, 'five frames through the tunnel', 8000);
      assert.equal(session.getStats().transport, 'http');
      for (const f of frames.slice(0, 5)) {
        const d = decodeJpeg(f.jpeg);
        assert.ok(d.ok, `frame ${f.info.index}: ${d.error ?? ''}`);
        assert.equal(d.width, 160);
      }
      const methods = front.requests.map((r) => r.method);
      assert.deepEqual(methods.slice(0, 3), ['GET', 'GET', 'POST'], 'GET challenged, GET with Basic, then POST');
      assert.match(front.requests[2]!.headers['authorization'] ?? '', /^Basic /);
      // The RTSP dialogue is what the POST carried, base64 (the camera's Digest answered there).
      const sent = front.decoded().toString('latin1');
      assert.match(sent, /^OPTIONS rtsp:\/\/127\.0\.0\.1:\d+\/demo RTSP\/1\.0\r\n/);
      assert.match(sent, /DESCRIBE [^\r\n]+\r\n[\s\S]*Authorization: Digest /);
      assert.match(sent, /SETUP [^\r\n]+\r\n[\s\S]*Transport: RTP\/AVP\/TCP;unicast;interleaved=0-1/);
      assert.equal(front.openSockets(), 2, 'GET and POST open while playing');
    } finally {
      await session.close();
    }
    assert.equal(cam.stats.teardowns, 1, 'TEARDOWN reached the camera through the tunnel');
    await until(() => front.openSockets() === 0 && front.openRelays() === 0, 'both tunnel connections closed', 3000);
    assert.deepEqual(errors.map((e) => e.message), []);
    for (const l of logs) assert.ok(!l.includes(PASSWORD) && !l.includes(encodeURIComponent(PASSWORD)), `password in a log line: ${l}`);
  });

  test('a wrong password on the tunnel GET: auth failed, and no password in the error', async (t) => {
    const front = closeAfter(t, await startFakeTunnelServer({ auth: { mode: 'digest', user: USER, password: PASSWORD } }));
    const session = openCamera(`rtsp://127.0.0.1:${front.port}/demo`, { transport: 'http', username: USER, password: 'wrong-S3cret', reconnectMinMs: 60000 });
    const errors: CameraError[] = [];
    const states: StateChange[] = [];
    session.on('error', (e: CameraError) => errors.push(e));
    session.on('state', (s: StateChange) => states.push(s));
    try {
      await until(() => errors.length > 0, 'an error', 5000);
      assert.equal(errors[0]!.reason, 'auth failed');
      assert.match(errors[0]!.message, /tunnel GET/);
      assert.ok(!errors[0]!.message.includes('wrong-S3cret'));
      assert.ok(states.some((s) => s.state === 'reconnecting' && s.reason === 'auth failed'), JSON.stringify(states));
    } finally {
      await session.close();
    }
    await until(() => front.openSockets() === 0, 'no tunnel connection left', 3000);
  });
});
