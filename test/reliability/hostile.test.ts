/**
 * Hostile servers: each misbehaviour against a CameraSession, checking that memory
 * stays bounded (peak heap and ArrayBuffer growth sampled every 10 ms during the exchange,
 * bound stated per case), the error is clear (reason + message), the reconnect policy is
 * applied (a later attempt after the announced retryInMs), and nothing throws out of the
 * library. The last test runs the worst of them as Node-RED flows next to a healthy camera
 * and checks that flow keeps streaming.
 */
import { test, describe, afterEach, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { openCamera } from '../../src/camera/open';
import type { CameraSession } from '../../src/camera/session';
import type { CameraOptions } from '../../src/camera/types';
import { startHostile, FrameSource, udpSocket, closeUdp, type HostileOptions, type HostileServer, type Conn } from './hostile-servers';
import { Recorder, until, sleep, heapAfterGc, MB } from './support';
import { helper, spokenText, type FlowNode } from '../support/node-red-helper';
import cameraNode from '../../src/nodes/rtsp-camera';
import mjpegInNode from '../../src/nodes/rtsp-mjpeg-in';
import { startDemoCamera } from '../../src/sim/demo-camera';
import type { NodeMessage } from 'node-red';

const OPTS: CameraOptions = { reconnectMinMs: 200, reconnectMaxMs: 1000, requestTimeoutMs: 1500, stallTimeoutMs: 1500, statsIntervalMs: 200 };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Mem { heapMB: number; bufMB: number; retainedMB: number; liveHeapMB?: number; liveBufMB?: number }

/**
 * Samples heapUsed and arrayBuffers every 10 ms until stop(); growth over a GC'd baseline.
 * Those peaks include garbage not yet collected (the bytes a flood pushed through), so they
 * bound what the process needed; `live()` forces a GC mid-exchange and records what is
 * actually retained at that moment.
 */
function memoryWatch(): { stop(): Mem; live(): void } {
  const base = heapAfterGc();
  const baseBuf = process.memoryUsage().arrayBuffers;
  let peakHeap = base;
  let peakBuf = baseBuf;
  let liveHeap = -1;
  let liveBuf = -1;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakBuf = Math.max(peakBuf, m.arrayBuffers);
  }, 10);
  return {
    stop(): Mem {
      clearInterval(timer);
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakBuf = Math.max(peakBuf, m.arrayBuffers);
      const after = heapAfterGc();
      const r = (x: number): number => Math.round((x / MB) * 100) / 100;
      return {
        heapMB: r(peakHeap - base), bufMB: r(peakBuf - baseBuf), retainedMB: r(after - base),
        ...(liveHeap >= 0 ? { liveHeapMB: r(liveHeap - base), liveBufMB: r(liveBuf - baseBuf) } : {}),
      };
    },
    live(): void {
      const h = heapAfterGc();
      liveHeap = Math.max(liveHeap, h);
      liveBuf = Math.max(liveBuf, process.memoryUsage().arrayBuffers);
    },
  };
}

async function hostile(o: HostileOptions): Promise<HostileServer> {
  const s = await startHostile(o);
  cleanups.push(() => s.close());
  return s;
}

function camera(url: string, extra: CameraOptions = {}): { s: CameraSession; r: Recorder } {
  const s = openCamera(url, { ...OPTS, ...extra });
  const r = new Recorder(s);
  cleanups.push(() => s.close());
  return { s, r };
}

function report(name: string, data: Record<string, unknown>): void {
  process.stdout.write(`# reliability hostile ${name}: ${JSON.stringify(data)}\n`);
}

/**
 * The common shape: wait for the first error, check its reason, then for the reconnect
 * (state 'reconnecting' with retryInMs, and a new connection no earlier than ~that delay).
 */
