/**
 * Hostile HTTP camera servers against the HTTP source: an endless part without a boundary,
 * a boundary line that never ends, a 1 GB Content-Length (a lie, and the truth), HTML instead
 * of JPEG, a slowloris server, a server that closes mid-part, a redirect loop. Each must end
 * in a clear reason and message, keep memory bounded (heap and Buffer growth sampled every
 * 10 ms during the exchange, and what is held after a forced GC mid-flood, bounds stated per
 * case), and reconnect per the policy (a new connection no earlier than the announced
 * retryInMs; for 'not a JPEG source' the long delay announced).
 */
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { openCamera } from '../../src/camera/open';
import type { CameraSession } from '../../src/camera/session';
import type { CameraOptions } from '../../src/camera/types';
import { startHttpDevice, JpegLoop, type DeviceConn, type DeviceHandler, type HttpDevice } from '../peers/http-device';
import { Recorder, until, heapAfterGc, MB } from './support';

const CAP = 4 * MB;
const OPTS: CameraOptions = { reconnectMinMs: 300, reconnectMaxMs: 1000, requestTimeoutMs: 1500, stallTimeoutMs: 1500, statsIntervalMs: 200, maxFrameBytes: CAP };
const JPEG = new JpegLoop(160, 120, 4);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(handler: DeviceHandler): Promise<HttpDevice> {
  const d = await startHttpDevice(handler);
  cleanups.push(() => d.close());
  return d;
}

function camera(url: string, extra: CameraOptions = {}): { s: CameraSession; r: Recorder } {
  const s = openCamera(url, { ...OPTS, ...extra });
  const r = new Recorder(s);
  cleanups.push(() => s.close());
  return { s, r };
}

/** Writes `chunk` repeatedly, respecting backpressure, until `total` bytes, `maxMs`, or the close. */
function pump(c: DeviceConn, chunk: Buffer, total: number, maxMs: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    const end = performance.now() + maxMs;
    const go = (): void => {
      while (!c.closed && sent < total && performance.now() < end) {
        sent += chunk.length;
        if (!c.write(chunk)) { c.socket.once('drain', go); return; }
      }
      resolve(sent);
    };
    c.socket.once('close', () => resolve(sent));
    go();
  });
}

interface Mem { heapMB: number; bufMB: number; liveHeapMB: number; liveBufMB: number }

/**
 * Peak heap and Buffer growth over a GC'd baseline, sampled every 10 ms, and what is still
 * held after a forced GC in the middle of the flood (`live()`): the peaks include read
 * buffers already dropped but not yet collected, the live figures what the client keeps.
 */
function memoryWatch(): { live(): void; stop(): Mem } {
  const base = heapAfterGc();
  const baseBuf = process.memoryUsage().arrayBuffers;
  let heap = base;
  let buf = baseBuf;
  let liveHeap = base;
  let liveBuf = baseBuf;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    heap = Math.max(heap, m.heapUsed);
    buf = Math.max(buf, m.arrayBuffers);
  }, 10);
  const mb = (x: number): number => Math.round((x / MB) * 10) / 10;
  return {
    live: () => {
      liveHeap = Math.max(liveHeap, heapAfterGc());
      liveBuf = Math.max(liveBuf, process.memoryUsage().arrayBuffers);
    },
    stop: () => {
      clearInterval(timer);
      return { heapMB: mb(heap - base), bufMB: mb(buf - baseBuf), liveHeapMB: mb(liveHeap - base), liveBufMB: mb(liveBuf - baseBuf) };
    },
  };
}

/** During a flood: what the client holds stays near `heldMB`; peaks stay far below the 200 MB offered. */
function assertBounded(m: Mem, heldMB: number, name: string): void {
  process.stdout.write(`# reliability http-hostile ${name}: ${JSON.stringify(m)}\n`);
  assert.ok(m.liveHeapMB < 8 && m.liveBufMB < heldMB + 8, `held after GC: ${JSON.stringify(m)}`);
  assert.ok(m.heapMB < 32 && m.bufMB < 64, `peaks: ${JSON.stringify(m)}`);
}

/**
 * The first error has `reason` and matches `msg`; then 'reconnecting' and a new connection no
 * sooner than announced (for reasons on the long schedule, camera/backoff.ts: the announced
 * delay alone). `during` runs while waiting for the error.
 */
