import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { RtspReader, header, type RtspResponse } from '../../src/rtsp/message';
import { parseAuthorization, digestResponse } from '../../src/rtsp/auth';
import { parseRtcpCompound, type RtcpPacket } from '../../src/rtcp/packet';
import { buildReceiverReportCompound } from '../../src/rtcp/build';
import { ntpToMs } from '../../src/rtcp/ntp';
import { JpegDepacketizer, type JpegFrame } from '../../src/jpeg/depacketizer';
import { startDemoCamera, type DemoCamera, type DemoCameraOptions } from '../../src/sim/demo-camera';
import { decodeJpeg } from '../support/djpeg';

/** Every wait in this file is bounded by this. */
const WAIT_MS = 5000;

interface Rtp { seq: number; ts: number; ssrc: number; marker: boolean; pt: number; buf: Buffer }

function rtpView(buf: Buffer): Rtp {
  return { seq: buf.readUInt16BE(2), ts: buf.readUInt32BE(4), ssrc: buf.readUInt32BE(8), marker: (buf[1]! & 0x80) !== 0, pt: buf[1]! & 0x7f, buf: Buffer.from(buf) };
}

async function until(cond: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A raw RTSP client: hand-written request text on a net socket, responses parsed in order. */
const rawSockets: net.Socket[] = [];

class RawClient {
  readonly channels = new Map<number, Buffer[]>();
  readonly responses: RtspResponse[] = [];
  closed = false;
  private cseq = 0;
  private readonly waiters: ((r: RtspResponse) => void)[] = [];
  private readonly reader: RtspReader;

  private constructor(readonly sock: net.Socket) {
    this.reader = new RtspReader({
      onResponse: (r) => {
        this.responses.push(r);
        this.waiters.shift()?.(r);
      },
      onRequest: () => {},
      onInterleaved: (ch, data, start, end) => {
        const list = this.channels.get(ch) ?? [];
        list.push(Buffer.from(data.subarray(start, end)));
        this.channels.set(ch, list);
      },
      onError: (e) => { throw e; },
    });
    sock.on('data', (d) => this.reader.push(d));
    sock.on('close', () => { this.closed = true; });
    sock.on('error', () => {});
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(new RawClient(s)));
      rawSockets.push(s); // destroyed in after() when a failed assertion skipped close()
      s.once('error', reject);
    });
  }

  raw(text: string | Buffer): Promise<RtspResponse> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no response')), WAIT_MS);
      this.waiters.push((r) => { clearTimeout(timer); resolve(r); });
      this.sock.write(text);
    });
  }

  request(method: string, uri: string, headers: Record<string, string> = {}): Promise<RtspResponse> {
    let text = `${method} ${uri} RTSP/1.0\r\nCSeq: ${++this.cseq}\r\nUser-Agent: raw-test\r\n`;
    for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
    return this.raw(`${text}\r\n`);
  }

  rtp(ch = 0): Rtp[] {
    return (this.channels.get(ch) ?? []).map(rtpView);
  }

  rtcp(ch = 1): RtcpPacket[] {
    return (this.channels.get(ch) ?? []).flatMap((b) => parseRtcpCompound(b).packets);
  }

  close(): void {
    this.sock.destroy();
  }
}

function sessionOf(r: RtspResponse): string {
  return header(r.headers, 'session')!.split(';')[0]!;
}

/** DESCRIBE + SETUP(s) over TCP + PLAY; returns the session id. */
async function playTcp(c: RawClient, url: string, extra: Record<string, string> = {}, tracks = [0]): Promise<string> {
  const d = await c.request('DESCRIBE', url, { Accept: 'application/sdp', ...extra });
  assert.equal(d.statusCode, 200);
  let session: string | undefined;
  for (const n of tracks) {
    const s = await c.request('SETUP', `${url}/stream=${n}`, {
      Transport: `RTP/AVP/TCP;unicast;interleaved=${2 * n}-${2 * n + 1}`, ...(session ? { Session: session } : {}), ...extra,
    });
    assert.equal(s.statusCode, 200, `SETUP stream=${n}`);
    session = sessionOf(s);
  }
  const p = await c.request('PLAY', `${url}/`, { Session: session!, Range: 'npt=0.000-', ...extra });
  assert.equal(p.statusCode, 200);
  return session!;
}

