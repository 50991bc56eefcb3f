import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { vectorPackets } from '../support/pcap';
import { startFakeServer, tcpCamera, framesOf, type FakeRequest, type FakeConn } from '../support/fake-rtsp-server';
import { openCamera } from '../support/camera-session';
import type { CameraSession } from '../../src/camera/session';
import type { StateChange } from '../../src/camera/types';
import type { CameraError } from '../../src/errors';
import { digestChallenge, parseAuthorization, verifyAuthorization } from '../../src/rtsp/auth';
import { closeAfter } from '../support/cleanup';

const VEC = join(__dirname, '..', 'fixtures', 'vectors', 'gst-tcp-320x240.pcap');
const FRAMES = framesOf(vectorPackets(VEC).rtp.map((x) => x.packet)).slice(0, 10);

function until<T>(cam: CameraSession, ev: 'frame' | 'state', pred: (x: unknown) => boolean, timeoutMs = 6000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { cam.off(ev, on); reject(new Error(`${ev} not seen (state ${cam.state})`)); }, timeoutMs);
    const on = (x: unknown): void => { if (pred(x)) { clearTimeout(t); cam.off(ev, on); resolve(x as T); } };
    cam.on(ev, on);
  });
}

/** Wraps the TCP camera with an auth check on every request but OPTIONS. */
function authGate(mode: 'basic' | 'digest', user: string, pass: string, nonceFor: () => string, extra?: (req: FakeRequest, conn: FakeConn) => boolean) {
  return (req: FakeRequest, conn: FakeConn): boolean => {
    if (extra?.(req, conn)) return true;
    if (req.method === 'OPTIONS') return false;
    const nonce = nonceFor();
    const ok = verifyAuthorization(req.headers['authorization'], { method: req.method, username: user, password: pass, realm: 'cam', ...(mode === 'digest' ? { nonce } : {}) });
    if (ok) return false;
    conn.reply(req, 401, { 'WWW-Authenticate': mode === 'basic' ? 'Basic realm="cam"' : digestChallenge('cam', nonce) });
    return true;
  };
}

