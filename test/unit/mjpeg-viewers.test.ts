/**
 * The viewer fan-out without Node-RED, on a plain Node http server: multipart framing,
 * snapshots (at once, after waiting, 503 after the timeout), maxViewers, per-viewer fps,
 * demand transitions, and a viewer that stops reading: it skips frames instead of queueing
 * them, the others get every frame, and it gets the newest frame once it reads again.
 */
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MjpegViewers, type MjpegViewersOptions } from '../../src/http/mjpeg-viewers';
import { OnDemand, parseConnect, parseLingerS, DEFAULT_LINGER_S } from '../../src/nodes/lib/on-demand';
import { normalizePath } from '../../src/nodes/lib/http-route';
import { openMjpeg, httpGet, waitUntil, type MjpegClient } from '../support/mjpeg-client';

/** a fake "JPEG" with SOI/EOI, distinct per n, `size` bytes long */
function frame(n: number, size = 2000): Buffer {
  const b = Buffer.alloc(size, n & 0xff);
  b[0] = 0xff; b[1] = 0xd8; b.writeUInt32BE(n, 2); b[size - 2] = 0xff; b[size - 1] = 0xd9;
  return b;
}
const frameNo = (b: Buffer): number => b.readUInt32BE(2);

let server: Server | null = null;
let hub: MjpegViewers | null = null;
/** the server side of every stream, to look at what is buffered for each viewer */
const responses: ServerResponse[] = [];
const clients: MjpegClient[] = [];