async function expectFailureAndRetry(srv: HostileServer, r: Recorder, reason: string, msg: RegExp, timeoutMs = 8000): Promise<{ detectMs: number; retryInMs: number; retryAfterMs: number }> {
  const t0 = performance.now();
  await until(() => r.errors.length > 0, `an error (${reason})`, timeoutMs);
  const e = r.errors[0]!;
  assert.equal(e.err.reason, reason, `reason: ${e.err.reason} — ${e.err.message}`);
  assert.match(e.err.message, msg);
  const rec = r.states.find((s) => s.state === 'reconnecting');
  assert.ok(rec, `reconnecting announced: ${r.stateTrail()}`);
  assert.equal(rec.reason, reason);
  assert.ok(rec.retryInMs !== undefined && rec.retryInMs >= OPTS.reconnectMinMs! * 0.8 - 1, `retryInMs ${rec.retryInMs}`);
  const conns = srv.connections;
  await until(() => srv.connections > conns, 'a new connection (reconnect policy)', rec.retryInMs + 3000);
  const retryAfterMs = performance.now() - rec.at;
  assert.ok(retryAfterMs >= rec.retryInMs - 20, `reconnected after ${retryAfterMs} ms, announced ${rec.retryInMs}`);
  return { detectMs: Math.round(e.at - t0), retryInMs: rec.retryInMs, retryAfterMs: Math.round(retryAfterMs) };
}

/**
 * The hostile-response pattern: a camera on `srv` fails with `reason`/`msg`, retries per the
 * reconnect policy, and meanwhile neither the heap nor Buffer memory grew by `boundMB`.
 */
async function failsWithinMemory(srv: HostileServer, reason: string, msg: RegExp, boundMB: number): Promise<Mem & Awaited<ReturnType<typeof expectFailureAndRetry>>> {
  const mem = memoryWatch();
  const { r } = camera(srv.url());
  const res = await expectFailureAndRetry(srv, r, reason, msg);
  const m = mem.stop();
  assert.ok(m.heapMB < boundMB && m.bufMB < boundMB, JSON.stringify(m));
  return { ...res, ...m };
}

const FLOOD = 100 * MB;