describe('authentication', () => {
  test('Basic: 401 then retry with credentials, kept on every later request', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, { frames: FRAMES, before: authGate('basic', 'user', 'pass', () => 'n') }));
    const cam = openCamera(server.url(), { username: 'user', password: 'pass' });
    try {
      await until(cam, 'frame', () => true);
    } finally { await cam.close(); }
    const m = server.requests.map((r) => `${r.method}${r.headers['authorization'] ? '+auth' : ''}`);
    assert.deepEqual(m, ['OPTIONS', 'DESCRIBE', 'DESCRIBE+auth', 'SETUP+auth', 'PLAY+auth', 'TEARDOWN+auth']);
  });

  test('Digest, with a stale nonce on a keep-alive (401 mid-session) answered silently', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    let nonce = 'n1';
    let keepalives = 0;
    server.setHandler(tcpCamera(server, {
      frames: FRAMES, timeout: 2,
      before: authGate('digest', 'user', 'pass', () => nonce, (req, conn) => {
        if (req.method === 'GET_PARAMETER' && keepalives++ === 0) {
          nonce = 'n2';
          conn.reply(req, 401, { 'WWW-Authenticate': digestChallenge('cam', nonce, { stale: true }) });
          return true;
        }
        return false;
      }),
    }));
    const errors: CameraError[] = [];
    const cam = openCamera(server.url(), { username: 'user', password: 'pass' });
    cam.on('error', (e) => errors.push(e));
    try {
      await until(cam, 'frame', () => true);
      const ok = await server.waitFor((r) => r.method === 'GET_PARAMETER' && (r.headers['authorization'] ?? '').includes('nonce="n2"'), 6000);
      assert.equal(ok.headers['session'], 'ABCDEF12', 'keep-alive carries the Session id without ;timeout');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(cam.state, 'playing');
      assert.equal(errors.length, 0);
    } finally { await cam.close(); }
  });

  test('wrong password: exactly one retry, then "auth failed", no storm, nothing leaked', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    const secret = 'p@ss:w/%#rd';
    server.setHandler(tcpCamera(server, { frames: FRAMES, before: authGate('digest', 'user', 'right', () => 'n1') }));
    const logs: string[] = [];
    const errors: CameraError[] = [];
    const url = `rtsp://user:${encodeURIComponent(secret)}@127.0.0.1:${server.port}/cam`;
    const cam = openCamera(url, { logger: (_l, m) => logs.push(m), reconnectMinMs: 60000 });
    cam.on('error', (e) => errors.push(e));
    try {
      const st = await until<StateChange>(cam, 'state', (c) => (c as StateChange).state === 'reconnecting');
      assert.equal(st.reason, 'auth failed');
      await new Promise((r) => setTimeout(r, 300));
    } finally { await cam.close(); }
    const describes = server.requests.filter((r) => r.method === 'DESCRIBE');
    assert.equal(describes.length, 2, 'one request without, one with credentials');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.reason, 'auth failed');
    const everything = [...logs, ...errors.map((e) => e.message), ...server.requests.map((r) => r.line), cam.url].join('\n');
    for (const form of [secret, encodeURIComponent(secret), 'p@ss']) assert.ok(!everything.includes(form), `leaked ${form}`);
    for (const r of server.requests) assert.ok(!r.uri.includes('@'), 'no userinfo in the request URI');
  });

  test('percent-encoded password with @:/%# reaches the camera decoded (Basic)', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    const secret = 'a@b:c/d%e#f';
    server.setHandler(tcpCamera(server, { frames: FRAMES, before: authGate('basic', 'us er', secret, () => 'n') }));
    const cam = openCamera(`rtsp://us%20er:${encodeURIComponent(secret)}@127.0.0.1:${server.port}/cam`);
    try {
      await until(cam, 'frame', () => true);
    } finally { await cam.close(); }
    for (const r of server.requests) assert.ok(!r.line.includes(secret) && !r.line.includes(encodeURIComponent(secret)));
  });

  test('stale-nonce re-auths, more of them than the stale bound, each followed by accepted keep-alives: the session lives on', async (t) => {
    // A strict camera (qop=auth): every request must carry the current nonce and an nc that is
    // 8 hex digits, one more than the last on that nonce (RFC 7616 §3.4). It declares its
    // nonce stale on every other keep-alive, as cameras do every few minutes for hours.
    const ROTATIONS = 4; // one more than the Authenticator's bound on stale nonces without a success
    const server = closeAfter(t, await startFakeServer());
    let nonce = 'n1';
    const lastNc = new Map<string, number>();
    const refused: string[] = [];
    let okKeepAlives = 0;
    let rotations = 0;
    server.setHandler(tcpCamera(server, {
      frames: FRAMES, timeout: 1, // keep-alive every 800 ms
      before: (req, conn) => {
        if (req.method === 'OPTIONS') return false;
        const a = parseAuthorization(req.headers['authorization'] ?? '');
        const nc = a?.params['nc'] ?? '';
        const ok = a !== null && a.params['nonce'] === nonce && /^[0-9a-f]{8}$/.test(nc) && parseInt(nc, 16) === (lastNc.get(nonce) ?? 0) + 1 &&
          verifyAuthorization(req.headers['authorization'], { method: req.method, username: 'user', password: 'pass', realm: 'cam', nonce });
        if (ok) lastNc.set(nonce, parseInt(nc, 16));
        else if (a !== null) refused.push(`${req.method} nonce=${a.params['nonce']} nc=${nc}`);
        if (ok && req.method === 'GET_PARAMETER' && okKeepAlives++ % 2 === 0 && rotations < ROTATIONS) {
          rotations++;
          nonce = `n${rotations + 1}`;
          conn.reply(req, 401, { 'WWW-Authenticate': digestChallenge('cam', nonce, { qop: true, stale: true }) });
          return true;
        }
        if (ok) return false;
        conn.reply(req, 401, { 'WWW-Authenticate': digestChallenge('cam', nonce, { qop: true }) });
        return true;
      },
    }));
    const errors: CameraError[] = [];
    const cam = openCamera(server.url(), { username: 'user', password: 'pass' });
    cam.on('error', (e) => errors.push(e));
    try {
      await until(cam, 'frame', () => true);
      // after the last rotation: the retried keep-alive, then two more on the last nonce
      await server.waitFor((r) => r.method === 'GET_PARAMETER' && /nonce="n5".*nc=00000003/.test(r.headers['authorization'] ?? ''), 12000);
      const framesThen = cam.getStats().framesEmitted;
      await until(cam, 'frame', () => true);
      assert.ok(cam.getStats().framesEmitted > framesThen, 'frames still coming');
      assert.equal(cam.state, 'playing');
    } finally { await cam.close(); }
    assert.deepEqual(errors.map((e) => e.message), []);
    assert.deepEqual(refused, [], 'every request with credentials was valid for the camera');
    assert.equal(rotations, ROTATIONS);
    const keepAlives = server.requests.filter((r) => r.method === 'GET_PARAMETER');
    assert.ok(keepAlives.length >= 2 * ROTATIONS + 1);
    for (const r of keepAlives) assert.equal(r.headers['session'], 'ABCDEF12');
    assert.equal(server.conns.length, 1, 'no reconnect: the session lived through the re-auth');
  });
});
