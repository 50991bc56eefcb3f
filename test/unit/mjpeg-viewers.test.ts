/**
 * The viewer fan-out without Node-RED, on a plain Node http server: multipart framing,
 * snapshots (at once, after waiting, 503 after the timeout), maxViewers, per-viewer fps,
 * demand transitions, and a viewer that stops reading: it skips frames instead of queueing
 * them, the others get every frame, and it gets the newest frame once it reads again.
 */
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get as httpRawGet, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { MjpegViewers, type MjpegViewersOptions } from '../../src/http/mjpeg-viewers';
import { OnDemand, parseConnect, parseLingerS, DEFAULT_LINGER_S } from '../../src/nodes/lib/on-demand';
import { normalizePath } from '../../src/nodes/lib/http-route';
import { openMjpeg, httpGet, waitUntil, type MjpegClient } from '../support/mjpeg-client';
import { forceGc, MB } from '../reliability/support';
import { decodeJpeg } from '../support/djpeg';

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
const sockets: Socket[] = [];

/** A plain GET that keeps the raw body (no multipart parsing), for boundary-level checks. */
function rawGet(url: string): Promise<{ headers: Record<string, unknown>; body: () => Buffer; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = httpRawGet(url, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', () => undefined);
      resolve({ headers: res.headers, body: () => Buffer.concat(parts), close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

/** Splits a multipart body the way browsers do: by searching for the delimiter line, not by
 * Content-Length. Returns the body of each complete part. */
function partsByDelimiter(body: Buffer, boundary: string): Buffer[] {
  const delim = Buffer.from(`--${boundary}\r\n`);
  const starts: number[] = [];
  for (let i = body.indexOf(delim); i >= 0; i = body.indexOf(delim, i + 1)) starts.push(i);
  const parts: Buffer[] = [];
  for (let k = 0; k + 1 < starts.length; k++) {
    const head = body.indexOf('\r\n\r\n', starts[k]);
    // the part ends with CRLF before the next delimiter
    parts.push(body.subarray(head + 4, (starts[k + 1] as number) - 2));
  }
  return parts;
}

/** a client that sends `request` and never reads what comes back */
function deafClient(port: number, request: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.pause();
      s.write(request);
      resolve(s);
    });
    s.on('error', () => undefined);
    s.once('error', reject);
    sockets.push(s);
  });
}