async function serve(opts: Partial<MjpegViewersOptions> = {}): Promise<{ hub: MjpegViewers; url: string; demand: boolean[] }> {
  const demand: boolean[] = [];
  const h = new MjpegViewers({ maxViewers: 10, maxFps: 0, snapshotTimeoutMs: 300, onDemand: (w) => demand.push(w), ...opts });
  hub = h;
  server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/cam/snapshot.jpg') h.snapshot(req, res);
    else {
      responses.push(res);
      h.stream(req, res, Number(u.searchParams.get('fps') ?? 0));
    }
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return { hub: h, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cam`, demand };
}

async function open(url: string, o: Parameters<typeof openMjpeg>[1] = {}): Promise<MjpegClient> {
  const c = await openMjpeg(url, o);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  responses.splice(0);
  hub?.close();
  hub = null;
  const s = server;
  server = null;
  if (s) await new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); });
});

describe('MjpegViewers', () => {
  test('streams one well-formed image/jpeg part per frame, headers for no caching', async () => {
    const { hub: h, url, demand } = await serve();
    const c = await open(url, { keep: 100 });
    assert.equal(c.status, 200);
    assert.equal(c.headers['content-type'], 'multipart/x-mixed-replace; boundary=mjpegframe');
    assert.match(String(c.headers['cache-control']), /no-store/);
    assert.ok(await waitUntil(() => h.viewerCount === 1, 2000));
    assert.deepEqual(demand, [true]);
    for (let i = 1; i <= 20; i++) {
      h.push(frame(i, 1000 + i * 37));
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.ok(await waitUntil(() => c.count === 20, 3000), `got ${c.count}/20 parts`);
    assert.deepEqual(c.errors, []);
    assert.deepEqual(c.kept.map(frameNo), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.ok(c.kept.every((b, i) => b.equals(frame(i + 1, 1000 + (i + 1) * 37))), 'bytes unchanged');
    c.close();
    assert.ok(await waitUntil(() => h.viewerCount === 0, 2000), 'viewer removed when it disconnects');
    assert.deepEqual(demand, [true, false]);
  });

  test('a new viewer gets the latest frame at once', async () => {
    const { hub: h, url } = await serve();
    h.push(frame(7));
    const c = await open(url);
    assert.ok(await waitUntil(() => c.count === 1, 2000));
    assert.equal(frameNo(c.kept[0] as Buffer), 7);
  });

  test('past maxViewers: 503 with Retry-After; a place frees when a viewer leaves', async () => {
    const { hub: h, url } = await serve({ maxViewers: 2 });
    const a = await open(url);
    await open(url);
    const third = await httpGet(url);
    assert.equal(third.status, 503);
    assert.ok(Number(third.headers['retry-after']) > 0, 'Retry-After set');
    a.close();
    assert.ok(await waitUntil(() => h.viewerCount === 1, 2000));
    const again = await open(url);
    assert.equal(again.status, 200);
  });

  test('?fps thins one viewer evenly, the other gets every frame', async () => {
    let now = 0;
    const { hub: h, url } = await serve({ now: () => now });
    const all = await open(url, { keep: 1000 });
    const thin = await open(`${url}?fps=5`, { keep: 1000 });
    assert.ok(await waitUntil(() => h.viewerCount === 2, 2000));
    // 25 fps with ±3 ms of arrival jitter for 4 s
    for (let i = 0; i < 100; i++) {
      now = i * 40 + (i % 3) * 3 - 3;
      h.push(frame(i + 1));
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(await waitUntil(() => all.count === 100, 3000), `all: ${all.count}`);
    await waitUntil(() => thin.count >= 20, 1000);
    assert.equal(thin.count, 20, 'every fifth frame');
    const nos = thin.kept.map(frameNo);
    assert.ok(nos.slice(1).every((n, i) => n - (nos[i] as number) === 5), `frames ${nos.join(',')}`);
  });

  test('maxFps applies to every viewer; a viewer asking more gets the node limit', async () => {
    let now = 0;
    const { hub: h, url } = await serve({ maxFps: 10, now: () => now });
    const c = await open(`${url}?fps=20`, { keep: 1000 });
    assert.ok(await waitUntil(() => h.viewerCount === 1, 2000));
    for (let i = 0; i < 50; i++) {
      now = i * 40;
      h.push(frame(i + 1));
      await new Promise((r) => setImmediate(r));
    }
    await waitUntil(() => c.count >= 20, 1000);
    assert.equal(c.count, 20, '10 of 25 fps for 2 s');
  });

  test('snapshot: the latest frame at once, else the next one, else 503 after the timeout', async () => {
    const { hub: h, url, demand } = await serve({ snapshotTimeoutMs: 300 });
    const none = await httpGet(`${url}/snapshot.jpg`);
    assert.equal(none.status, 503);
    assert.ok(Number(none.headers['retry-after']) > 0);
    assert.deepEqual(demand, [true, false], 'a waiting snapshot wants frames, then gives up');

    const pending = httpGet(`${url}/snapshot.jpg`);
    assert.ok(await waitUntil(() => demand.length === 3, 2000));
    h.push(frame(3));
    const got = await pending;
    assert.equal(got.status, 200);
    assert.equal(got.headers['content-type'], 'image/jpeg');
    assert.equal(Number(got.headers['content-length']), got.body.length);
    assert.equal(frameNo(got.body), 3);

    h.push(frame(4));
    const latest = await httpGet(`${url}/snapshot.jpg`);
    assert.equal(frameNo(latest.body), 4);
    h.clearLatest();
    assert.equal((await httpGet(`${url}/snapshot.jpg`)).status, 503, 'a cleared frame is not served');
  });

  test('a viewer that stops reading skips frames instead of queueing them; the others get all', async () => {
    const { hub: h, url } = await serve();
    const fast = await open(url, { keep: 0 });
    // 50 kB/s against 100 kB frames every 2 ms: its socket fills and stays full
    const slow = await open(url, { throttle: 50_000, keep: 1000 });
    assert.ok(await waitUntil(() => h.viewerCount === 2, 2000));
    const big = 100_000;
    const frames = Array.from({ length: 10 }, (_, i) => frame(i + 1, big));
    let maxBuffered = 0;
    for (let i = 1; i <= 300; i++) {
      h.push(frames[i % 10] as Buffer);
      for (const r of responses) maxBuffered = Math.max(maxBuffered, r.writableLength);
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.ok(await waitUntil(() => fast.count === 300, 10000), `fast viewer: ${fast.count}/300`);
    const c = h.counters();
    assert.ok(c.framesSkippedSlow > 150, `slow viewer skipped ${c.framesSkippedSlow} frames`);
    // 30 MB were offered to the slow viewer; what waits for it in user space is one part
    assert.ok(maxBuffered <= big + 200, `at most one frame buffered per viewer, saw ${maxBuffered} bytes`);
    assert.ok(await waitUntil(() => slow.count >= 1, 8000), 'the slow viewer got a frame');
    assert.ok(slow.kept.every((b) => frames.some((f) => f.equals(b))), 'the slow viewer got whole frames');
    assert.deepEqual(fast.errors, []);
    assert.deepEqual(slow.errors, []);
  });

  test('a blocked viewer gets the newest frame when it drains', async () => {
    const { hub: h, url } = await serve();
    const slow = await open(url, { throttle: 400_000, keep: 1000 });
    assert.ok(await waitUntil(() => h.viewerCount === 1, 2000));
    for (let i = 1; i <= 200; i++) h.push(frame(i, 200_000));
    // all pushed in one turn: the first went out, the rest were skipped, and the newest
    // follows on 'drain'
    assert.ok(await waitUntil(() => slow.count >= 2, 10000), `slow got ${slow.count}`);
    const nos = slow.kept.map(frameNo);
    assert.equal(nos[0], 1);
    assert.equal(nos[nos.length - 1], 200, `frames ${nos.join(',')}`);
    assert.ok(nos.length < 10);
  });

  test('close() ends viewers and answers waiting snapshots with 503', async () => {
    const { hub: h, url, demand } = await serve({ snapshotTimeoutMs: 5000 });
    const c = await open(url);
    const snap = httpGet(`${url}/snapshot.jpg`);
    assert.ok(await waitUntil(() => h.viewerCount === 1, 2000));
    await new Promise((r) => setTimeout(r, 50));
    h.close();
    assert.equal((await snap).status, 503);
    assert.ok(await waitUntil(() => c.ended, 2000), 'stream ended');
    assert.equal(demand[demand.length - 1], false);
  });
});

describe('OnDemand', () => {
  test('opens with the first consumer, closes once, `linger` after the last one left', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const log: string[] = [];
    const d = new OnDemand({ lingerMs: DEFAULT_LINGER_S * 1000, open: () => log.push('open'), close: () => log.push('close') });
    d.set('a', true);
    d.set('b', true);
    assert.deepEqual(log, ['open']);
    d.set('a', false);
    t.mock.timers.tick(60_000);
    assert.deepEqual(log, ['open'], 'b still wants frames');
    d.set('b', false);
    t.mock.timers.tick(9_999);
    assert.deepEqual(log, ['open'], 'lingers');
    t.mock.timers.tick(1);
    assert.deepEqual(log, ['open', 'close'], 'closed after exactly 10 s');
    t.mock.timers.tick(60_000);
    assert.deepEqual(log, ['open', 'close'], 'closed once');
  });

  test('a consumer back during the linger keeps the session; dispose stops everything', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const log: string[] = [];
    const d = new OnDemand({ lingerMs: 10_000, open: () => log.push('open'), close: () => log.push('close') });
    d.set('a', true);
    d.set('a', false);
    t.mock.timers.tick(5_000);
    d.set('a', true);
    t.mock.timers.tick(20_000);
    assert.deepEqual(log, ['open']);
    d.set('a', false);
    d.set('a', false);
    d.dispose();
    t.mock.timers.tick(20_000);
    d.set('a', true);
    assert.deepEqual(log, ['open']);
    assert.equal(d.active, false);
  });

  test('options: connect and linger parsing', () => {
    assert.equal(parseConnect('on demand'), 'on demand');
    assert.equal(parseConnect(undefined), 'always');
    assert.equal(parseConnect('bogus'), 'always');
    assert.equal(parseLingerS(''), 10);
    assert.equal(parseLingerS('2.5'), 2.5);
    assert.equal(parseLingerS(-1), 10);
    assert.equal(parseLingerS(0), 0);
  });

  test('paths: normalized, or null when they cannot be one', () => {
    assert.equal(normalizePath('cameras/front/'), '/cameras/front');
    assert.equal(normalizePath(' /a:b '), '/a:b');
    for (const bad of ['', '/', 'a b', '/x?y=1', '/x#y', '/cam/snapshot.jpg', undefined, 5]) assert.equal(normalizePath(bad), null, String(bad));
  });
});

