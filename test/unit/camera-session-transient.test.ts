/**
 * Transient server errors during the handshake: a 503 (with Retry-After in seconds or as an
 * HTTP-date), a 500 or 502 on DESCRIBE/SETUP/PLAY, and a connection reset are retried quickly
 * while the state stays 'connecting'; only when that keeps failing does the backoff apply,
 * with the reason ('server busy', 'server error') and the status line.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { vectorPackets } from '../support/pcap';
import { startFakeServer, tcpCamera, framesOf, type FakeRequest } from '../support/fake-rtsp-server';
import { openCamera } from '../support/camera-session';
import type { CameraSession } from '../../src/camera/session';
import { QUICK_RETRIES } from '../../src/camera/session';
import type { StateChange } from '../../src/camera/types';
import type { CameraError } from '../../src/errors';
import { retryAfterMs, RETRY_AFTER_CAP_MS } from '../../src/rtsp/retry-after';
import { closeAfter } from '../support/cleanup';

const VEC = join(__dirname, '..', 'fixtures', 'vectors', 'gst-tcp-320x240.pcap');
const FRAMES = framesOf(vectorPackets(VEC).rtp.map((x) => x.packet)).slice(0, 10);

function untilFrame(cam: CameraSession, timeoutMs = 6000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { cam.off('frame', on); reject(new Error(`no frame (state ${cam.state})`)); }, timeoutMs);
    const on = (): void => { clearTimeout(t); cam.off('frame', on); resolve(); };
    cam.on('frame', on);
  });
}
function untilState(cam: CameraSession, pred: (c: StateChange) => boolean, timeoutMs = 6000): Promise<StateChange> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { cam.off('state', on); reject(new Error(`state not reached (now ${cam.state})`)); }, timeoutMs);
    const on = (c: StateChange): void => { if (pred(c)) { clearTimeout(t); cam.off('state', on); resolve(c); } };
    cam.on('state', on);
  });
}
/** Records states and errors of a session. */
function watch(cam: CameraSession): { states: StateChange[]; errors: CameraError[] } {
  const w = { states: [] as StateChange[], errors: [] as CameraError[] };
  cam.on('state', (c) => w.states.push(c));
  cam.on('error', (e) => w.errors.push(e));
  return w;
}
const count = (reqs: FakeRequest[], method: string): number => reqs.filter((r) => r.method === method).length;

describe('Retry-After', () => {
  test('seconds, HTTP-date, past date, cap, garbage', () => {
    const now = Date.parse('Wed, 02 Dec 2026 08:00:00 GMT');
    assert.equal(retryAfterMs('1', now), 1000);
    assert.equal(retryAfterMs(' 2 ', now), 2000);
    assert.equal(retryAfterMs('0', now), 0);
    assert.equal(retryAfterMs('Wed, 02 Dec 2026 08:00:05 GMT', now), 5000);
    assert.equal(retryAfterMs('Wednesday, 02-Dec-26 08:00:03 GMT', now), 3000);
    assert.equal(retryAfterMs('Wed, 02 Dec 2026 07:00:00 GMT', now), 0, 'a past date means now');
    assert.equal(retryAfterMs('3600', now), RETRY_AFTER_CAP_MS);
    assert.equal(retryAfterMs('Thu, 03 Dec 2026 08:00:00 GMT', now), RETRY_AFTER_CAP_MS);
    for (const bad of [undefined, '', '-1', '1.5', 'soon', '12345678901']) assert.equal(retryAfterMs(bad, now), null, String(bad));
  });
});

