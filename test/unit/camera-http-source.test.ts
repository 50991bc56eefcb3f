/**
 * The HTTP source's lifecycle and the rules it shares with RTSP, against the demo camera's
 * HTTP side and small in-process servers: events and stats shapes, Basic and Digest,
 * credentials kept out of every message, TLS with the rtsps certificate rules, redirects
 * with the RTSP limits, and close().
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { openCamera } from '../../src/camera/open';
import type { CameraOptions, StateChange, TrackInfo } from '../../src/camera/types';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { startHttpDevice } from '../peers/http-device';
import { Recorder, until, resourceCounts, resourcesAbove } from '../reliability/support';

const FAST: CameraOptions = { reconnectMinMs: 60000, requestTimeoutMs: 2000, statsIntervalMs: 100 };

/** The reason of the first reconnect (or 'frame' when a frame came first). */
function outcome(url: string, opts: CameraOptions = {}): Promise<string> {
  return new Promise((resolve) => {
    const cam = openCamera(url, { ...FAST, ...opts });
    cam.on('error', () => undefined);
    let done = false;
    const finish = (r: string): void => { if (done) return; done = true; void cam.close().then(() => resolve(r)); };
    cam.on('frame', () => finish('frame'));
    cam.on('state', (c: StateChange) => { if (c.state === 'reconnecting' || c.state === 'closed') finish(c.reason ?? c.state); });
  });
}

describe('HTTP source: lifecycle, events, stats', () => {
  let demo: DemoCamera;
  before(async () => { demo = await startDemoCamera({ httpPort: 0, width: 320, height: 240, fps: 20 }); });
  after(async () => { await demo.close(); });

  test('stream: states, a JPEG track, frames with ssrc 0 and no capture clock, RTP-only stats null; close() ends it', async (t) => {
    const s = openCamera(`${demo.httpUrl}/stream`, FAST);
    t.after(() => s.close());
    const r = new Recorder(s);
    const tracks: TrackInfo[][] = [];
    s.on('tracks', (l) => tracks.push(l));
    assert.equal(s.state, 'connecting');
    await r.playing(5000);
    await until(() => r.frames.length >= 5, '5 frames', 5000);
    assert.deepEqual(r.states.map((x) => x.state).slice(0, 2), ['connecting', 'playing']);
    assert.equal(tracks[0]?.[0]?.encoding, 'JPEG');
    assert.equal(tracks[0]?.[0]?.control, `${demo.httpUrl}/stream`);
    const f = s.latestFrame!;
    assert.deepEqual([f.info.ssrc, f.info.capturedAt, f.info.width, f.info.height], [0, null, 320, 240]);
    assert.ok(Math.abs(f.info.receivedAt - Date.now()) < 5000);
    await until(() => s.getStats().fps > 0, 'a rate', 3000);
    const st = s.getStats();
    assert.deepEqual(
      [st.ssrc, st.packetsReceived, st.packetsExpected, st.packetsLost, st.fractionLost, st.jitterMs, st.senderReport, st.transport, st.state],
      [null, null, null, null, null, null, null, 'http-mjpeg', 'playing'],
    );
    assert.ok(st.bytesReceived > 0 && st.bitrateKbps > 0 && st.framesEmitted >= 5);
    await s.close();
    assert.equal(s.state, 'closed');
  });

  test('snapshot URL: polled, transport http-snapshot', async (t) => {
    const s = openCamera(`${demo.httpUrl}/capture`, { ...FAST, snapshotFps: 10 });
    t.after(() => s.close());
    const r = new Recorder(s);
    await until(() => r.frames.length >= 3, '3 snapshots', 5000);
    assert.equal(s.getStats().transport, 'http-snapshot');
    assert.deepEqual(r.badFrames, []);
  });

  for (const path of ['/stream', '/capture']) {
    test(`${path}: close() from the first frame's listener releases every socket and timer`, async () => {
      const base = resourceCounts();
      const s = openCamera(`${demo.httpUrl}${path}`, FAST);
      await new Promise<void>((resolve) => s.once('frame', () => { void s.close().then(resolve); }));
      await until(() => resourcesAbove(base).length === 0, `resources back to the baseline (${resourcesAbove(base).join(', ')})`, 3000);
    });
  }

  test('an invalid URL closes at once (as an invalid rtsp:// URL does)', async () => {
    const s = openCamera('http://exa mple/x', FAST);
    assert.equal(s.state, 'closed');
    await s.close();
  });
});