async function failsAndRetries(dev: HttpDevice, r: Recorder, reason: string, msg: RegExp, o: { timeoutMs?: number; lasting?: boolean; during?: () => void } = {}): Promise<void> {
  if (o.during) {
    await until(() => r.frames.length > 0 || r.errors.length > 0 || dev.connections() > 0, 'the exchange started', 5000);
    await new Promise((res) => setTimeout(res, 500));
    o.during();
  }
  await until(() => r.errors.length > 0, `an error (${reason})`, o.timeoutMs ?? 10000);
  const e = r.errors[0]!;
  assert.equal(e.err.reason, reason, `reason: ${e.err.reason} — ${e.err.message}`);
  assert.match(e.err.message, msg);
  const rec = r.states.find((s) => s.state === 'reconnecting');
  assert.ok(rec && rec.retryInMs !== undefined, `reconnecting announced: ${r.stateTrail()}`);
  assert.equal(rec.reason, reason);
  if (o.lasting) {
    // a URL that serves no JPEG will not change by itself: the next try is ≥ 30 s (−20 % jitter) away
    assert.ok(rec.retryInMs >= 24000, `retryInMs ${rec.retryInMs}`);
    return;
  }
  const conns = dev.connections();
  await until(() => dev.connections() > conns, 'a new connection', rec.retryInMs + 5000);
  assert.ok(performance.now() - rec.at >= rec.retryInMs - 20, 'not before the announced delay');
}

const STREAM_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=hostile\r\nConnection: close\r\n\r\n';
const FLOOD = 200 * MB;