describe('hostile RTSP responses', () => {
  test('endless header line (100 MB offered): protocol error at the 8 KiB line limit, heap growth < 20 MB', async () => {
    let offered = 0;
    const srv = await hostile({
      hook: (req, c) => {
        if (req.method !== 'OPTIONS') return false;
        c.write(`RTSP/1.0 200 OK\r\nCSeq: ${req.cseq}\r\nX-Endless: `);
        void c.pump(Buffer.alloc(64 * 1024, 0x61), FLOOD, 3000).then((n) => { offered += n; });
        return true;
      },
    });
    const res = await failsWithinMemory(srv, 'protocol error', /header|line/i, 20);
    report('endless header line', { ...res, serverBytesWritten: srv.bytesSent, offered });
  });

  test('millions of headers: protocol error at the header-count/head limit, heap growth < 20 MB', async () => {
    const srv = await hostile({
      hook: (req, c) => {
        if (req.method !== 'OPTIONS') return false;
        c.write(`RTSP/1.0 200 OK\r\nCSeq: ${req.cseq}\r\n`);
        void c.pump(Buffer.from('X-H: 1\r\n'.repeat(8192)), 8 * 2_000_000, 3000); // 2 M headers
        return true;
      },
    });
    const res = await failsWithinMemory(srv, 'protocol error', /header|head/i, 20);
    report('millions of headers', { ...res, serverBytesWritten: srv.bytesSent });
  });

  test('Content-Length 2^53: refused before any allocation, heap growth < 5 MB', async () => {
    const srv = await hostile({
      hook: (req, c) => {
        if (req.method !== 'DESCRIBE') return false;
        c.write(`RTSP/1.0 200 OK\r\nCSeq: ${req.cseq}\r\nContent-Type: application/sdp\r\nContent-Length: 9007199254740992\r\n\r\nv=0\r\n`);
        return true;
      },
    });
    const res = await failsWithinMemory(srv, 'protocol error', /content-length|body/i, 5);
    report('content-length 2^53', { ...res });
  });

  test('a body that never ends (Content-Length 128 KiB, 1 KiB per 100 ms): request timeout, heap growth < 5 MB', async () => {
    const srv = await hostile({
      hook: (req, c) => {
        if (req.method !== 'DESCRIBE') return false;
        c.write(`RTSP/1.0 200 OK\r\nCSeq: ${req.cseq}\r\nContent-Type: application/sdp\r\nContent-Length: 131072\r\n\r\n`);
        const t = setInterval(() => { if (c.closed) clearInterval(t); else c.write(Buffer.alloc(1024, 0x20)); }, 100);
        cleanups.push(() => clearInterval(t));
        return true;
      },
    });
    const res = await failsWithinMemory(srv, 'timeout', /DESCRIBE.*no response/i, 5);
    assert.ok(res.detectMs <= OPTS.requestTimeoutMs! + 1000, `timeout after ${res.detectMs} ms`);
    report('body never ending', { ...res });
  });

  test('endless garbage after a response (100 MB offered): resync gives up at 64 KiB, heap growth < 20 MB', async () => {
    const srv = await hostile({
      hook: (req, c) => {
        if (req.method !== 'OPTIONS') return false;
        c.reply(req, 200, [['Public', 'OPTIONS, DESCRIBE']]);
        void c.pump(Buffer.alloc(64 * 1024, 0x00), FLOOD, 3000);
        return true;
      },
    });
    const res = await failsWithinMemory(srv, 'protocol error', /sync|neither/i, 20);
    report('endless garbage', { ...res, serverBytesWritten: srv.bytesSent });
  });

  test('redirect loop: stopped after 3 hops with "redirect refused", retried later', async () => {
    const srv = await hostile({
      hook: (req, c, s) => {
        if (req.method !== 'DESCRIBE') return false;
        c.reply(req, 302, [['Location', s.url(req.uri.endsWith('/a') ? '/b' : '/a')]]);
        return true;
      },
    });
    const { r } = camera(srv.url());
    const res = await expectFailureAndRetry(srv, r, 'redirect refused', /redirect/i);
    const firstAttempt = srv.requests.filter((q) => q.method === 'DESCRIBE' && q.connIndex < 4).length;
    assert.equal(firstAttempt, 4, 'the original DESCRIBE plus 3 redirected ones');
    report('redirect loop', { ...res, describesPerAttempt: firstAttempt });
  });

  test('redirect to another host: refused, no connection to it, credentials never leave', async () => {
    const other = await hostile({ host: '127.0.0.2' });
    const srv = await hostile({
      hook: (req, c) => {
        if (req.method !== 'DESCRIBE') return false;
        c.reply(req, 301, [['Location', other.url('/elsewhere')]]);
        return true;
      },
    });
    const { r } = camera(srv.url(), { username: 'u', password: 'pw-not-for-others' });
    const res = await expectFailureAndRetry(srv, r, 'redirect refused', /another host/i);
    assert.equal(other.connections, 0, 'connected to the other host');
    report('redirect to another host', { ...res, otherHostConnections: other.connections });
  });
});

