import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { openHttpTunnel, type HttpTunnelOptions } from '../../src/transport/tunnel/open';
import type { HttpTunnel } from '../../src/transport/tunnel/socket';
import { CameraError } from '../../src/errors';
import { serializeRequest, interleavedFrame } from '../../src/rtsp/serialize';
import { startFakeTunnelServer, type FakeTunnelOptions, type FakeTunnelServer } from '../support/fake-tunnel-server';
import { takePorts } from '../support/ports';

const USER = 'admin';
const PASSWORD = 'se:cr et"p@ss';

async function withServer(o: FakeTunnelOptions, fn: (s: FakeTunnelServer) => Promise<void>): Promise<void> {
  const server = await startFakeTunnelServer(o);
  try { await fn(server); } finally { await server.close(); }
}

function open(server: FakeTunnelServer, extra: Partial<HttpTunnelOptions> = {}): Promise<HttpTunnel> {
  return openHttpTunnel({ host: '127.0.0.1', port: server.port, path: '/live/ch1?x=1', timeoutMs: 3000, ...extra });
}

async function rejection(p: Promise<unknown>): Promise<CameraError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CameraError, `not a CameraError: ${String(e)}`);
    assert.ok(!e.message.includes(PASSWORD) && !e.message.includes(encodeURIComponent(PASSWORD)), `password in "${e.message}"`);
    return e;
  }
  throw new Error('resolved, expected a rejection');
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function closeEvent(t: HttpTunnel): Promise<void> {
  return new Promise((resolve) => t.once('close', () => resolve()));
}