function depacketize(pkts: Rtp[], opts: { width?: number; height?: number } = {}): JpegFrame[] {
  const dp = new JpegDepacketizer(opts);
  const frames: JpegFrame[] = [];
  for (const p of pkts) {
    const f = dp.push(p.buf);
    if (f) frames.push(f);
  }
  return frames;
}

const cameras: DemoCamera[] = [];
async function camera(o: DemoCameraOptions = {}): Promise<DemoCamera> {
  const cam = await startDemoCamera({ width: 320, height: 240, fps: 25, ...o });
  cameras.push(cam);
  return cam;
}
after(async () => {
  for (const s of rawSockets) s.destroy();
  for (const c of cameras) await c.close();
});

describe('demo camera: RTSP basics', () => {
  test('OPTIONS/DESCRIBE/SETUP(tcp)/PLAY: interleaved RTP reassembles into decodable frames; SR maps NTP↔RTP', async () => {
    const cam = await camera();
    assert.match(cam.url, /^rtsp:\/\/127\.0\.0\.1:\d+\/demo$/);
    const c = await RawClient.connect(cam.port);
    const o = await c.request('OPTIONS', cam.url);
    assert.equal(o.statusCode, 200);
    assert.match(header(o.headers, 'public')!, /GET_PARAMETER/);
    const d = await c.request('DESCRIBE', cam.url, { Accept: 'application/sdp' });
    assert.equal(d.statusCode, 200);
    assert.equal(header(d.headers, 'content-base'), `${cam.url}/`);
    const sdp = d.body.toString();
    for (const line of ['m=video 0 RTP/AVP 26', 'a=rtpmap:26 JPEG/90000', 'a=framerate:25.000000', 'a=control:stream=0']) assert.ok(sdp.includes(line), line);
    const s = await c.request('SETUP', `${cam.url}/stream=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    assert.equal(s.statusCode, 200);
    assert.match(header(s.headers, 'transport')!, /^RTP\/AVP\/TCP;unicast;interleaved=0-1;ssrc=[0-9A-F]{8};mode="PLAY"$/);
    assert.match(header(s.headers, 'session')!, /^[0-9A-F]+;timeout=60$/);
    const p = await c.request('PLAY', `${cam.url}/`, { Session: sessionOf(s) });
    assert.equal(p.statusCode, 200);
    const rtpInfo = header(p.headers, 'rtp-info')!;
    const m = /^url=.*\/demo\/stream=0;seq=(\d+);rtptime=(\d+)$/.exec(rtpInfo);
    assert.ok(m, rtpInfo);
    assert.equal(header(p.headers, 'range'), 'npt=now-');
    await until(() => c.rtp().filter((x) => x.marker).length >= 4 && c.rtcp().some((x) => x.type === 'SR'), '4 frames and an SR');
    const pkts = c.rtp();
    // "now" for the capture-time check below, taken before the decoding, which is slow on a busy machine
    const receivedBy = Date.now();
    assert.equal(pkts[0]!.seq, Number(m[1]), 'first packet has the RTP-Info seq');
    assert.equal(pkts[0]!.ts, Number(m[2]), 'first packet has the RTP-Info rtptime');
    assert.ok(pkts.every((x) => x.pt === 26));
    for (let i = 1; i < pkts.length; i++) assert.equal(pkts[i]!.seq, (pkts[i - 1]!.seq + 1) & 0xffff);
    const frames = depacketize(pkts);
    assert.ok(frames.length >= 4);
    for (const f of frames) {
      assert.equal(f.width, 320);
      assert.equal(f.height, 240);
      const r = decodeJpeg(f.jpeg);
      assert.ok(r.ok, r.error);
    }
    // 25 fps → timestamp step 3600 at 90 kHz (a late tick skips whole frames, never bursts them).
    const steps = frames.slice(1).map((f, i) => (f.rtpTimestamp - frames[i]!.rtpTimestamp) >>> 0);
    assert.ok(steps.every((s) => s > 0 && s % 3600 === 0), steps.join(','));
    assert.ok(steps.includes(3600), steps.join(','));
    // The SR's NTP↔RTP mapping puts the latest frame's capture time near "now".
    const sr = c.rtcp().find((x) => x.type === 'SR');
    assert.ok(sr && sr.type === 'SR');
    const srMs = ntpToMs(sr.ntpSeconds, sr.ntpFraction);
    const last = frames[frames.length - 1]!;
    const captured = srMs + ((last.rtpTimestamp - sr.rtpTimestamp) | 0) / 90;
    assert.ok(Math.abs(captured - receivedBy) < 1000, `capture time off by ${captured - receivedBy} ms`);
    assert.equal(sr.ssrc, last.ssrc);
    const t = await c.request('TEARDOWN', `${cam.url}/`, { Session: sessionOf(s) });
    assert.equal(t.statusCode, 200);
    assert.equal(cam.stats.activeSessions, 0);
    assert.ok(cam.stats.setups >= 1 && cam.stats.plays >= 1 && cam.stats.teardowns >= 1 && cam.stats.framesSent >= 4);
    c.close();
  });

  test('UDP: RTP arrives on client_port; RRs sent to server_port+1 are counted', async () => {
    const cam = await camera();
    const rtpSock = dgram.createSocket('udp4');
    const rtcpSock = dgram.createSocket('udp4');
    await new Promise<void>((r) => rtpSock.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => rtcpSock.bind(0, '127.0.0.1', () => r()));
    const got: Rtp[] = [];
    const rtcpIn: Buffer[] = [];
    rtpSock.on('message', (m) => got.push(rtpView(m)));
    rtcpSock.on('message', (m) => rtcpIn.push(m));
    const c = await RawClient.connect(cam.port);
    try {
      await c.request('DESCRIBE', cam.url);
      const cp = `${rtpSock.address().port}-${rtcpSock.address().port}`;
      const s = await c.request('SETUP', `${cam.url}/stream=0`, { Transport: `RTP/AVP;unicast;client_port=${cp}` });
      assert.equal(s.statusCode, 200);
      const tr = header(s.headers, 'transport')!;
      const sp = /server_port=(\d+)-(\d+)/.exec(tr);
      assert.ok(sp && tr.includes(`client_port=${cp}`), tr);
      assert.equal(Number(sp[1]) % 2, 0, 'server RTP port is even');
      const p = await c.request('PLAY', cam.url, { Session: sessionOf(s) });
      assert.equal(p.statusCode, 200);
      await until(() => got.filter((x) => x.marker).length >= 3 && rtcpIn.length > 0, '3 frames and an SR over UDP');
      const frames = depacketize(got);
      assert.ok(frames.length >= 2);
      for (const f of frames) assert.ok(decodeJpeg(f.jpeg).ok);
      assert.ok(parseRtcpCompound(rtcpIn[0]!).packets.some((x) => x.type === 'SR'));
      const rr = buildReceiverReportCompound({ ssrc: 0x1234, cname: 'test', blocks: [] });
      rtcpSock.send(rr, Number(sp[2]), '127.0.0.1');
      await until(() => cam.stats.receiverReports >= 1, 'RR counted');
    } finally {
      c.close();
      rtpSock.close();
      rtcpSock.close();
    }
  });

  test('transports: only tcp allowed → UDP SETUP answered 461', async () => {
    const cam = await camera({ transports: ['tcp'] });
    const c = await RawClient.connect(cam.port);
    const s = await c.request('SETUP', `${cam.url}/stream=0`, { Transport: 'RTP/AVP;unicast;client_port=5000-5001' });
    assert.equal(s.statusCode, 461);
    const ok = await c.request('SETUP', `${cam.url}/stream=0`, { Transport: 'RTP/AVP;unicast;client_port=5000-5001,RTP/AVP/TCP;unicast;interleaved=0-1' });
    assert.equal(ok.statusCode, 200);
    c.close();
  });

  test('malformed requests get 400 and the server keeps serving; unknown paths 404', async () => {
    const cam = await camera();
    const c = await RawClient.connect(cam.port);
    const noCseq = await c.raw('OPTIONS rtsp://x/demo RTSP/1.0\r\n\r\n');
    assert.equal(noCseq.statusCode, 400);
    const badLength = await c.raw('OPTIONS * RTSP/1.0\r\nCSeq: 6\r\nContent-Length: abc\r\n\r\n');
    assert.equal(badLength.statusCode, 400);
    // An unparsable start line is skipped by the reader; the next request is still answered.
    c.sock.write('THIS IS NOT RTSP\r\n\r\n');
    c.sock.write(Buffer.from([0, 1, 2, 0xff, 0xfe]));
    const hugeHeader = await c.raw(`OPTIONS * RTSP/1.0\r\nCSeq: 9\r\nX: ${'a'.repeat(10000)}\r\n\r\n`);
    assert.equal(hugeHeader.statusCode, 400);
    const d = await c.request('DESCRIBE', `rtsp://127.0.0.1:${cam.port}/nope`);
    assert.equal(d.statusCode, 404);
    const v = await c.raw('OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\n');
    assert.equal(v.statusCode, 505);
    const o = await c.request('OPTIONS', cam.url);
    assert.equal(o.statusCode, 200);
    const bogus = await c.request('PLAY', cam.url, { Session: 'nope' });
    assert.equal(bogus.statusCode, 454);
    c.close();
  });

  test('Digest auth: 401 with realm/nonce/qop, then 200 with a correct response; wrong password 401', async () => {
    const cam = await camera({ auth: 'digest', username: 'viewer', password: 's3cret' });
    const c = await RawClient.connect(cam.port);
    assert.equal((await c.request('OPTIONS', cam.url)).statusCode, 200, 'OPTIONS needs no auth');
    const r1 = await c.request('DESCRIBE', cam.url);
    assert.equal(r1.statusCode, 401);
    const ch = parseAuthorization(header(r1.headers, 'www-authenticate')!)!;
    assert.equal(ch.scheme, 'digest');
    const { realm, nonce, qop } = ch.params;
    assert.ok(realm && nonce);
    assert.equal(qop, 'auth');
    const auth = (password: string, method: string): string => {
      const response = digestResponse({ algorithm: 'MD5', username: 'viewer', realm, password, method, uri: cam.url, nonce, qop: 'auth', nc: '00000001', cnonce: 'abcdef' });
      return `Digest username="viewer", realm="${realm}", nonce="${nonce}", uri="${cam.url}", response="${response}", qop=auth, nc=00000001, cnonce="abcdef"`;
    };
    assert.equal((await c.request('DESCRIBE', cam.url, { Authorization: auth('wrong', 'DESCRIBE') })).statusCode, 401);
    assert.equal((await c.request('DESCRIBE', cam.url, { Authorization: auth('s3cret', 'DESCRIBE') })).statusCode, 200);
    // RFC 2069 form (no qop), as GStreamer's clients and many cameras use.
    const resp2069 = digestResponse({ algorithm: 'MD5', username: 'viewer', realm, password: 's3cret', method: 'DESCRIBE', uri: cam.url, nonce });
    const r3 = await c.request('DESCRIBE', cam.url, { Authorization: `Digest username="viewer", realm="${realm}", nonce="${nonce}", uri="${cam.url}", response="${resp2069}"` });
    assert.equal(r3.statusCode, 200);
    // Basic is not accepted when the camera asks for Digest.
    const basic = `Basic ${Buffer.from('viewer:s3cret').toString('base64')}`;
    assert.equal((await c.request('DESCRIBE', cam.url, { Authorization: basic })).statusCode, 401);
    c.close();
  });

  test('Basic auth: 401 Basic realm, then 200', async () => {
    const cam = await camera({ auth: 'basic', username: 'u', password: 'p' });
    const c = await RawClient.connect(cam.port);
    const r1 = await c.request('DESCRIBE', cam.url);
    assert.equal(r1.statusCode, 401);
    assert.match(header(r1.headers, 'www-authenticate')!, /^Basic realm="/);
    const good = `Basic ${Buffer.from('u:p').toString('base64')}`;
    const bad = `Basic ${Buffer.from('u:x').toString('base64')}`;
    assert.equal((await c.request('DESCRIBE', cam.url, { Authorization: bad })).statusCode, 401);
    assert.equal((await c.request('DESCRIBE', cam.url, { Authorization: good })).statusCode, 200);
    c.close();
  });

  test('session expires without keep-alives, survives with GET_PARAMETER', async () => {
    const cam = await camera({ sessionTimeoutSec: 1 });
    const kept = await RawClient.connect(cam.port);
    const idle = await RawClient.connect(cam.port);
    const sk = await playTcp(kept, cam.url);
    await playTcp(idle, cam.url);
    assert.equal(cam.stats.activeSessions, 2);
    const end = Date.now() + 2200;
    while (Date.now() < end) {
      const r = await kept.request('GET_PARAMETER', `${cam.url}/`, { Session: sk });
      assert.equal(r.statusCode, 200);
      await new Promise((r) => setTimeout(r, 300));
    }
    await until(() => cam.stats.activeSessions === 1, 'idle session expired');
    await until(() => idle.closed, 'expired TCP session closes its connection');
    assert.ok(!kept.closed);
    assert.ok(cam.stats.keepAlives >= 3);
    kept.close();
  });

  test('audio: PCMU on stream=1; requireAudioSetup answers 455 to a video-only PLAY', async () => {
    const cam = await camera({ audio: true, requireAudioSetup: true });
    const c = await RawClient.connect(cam.port);
    const d = await c.request('DESCRIBE', cam.url);
    assert.match(d.body.toString(), /m=audio 0 RTP\/AVP 0\r\na=.*|m=audio 0 RTP\/AVP 0/);
    assert.ok(d.body.toString().includes('a=rtpmap:0 PCMU/8000') && d.body.toString().includes('a=control:stream=1'));
    const s = await c.request('SETUP', `${cam.url}/stream=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' });
    const p = await c.request('PLAY', cam.url, { Session: sessionOf(s) });
    assert.equal(p.statusCode, 455);
    const s2 = await c.request('SETUP', `${cam.url}/stream=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3', Session: sessionOf(s) });
    assert.equal(s2.statusCode, 200);
    const p2 = await c.request('PLAY', cam.url, { Session: sessionOf(s) });
    assert.equal(p2.statusCode, 200);
    assert.match(header(p2.headers, 'rtp-info')!, /stream=0;seq=\d+;rtptime=\d+,url=.*stream=1;seq=\d+;rtptime=\d+/);
    await until(() => c.rtp(2).length >= 3 && c.rtp(0).length > 0, 'audio packets');
    const a = c.rtp(2);
    assert.ok(a.every((x) => x.pt === 0 && x.buf.length === 12 + 1024));
    assert.equal((a[1]!.ts - a[0]!.ts) >>> 0, 1024);
    c.close();
  });

  test('a TCP client that stops reading gets frames skipped, not queued without bound', async () => {
    // Replay mode with big fake frames at a high rate fills the socket buffers quickly.
    const frame = Array.from({ length: 40 }, (_, i) => {
      const b = Buffer.alloc(1400, 0x55);
      b[0] = 0x80;
      b[1] = i === 39 ? 0x80 | 26 : 26;
      return b;
    });
    const cam = await camera({ fps: 100, replay: [frame] });
    const c = await RawClient.connect(cam.port);
    await playTcp(c, cam.url);
    c.sock.pause();
    await until(() => cam.stats.framesSkipped > 5, 'frames skipped', 15000);
    c.close();
  });

  test('replay mode keeps sequence numbers continuous across loops', async () => {
    const mk = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => {
      const b = Buffer.alloc(100);
      b[0] = 0x80;
      b[1] = i === n - 1 ? 0x80 | 26 : 26;
      return b;
    });
    const cam = await camera({ replay: [mk(2), mk(3)] });
    const c = await RawClient.connect(cam.port);
    await playTcp(c, cam.url);
    await until(() => c.rtp().filter((x) => x.marker).length >= 5, '5 frames');
    const p = c.rtp();
    for (let i = 1; i < p.length; i++) assert.equal(p[i]!.seq, (p[i - 1]!.seq + 1) & 0xffff);
    c.close();
  });
});

describe('demo camera: fault switches', () => {
  async function playing(o: DemoCameraOptions = {}): Promise<{ cam: DemoCamera; c: RawClient; session: string }> {
    const cam = await camera(o);
    const c = await RawClient.connect(cam.port);
    const session = await playTcp(c, cam.url);
    return { cam, c, session };
  }
  const frameCount = (c: RawClient): number => c.rtp().filter((x) => x.marker).length;

  test('lossPercent drops packets (sequence gaps)', async () => {
    const { cam, c } = await playing({ faults: { lossPercent: 40 } });
    await until(() => cam.stats.packetFaults.dropped > 5 && c.rtp().length > 20, 'losses');
    const p = c.rtp();
    assert.ok(p.some((x, i) => i > 0 && x.seq !== ((p[i - 1]!.seq + 1) & 0xffff)));
    c.close();
  });

  test('reorder swaps adjacent packets', async () => {
    const { c } = await playing({ faults: { reorder: true } });
    await until(() => frameCount(c) >= 3, 'frames');
    const p = c.rtp();
    assert.ok(p.some((x, i) => i > 0 && ((x.seq - p[i - 1]!.seq) & 0xffff) === 0xffff), 'a packet arrived before its predecessor');
    c.close();
  });

  test('duplicatePercent repeats packets', async () => {
    const { c } = await playing({ faults: { duplicatePercent: 50 } });
    await until(() => c.rtp().length > 20, 'packets');
    const p = c.rtp();
    assert.ok(p.some((x, i) => i > 0 && x.seq === p[i - 1]!.seq));
    c.close();
  });

  test('dropConnectionAfterMs closes the connection', async () => {
    const { cam, c } = await playing({ faults: { dropConnectionAfterMs: 300 } });
    await until(() => c.closed, 'connection dropped');
    assert.equal(cam.stats.activeSessions, 0);
  });

  test('refuseConnections closes the next N connections at once', async () => {
    const cam = await camera({ faults: { refuseConnections: 1 } });
    const c1 = await RawClient.connect(cam.port);
    await until(() => c1.closed, 'first connection refused');
    const c2 = await RawClient.connect(cam.port);
    assert.equal((await c2.request('OPTIONS', cam.url)).statusCode, 200);
    assert.equal(cam.stats.refusedConnections, 1);
    c2.close();
  });

  test('keepAlive401 answers the next keep-alive 401 with a new nonce', async () => {
    const cam = await camera({ auth: 'digest', username: 'u', password: 'p' });
    const c = await RawClient.connect(cam.port);
    const r1 = await c.request('DESCRIBE', cam.url);
    const nonce1 = parseAuthorization(header(r1.headers, 'www-authenticate')!)!.params['nonce']!;
    const realm = parseAuthorization(header(r1.headers, 'www-authenticate')!)!.params['realm']!;
    const auth = (method: string, nonce: string): Record<string, string> => ({
      Authorization: `Digest username="u", realm="${realm}", nonce="${nonce}", uri="${cam.url}", response="${digestResponse({ algorithm: 'MD5', username: 'u', realm, password: 'p', method, uri: cam.url, nonce })}"`,
    });
    const s = await c.request('SETUP', `${cam.url}/stream=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1', ...auth('SETUP', nonce1) });
    assert.equal(s.statusCode, 200);
    cam.setFaults({ keepAlive401: true });
    const k = await c.request('GET_PARAMETER', cam.url, { Session: sessionOf(s), ...auth('GET_PARAMETER', nonce1) });
    assert.equal(k.statusCode, 401);
    const nonce2 = parseAuthorization(header(k.headers, 'www-authenticate')!)!.params['nonce']!;
    assert.notEqual(nonce2, nonce1);
    assert.equal((await c.request('GET_PARAMETER', cam.url, { Session: sessionOf(s), ...auth('GET_PARAMETER', nonce1) })).statusCode, 401, 'old nonce refused');
    assert.equal((await c.request('GET_PARAMETER', cam.url, { Session: sessionOf(s), ...auth('GET_PARAMETER', nonce2) })).statusCode, 200);
    c.close();
  });

  test('keepAlive454 answers the next keep-alive 454 and ends the session', async () => {
    const { cam, c, session } = await playing();
    cam.setFaults({ keepAlive454: true });
    assert.equal((await c.request('GET_PARAMETER', cam.url, { Session: session })).statusCode, 454);
    assert.equal(cam.stats.activeSessions, 0);
    c.close();
  });

  test('changeSsrcAfterFrames switches SSRC mid-stream', async () => {
    const { c } = await playing({ faults: { changeSsrcAfterFrames: 2 } });
    await until(() => new Set(c.rtp().map((x) => x.ssrc)).size === 2 && frameCount(c) >= 4, 'second SSRC');
    c.close();
  });

  test('midFrameTimestampChange: one frame carries two timestamps', async () => {
    const { c } = await playing({ faults: { midFrameTimestampChange: true } });
    await until(() => frameCount(c) >= 3, 'frames');
    const p = c.rtp();
    const firstMarker = p.findIndex((x) => x.marker);
    assert.ok(new Set(p.slice(0, firstMarker + 1).map((x) => x.ts)).size === 2);
    c.close();
  });

  test('sendBye sends one RTCP BYE and keeps streaming', async () => {
    const { cam, c } = await playing();
    await until(() => frameCount(c) >= 1, 'frames');
    cam.setFaults({ sendBye: true });
    await until(() => c.rtcp().some((x) => x.type === 'BYE'), 'BYE');
    const n = frameCount(c);
    await until(() => frameCount(c) > n + 2, 'frames after BYE');
    assert.equal(c.rtcp().filter((x) => x.type === 'BYE').length, 1);
    c.close();
  });

  test('stall stops RTP while the session answers keep-alives', async () => {
    const { cam, c, session } = await playing();
    await until(() => frameCount(c) >= 1, 'frames');
    cam.setFaults({ stall: true });
    await new Promise((r) => setTimeout(r, 100));
    const n = c.rtp().length;
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(c.rtp().length, n, 'no RTP while stalled');
    assert.equal((await c.request('GET_PARAMETER', cam.url, { Session: session })).statusCode, 200);
    cam.setFaults({});
    await until(() => c.rtp().length > n, 'RTP resumes');
    c.close();
  });

  test('restartMarkers → RTP type 65 with restart header; frames decode', async () => {
    const { c } = await playing({ faults: { restartMarkers: true } });
    await until(() => frameCount(c) >= 3, 'frames');
    const p = c.rtp();
    assert.equal(p[0]!.buf[16], 65);
    assert.equal(p[0]!.buf.readUInt16BE(20), 20, 'restart interval = MCUs per row');
    const frames = depacketize(p);
    assert.ok(frames.length >= 2);
    for (const f of frames) assert.ok(decodeJpeg(f.jpeg).ok);
    c.close();
  });

  test('q 1..99 → Q field set, no in-band tables; frames decode', async () => {
    const { c } = await playing({ faults: { q: 60 } });
    await until(() => frameCount(c) >= 3, 'frames');
    const p = c.rtp();
    assert.equal(p[0]!.buf[17], 60);
    const frames = depacketize(p);
    assert.ok(frames.length >= 2);
    for (const f of frames) assert.ok(decodeJpeg(f.jpeg).ok);
    c.close();
  });

  test('zeroDimensions → 0×0 in RTP, a=x-dimensions in SDP', async () => {
    const cam = await camera({ faults: { zeroDimensions: true } });
    const c = await RawClient.connect(cam.port);
    const d = await c.request('DESCRIBE', cam.url);
    assert.ok(d.body.toString().includes('a=x-dimensions:320,240'));
    await playTcp(c, cam.url);
    await until(() => frameCount(c) >= 2, 'frames');
    const p = c.rtp();
    assert.equal(p[0]!.buf[18], 0);
    assert.equal(p[0]!.buf[19], 0);
    const frames = depacketize(p, { width: 320, height: 240 });
    assert.ok(frames.length >= 1 && decodeJpeg(frames[0]!.jpeg).ok);
    c.close();
  });
});
