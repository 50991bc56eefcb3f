/**
 * RtspConnection (transport/rtsp-connection.ts) against a scripted TCP peer on 127.0.0.1:
 * CSeq matching, the Session header, `$` frames with their read's arrival time, answers to
 * requests from the server, timeouts and close().
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { RtspConnection, USER_AGENT } from '../../src/transport/rtsp-connection';
import { keepAliveIntervalMs } from '../../src/transport/keep-alive';
import { CameraError } from '../../src/errors';

/** A server that hands each request's text to `onRequest` and writes whatever it returns. */
async function peer(onRequest: (text: string, cseq: string) => string | Buffer | null): Promise<{ server: net.Server; port: number; seen: string[]; written: string[] }> {
  const seen: string[] = [];
  const written: string[] = [];
  const server = net.createServer((c) => {
    let buf = '';
    c.on('data', (d) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const text = buf.slice(0, end);
        buf = buf.slice(end + 4);
        if (text.startsWith('RTSP/1.0')) { written.push(text); continue; } // our answers to its requests
        seen.push(text);
        const reply = onRequest(text, /CSeq: (\d+)/.exec(text)?.[1] ?? '');
        if (reply !== null) c.write(reply);
      }
    });
    c.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as net.AddressInfo).port, seen, written };
}

describe('RtspConnection', () => {
  test('requests carry CSeq and User-Agent; the Session id is kept without its timeout; $ frames come with their arrival time', async () => {
    const frame = Buffer.from([0x24, 0, 0, 4, 1, 2, 3, 4, 0x24, 1, 0, 2, 9, 9]);
    const p = await peer((text, cseq) => {
      if (text.startsWith('SETUP')) return `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nSession: ABC123;timeout=30\r\n\r\n`;
      // the PLAY reply and two interleaved frames in one write (so, usually, one read)
      if (text.startsWith('PLAY')) return Buffer.concat([Buffer.from(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n\r\n`), frame]);
      return `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER\r\n\r\n`;
    });
    let conn: RtspConnection | null = null;
    try {
      const frames: [number, string, number][] = [];
      conn = await RtspConnection.connect({
        host: '127.0.0.1', port: p.port, secure: false,
        onInterleaved: (ch, data, start, end, arrivalMs) => frames.push([ch, data.toString('hex', start, end), arrivalMs]),
      });
      assert.equal((await conn.request('OPTIONS', 'rtsp://127.0.0.1/x', [], { noSession: true })).statusCode, 200);
      assert.ok(conn.publicMethods?.has('GET_PARAMETER'));
      await conn.request('SETUP', 'rtsp://127.0.0.1/x/track1', [['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1']]);
      assert.equal(conn.sessionId, 'ABC123');
      assert.equal(conn.sessionTimeoutSec, 30);
      await conn.request('PLAY', 'rtsp://127.0.0.1/x');
      for (let i = 0; i < 100 && frames.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(frames.map(([ch, hex]) => [ch, hex]), [[0, '01020304'], [1, '0909']]);
      assert.ok(frames.every(([, , at]) => at > 0), 'arrival time passed with each frame');
      assert.match(p.seen[0]!, /^OPTIONS rtsp:\/\/127\.0\.0\.1\/x RTSP\/1\.0\r\nCSeq: 1\r\nUser-Agent: /);
      assert.ok(p.seen[0]!.includes(USER_AGENT));
      assert.ok(!/Session:/.test(p.seen[0]!), 'noSession');
      assert.match(p.seen[2]!, /\r\nSession: ABC123(\r\n|$)/, 'the Session header goes back without ;timeout=');
    } finally {
      conn?.close();
      await new Promise<void>((r) => p.server.close(() => r()));
    }
  });

  test('requests from the server are answered (200 for OPTIONS/GET_PARAMETER, 501 otherwise) with their CSeq', async () => {
    let socket: net.Socket | null = null;
    const p = await peer(() => null);
    p.server.on('connection', (c) => { socket = c; });
    let conn: RtspConnection | null = null;
    try {
      conn = await RtspConnection.connect({ host: '127.0.0.1', port: p.port, secure: false });
      for (let i = 0; i < 100 && socket === null; i++) await new Promise((r) => setTimeout(r, 5));
      socket!.write('OPTIONS * RTSP/1.0\r\nCSeq: 7\r\n\r\nANNOUNCE rtsp://x RTSP/1.0\r\nCSeq: 8\r\n\r\n');
      for (let i = 0; i < 100 && p.written.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
      assert.match(p.written[0]!, /^RTSP\/1\.0 200 OK\r\nCSeq: 7\r\n/);
      assert.match(p.written[1]!, /^RTSP\/1\.0 501 Not Implemented\r\nCSeq: 8/);
    } finally {
      conn?.close();
      await new Promise<void>((r) => p.server.close(() => r()));
    }
  });

  test('an unanswered request times out; close() rejects what is pending with closed; a refused port is connection refused', async () => {
    const p = await peer(() => null);
    let conn: RtspConnection | null = null;
    try {
      conn = await RtspConnection.connect({ host: '127.0.0.1', port: p.port, secure: false, requestTimeoutMs: 100 });
      await assert.rejects(conn.request('DESCRIBE', 'rtsp://127.0.0.1/x'), (e: unknown) => e instanceof CameraError && e.reason === 'timeout');
      const pending = conn.request('DESCRIBE', 'rtsp://127.0.0.1/x', [], { timeoutMs: 5000 });
      conn.close();
      await assert.rejects(pending, (e: unknown) => e instanceof CameraError && e.reason === 'closed');
      assert.equal(conn.isClosed, true);
    } finally {
      conn?.close();
      await new Promise<void>((r) => p.server.close(() => r()));
    }
    await assert.rejects(RtspConnection.connect({ host: '127.0.0.1', port: p.port, secure: false }), (e: unknown) => e instanceof CameraError && e.reason === 'connection refused');
  });

  test('keep-alive period: min(timeout − 5 s, 30 s), 80 % of very short timeouts, never below 500 ms', () => {
    assert.equal(keepAliveIntervalMs(60), 30000);
    assert.equal(keepAliveIntervalMs(20), 15000);
    assert.equal(keepAliveIntervalMs(5), 4000);
    assert.equal(keepAliveIntervalMs(null), 30000);
    assert.equal(keepAliveIntervalMs(0.1), 500);
  });
});