describe('transient handshake errors', () => {
  test('503 with Retry-After: 1 on the first DESCRIBE → the next DESCRIBE 1 s later (±20 %), then playing; no error, no reconnecting', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    let refused = false;
    let refusedAt = 0;
    server.setHandler(tcpCamera(server, {
      frames: FRAMES,
      before: (req, conn) => {
        if (req.method === 'DESCRIBE' && !refused) {
          refused = true;
          refusedAt = performance.now();
          conn.reply(req, 503, { 'Retry-After': '1' });
          return true;
        }
        return false;
      },
    }));
    const cam = openCamera(server.url(), { transport: 'tcp' });
    const w = watch(cam);
    try {
      await untilFrame(cam, 5000);
    } finally { await cam.close(); }
    const describes = server.requests.filter((r) => r.method === 'DESCRIBE');
    assert.equal(describes.length, 2);
    const gap = describes[1]!.at - refusedAt;
    assert.ok(gap >= 800 && gap <= 1200, `next DESCRIBE ${gap.toFixed(0)} ms after the 503 (want 1000 ± 20 %)`);
    assert.deepEqual(w.errors, [], 'a retried 503 is not an error');
    assert.deepEqual(w.states.map((s) => s.state), ['connecting', 'playing', 'closed']);
  });

  test('503 with Retry-After as an HTTP-date is honoured (whole seconds: 1 to 2 s)', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    let refusedAt = 0;
    server.setHandler(tcpCamera(server, {
      frames: FRAMES,
      before: (req, conn) => {
        if (req.method === 'DESCRIBE' && refusedAt === 0) {
          refusedAt = performance.now();
          conn.reply(req, 503, { 'Retry-After': new Date(Date.now() + 2000).toUTCString() });
          return true;
        }
        return false;
      },
    }));
    const cam = openCamera(server.url());
    try {
      await untilFrame(cam, 6000);
    } finally { await cam.close(); }
    const describes = server.requests.filter((r) => r.method === 'DESCRIBE');
    const gap = describes[1]!.at - refusedAt;
    // toUTCString drops the milliseconds: the date is 1 to 2 s ahead, plus up to 10 % jitter
    assert.ok(gap >= 950 && gap <= 2400, `next DESCRIBE ${gap.toFixed(0)} ms after the 503`);
  });

  for (const [method, status] of [['DESCRIBE', 500], ['SETUP', 502], ['PLAY', 500], ['PLAY', 502]] as const) {
    test(`${status} once on ${method} → retried within a few hundred ms, then playing`, async (t) => {
      const server = closeAfter(t, await startFakeServer());
      let failedAt = 0;
      server.setHandler(tcpCamera(server, {
        frames: FRAMES,
        before: (req, conn) => {
          if (req.method === method && failedAt === 0) { failedAt = performance.now(); conn.reply(req, status, method === 'DESCRIBE' ? {} : { Session: 'ABCDEF12' }); return true; }
          return false;
        },
      }));
      const cam = openCamera(server.url());
      const w = watch(cam);
      try {
        await untilFrame(cam, 5000);
      } finally { await cam.close(); }
      const again = server.requests.filter((r) => r.method === method)[1]!;
      assert.ok(again.connIndex === 1, 'the retry is a new attempt on a new connection');
      assert.ok(again.at - failedAt < 1000, `retried ${(again.at - failedAt).toFixed(0)} ms later`);
      assert.deepEqual(w.errors, []);
      assert.ok(!w.states.some((s) => s.state === 'reconnecting'));
      if (method === 'PLAY') assert.ok(server.requests.some((r) => r.method === 'TEARDOWN' && r.connIndex === 0), 'the half-made session is torn down');
    });
  }

  test('connection reset during the handshake → retried quickly, then playing', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    let reset = false;
    server.setHandler(tcpCamera(server, {
      frames: FRAMES,
      before: (req, conn) => {
        if (req.method === 'SETUP' && !reset) { reset = true; conn.socket.resetAndDestroy(); return true; }
        return false;
      },
    }));
    const cam = openCamera(server.url());
    const w = watch(cam);
    try {
      await untilFrame(cam, 5000);
    } finally { await cam.close(); }
    assert.equal(server.conns.length, 2);
    assert.deepEqual(w.errors, []);
    assert.ok(!w.states.some((s) => s.state === 'reconnecting'));
  });

  test('a connection the camera closes in order (FIN) is not retried quickly: that is how a camera at its client limit says no', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, {
      frames: FRAMES,
      before: (req, conn) => {
        if (req.method === 'DESCRIBE') { conn.socket.end(); return true; }
        return false;
      },
    }));
    const cam = openCamera(server.url(), { reconnectMinMs: 5000 });
    try {
      const c = await untilState(cam, (s) => s.state === 'reconnecting', 5000);
      assert.equal(c.reason, 'connection lost');
      assert.equal(count(server.requests, 'DESCRIBE'), 1);
    } finally { await cam.close(); }
  });

  test(`503 every time → ${QUICK_RETRIES} quick retries, then reconnecting with 'server busy', the status line and at least Retry-After`, async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, {
      frames: FRAMES,
      before: (req, conn) => {
        if (req.method === 'DESCRIBE') { conn.reply(req, 503, { 'Retry-After': '0' }); return true; }
        return false;
      },
    }));
    const cam = openCamera(server.url(), { reconnectMinMs: 50, reconnectMaxMs: 100 });
    const w = watch(cam);
    try {
      const c = await untilState(cam, (s) => s.state === 'reconnecting', 5000);
      assert.equal(c.reason, 'server busy');
      assert.equal(count(server.requests, 'DESCRIBE'), QUICK_RETRIES + 1);
      assert.equal(w.errors.length, 1);
      assert.equal(w.errors[0]!.reason, 'server busy');
      assert.equal(w.errors[0]!.statusCode, 503);
      assert.match(w.errors[0]!.message, /^DESCRIBE rtsp:\/\/127\.0\.0\.1:\d+\/cam: 503 Service Unavailable$/);
    } finally { await cam.close(); }
  });

  test('a Retry-After longer than the backoff delays the backoff too', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, {
      frames: FRAMES,
      before: (req, conn) => {
        if (req.method === 'DESCRIBE') { conn.reply(req, 503, { 'Retry-After': server.requests.filter((r) => r.method === 'DESCRIBE').length > QUICK_RETRIES ? '5' : '0' }); return true; }
        return false;
      },
    }));
    const cam = openCamera(server.url(), { reconnectMinMs: 50, reconnectMaxMs: 100 });
    try {
      const c = await untilState(cam, (s) => s.state === 'reconnecting', 5000);
      assert.ok((c.retryInMs ?? 0) >= 5000, `retry in ${c.retryInMs} ms`);
    } finally { await cam.close(); }
  });

  for (const [status, reason] of [[404, 'not found'], [401, 'auth failed'], [454, 'session expired']] as const) {
    test(`${status} on DESCRIBE is not retried quickly (${reason})`, async (t) => {
      const server = closeAfter(t, await startFakeServer());
      server.setHandler(tcpCamera(server, {
        frames: FRAMES,
        before: (req, conn) => {
          if (req.method === 'DESCRIBE') { conn.reply(req, status); return true; }
          return false;
        },
      }));
      const cam = openCamera(server.url(), { reconnectMinMs: 5000 });
      try {
        const c = await untilState(cam, (s) => s.state === 'reconnecting', 5000);
        assert.equal(c.reason, reason);
        assert.equal(count(server.requests, 'DESCRIBE'), 1);
      } finally { await cam.close(); }
    });
  }
});