describe('hostile media', () => {
  test('interleaved frame claiming 65535 bytes, then silence: stalled, reconnect; retained < 3 MB while waiting', async () => {
    const srv = await hostile({
      onPlay: (c) => {
        const fs = new FrameSource();
        for (let i = 0; i < 3; i++) for (const p of fs.next()) c.interleaved(0, p);
        c.write(Buffer.concat([Buffer.from([0x24, 0, 0xff, 0xff]), Buffer.alloc(100, 1)]));
        // while the client waits for the rest of the frame: what does it retain?
        const t = setTimeout(() => live?.(), 500);
        cleanups.push(() => clearTimeout(t));
      },
    });
    const mem = memoryWatch();
    const live = (): void => mem.live();
    const { r } = camera(srv.url());
    const res = await expectFailureAndRetry(srv, r, 'stalled', /no complete JPEG/i);
    const m = mem.stop();
    // peaks include the test's own JPEG encoding garbage; what is retained mid-wait is the bound
    assert.ok((m.liveHeapMB ?? 99) + (m.liveBufMB ?? 99) < 3, JSON.stringify(m));
    assert.ok(m.heapMB < 20 && m.bufMB < 20 && m.retainedMB < 2, JSON.stringify(m));
    assert.deepEqual(r.badFrames, []);
    assert.ok(r.frames.length >= 2, `${r.frames.length} frames before the stall`);
    report('65535 then stall', { ...res, framesBefore: r.frames.length });
  });

  test('JPEG fragments past the frame cap (8 MB frame, cap 1 MiB): dropped and counted, stream goes on, retained < cap + 4 MB', async () => {
    const CAP = 1 * MB;
    const fs = new FrameSource(320, 240);
    let giantSent = false;
    let giantPackets = 0;
    let live: (() => void) | null = null;
    const srv = await hostile({
      onPlay: (c) => {
        let i = 0;
        const t = setInterval(() => {
          if (c.closed) { clearInterval(t); return; }
          i++;
          if (i === 5) {
            // the giant frame, with backpressure: about 6000 packets
            const gen = fs.giant(8 * MB);
            const pushSome = (): void => {
              for (;;) {
                const n = gen.next();
                if (n.done) { giantSent = true; return; }
                // every ~1 MB: what does the process retain right now (the client has read most of it)?
                if (++giantPackets % 700 === 0) live?.();
                const h = Buffer.from([0x24, 0, n.value.length >> 8, n.value.length & 0xff]);
                if (!c.write(Buffer.concat([h, n.value]))) { c.socket.once('drain', pushSome); return; }
              }
            };
            pushSome();
            return;
          }
          if (i > 5 && !giantSent) return;
          for (const p of fs.next()) c.interleaved(0, p);
        }, 40);
        cleanups.push(() => clearInterval(t));
      },
    });
    const mem = memoryWatch();
    live = () => mem.live();
    // No complete frame arrives while the 8 MB frame streams: on a loaded 2-core machine that
    // took up to 1.4 s (the memory probe's forced GCs included), close to the 1.5 s stall
    // timeout of the other cases, and a 'stalled' reconnect would fail the no-reconnect check
    // for a reason this case is not about. The library's default (10 s) applies here.
    const { s, r } = camera(srv.url(), { maxFrameBytes: CAP, stallTimeoutMs: 10000 });
    await until(() => giantSent, 'the giant frame sent', 15000);
    const after = performance.now();
    await r.framesSince(after, 5, 5000, 'frames after the giant one');
    const m = mem.stop();
    assert.deepEqual(r.badFrames, []);
    assert.ok(r.frames.every((f) => f.size <= CAP), 'a frame above the cap was emitted');
    assert.ok(s.getStats().framesDropped >= 1, 'the oversize frame is counted as dropped');
    assert.equal(r.states.filter((x) => x.state === 'reconnecting').length, 0, r.stateTrail());
    // retained while the 8 MB frame streams: at most the cap plus socket buffers; peaks (garbage included) < 3 × 8 MB
    assert.ok((m.liveHeapMB ?? 99) + (m.liveBufMB ?? 99) < CAP / MB + 4, JSON.stringify(m));
    assert.ok(m.heapMB < 24 && m.bufMB < 24, JSON.stringify(m));
    const longestGapMs = Math.round(Math.max(...r.frames.slice(1).map((f, i) => f.at - r.frames[i]!.at)));
    report('fragments past the cap', { ...m, longestGapMs, framesDropped: s.getStats().framesDropped, frames: r.frames.length, serverBytesWritten: srv.bytesSent });
  });

  test('RTCP with lengths pointing outside the packet: ignored, no crash, no BYE honoured, stream goes on', async () => {
    const fs = new FrameSource();
    const bad: Buffer[] = [];
    const srBad = Buffer.alloc(28); srBad[0] = 0x80; srBad[1] = 200; srBad.writeUInt16BE(0xffff, 2); srBad.writeUInt32BE(fs.ssrc, 4);
    const rrBad = Buffer.alloc(8); rrBad[0] = 0x9f; rrBad[1] = 201; rrBad.writeUInt16BE(1, 2); // 31 report blocks in 8 bytes
    const sdesBad = Buffer.alloc(16); sdesBad[0] = 0x81; sdesBad[1] = 202; sdesBad.writeUInt16BE(3, 2); sdesBad.writeUInt32BE(fs.ssrc, 4); sdesBad[8] = 1; sdesBad[9] = 200; // item longer than the packet
    const byeBad = Buffer.alloc(8); byeBad[0] = 0x81; byeBad[1] = 203; byeBad.writeUInt16BE(40, 2); byeBad.writeUInt32BE(fs.ssrc, 4); // BYE of our source, length past the end
    const tiny = Buffer.from([0x80, 200]);
    bad.push(srBad, rrBad, sdesBad, byeBad, tiny, Buffer.concat([rrBad, byeBad]), Buffer.alloc(0));
    let rtcpSent = 0;
    const srv = await hostile({
      onPlay: (c) => {
        let i = 0;
        const t = setInterval(() => {
          if (c.closed) { clearInterval(t); return; }
          for (const p of fs.next()) c.interleaved(0, p);
          c.interleaved(1, bad[i++ % bad.length]!);
          rtcpSent++;
        }, 40);
        cleanups.push(() => clearInterval(t));
      },
    });
    const mem = memoryWatch();
    const { s, r } = camera(srv.url());
    await r.playing();
    await until(() => rtcpSent >= 40, '40 bad RTCP packets', 6000);
    const t = performance.now();
    await r.framesSince(t, 3);
    const m = mem.stop();
    assert.deepEqual(r.badFrames, []);
    assert.equal(r.errors.length, 0, r.errors.map((e) => e.err.message).join('; '));
    assert.equal(r.states.filter((x) => x.state === 'reconnecting').length, 0, r.stateTrail());
    assert.equal(s.state, 'playing');
    // peaks include the test's own JPEG encoding garbage (the server runs in this process)
    assert.ok(m.heapMB < 20 && m.retainedMB < 2, JSON.stringify(m));
    report('bad RTCP lengths', { ...m, rtcpSent, frames: r.frames.length });
  });

  test('UDP packets from a foreign address or port: rejected; only the server\'s frames emitted', async () => {
    const rtp = await udpSocket();
    const rtcp = await udpSocket();
    const foreignHost = await udpSocket('127.0.0.2');
    const foreignPort = await udpSocket('127.0.0.1');
    cleanups.push(async () => { for (const x of [rtp, rtcp, foreignHost, foreignPort]) await closeUdp(x); });
    const good = new FrameSource(160, 120, 0xaaaa0001);
    const evilHost = new FrameSource(160, 120, 0xbbbb0002);
    const evilPort = new FrameSource(160, 120, 0xcccc0003);
    let injected = 0;
    const srv = await hostile({
      transport: { rtpPort: rtp.address().port, rtcpPort: rtcp.address().port },
      onPlay: (_c: Conn, s) => {
        const t = setInterval(() => {
          const cp = s.clientPorts;
          if (!cp) return;
          for (const p of good.next()) rtp.send(p, cp[0], '127.0.0.1');
          for (const p of evilHost.next()) { foreignHost.send(p, cp[0], '127.0.0.1'); injected++; }
          for (const p of evilPort.next()) { foreignPort.send(p, cp[0], '127.0.0.1'); injected++; }
          // a BYE for the real source from a stranger must not end the stream
          const bye = Buffer.alloc(8); bye[0] = 0x81; bye[1] = 203; bye.writeUInt16BE(1, 2); bye.writeUInt32BE(good.ssrc, 4);
          foreignHost.send(bye, cp[1], '127.0.0.1');
          foreignPort.send(bye, cp[1], '127.0.0.1');
        }, 40);
        cleanups.push(() => clearInterval(t));
      },
    });
    const { s, r } = camera(srv.url(), { transport: 'udp' });
    await r.playing();
    await r.framesSince(0, 20, 8000);
    assert.deepEqual(r.badFrames, []);
    const ssrcs = new Set(r.frames.map((f) => f.ssrc));
    assert.deepEqual([...ssrcs], [good.ssrc], `frames from ${[...ssrcs].map((x) => x.toString(16)).join(',')}`);
    assert.equal(r.states.filter((x) => x.state === 'reconnecting').length, 0, r.stateTrail());
    assert.equal(s.getStats().ssrc, good.ssrc);
    report('foreign UDP', { frames: r.frames.length, injectedPackets: injected });
  });
});

