/**
 * The session's state machine at its edges: close() from every state and from inside its own
 * events, and statistics that stay consistent across an attempt's end. Every session here logs
 * through the strict logger (test/support/camera-session.ts): a refused state change fails the
 * test, so each case also proves that no path asks for a change the transition table refuses.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { vectorPackets } from '../support/pcap';
import { startFakeServer, tcpCamera, framesOf, type FakeServer } from '../support/fake-rtsp-server';
import { openCamera, strictLogger } from '../support/camera-session';
import { closeAfter } from '../support/cleanup';
import { CameraSession } from '../../src/camera/session';
import type { CameraState } from '../../src/camera/types';
import { startDemoCamera } from '../../src/sim/demo-camera';

const VEC = join(__dirname, '..', 'fixtures', 'vectors', 'gst-tcp-320x240.pcap');
const FRAMES = framesOf(vectorPackets(VEC).rtp.map((x) => x.packet)).slice(0, 10);

function recordStates(cam: CameraSession): CameraState[] {
  const seen: CameraState[] = [];
  cam.on('state', (c) => seen.push(c.state));
  return seen;
}

async function until(cond: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not seen in time: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A camera that answers OPTIONS and lets `describe` answer (or not answer) DESCRIBE. */
function describeOnly(server: FakeServer, describe: Parameters<FakeServer['setHandler']>[0]): void {
  server.setHandler(tcpCamera(server, {
    frames: FRAMES,
    before: (req, conn) => {
      if (req.method !== 'DESCRIBE') return false;
      void describe(req, conn);
      return true;
    },
  }));
}

describe('close() from every state', () => {
  test('before start(): closed at once, one state event', async () => {
    const cam = openCamera('rtsp://127.0.0.1:9/x', { autoStart: false });
    const seen = recordStates(cam);
    const closing = cam.close();
    assert.equal(cam.state, 'closed', 'closed synchronously');
    await closing;
    await cam.close();
    assert.deepEqual(seen, ['closed']);
  });

  test('an invalid URL whose error listener closes the session: one closed state, no refused change', async () => {
    const cam = new CameraSession('http://127.0.0.1/not-rtsp', { logger: strictLogger() });
    const seen = recordStates(cam);
    const errors: string[] = [];
    cam.on('error', (e) => { errors.push(e.reason); void cam.close(); });
    cam.start();
    await cam.close();
    assert.deepEqual(errors, ['invalid url']);
    assert.equal(cam.state, 'closed');
    assert.deepEqual(seen, ['closed']);
  });

  test('while DESCRIBE is unanswered: closed in bounded time, the connection closed', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    describeOnly(server, () => undefined);
    const cam = closeAfter(t, openCamera(server.url()));
    const seen = recordStates(cam);
    await server.waitFor((r) => r.method === 'DESCRIBE', 5000);
    const t0 = Date.now();
    await cam.close();
    assert.ok(Date.now() - t0 < 3000, `close took ${Date.now() - t0} ms`);
    await until(() => server.conns.every((c) => c.socket.destroyed), 'the server sees the connection closed');
    assert.deepEqual(seen, ['connecting', 'closed']);
  });

  test("from a 'tracks' listener in the middle of the handshake: no SETUP is sent", async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, { frames: FRAMES }));
    const cam = closeAfter(t, openCamera(server.url()));
    const seen = recordStates(cam);
    let closed: Promise<void> | null = null;
    cam.on('tracks', () => { closed = cam.close(); });
    await until(() => closed !== null, "the 'tracks' event");
    await closed;
    assert.equal(cam.state, 'closed');
    assert.ok(!server.requests.some((r) => r.method === 'SETUP'), server.requests.map((r) => r.method).join(' '));
    assert.deepEqual(seen, ['connecting', 'closed']);
  });

  test("from an 'error' listener when the handshake fails: no reconnect is scheduled", async (t) => {
    const server = closeAfter(t, await startFakeServer());
    describeOnly(server, (req, conn) => conn.reply(req, 404));
    const cam = closeAfter(t, openCamera(server.url(), { reconnectMinMs: 50, reconnectMaxMs: 100 }));
    const seen = recordStates(cam);
    let closed: Promise<void> | null = null;
    cam.on('error', () => { closed ??= cam.close(); });
    await until(() => closed !== null, "the 'error' event");
    await closed;
    await new Promise((r) => setTimeout(r, 300)); // a reconnect would have come after 50..100 ms
    assert.equal(server.requests.filter((r) => r.method === 'DESCRIBE').length, 1);
    assert.deepEqual(seen, ['connecting', 'closed']);
  });

  test('while reconnecting: the retry timer is cancelled', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    describeOnly(server, (req, conn) => conn.reply(req, 404));
    const cam = closeAfter(t, openCamera(server.url(), { reconnectMinMs: 300, reconnectMaxMs: 300 }));
    cam.on('error', () => undefined);
    const seen = recordStates(cam);
    await until(() => cam.state === 'reconnecting', 'reconnecting');
    await cam.close();
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(server.requests.filter((r) => r.method === 'DESCRIBE').length, 1);
    assert.deepEqual(seen, ['connecting', 'reconnecting', 'closed']);
  });
});

describe('statistics across an attempt that ended', () => {
  test('framesDropped and bytesReceived never go down: the ended attempt is counted once', async (t) => {
    const demo = closeAfter(t, await startDemoCamera({ width: 160, height: 120, fps: 30, faults: { lossPercent: 25 } }));
    const cam = closeAfter(t, openCamera(demo.url, { reconnectMinMs: 200, reconnectMaxMs: 300, statsIntervalMs: 100 }));
    cam.on('error', () => undefined);
    const samples: { state: CameraState; dropped: number; bytes: number }[] = [];
    const sample = (): void => { const s = cam.getStats(); samples.push({ state: s.state, dropped: s.framesDropped, bytes: s.bytesReceived }); };
    cam.on('state', sample);
    cam.on('stats', sample);
    await until(() => cam.state === 'playing' && cam.getStats().framesDropped > 0, 'frames dropped to packet loss');
    demo.setFaults({ lossPercent: 25, dropConnectionAfterMs: 1 });
    await until(() => samples.some((s) => s.state === 'reconnecting'), 'reconnecting after the connection was dropped');
    demo.setFaults({ lossPercent: 25 });
    await until(() => cam.state === 'playing', 'playing again');
    await cam.close();
    for (let i = 1; i < samples.length; i++) {
      const [a, b] = [samples[i - 1]!, samples[i]!];
      assert.ok(b.dropped >= a.dropped, `framesDropped went from ${a.dropped} (${a.state}) to ${b.dropped} (${b.state})`);
      assert.ok(b.bytes >= a.bytes, `bytesReceived went from ${a.bytes} (${a.state}) to ${b.bytes} (${b.state})`);
    }
  });
});