describe('HTTP source: authentication and secrets', () => {
  for (const auth of ['basic', 'digest'] as const) {
    test(`${auth}: the right password streams; a wrong one is auth failed and never appears in a message`, async (t) => {
      const secret = 'S3cr:t@/pw%';
      const demo = await startDemoCamera({ httpPort: 0, width: 160, height: 120, auth, username: 'viewer', password: secret });
      t.after(() => demo.close());
      assert.equal(await outcome(`${demo.httpUrl}/stream`, { username: 'viewer', password: secret }), 'frame');
      assert.equal(await outcome(`${demo.httpUrl}/capture`, { username: 'viewer', password: secret }), 'frame');
      const logs: string[] = [];
      const errors: string[] = [];
      const wrong = 'Wr0ng:p@ss';
      const s = openCamera(`http://viewer:${encodeURIComponent(wrong)}@${demo.httpUrl!.slice(7)}/stream`, { ...FAST, logger: (_l, m) => logs.push(m) });
      t.after(() => s.close());
      s.on('error', (e) => errors.push(`${e.reason}: ${e.message}`));
      await until(() => errors.length > 0, 'auth failed', 5000);
      assert.match(errors[0]!, /^auth failed/);
      for (const text of [...logs, ...errors, s.url]) {
        assert.ok(!text.includes(wrong) && !text.includes(encodeURIComponent(wrong)), `secret in: ${text}`);
      }
    });
  }
});

const dir = mkdtempSync(join(tmpdir(), 'https-'));
const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });

describe('HTTPS: the rtsps certificate rules', { skip: gen.status === 0 ? false : 'openssl not available' }, () => {
  let demo: DemoCamera;
  let proxy: tls.Server;
  let port = 0;
  let fingerprint = '';
  before(async () => {
    demo = await startDemoCamera({ httpPort: 0, width: 160, height: 120 });
    const httpPort = Number(new URL(demo.httpUrl!).port);
    const cert = readFileSync(join(dir, 'c.pem'));
    fingerprint = new X509Certificate(cert).fingerprint256;
    proxy = tls.createServer({ key: readFileSync(join(dir, 'k.pem')), cert }, (s) => {
      const c = net.connect(httpPort, '127.0.0.1');
      s.on('error', () => c.destroy()); c.on('error', () => s.destroy());
      s.pipe(c).pipe(s);
    });
    proxy.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    port = (proxy.address() as net.AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((r) => proxy.close(() => r()));
    await demo.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a self-signed certificate is refused by default, accepted when allowed', async () => {
    assert.equal(await outcome(`https://127.0.0.1:${port}/stream`), 'tls error');
    assert.equal(await outcome(`https://127.0.0.1:${port}/stream`, { tlsAllowSelfSigned: true }), 'frame');
  });
  test('a pinned SHA-256 fingerprint is accepted; a wrong pin refused', async () => {
    assert.equal(await outcome(`https://127.0.0.1:${port}/capture`, { tlsFingerprint256: fingerprint }), 'frame');
    assert.equal(await outcome(`https://127.0.0.1:${port}/capture`, { tlsFingerprint256: 'AA:'.repeat(31) + 'AA' }), 'tls error');
  });
  test('a redirect from https down to http is refused', async (t) => {
    const plain = await startHttpDevice((_q, c) => { c.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'); c.done(); });
    t.after(() => plain.close());
    const down = await startHttpDevice((_q, c) => { c.write(`HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:${plain.port}/stream\r\nContent-Length: 0\r\n\r\n`); c.done(); });
    t.after(() => down.close());
    const tlsDown = tls.createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (s) => {
      const c = net.connect(down.port, '127.0.0.1');
      s.on('error', () => c.destroy()); c.on('error', () => s.destroy());
      s.pipe(c).pipe(s);
    });
    await new Promise<void>((r) => tlsDown.listen(0, '127.0.0.1', () => r()));
    t.after(() => new Promise<void>((r) => tlsDown.close(() => r())));
    const p = (tlsDown.address() as net.AddressInfo).port;
    assert.equal(await outcome(`https://127.0.0.1:${p}/old`, { tlsAllowSelfSigned: true }), 'redirect refused');
  });
});

describe('HTTP source: redirects', () => {
  test('same host followed (a relative Location too); another host refused', async (t) => {
    const demo = await startDemoCamera({ httpPort: 0, width: 160, height: 120 });
    t.after(() => demo.close());
    const target = new URL(demo.httpUrl!);
    const hop = await startHttpDevice((q, c) => {
      const loc = q.path === '/old' ? '/older' : q.path === '/older' ? `http://127.0.0.1:${target.port}/stream` : `http://localhost:${target.port}/stream`;
      c.write(`HTTP/1.1 ${q.path === '/old' ? 301 : 307} Moved\r\nLocation: ${loc}\r\nContent-Length: 0\r\n\r\n`);
      c.done();
    });
    t.after(() => hop.close());
    assert.equal(await outcome(hop.url('/old')), 'frame');
    assert.equal(await outcome(hop.url('/elsewhere')), 'redirect refused');
  });
});
