import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { vectorPackets } from '../support/pcap';
import { startFakeServer, tcpCamera, framesOf, mjpegSdp, type FakeServer } from '../support/fake-rtsp-server';
import { openCamera } from '../support/camera-session';
import type { CameraSession } from '../../src/camera/session';
import type { StateChange } from '../../src/camera/types';
import { parseRtcpCompound, type RtcpPacket } from '../../src/rtcp/packet';
import { closeAfter } from '../support/cleanup';
import { reserveUdpRange } from '../support/ports';

const VEC = join(__dirname, '..', 'fixtures', 'vectors', 'gst-tcp-320x240.pcap');
const FRAMES = framesOf(vectorPackets(VEC).rtp.map((x) => x.packet)).slice(0, 10);

function untilState(cam: CameraSession, pred: (c: StateChange) => boolean, timeoutMs = 6000): Promise<StateChange> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { cam.off('state', on); reject(new Error(`state not reached (now ${cam.state})`)); }, timeoutMs);
    const on = (c: StateChange): void => { if (pred(c)) { clearTimeout(t); cam.off('state', on); resolve(c); } };
    cam.on('state', on);
  });
}
function untilFrame(cam: CameraSession, timeoutMs = 6000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { cam.off('frame', on); reject(new Error(`no frame (state ${cam.state})`)); }, timeoutMs);
    const on = (): void => { clearTimeout(t); cam.off('frame', on); resolve(); };
    cam.on('frame', on);
  });
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function untilTrue(cond: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not seen in time: ${what}`);
    await sleep(50);
  }
}

describe('transport fallback (auto)', () => {
  for (const status of [461, 406]) {
    test(`SETUP UDP answered ${status} → SETUP TCP on the same connection, one DESCRIBE, port pair released`, async (t) => {
      const server = closeAfter(t, await startFakeServer());
      server.setHandler(tcpCamera(server, {
        frames: FRAMES,
        before: (req, conn) => {
          if (req.method === 'SETUP' && !(req.headers['transport'] ?? '').includes('TCP')) { conn.reply(req, status); return true; }
          return false;
        },
      }));
      const logs: string[] = [];
      const cam = openCamera(server.url(), { transport: 'auto', udpPortRange: await reserveUdpRange(10, t), logger: (l, m) => { if (l === 'info') logs.push(m); } });
      try {
        await untilFrame(cam);
        assert.equal(cam.getStats().transport, 'tcp');
      } finally { await cam.close(); }
      const setups = server.requests.filter((r) => r.method === 'SETUP');
      assert.equal(setups.length, 2);
      assert.match(setups[0]!.headers['transport']!, /^RTP\/AVP;unicast;client_port=(\d+)-(\d+)$/);
      const [, a, b] = /client_port=(\d+)-(\d+)/.exec(setups[0]!.headers['transport']!)!;
      assert.equal(Number(a) % 2, 0); assert.equal(Number(b), Number(a) + 1);
      assert.equal(setups[1]!.headers['transport'], 'RTP/AVP/TCP;unicast;interleaved=0-1');
      assert.equal(setups[1]!.connIndex, setups[0]!.connIndex, 'same connection');
      assert.equal(server.conns.length, 1, 'one connection');
      assert.equal(server.requests.filter((r) => r.method === 'DESCRIBE').length, 1, 'one DESCRIBE');
      const chosen = logs.filter((m) => m.startsWith('transport tcp (auto)'));
      assert.equal(chosen.length, 1, `one info line says why: ${JSON.stringify(logs)}`);
      assert.match(chosen[0]!, new RegExp(`refused UDP \\(SETUP: ${status} `));
      // the pair offered in the UDP SETUP was given back: it can be bound again at once
      const dgram = await import('node:dgram');
      for (const port of [Number(a), Number(b)]) {
        const sock = dgram.createSocket('udp4');
        await new Promise<void>((resolve, reject) => { sock.once('error', reject); sock.bind(port, () => resolve()); });
        sock.close();
      }
    });
  }

  test('UDP SETUP answered 200 with interleaved channels → those channels used, no second SETUP', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, { frames: FRAMES, channels: [4, 5] }));
    const cam = openCamera(server.url(), { transport: 'auto' });
    try {
      await untilFrame(cam);
      assert.equal(cam.getStats().transport, 'tcp');
    } finally { await cam.close(); }
    const setups = server.requests.filter((r) => r.method === 'SETUP');
    assert.equal(setups.length, 1);
    assert.match(setups[0]!.headers['transport']!, /^RTP\/AVP;unicast;client_port=/);
    assert.equal(server.conns.length, 1);
    assert.equal(server.requests.filter((r) => r.method === 'DESCRIBE').length, 1);
  });

  test('UDP SETUP answered with a TCP profile but no channels → SETUP TCP again on the same connection', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, {
      frames: FRAMES,
      before: (req, conn) => {
        if (req.method === 'SETUP' && !(req.headers['transport'] ?? '').includes('TCP')) {
          conn.reply(req, 200, { Transport: 'RTP/AVP/TCP;unicast', Session: 'ABCDEF12' });
          return true;
        }
        return false;
      },
    }));
    const cam = openCamera(server.url(), { transport: 'auto' });
    try {
      await untilFrame(cam);
      assert.equal(cam.getStats().transport, 'tcp');
    } finally { await cam.close(); }
    const setups = server.requests.filter((r) => r.method === 'SETUP');
    assert.equal(setups.length, 2);
    assert.equal(setups[1]!.headers['transport'], 'RTP/AVP/TCP;unicast;interleaved=0-1');
    assert.equal(setups[1]!.headers['session'], 'ABCDEF12', 'the second SETUP belongs to the session the first created');
    assert.equal(server.conns.length, 1);
  });

  test('udp (not auto): 461 stays an error, no TCP SETUP', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, {
      frames: FRAMES,
      before: (req, conn) => {
        if (req.method === 'SETUP') { conn.reply(req, 461); return true; }
        return false;
      },
    }));
    const cam = openCamera(server.url(), { transport: 'udp', reconnectMinMs: 5000 });
    try {
      const c = await untilState(cam, (s) => s.state === 'reconnecting');
      assert.equal(c.reason, 'unsupported transport');
    } finally { await cam.close(); }
    assert.ok(server.requests.filter((r) => r.method === 'SETUP').every((r) => !r.headers['transport']!.includes('TCP')));
  });

  test('UDP PLAY OK but no RTP within 3 s → TCP', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, {
      frames: FRAMES,
      before: (req, conn) => {
        const udp = !(req.headers['transport'] ?? 'TCP').includes('TCP');
        if (req.method === 'SETUP' && udp) {
          conn.reply(req, 200, { Transport: `${req.headers['transport']};server_port=40000-40001`, Session: 'U1' });
          (conn as unknown as { udp: boolean }).udp = true;
          return true;
        }
        if (req.method === 'PLAY' && (conn as unknown as { udp?: boolean }).udp) { conn.reply(req, 200, { Session: 'U1' }); return true; }
        return false;
      },
    }));
    const cam = openCamera(server.url(), { transport: 'auto' });
    try {
      await untilFrame(cam, 9000);
      assert.equal(cam.getStats().transport, 'tcp');
    } finally { await cam.close(); }
    const td = server.requests.find((r) => r.method === 'TEARDOWN' && r.connIndex === 0);
    assert.ok(td, 'the UDP session was torn down');
    const next = server.requests.find((r) => r.connIndex === 1);
    assert.ok(next, 'a new connection for TCP');
    assert.ok(server.requests.indexOf(td) < server.requests.indexOf(next), 'TEARDOWN before the new connection asked anything');
  });
});

describe('keep-alive and server requests', () => {
  test('GET_PARAMETER refused with 405 (wrong CSeq) → later keep-alives use OPTIONS; stream continues', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, {
      frames: FRAMES, timeout: 2,
      before: (req, conn) => {
        if (req.method === 'GET_PARAMETER') { conn.reply(req, 405, { CSeq: String(Number(req.cseq) - 1) }); return true; }
        return false;
      },
    }));
    const cam = openCamera(server.url());
    try {
      await untilFrame(cam);
      await server.waitFor((r) => r.method === 'GET_PARAMETER', 4000);
      const opt = await server.waitFor((r) => r.method === 'OPTIONS' && r.connIndex === 0 && r.headers['session'] === 'ABCDEF12', 5000);
      assert.equal(opt.uri, `${server.url()}/`, 'keep-alive goes to the aggregate URL');
      assert.equal(cam.state, 'playing');
    } finally { await cam.close(); }
  });

  test('GET_PARAMETER never answered → an OPTIONS follows it and keeps the session from then on; no second GET_PARAMETER', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, {
      frames: FRAMES, timeout: 2,
      before: (req) => req.method === 'GET_PARAMETER', // swallowed: no reply at all
    }));
    const logs: string[] = [];
    const cam = openCamera(server.url(), { logger: (_l, m) => logs.push(m) });
    try {
      await untilFrame(cam);
      await server.waitFor((r) => r.method === 'GET_PARAMETER', 4000);
      const withSession = (r: { method: string; connIndex: number; headers: Record<string, string> }): boolean => r.method === 'OPTIONS' && r.connIndex === 0 && r.headers['session'] === 'ABCDEF12';
      await server.waitFor(withSession, 4000);
      // the next period's keep-alive is an OPTIONS too (without the switch it would be a second GET_PARAMETER)
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && server.requests.filter(withSession).length < 2) await sleep(20);
      assert.equal(server.requests.filter(withSession).length, 2, 'two OPTIONS keep-alives');
      assert.equal(server.requests.filter((r) => r.method === 'GET_PARAMETER').length, 1);
      assert.ok(logs.some((l) => /GET_PARAMETER keep-alive unanswered after \d+ ms; keeping the session alive with OPTIONS/.test(l)), logs.join('\n'));
      assert.equal(cam.state, 'playing');
    } finally { await cam.close(); }
  });

  test('OPTIONS keep-alive when Public lacks GET_PARAMETER', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, { frames: FRAMES, timeout: 2, public: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN' }));
    const cam = openCamera(server.url());
    try {
      await untilFrame(cam);
      await server.waitFor((r) => r.method === 'OPTIONS' && r.headers['session'] === 'ABCDEF12', 4000);
      assert.ok(!server.requests.some((r) => r.method === 'GET_PARAMETER'));
    } finally { await cam.close(); }
  });

  test('server-sent OPTIONS is answered with its CSeq; stream continues', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, { frames: FRAMES }));
    const cam = openCamera(server.url());
    try {
      await untilFrame(cam);
      server.conns[0]!.request('OPTIONS', '*', 77);
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline && server.conns[0]!.clientResponses.length === 0) await sleep(20);
      assert.match(server.conns[0]!.clientResponses[0] ?? '', /^RTSP\/1\.0 200 OK\r\n[\s\S]*CSeq: 77\r\n/);
      await untilFrame(cam);
      assert.equal(cam.state, 'playing');
    } finally { await cam.close(); }
  });

  test('454 on a keep-alive → full re-handshake on a new connection', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, {
      frames: FRAMES, timeout: 2,
      before: (req, conn) => {
        if (req.method === 'GET_PARAMETER' && req.connIndex === 0) { conn.reply(req, 454); return true; }
        return false;
      },
    }));
    const cam = openCamera(server.url(), { reconnectMinMs: 50, reconnectMaxMs: 100 });
    try {
      const st = await untilState(cam, (c) => c.state === 'reconnecting', 6000);
      assert.equal(st.reason, 'session expired');
      await untilState(cam, (c) => c.state === 'playing', 6000);
      assert.ok(server.requests.some((r) => r.method === 'DESCRIBE' && r.connIndex > 0));
    } finally { await cam.close(); }
  });
});

describe('close, resources, reconnect', () => {
  test('close while a request is outstanding resolves promptly and releases everything', async (t) => {
    const before = process.getActiveResourcesInfo().filter((x) => x !== 'TTYWrap').length;
    const server: FakeServer = closeAfter(t, await startFakeServer());
    server.setHandler((req, conn) => { if (req.method === 'OPTIONS') conn.reply(req, 200); /* DESCRIBE never answered */ });
    const cam = closeAfter(t, openCamera(server.url(), { transport: 'udp' }));
    await server.waitFor((r) => r.method === 'DESCRIBE');
    const t0 = Date.now();
    await cam.close();
    assert.ok(Date.now() - t0 < 2500, 'close is bounded');
    assert.equal(cam.state, 'closed');
    await server.close();
    await sleep(50);
    const after = process.getActiveResourcesInfo().filter((x) => x !== 'TTYWrap').length;
    assert.ok(after <= before, `resources before ${before}, after ${after}: ${process.getActiveResourcesInfo().join(',')}`);
  });

  test('after close() of a playing UDP session no socket, timer or UDP port remains', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    const before = process.getActiveResourcesInfo().filter((x) => x !== 'TTYWrap');
    let port = 0;
    server.setHandler(tcpCamera(server, {
      frames: FRAMES,
      before: (req, conn) => {
        if (req.method === 'SETUP') {
          port = Number(/client_port=(\d+)/.exec(req.headers['transport'] ?? '')?.[1]);
          conn.reply(req, 200, { Transport: `${req.headers['transport']};server_port=40000-40001`, Session: 'U1' });
          return true;
        }
        if (req.method === 'PLAY') { conn.reply(req, 200, { Session: 'U1' }); return true; }
        return false;
      },
    }));
    const range = await reserveUdpRange(100, t);
    const cam = closeAfter(t, openCamera(server.url(), { transport: 'udp', udpPortRange: range }));
    await untilState(cam, (c) => c.state === 'playing');
    assert.ok(port >= range[0] && port <= range[1] - 1 && port % 2 === 0);
    await cam.close();
    await sleep(50);
    const after = process.getActiveResourcesInfo().filter((x) => x !== 'TTYWrap');
    assert.ok(after.length <= before.length, `before ${before.join(',')} after ${after.join(',')}`);
    // the port can be bound again
    const dgram = await import('node:dgram');
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind(port, () => resolve()); });
    s.close();
  });

  test('server drop → reconnecting with backoff, then playing again', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, { frames: FRAMES }));
    const cam = openCamera(server.url(), { reconnectMinMs: 100, reconnectMaxMs: 200 });
    try {
      await untilFrame(cam);
      server.conns[0]!.destroy();
      const st = await untilState(cam, (c) => c.state === 'reconnecting');
      assert.equal(st.reason, 'connection lost');
      assert.ok(st.retryInMs !== undefined && st.retryInMs >= 80 && st.retryInMs <= 240);
      await untilState(cam, (c) => c.state === 'playing');
      const before = cam.getStats().framesEmitted;
      await untilFrame(cam);
      assert.ok(cam.getStats().framesEmitted > before, 'frame index survives reconnects');
    } finally { await cam.close(); }
  });

  test('stall watchdog: PLAY OK but no frames → "stalled"', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, { frames: FRAMES, before: (req, conn) => { if (req.method === 'PLAY') { conn.reply(req, 200, { Session: 'ABCDEF12' }); return true; } return false; } }));
    const cam = openCamera(server.url(), { stallTimeoutMs: 500, reconnectMinMs: 60000 });
    try {
      const st = await untilState(cam, (c) => c.state === 'reconnecting', 4000);
      assert.equal(st.reason, 'stalled');
    } finally { await cam.close(); }
  });

  test('RTCP BYE ends the source → reconnect policy', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, { frames: FRAMES }));
    const cam = openCamera(server.url(), { reconnectMinMs: 60000 });
    try {
      await untilFrame(cam);
      const ssrc = cam.getStats().ssrc!;
      const bye = Buffer.alloc(8); bye[0] = 0x81; bye[1] = 203; bye.writeUInt16BE(1, 2); bye.writeUInt32BE(ssrc, 4);
      server.conns[0]!.interleaved(1, bye);
      const st = await untilState(cam, (c) => c.state === 'reconnecting');
      assert.equal(st.reason, 'end of stream');
    } finally { await cam.close(); }
  });

  test('after a BYE and the reconnect, RRs go out on the new connection about the new stream only', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, { frames: FRAMES }));
    const cam = closeAfter(t, openCamera(server.url(), { reconnectMinMs: 100, reconnectMaxMs: 200 }));
    const rrOn = async (conn: number): Promise<RtcpPacket & { type: 'RR' }> => {
      let found: (RtcpPacket & { type: 'RR' }) | undefined;
      await untilTrue(() => {
        const f = server.conns[conn]?.clientFrames.find((x) => x.channel === 1);
        const p = f ? parseRtcpCompound(f.payload).packets[0] : undefined;
        if (p?.type === 'RR') found = p;
        return found !== undefined;
      }, `an RR on connection ${conn}`);
      return found!;
    };
    await untilFrame(cam);
    const rr1 = await rrOn(0); // the first stream has run through at least one report
    const ssrc = cam.getStats().ssrc!;
    const bye = Buffer.alloc(8); bye[0] = 0x81; bye[1] = 203; bye.writeUInt16BE(1, 2); bye.writeUInt32BE(ssrc, 4);
    server.conns[0]!.interleaved(1, bye);
    await untilState(cam, (c) => c.state === 'reconnecting');
    await untilState(cam, (c) => c.state === 'playing');
    const rr2 = await rrOn(1);
    assert.equal(rr2.ssrc, rr1.ssrc, 'same receiver SSRC for the camera\'s life');
    assert.equal(rr2.reports.length, 1);
    assert.equal(rr2.reports[0]!.ssrc, ssrc);
    assert.equal(rr2.reports[0]!.cumulativeLost, 0, 'no loss carried over from the first stream');
    // the fake camera restarts its sequence at 1000 on every PLAY: the report is about this one
    assert.ok(rr2.reports[0]!.extendedHighestSeq >= 1000 && rr2.reports[0]!.extendedHighestSeq < 65536, `${rr2.reports[0]!.extendedHighestSeq}`);
  });
});

describe('redirects and control URLs', () => {
  test('301 to the same host is followed; other host refused', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, {
      frames: FRAMES,
      before: (req, conn) => {
        if (req.method === 'DESCRIBE' && req.uri.endsWith('/old')) { conn.reply(req, 301, { Location: server.url('/cam') }); return true; }
        if (req.method === 'DESCRIBE' && req.uri.endsWith('/away')) { conn.reply(req, 302, { Location: 'rtsp://evil.example:554/cam' }); return true; }
        return false;
      },
    }));
    const cam = openCamera(server.url('/old'), { username: 'u', password: 'secret' });
    try { await untilFrame(cam); } finally { await cam.close(); }
    const cam2 = openCamera(server.url('/away'), { reconnectMinMs: 60000 });
    try {
      const st = await untilState(cam2, (c) => c.state === 'reconnecting');
      assert.equal(st.reason, 'redirect refused');
    } finally { await cam2.close(); }
  });

  test('control URL cases: no Content-Base, absolute control with a private IP, session control', async (t) => {
    const server = closeAfter(t, await startFakeServer());
    server.setHandler(tcpCamera(server, { frames: FRAMES, contentBase: null, sdp: mjpegSdp({ control: 'rtsp://192.168.1.10:554/cam/track1', sessionControl: '*' }) }));
    const cam = openCamera(server.url());
    try { await untilFrame(cam); } finally { await cam.close(); }
    const setup = server.requests.find((r) => r.method === 'SETUP')!;
    assert.equal(setup.uri, `${server.url()}/track1`.replace('/cam/track1', '/cam/track1'));
    assert.ok(setup.uri.startsWith(`rtsp://127.0.0.1:${server.port}/`), 'connection host kept');
    const play = server.requests.find((r) => r.method === 'PLAY')!;
    assert.equal(play.uri, server.url());
  });
});