describe('HttpTunnel against a scripted tunnel server', () => {
  test('no auth: early bytes first, then live bytes to the receiver; writes decode to the RTSP messages; destroy closes both connections', async () => {
    const early = 'RTSP/1.0 200 OK\r\nCSeq: 0\r\n\r\n';
    await withServer({ afterHead: early }, async (server) => {
      const tunnel = await open(server);
      const errors: Error[] = [];
      tunnel.on('error', (e: Error) => errors.push(e));
      const closed = closeEvent(tunnel);
      assert.equal(tunnel.remoteAddress, '127.0.0.1');
      assert.match(tunnel.cookie, /^[A-Za-z0-9]{22}$/);
      await until(() => server.requests.length === 2); // open() resolves once the POST head is written
      const [get, post] = server.requests;
      assert.equal(get?.method, 'GET');
      assert.equal(get?.target, '/live/ch1?x=1');
      assert.equal(get?.headers['x-sessioncookie'], tunnel.cookie);
      assert.equal(get?.headers['host'], `127.0.0.1:${server.port}`);
      assert.equal(post?.method, 'POST');
      assert.equal(post?.headers['x-sessioncookie'], tunnel.cookie);
      assert.equal(post?.headers['content-length'], '32767');
      assert.equal(get?.headers['authorization'], undefined);

      const got: Buffer[] = [];
      tunnel.setReceiver((chunk) => got.push(chunk));
      assert.equal(Buffer.concat(got).toString('latin1'), early, 'bytes after the reply head come first, synchronously');
      const live = Buffer.concat([Buffer.from('RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n'), interleavedFrame(0, Buffer.alloc(1400, 7))]);
      server.getSocket()!.write(live);
      await until(() => Buffer.concat(got).length === early.length + live.length);
      assert.deepEqual(Buffer.concat(got).subarray(early.length), live);
      // reads land in ReadSlab memory (64 KiB slabs), not in per-read Buffers: no copy on the way to the receiver
      assert.ok(got.every((c) => c.buffer.byteLength === 64 * 1024), `chunk backing stores: ${got.map((c) => c.buffer.byteLength).join(',')}`);

      const messages = [serializeRequest('OPTIONS', 'rtsp://h/cam', [['CSeq', '1']]), serializeRequest('DESCRIBE', 'rtsp://h/cam', [['CSeq', '2']]), interleavedFrame(1, Buffer.from([0x81, 0xc9, 0, 1]))];
      for (const m of messages) assert.equal(tunnel.write(m), true);
      assert.equal(typeof tunnel.writableLength, 'number');
      const want = Buffer.concat(messages);
      await until(() => server.postChunks.join('').length >= Math.ceil(want.length / 3) * 4 - 8);
      await until(() => server.decoded().length === want.length);
      assert.deepEqual(server.decoded(), want);

      tunnel.destroy();
      tunnel.destroy();
      await closed;
      assert.equal(tunnel.write(Buffer.from('x')), false);
      assert.equal(tunnel.closeReason?.reason, 'closed');
      await until(() => server.openSockets() === 0);
      assert.deepEqual(errors, []);
    });
  });

  for (const mode of ['basic', 'digest'] as const) {
    test(`${mode}: a 401 on the GET is answered on a new GET; the POST carries credentials for the same challenge`, async () => {
      await withServer({ auth: { mode, user: USER, password: PASSWORD } }, async (server) => {
        const tunnel = await open(server, { username: USER, password: PASSWORD });
        try {
          await until(() => server.requests.length === 3);
          const methods = server.requests.map((r) => `${r.method}${r.headers['authorization'] ? `+${r.headers['authorization'].split(' ')[0]}` : ''}`);
          const scheme = mode === 'basic' ? 'Basic' : 'Digest';
          assert.deepEqual(methods, ['GET', `GET+${scheme}`, `POST+${scheme}`]);
          if (mode === 'digest') {
            assert.match(server.requests[1]!.headers['authorization']!, /uri="\/live\/ch1\?x=1"/);
            assert.match(server.requests[2]!.headers['authorization']!, /nc=00000002/);
          }
          // the POST was accepted: the server bound it and decodes what we write
          tunnel.write(Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n'));
          await until(() => server.decoded().toString().includes('CSeq: 1'));
        } finally {
          tunnel.destroy();
        }
      });
    });
  }

  test('wrong password: auth failed after two GETs, nothing left open', async () => {
    await withServer({ auth: { mode: 'digest', user: USER, password: 'other' } }, async (server) => {
      const err = await rejection(open(server, { username: USER, password: PASSWORD }));
      assert.equal(err.reason, 'auth failed');
      assert.equal(err.statusCode, 401);
      assert.deepEqual(server.requests.map((r) => r.method), ['GET', 'GET'], 'one answer to the challenge, then stop (no account lock-out)');
      await until(() => server.openSockets() === 0);
    });
  });

  test('401 without credentials: auth failed at once, one GET', async () => {
    await withServer({ auth: { mode: 'basic', user: USER, password: PASSWORD } }, async (server) => {
      const err = await rejection(open(server));
      assert.equal(err.reason, 'auth failed');
      assert.match(err.message, /requires credentials/);
      assert.equal(server.requests.length, 1);
    });
  });

  const replies: [string, string, RegExp][] = [
    ['HTTP/1.0 404 Not Found\r\n\r\n', 'not found', /404 Not Found/],
    ['HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\r\n', 'server busy', /GET to 127\.0\.0\.1:\d+: 503 Service Unavailable$/],
    ['HTTP/1.1 502 Bad Gateway\r\n\r\n', 'server error', /502 Bad Gateway/],
    ['HTTP/1.1 405 Method Not Allowed\r\n\r\n', 'unsupported transport', /does not offer RTSP over HTTP/],
    ['HTTP/1.1 302 Found\r\nLocation: http://elsewhere/\r\n\r\n', 'redirect refused', /not followed/],
    ['HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>', 'unsupported transport', /text\/html/],
    ['RTSP/1.0 400 Bad Request\r\nCSeq: 0\r\n\r\n', 'protocol error', /not an HTTP response/],
    [`HTTP/1.0 200 OK\r\n${'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(400)}\r\n`, 'protocol error', /longer than|more than/],
  ];
  for (const [reply, reason, message] of replies) {
    test(`GET answered ${JSON.stringify(reply.slice(0, 28))}…: ${reason}, both sides closed`, async () => {
      await withServer({ getReply: () => ({ bytes: reply }) }, async (server) => {
        const err = await rejection(open(server, { username: USER, password: PASSWORD }));
        assert.equal(err.reason, reason);
        assert.match(err.message, message);
        assert.ok(!server.requests.some((r) => r.method === 'POST'), 'no POST after a failed GET');
        await until(() => server.openSockets() === 0);
      });
    });
  }

  test('503 on the GET: server busy with the status code and the Retry-After delay (seconds or HTTP-date; none without the header)', async () => {
    // the HTTP-date is made when the server replies: on a busy machine the cases before it take time
    const inTwo = (): string => `Retry-After: ${new Date(Date.now() + 2000).toUTCString()}\r\n`;
    const cases: [string | (() => string), number | undefined][] = [['Retry-After: 2\r\n', 2000], [inTwo, 2000], ['', undefined], ['Retry-After: soon\r\n', undefined]];
    for (const [make, want] of cases) {
      const header = typeof make === 'string' ? make : 'Retry-After: (an HTTP-date 2 s ahead)';
      await withServer({ getReply: () => ({ bytes: `HTTP/1.1 503 Service Unavailable\r\n${typeof make === 'string' ? make : make()}\r\n` }) }, async (server) => {
        const err = await rejection(open(server, { username: USER, password: PASSWORD }));
        assert.equal(err.reason, 'server busy');
        assert.equal(err.statusCode, 503);
        if (want === undefined) assert.equal(err.retryAfterMs, undefined, header);
        else assert.ok(err.retryAfterMs !== undefined && Math.abs(err.retryAfterMs - want) <= 1000, `${header}: ${String(err.retryAfterMs)}`);
      });
    }
  });

  test('the server closes the GET without a reply: connection lost', async () => {
    await withServer({ getReply: () => ({ bytes: '', close: true }) }, async (server) => {
      const err = await rejection(open(server));
      assert.equal(err.reason, 'connection lost');
    });
  });

  test('no reply at all: timeout within timeoutMs, the GET connection closed', async () => {
    await withServer({ getReply: () => ({ bytes: '' }) }, async (server) => {
      const t0 = Date.now();
      const err = await rejection(open(server, { timeoutMs: 300 }));
      assert.equal(err.reason, 'timeout');
      assert.ok(Date.now() - t0 < 2500);
      await until(() => server.openSockets() === 0);
    });
  });

  test('nothing listening: connection refused', async () => {
    // a port no other test process binds
    const port = await takePorts(1);
    const err = await rejection(openHttpTunnel({ host: '127.0.0.1', port, path: '/', timeoutMs: 2000 }));
    assert.equal(err.reason, 'connection refused');
  });

  test('the server closes the GET mid-stream: the POST is closed too, close is emitted once, reason connection lost', async () => {
    await withServer({}, async (server) => {
      const tunnel = await open(server);
      const errors: Error[] = [];
      tunnel.on('error', (e: Error) => errors.push(e));
      let closes = 0;
      tunnel.on('close', () => closes++);
      tunnel.setReceiver(() => undefined);
      server.getSocket()!.destroy();
      await until(() => closes === 1);
      assert.equal(tunnel.closeReason?.reason, 'connection lost');
      assert.match(tunnel.closeReason?.message ?? '', /GET/);
      await until(() => server.openSockets() === 0);
      assert.equal(closes, 1);
      assert.deepEqual(errors, []);
    });
  });

  test('the POST closed by the server or a proxy: the next write opens a new POST with the same cookie (and credentials); nothing lost', async () => {
    await withServer({ auth: { mode: 'digest', user: USER, password: PASSWORD } }, async (server) => {
      const tunnel = await open(server, { username: USER, password: PASSWORD });
      const errors: Error[] = [];
      tunnel.on('error', (e: Error) => errors.push(e));
      try {
        tunnel.setReceiver(() => undefined);
        await until(() => server.postSocket() !== null);
        tunnel.write(Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n'));
        await until(() => server.decoded().toString().includes('CSeq: 1'));
        const first = server.postSocket()!;
        first.destroy();
        await until(() => tunnel.writableLength === 0 && server.openSockets() === 1 && first.destroyed);
        await new Promise((r) => setTimeout(r, 50)); // let the client see the close
        tunnel.write(Buffer.from('GET_PARAMETER * RTSP/1.0\r\nCSeq: 2\r\n\r\n'));
        tunnel.write(Buffer.from('GET_PARAMETER * RTSP/1.0\r\nCSeq: 3\r\n\r\n'));
        await until(() => server.decoded().toString().includes('CSeq: 3'));
        const posts = server.requests.filter((r) => r.method === 'POST');
        assert.equal(posts.length, 2);
        assert.ok(posts.every((r) => r.headers['x-sessioncookie'] === tunnel.cookie && /^Digest /.test(r.headers['authorization'] ?? '')));
        assert.equal(tunnel.postReopens, 1);
        assert.match(server.decoded().toString(), /CSeq: 1[\s\S]*CSeq: 2[\s\S]*CSeq: 3/);
        // a write right after the POST socket went away, before its 'close' event: not lost either
        (tunnel as unknown as { post: { socket: net.Socket } }).post.socket.destroy();
        tunnel.write(Buffer.from('GET_PARAMETER * RTSP/1.0\r\nCSeq: 4\r\n\r\n'));
        await until(() => server.decoded().toString().includes('CSeq: 4'));
        assert.equal(tunnel.postReopens, 2);
        assert.deepEqual(errors, []);
      } finally {
        tunnel.destroy();
      }
    });
  });

  test('a server that closes every POST: the reopens are bounded, then the tunnel closes (connection lost)', async () => {
    await withServer({ closePosts: true }, async (server) => {
      const tunnel = await open(server);
      tunnel.on('error', () => undefined);
      const closed = closeEvent(tunnel);
      tunnel.setReceiver(() => undefined);
      for (let i = 0; i < 200 && !tunnel.isDestroyed; i++) {
        tunnel.write(Buffer.from(`OPTIONS * RTSP/1.0\r\nCSeq: ${i}\r\n\r\n`));
        await new Promise((r) => setTimeout(r, 10));
      }
      await closed;
      assert.equal(tunnel.closeReason?.reason, 'connection lost');
      assert.match(tunnel.closeReason?.message ?? '', /POST connection 6 times/);
      assert.equal(server.requests.filter((r) => r.method === 'POST').length, 6);
      await until(() => server.openSockets() === 0);
    });
  });

  test('a camera that answers the POST with 401: error auth failed, then close', async () => {
    await withServer({ postReply: 'HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\n\r\n' }, async (server) => {
      const tunnel = await open(server);
      const errors: CameraError[] = [];
      tunnel.on('error', (e: CameraError) => errors.push(e));
      const closed = closeEvent(tunnel);
      tunnel.setReceiver(() => undefined);
      await closed;
      assert.deepEqual(errors.map((e) => e.reason), ['auth failed']);
      assert.match(errors[0]!.message, /POST/);
    });
  });

  test('no error listener: a failure never throws out of a socket read; close and closeReason still tell', async () => {
    await withServer({ postReply: 'HTTP/1.0 403 Forbidden\r\n\r\n' }, async (server) => {
      const tunnel = await open(server);
      const closed = closeEvent(tunnel);
      await closed;
      assert.equal(tunnel.closeReason?.reason, 'auth failed');
      assert.match(tunnel.closeReason?.message ?? '', /403/);
    });
  });

  test('a server flooding the GET before any request: protocol error, bounded memory', async () => {
    await withServer({ afterHead: Buffer.alloc(64 * 1024) }, async (server) => {
      const tunnel = await open(server);
      const errors: CameraError[] = [];
      tunnel.on('error', (e: CameraError) => errors.push(e));
      const closed = closeEvent(tunnel);
      const flood = Buffer.alloc(256 * 1024, 0x41);
      for (let i = 0; i < 8 && !tunnel.isDestroyed; i++) {
        server.getSocket()?.write(flood);
        await new Promise((r) => setTimeout(r, 20));
      }
      await closed;
      assert.deepEqual(errors.map((e) => e.reason), ['protocol error']);
      let n = 0;
      tunnel.setReceiver(() => n++);
      assert.equal(n, 0, 'nothing delivered after the overflow');
    });
  });
});

const certDir = mkdtempSync(join(tmpdir(), 'tunnel-tls-'));
const haveCert = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(certDir, 'k.pem'), '-out', join(certDir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' }).status === 0;

describe('HttpTunnel over TLS (https tunnel): certificate policy as for rtsps', { skip: haveCert ? false : 'openssl not available' }, () => {
  let server: FakeTunnelServer;
  let proxy: tls.Server;
  let port = 0;
  let fingerprint = '';
  before(async () => {
    server = await startFakeTunnelServer({ auth: { mode: 'digest', user: USER, password: PASSWORD } });
    const cert = readFileSync(join(certDir, 'c.pem'));
    fingerprint = new X509Certificate(cert).fingerprint256;
    // TLS in front of the plain tunnel server: one TCP connection per TLS connection, so GET and POST stay apart
    proxy = tls.createServer({ key: readFileSync(join(certDir, 'k.pem')), cert }, (s) => {
      const c = net.connect(server.port, '127.0.0.1');
      s.on('error', () => c.destroy()); c.on('error', () => s.destroy());
      s.on('close', () => c.destroy()); c.on('close', () => s.destroy());
      s.pipe(c).pipe(s);
    });
    proxy.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    port = (proxy.address() as net.AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((r) => proxy.close(() => r()));
    await server.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  test('pinned fingerprint: Digest on the GET, then bytes both ways through both TLS connections', async () => {
    const tunnel = await openHttpTunnel({ host: '127.0.0.1', port, path: '/cam', secure: true, tlsFingerprint256: fingerprint, username: USER, password: PASSWORD, timeoutMs: 5000 });
    try {
      const got: Buffer[] = [];
      tunnel.setReceiver((c) => got.push(c));
      await until(() => server.getSocket() !== null && server.postSocket() !== null);
      tunnel.write(Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 7\r\n\r\n'));
      await until(() => server.decoded().toString().includes('CSeq: 7'));
      server.getSocket()!.write('RTSP/1.0 200 OK\r\nCSeq: 7\r\n\r\n');
      await until(() => Buffer.concat(got).toString().includes('CSeq: 7'));
    } finally {
      tunnel.destroy();
    }
  });

  test('self-signed certificate without pin or allow-self-signed: tls error; a wrong pin: tls error', async () => {
    const plain = await rejection(openHttpTunnel({ host: '127.0.0.1', port, path: '/cam', secure: true, timeoutMs: 5000 }));
    assert.equal(plain.reason, 'tls error');
    const wrong = await rejection(openHttpTunnel({ host: '127.0.0.1', port, path: '/cam', secure: true, tlsFingerprint256: 'AA:BB', timeoutMs: 5000 }));
    assert.equal(wrong.reason, 'tls error');
    assert.match(wrong.message, /fingerprint/);
  });
});