describe('Node-RED next to hostile cameras', () => {
  before(async () => { await helper.startServer(); });
  after(async () => { await helper.stopServer(); });

  test('five hostile cameras fail red and reconnect; the healthy camera flow keeps streaming, nothing uncaught', async () => {
    const demo = await startDemoCamera({ width: 160, height: 120, fps: 15 });
    cleanups.push(() => demo.close());
    const floods: HostileOptions[] = [
      { hook: (req, c) => { if (req.method !== 'OPTIONS') return false; c.write(`RTSP/1.0 200 OK\r\nCSeq: ${req.cseq}\r\nX: `); void c.pump(Buffer.alloc(65536, 0x61), 20 * MB, 2000); return true; } },
      { hook: (req, c) => { if (req.method !== 'OPTIONS') return false; c.write(`RTSP/1.0 200 OK\r\nCSeq: ${req.cseq}\r\n`); void c.pump(Buffer.from('X-H: 1\r\n'.repeat(8192)), 20 * MB, 2000); return true; } },
      { hook: (req, c) => { if (req.method !== 'DESCRIBE') return false; c.write(`RTSP/1.0 200 OK\r\nCSeq: ${req.cseq}\r\nContent-Length: 9007199254740992\r\n\r\n`); return true; } },
      { hook: (req, c, s) => { if (req.method !== 'DESCRIBE') return false; c.reply(req, 302, [['Location', s.url(req.uri.endsWith('/a') ? '/b' : '/a')]]); return true; } },
      { onPlay: (c) => { c.write(Buffer.from([0x24, 0, 0xff, 0xff, 1, 2, 3])); } },
    ];
    const servers = await Promise.all(floods.map((o) => hostile(o)));
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown): void => { uncaught.push(e); };
    process.on('uncaughtException', onUncaught);
    cleanups.push(() => { process.removeListener('uncaughtException', onUncaught); });
    const flow: FlowNode[] = [{ id: 'f1', type: 'tab' },
      { id: 'camOk', type: 'rtsp-camera', name: 'ok', url: demo.url, transport: 'tcp' },
      { id: 'inOk', type: 'rtsp-mjpeg in', z: 'f1', camera: 'camOk', maxFps: 0, mode: 'stream', wires: [['hOk']] },
      { id: 'hOk', type: 'helper', z: 'f1' },
      { id: 'c1', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['hCatch']] },
      { id: 'hCatch', type: 'helper', z: 'f1' }];
    servers.forEach((srv, i) => {
      flow.push({ id: `camBad${i}`, type: 'rtsp-camera', name: `bad${i}`, url: srv.url(), transport: 'tcp', reconnectMin: 0.2, reconnectMax: 1, stallTimeout: 1 },
        { id: `inBad${i}`, type: 'rtsp-mjpeg in', z: 'f1', camera: `camBad${i}`, maxFps: 0, mode: 'stream', wires: [[]] });
    });
    await helper.load([cameraNode, mjpegInNode], flow);
    const ok: number[] = [];
    const caught: NodeMessage[] = [];
    helper.getNode('hOk').on('input', () => ok.push(performance.now()));
    helper.getNode('hCatch').on('input', (m: NodeMessage) => caught.push(m));
    await until(() => ok.length > 0, 'healthy frames', 8000);
    const t = performance.now();
    await sleep(4000);
    const during = ok.filter((x) => x > t);
    // 15 fps for 4 s = 60; the hostile floods may slow the loop but must not stop the flow
    assert.ok(during.length >= 30, `healthy camera delivered ${during.length} frames in 4 s`);
    const gaps = during.slice(1).map((x, i) => x - during[i]!);
    const maxGap = Math.max(...gaps);
    assert.ok(maxGap < 1000, `healthy stream paused ${maxGap} ms`);
    for (let i = 0; i < servers.length; i++) {
      const said = spokenText(helper.getNode(`inBad${i}`));
      assert.match(said, /"fill":"red"/, `inBad${i} red: ${said.slice(-300)}`);
      assert.ok(servers[i]!.connections >= 2, `bad${i} retried (${servers[i]!.connections} connections)`);
    }
    assert.ok(caught.length >= servers.length, `Catch got ${caught.length} messages`);
    assert.deepEqual(uncaught, []);
    await helper.unload();
    report('node-red next to hostile cameras', { healthyFrames4s: during.length, maxGapMs: Math.round(maxGap), catchMessages: caught.length, hostileConnections: servers.map((x) => x.connections) });
  });
});