describe('hostile HTTP MJPEG servers', () => {
  test('an endless part without a boundary (200 MB offered): frame too large, held < cap + 8 MB', async () => {
    const dev = await server((_req, c) => {
      c.write(`${STREAM_HEAD}--hostile\r\nContent-Type: image/jpeg\r\n\r\n`);
      c.write(JPEG.next().subarray(0, 200));
      void pump(c, Buffer.alloc(64 * 1024, 0x5a), FLOOD, 4000);
    });
    const mem = memoryWatch();
    const { s, r } = camera(dev.url('/'));
    await failsAndRetries(dev, r, 'frame too large', /over the 4 MB limit/, { during: () => mem.live() });
    assertBounded(mem.stop(), CAP / MB, 'endless part');
    assert.equal(r.frames.length, 0);
    assert.ok(s.getStats().framesDropped >= 1, 'the oversized part is counted');
  });

  test('a boundary line that never ends (endless padding after --boundary): stalled, held < 8 MB', async () => {
    const dev = await server((_req, c) => {
      c.write(`${STREAM_HEAD}--hostile`);
      void pump(c, Buffer.alloc(64 * 1024, 0x20), FLOOD, 4000);
    });
    const mem = memoryWatch();
    const { r } = camera(dev.url('/'));
    await failsAndRetries(dev, r, 'stalled', /no complete JPEG/, { during: () => mem.live() });
    assertBounded(mem.stop(), 0, 'endless boundary line');
  });

  test('Content-Length: 1 GB that is a lie: the picture ends at its EOI, frames keep flowing', async () => {
    const dev = await server((_req, c) => {
      c.write(STREAM_HEAD);
      let n = 0;
      const t = setInterval(() => {
        if (c.closed || n++ > 200) { clearInterval(t); return; }
        const j = JPEG.next();
        c.write(`--hostile\r\nContent-Type: image/jpeg\r\nContent-Length: 1073741824\r\n\r\n`);
        c.write(j);
        c.write('\r\n');
      }, 40);
      cleanups.push(() => clearInterval(t));
    });
    const { r } = camera(dev.url('/'));
    await until(() => r.frames.length >= 10, '10 frames', 10000);
    assert.deepEqual(r.badFrames, []);
    assert.deepEqual(r.errors.map((e) => e.err.reason), []);
  });

  test('Content-Length: 1 GB that is true (a flood): dropped at the cap, frame too large, held < cap + 8 MB', async () => {
    const dev = await server((_req, c) => {
      c.write(`${STREAM_HEAD}--hostile\r\nContent-Type: image/jpeg\r\nContent-Length: 1073741824\r\n\r\n\xff\xd8\xff\xe0`);
      void pump(c, Buffer.alloc(64 * 1024, 0x11), FLOOD, 4000);
    });
    const mem = memoryWatch();
    const { r } = camera(dev.url('/'));
    await failsAndRetries(dev, r, 'frame too large', /over the 4 MB limit/, { during: () => mem.live() });
    assertBounded(mem.stop(), CAP / MB, '1 GB Content-Length flood');
  });

  test('a snapshot answer announcing 1 GB: refused before reading it (frame too large)', async () => {
    const dev = await server((_req, c) => {
      c.write('HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 1073741824\r\n\r\n\xff\xd8');
      void pump(c, Buffer.alloc(64 * 1024, 0x11), 64 * MB, 3000);
    });
    const mem = memoryWatch();
    const { r } = camera(dev.url('/snap.jpg'));
    await failsAndRetries(dev, r, 'frame too large', /larger than the frame cap/);
    assertBounded(mem.stop(), 0, '1 GB snapshot');
  });

  for (const [name, head, body] of [
    ['text/html (a login page)', 'HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n', '<!DOCTYPE html><html><body><form>login</form></body></html>'],
    ['image/jpeg that is an HTML page', 'HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n', '<html><body>Please log in</body></html>'],
    ['octet-stream that is H.264', 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n', '\x00\x00\x00\x01\x67\x42\x00\x1e\x00\x00\x00\x01\x68'],
  ] as const) {
    test(`HTML or video instead of JPEG — ${name}: not a JPEG source, long backoff`, async () => {
      const dev = await server((_req, c) => {
        c.write(`${head}Content-Length: ${body.length}\r\n\r\n${body}`);
        c.done();
      });
      const { r } = camera(dev.url('/'));
      await failsAndRetries(dev, r, 'not a JPEG source', /HTML|not a JPEG|H\.264/, { lasting: true });
    });
  }

  test('a multipart stream of HTML parts: not a JPEG source after a few parts', async () => {
    const dev = await server((_req, c) => {
      c.write(STREAM_HEAD);
      for (let i = 0; i < 8; i++) c.write(`--hostile\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>\r\n`);
      c.write('--hostile\r\n');
    });
    const { r } = camera(dev.url('/'));
    await failsAndRetries(dev, r, 'not a JPEG source', /no JPEG picture/, { lasting: true });
  });

  test('slowloris: a head at one byte per 100 ms times out at requestTimeoutMs', async () => {
    const dev = await server((_req, c) => {
      const text = Buffer.from(STREAM_HEAD);
      let i = 0;
      const t = setInterval(() => { if (c.closed || i >= text.length) clearInterval(t); else c.write(text.subarray(i, ++i)); }, 100);
      cleanups.push(() => clearInterval(t));
    });
    const t0 = performance.now();
    const { r } = camera(dev.url('/'));
    await failsAndRetries(dev, r, 'timeout', /no answer/);
    assert.ok(r.errors[0]!.at - t0 >= OPTS.requestTimeoutMs! - 50, 'not before the timeout');
  });

  test('slowloris: a picture at 64 bytes per 100 ms never completes: stalled', async () => {
    const dev = await server((_req, c) => {
      c.write(`${STREAM_HEAD}--hostile\r\nContent-Type: image/jpeg\r\n\r\n`);
      const j = JPEG.next();
      let i = 0;
      const t = setInterval(() => { if (c.closed || i >= j.length) clearInterval(t); else { c.write(j.subarray(i, i + 64)); i += 64; } }, 100);
      cleanups.push(() => clearInterval(t));
    });
    const { r } = camera(dev.url('/'));
    await failsAndRetries(dev, r, 'stalled', /no complete JPEG/);
  });

  test('the server closes in the middle of a picture: connection lost, the partial picture counted as dropped', async () => {
    const dev = await server((_req, c) => {
      c.write(STREAM_HEAD);
      for (let i = 0; i < 3; i++) {
        const j = JPEG.next();
        c.write(`--hostile\r\nContent-Type: image/jpeg\r\nContent-Length: ${j.length}\r\n\r\n`);
        c.write(j);
        c.write('\r\n');
      }
      const j = JPEG.next();
      c.write(`--hostile\r\nContent-Type: image/jpeg\r\nContent-Length: ${j.length}\r\n\r\n`);
      c.write(j.subarray(0, j.length >> 1));
      c.end();
    });
    const { s, r } = camera(dev.url('/'));
    await failsAndRetries(dev, r, 'connection lost', /middle of a picture/);
    assert.ok(r.frames.length >= 3);
    assert.deepEqual(r.badFrames, []);
    assert.ok(s.getStats().framesDropped >= 1);
  });

  test('a redirect loop: redirect refused after 3 hops', async () => {
    const dev = await server((req, c) => {
      c.write(`HTTP/1.1 302 Found\r\nLocation: ${req.path === '/a' ? '/b' : '/a'}\r\nContent-Length: 0\r\n\r\n`);
      c.done();
    });
    const { r } = camera(dev.url('/a'));
    await failsAndRetries(dev, r, 'redirect refused', /more than 3 redirects/);
  });
});