async function serve(opts: Partial<MjpegViewersOptions> = {}): Promise<{ hub: MjpegViewers; url: string; demand: boolean[]; requests: () => number }> {
  const demand: boolean[] = [];
  let requests = 0;
  const h = new MjpegViewers({ maxViewers: 10, maxFps: 0, snapshotTimeoutMs: 300, onDemand: (w) => demand.push(w), ...opts });
  hub = h;
  server = createServer((req, res) => {
    requests++;
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/cam/snapshot.jpg') h.snapshot(req, res);
    else {
      responses.push(res);
      h.stream(req, res, Number(u.searchParams.get('fps') ?? 0));
    }
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return { hub: h, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cam`, demand, requests: () => requests };
}

async function open(url: string, o: Parameters<typeof openMjpeg>[1] = {}): Promise<MjpegClient> {
  const c = await openMjpeg(url, o);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const c of sockets.splice(0)) c.destroy();
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
    assert.match(String(c.headers['content-type']), /^multipart\/x-mixed-replace; boundary=mjpeg[0-9a-f]{32}$/);
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

describe('MjpegViewers under attack and failure', () => {
  test('each response has its own random boundary; a frame holding a viewer\'s boundary is dropped for it and counted', async () => {
    const { hub: h, url } = await serve();
    const a = await rawGet(url);
    const b = await rawGet(url);
    const bound = (r: { headers: Record<string, unknown> }): string => /boundary=(\S+)$/.exec(String(r.headers['content-type']))?.[1] ?? '';
    const [ba, bb] = [bound(a), bound(b)];
    assert.notEqual(ba, bb, 'two responses, two boundaries');
    assert.match(ba, /^mjpeg[0-9a-f]{32}$/);
    assert.ok(await waitUntil(() => h.viewerCount === 2, 2000));
    // a frame whose bytes hold A's delimiter line and a part header, as a hostile source could
    const poison = Buffer.concat([frame(2, 100).subarray(0, 50), Buffer.from(`\r\n--${ba}\r\nContent-Type: image/jpeg\r\n\r\nXX`), frame(2, 100).subarray(50)]);
    h.push(frame(1, 500));
    h.push(poison);
    h.push(frame(3, 500));
    h.push(frame(4, 500));
    const ok = await waitUntil(() => partsByDelimiter(b.body(), bb).length === 3 && partsByDelimiter(a.body(), ba).length === 2, 3000);
    const pa = partsByDelimiter(a.body(), ba);
    const pb = partsByDelimiter(b.body(), bb);
    assert.ok(ok, `A: ${pa.length} parts, B: ${pb.length} parts`);
    assert.deepEqual(pa.map(frameNo), [1, 3], 'A never saw the frame that held its boundary');
    assert.ok(pa[0]?.equals(frame(1, 500)) && pa[1]?.equals(frame(3, 500)), 'A\'s parts are whole frames');
    assert.ok(pb[1]?.equals(poison), 'B, with another boundary, got that frame whole');
    assert.equal(h.counters().framesDroppedBoundary, 1);
  });

  test('snapshot clients that never read hold at most maxSnapshotFrames big frames; the rest get 503', async () => {
    const big = 12 * MB;
    const { hub: h, url, requests } = await serve({ maxSnapshotFrames: 3 });
    const port = Number(new URL(url).port);
    forceGc();
    const before = process.memoryUsage().arrayBuffers;
    const clientsN = 20;
    for (let i = 0; i < clientsN; i++) {
      // a new 12 MiB frame before each request: every client would pin its own
      h.push(frame(i, big));
      await deafClient(port, 'GET /cam/snapshot.jpg HTTP/1.1\r\nHost: x\r\n\r\n');
      // the snapshot is answered (or refused) synchronously when its request arrives
      assert.ok(await waitUntil(() => requests() === i + 1, 3000), `request ${i} answered`);
    }
    forceGc();
    const grown = (process.memoryUsage().arrayBuffers - before) / MB;
    // three pinned frames and the latest one, plus slack for what GC has not returned yet
    assert.ok(grown < 6 * 12, `external memory grew by ${grown.toFixed(0)} MiB for ${clientsN} non-reading clients`);
    assert.ok(h.pinnedFrames <= 3, `${h.pinnedFrames} frames pinned`);
    assert.equal(h.snapshotsRefused, clientsN - 3);
  });

  test('a snapshot not delivered and a viewer that takes nothing are cut after writeTimeoutMs', async () => {
    const { hub: h, url } = await serve({ writeTimeoutMs: 300 });
    const port = Number(new URL(url).port);
    h.push(frame(1, 12 * MB));
    await deafClient(port, 'GET /cam/snapshot.jpg HTTP/1.1\r\nHost: x\r\n\r\n');
    await deafClient(port, 'GET /cam HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(await waitUntil(() => h.pinnedFrames === 1 && h.viewerCount === 1, 3000));
    for (let i = 2; i < 6; i++) h.push(frame(i, 4 * MB));
    assert.ok(await waitUntil(() => h.pinnedFrames === 0 && h.viewerCount === 0, 5000), `pinned ${h.pinnedFrames}, viewers ${h.viewerCount}`);
  });

  test('snapshots never older than maxFrameAgeMs; Last-Modified and X-Timestamp give the capture time', async () => {
    let now = 0;
    const { hub: h, url } = await serve({ now: () => now, maxFrameAgeMs: 2000, snapshotTimeoutMs: 300 });
    h.push(frame(1), { capturedAt: Date.UTC(2030, 0, 2, 3, 4, 5, 678) });
    const fresh = await httpGet(`${url}/snapshot.jpg`);
    assert.equal(frameNo(fresh.body), 1);
    assert.equal(fresh.headers['last-modified'], 'Wed, 02 Jan 2030 03:04:05 GMT');
    assert.equal(fresh.headers['x-timestamp'], String(Date.UTC(2030, 0, 2, 3, 4, 5, 678) / 1000));
    now = 2500;
    const stale = await httpGet(`${url}/snapshot.jpg`);
    assert.equal(stale.status, 503, 'a frame 2.5 s old is not served');
    assert.match(stale.body.toString(), /no frame within 0.3 s \(the last one is 2.5 s old\)/);
    const pending = httpGet(`${url}/snapshot.jpg`);
    assert.ok(await waitUntil(() => h.pendingSnapshots === 1, 2000));
    h.push(frame(2));
    assert.equal(frameNo((await pending).body), 2, 'it waits for the next frame');
  });

  test('stream parts carry X-Timestamp', async () => {
    const { hub: h, url } = await serve();
    const r = await rawGet(url);
    assert.ok(await waitUntil(() => h.viewerCount === 1, 2000));
    h.push(frame(1), { capturedAt: 1_900_000_000_123 });
    assert.ok(await waitUntil(() => r.body().includes('X-Timestamp: 1900000000.123\r\n'), 2000), r.body().subarray(0, 200).toString('latin1'));
  });

  test('while the source is down: viewers get a picture of the reason that djpeg decodes, sent again; snapshots 503 with it; then live frames', async () => {
    const { hub: h, url } = await serve({ statusRefreshMs: 100 });
    const c = await open(url, { keep: 100 });
    assert.ok(await waitUntil(() => h.viewerCount === 1, 2000));
    h.push(frame(1), { width: 320, height: 240 });
    assert.ok(await waitUntil(() => c.count === 1, 2000));
    h.setDown('connection refused, retry in 30 s', 'front door');
    assert.ok(await waitUntil(() => c.count >= 3, 3000), 'the picture comes, and again');
    const pic = c.kept[1] as Buffer;
    const d = decodeJpeg(pic);
    assert.ok(d.ok, d.error);
    assert.equal(d.width, 320, 'the picture has the camera\'s size');
    assert.equal(d.height, 240);
    const snap = await httpGet(`${url}/snapshot.jpg`);
    assert.equal(snap.status, 503);
    assert.equal(snap.body.toString(), 'camera: connection refused, retry in 30 s\n');
    // a late viewer sees the picture at once
    const late = await open(url, { keep: 1 });
    assert.ok(await waitUntil(() => late.count >= 1, 2000));
    assert.ok(late.kept[0]?.equals(pic));
    h.push(frame(9));
    const n = c.count;
    assert.ok(await waitUntil(() => c.count > n && frameNo(c.kept[c.kept.length - 1] as Buffer) === 9, 2000), 'live frames again');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(frameNo(c.kept[c.kept.length - 1] as Buffer), 9, 'no more pictures once frames flow');
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

  test('linger below 1 s counts as 1 s: a storm of short requests costs one session a second, not one each', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const log: string[] = [];
    const d = new OnDemand({ lingerMs: 0, open: () => log.push('open'), close: () => log.push('close') });
    for (let i = 0; i < 10; i++) {
      d.set(`r${i}`, true);
      d.set(`r${i}`, false);
      t.mock.timers.tick(100);
    }
    assert.deepEqual(log, ['open'], 'ten requests 100 ms apart share one session');
    t.mock.timers.tick(1000);
    assert.deepEqual(log, ['open', 'close']);
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

