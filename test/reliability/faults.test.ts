/**
 * Fault matrix: the demo camera's fault switches, one test each. For every fault:
 * every emitted JPEG decodes (djpeg), frames lost to the fault are counted in
 * stats.framesDropped (emitted + dropped accounts for every frame the camera sent), the
 * state/reason tells the truth, and streaming resumes within the backoff bound once the
 * fault clears. Backoffs are short (100 ms → 1 s) so each case takes a few seconds.
 *
 * Frame accounting is done between two quiet points: `quiesce()` pauses the camera's RTP
 * (the `stall` switch) long enough for everything in flight to arrive, so the camera's
 * framesSent and the client's emitted + dropped can be compared without in-flight skew.
 */
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { openCamera } from '../support/camera-session';
import { startDemoCamera, type DemoCamera, type DemoCameraFaults, type DemoCameraOptions } from '../../src/sim/demo-camera';
import type { CameraSession } from '../../src/camera/session';
import type { CameraOptions, StateChange } from '../../src/camera/types';
import { Recorder, sleep, until } from './support';
import { takePorts } from '../support/ports';

const RECONNECT_MIN = 100;
const RECONNECT_MAX = 1000;
const STALL = 1500;
/** jitter is ±20 % (camera/backoff.ts) */
const BACKOFF_BOUND = RECONNECT_MAX * 1.2;
/** handshake (4 requests on loopback) + the first frame at 25 fps, with room for a busy 2-core box */
const SLACK = 1500;
const FPS = 25;

interface Ctx { d: DemoCamera; s: CameraSession; r: Recorder }
let open: Ctx[] = [];
const extraCams: DemoCamera[] = [];

afterEach(async () => {
  for (const c of open) {
    await c.s.close();
    await c.d.close();
  }
  open = [];
  for (const d of extraCams.splice(0)) await d.close();
});

async function scenario(cam: DemoCameraOptions = {}, opts: CameraOptions = {}): Promise<Ctx> {
  const d = await startDemoCamera({ width: 320, height: 240, fps: FPS, ...cam });
  const s = openCamera(d.url, {
    reconnectMinMs: RECONNECT_MIN, reconnectMaxMs: RECONNECT_MAX, stallTimeoutMs: STALL, requestTimeoutMs: 2000, statsIntervalMs: 200, ...opts,
  });
  const r = new Recorder(s);
  const ctx = { d, s, r };
  open.push(ctx);
  await r.playing();
  await r.framesSince(0, 3);
  return ctx;
}

interface Snap { sent: number; emitted: number; dropped: number; lostPackets: number; at: number }

/** Pause RTP until everything in flight has arrived (reorder window flushed), then count. */
async function quiesce(c: Ctx): Promise<Snap> {
  c.d.setFaults({ stall: true });
  await sleep(400);
  const st = c.s.getStats();
  return { sent: c.d.stats.framesSent, emitted: st.framesEmitted, dropped: st.framesDropped, lostPackets: c.d.stats.packetFaults.dropped, at: performance.now() };
}

/** Clears every fault and returns ms until the first frame (and waits for 3 in total). */
async function clearAndRecover(c: Ctx, what: string, timeoutMs = 8000): Promise<number> {
  const t = performance.now();
  c.d.setFaults({});
  const first = await c.r.framesSince(t, 1, timeoutMs, `${what}: first frame after the fault cleared`);
  await c.r.framesSince(t, 3, timeoutMs, `${what}: 3 frames after the fault cleared`);
  return first - t;
}

/** Runs `faults` until the camera has sent `frames` frames; returns the accounting deltas. */
async function runFault(c: Ctx, faults: DemoCameraFaults, frames: number): Promise<{ sent: number; emitted: number; dropped: number; lostPackets: number }> {
  const a = await quiesce(c);
  c.d.setFaults(faults);
  await until(() => c.d.stats.framesSent - a.sent >= frames, `${frames} frames sent under ${JSON.stringify(faults)}`, (frames / FPS) * 1000 + 5000);
  // A few clean frames close the window: a frame still open at its end, or frames lost whole
  // just before it, are only known to the receiver when the next frame arrives.
  const tail = c.d.stats.framesSent;
  c.d.setFaults({});
  await until(() => c.d.stats.framesSent - tail >= 4, 'clean frames after the fault', 5000);
  const b = await quiesce(c);
  return { sent: b.sent - a.sent, emitted: b.emitted - a.emitted, dropped: b.dropped - a.dropped, lostPackets: b.lostPackets - a.lostPackets };
}

function noBadFrames(c: Ctx): void {
  assert.deepEqual(c.r.badFrames, [], 'every emitted JPEG decodes');
  assert.ok(c.r.frames.length > 0);
}

function report(name: string, data: Record<string, unknown>): void {
  process.stdout.write(`# reliability ${name}: ${JSON.stringify(data)}\n`);
}

describe('packet faults: every frame accounted for, nothing undecodable', () => {
  for (const loss of [1, 5, 20]) {
    test(`UDP with ${loss} % packet loss: dropped frames counted, packetsLost counted, stream resumes`, async () => {
      // 20 %: smaller frames (≈3 packets) so enough whole frames survive to stay under the stall timeout
      const c = await scenario(loss === 20 ? { width: 160, height: 120 } : {}, { transport: 'udp' });
      const lostBefore = c.s.getStats().packetsLost;
      const t0 = performance.now();
      const dlt = await runFault(c, { lossPercent: loss }, 60);
      const recovery = await clearAndRecover(c, `${loss} % loss`);
      noBadFrames(c);
      // Every frame the camera sent is either emitted or counted as dropped (±2 at the edges);
      // frames sent while a stalled session was reconnecting (possible at 20 %) never reach it.
      const reconnected = c.r.statesAfter(t0).some((s) => s.state === 'reconnecting');
      // Frames lost whole are inferred from timestamps and bounded by the packets missing; at
      // 20 % loss of 2-3-packet frames a lost frame smaller than any received one can go
      // uncounted, hence a little more slack there.
      const missingOk = reconnected ? dlt.sent : loss >= 20 ? 5 : 2;
      assert.ok(dlt.emitted + dlt.dropped <= dlt.sent + 2 && dlt.sent - (dlt.emitted + dlt.dropped) <= missingOk,
        `emitted ${dlt.emitted} + dropped ${dlt.dropped} vs sent ${dlt.sent}${reconnected ? ' (reconnected)' : ''}`);
      if (dlt.lostPackets > 0) assert.ok(dlt.dropped >= 1, `${dlt.lostPackets} packets lost but no frame counted as dropped`);
      assert.ok(dlt.dropped <= dlt.lostPackets + 2, `dropped ${dlt.dropped} frames for ${dlt.lostPackets} lost packets`);
      const reconnects = c.r.statesAfter(t0).filter((s) => s.state === 'reconnecting');
      if (reconnects.length === 0) {
        // one reception period throughout: RFC 3550 A.3 lost count covers the camera's drops
        const lost = c.s.getStats().packetsLost - lostBefore;
        assert.ok(lost >= dlt.lostPackets, `stats.packetsLost grew by ${lost}, the camera dropped ${dlt.lostPackets}`);
      } else {
        assert.equal(loss, 20, `no reconnect expected at ${loss} %: ${c.r.stateTrail(t0)}`);
        for (const s of reconnects) assert.equal(s.reason, 'stalled', 'a reconnect under heavy loss says why');
      }
      assert.equal(c.s.state, 'playing');
      assert.equal(c.s.getStats().state, 'playing');
      report(`loss ${loss}%`, { ...dlt, recoveryMs: Math.round(recovery), reconnects: reconnects.length });
    });
  }

  test('reordering (adjacent swaps over TCP): the sequencer restores order, no frame lost', async () => {
    const c = await scenario();
    const before = c.d.stats.packetFaults.reordered;
    const dlt = await runFault(c, { reorder: true }, 40);
    const swapped = c.d.stats.packetFaults.reordered - before;
    await clearAndRecover(c, 'reorder');
    noBadFrames(c);
    assert.ok(swapped >= 40, `the camera swapped ${swapped} pairs`);
    assert.equal(dlt.dropped, 0, `frames dropped under pure reordering: ${JSON.stringify(dlt)}`);
    assert.ok(Math.abs(dlt.emitted - dlt.sent) <= 1, `emitted ${dlt.emitted} of ${dlt.sent}`);
    report('reorder', { ...dlt, swapped });
  });

  test('duplication (20 % over TCP): no doubled frames, none dropped', async () => {
    const c = await scenario();
    const before = c.d.stats.packetFaults.duplicated;
    const t0 = performance.now();
    const dlt = await runFault(c, { duplicatePercent: 20 }, 40);
    const dup = c.d.stats.packetFaults.duplicated - before;
    await clearAndRecover(c, 'duplicates');
    noBadFrames(c);
    assert.ok(dup > 0);
    assert.equal(dlt.dropped, 0, `frames dropped under duplication: ${JSON.stringify(dlt)}`);
    assert.ok(Math.abs(dlt.emitted - dlt.sent) <= 1, `emitted ${dlt.emitted} of ${dlt.sent}`);
    const ts = c.r.framesAfter(t0).map((f) => f.rtpTimestamp);
    assert.equal(new Set(ts).size, ts.length, 'a frame was emitted twice');
    report('duplicate 20%', { ...dlt, duplicated: dup });
  });

  test('mid-frame timestamp change: the broken frame is dropped and counted, never emitted half-built', async () => {
    const c = await scenario();
    const dlt = await runFault(c, { midFrameTimestampChange: true }, 10);
    await clearAndRecover(c, 'timestamp change');
    noBadFrames(c);
    assert.equal(c.d.stats.packetFaults.timestampChanged, 1);
    assert.ok(dlt.dropped >= 1 && dlt.dropped <= 2, `dropped ${dlt.dropped}`);
    assert.ok(dlt.emitted >= dlt.sent - 2, `emitted ${dlt.emitted} of ${dlt.sent}`);
    assert.equal(c.r.states.filter((s) => s.state === 'reconnecting').length, 0, c.r.stateTrail());
    report('mid-frame timestamp change', dlt);
  });

  test('SSRC change: frames continue with the new SSRC, stats follow it, no reconnect needed', async () => {
    const c = await scenario();
    const oldSsrc = c.r.frames[c.r.frames.length - 1]!.ssrc;
    const t = performance.now();
    c.d.setFaults({ changeSsrcAfterFrames: 0 });
    await until(() => c.r.framesAfter(t).some((f) => f.ssrc !== oldSsrc), 'a frame with the new SSRC', BACKOFF_BOUND + STALL + SLACK);
    const first = c.r.framesAfter(t).find((f) => f.ssrc !== oldSsrc)!;
    await c.r.framesSince(first.at, 3);
    noBadFrames(c);
    const newSsrc = first.ssrc;
    assert.ok(c.r.framesAfter(first.at).every((f) => f.ssrc === newSsrc), 'no old-SSRC frame after the switch');
    await until(() => c.s.getStats().ssrc === newSsrc, 'stats.ssrc follows the new source', 2000);
    assert.equal(c.s.state, 'playing');
    report('ssrc change', { switchMs: Math.round(first.at - t), reconnects: c.r.statesAfter(t).filter((s) => s.state === 'reconnecting').length });
  });
});

describe('connection faults: truthful state, recovery within the backoff bound', () => {
  test('the camera drops the TCP connection: reconnecting (connection lost), then playing again', async () => {
    const c = await scenario();
    const t = performance.now();
    c.d.setFaults({ dropConnectionAfterMs: 0 });
    await until(() => c.s.state === 'reconnecting', 'reconnecting after the drop', 3000);
    const rec = c.r.statesAfter(t).find((s) => s.state === 'reconnecting')!;
    assert.equal(rec.reason, 'connection lost');
    assert.equal(c.s.getStats().state, 'reconnecting');
    assert.ok(rec.retryInMs !== undefined && rec.retryInMs <= BACKOFF_BOUND, `retryInMs ${rec.retryInMs}`);
    const recovery = await clearAndRecover(c, 'connection drop');
    noBadFrames(c);
    assert.ok(recovery <= BACKOFF_BOUND + SLACK, `resumed after ${recovery} ms`);
    assert.equal(c.s.state, 'playing');
    assert.equal(c.r.errors.at(-1)?.err.reason, 'connection lost');
    report('tcp drop', { recoveryMs: Math.round(recovery), detectMs: Math.round(rec.at - t), trail: c.r.stateTrail(t) });
  });

  test('the camera refuses the next 3 connections: backoff grows, then it plays', async () => {
    const c = await scenario();
    const t = performance.now();
    // The refusals are armed the moment the client reports the drop, before its first retry
    // (100 ms ± 20 %) can start: polling for 'reconnecting' could see it only after that retry
    // had already connected on a busy machine, and then nothing would be refused. Frames are
    // counted from that moment too: one still in flight on the dropped connection may arrive
    // after `t`, and it would end the wait before any refusal.
    let armedAt = -1;
    const arm = (st: StateChange): void => {
      if (st.state !== 'reconnecting') return;
      c.s.off('state', arm);
      c.d.setFaults({ refuseConnections: 3 });
      armedAt = performance.now();
    };
    c.s.on('state', arm);
    c.d.setFaults({ dropConnectionAfterMs: 0 });
    await until(() => armedAt >= 0, 'reconnecting after the drop', 3000);
    await c.r.framesSince(armedAt, 1, 10000, 'a frame after 3 refused connections');
    const resumed = c.r.framesAfter(armedAt)[0]!.at;
    noBadFrames(c);
    assert.equal(c.d.stats.refusedConnections, 3);
    const recs = c.r.statesAfter(t).filter((s) => s.state === 'reconnecting');
    assert.equal(recs.length, 4, c.r.stateTrail(t));
    for (const s of recs) assert.ok(s.reason === 'connection lost' || s.reason === 'connection refused', `reason ${s.reason}`);
    const delays = recs.map((s) => s.retryInMs ?? -1);
    // exponential: 100, 200, 400, 800 ms (±20 %), capped at 1000
    const bound = [0, 1, 2, 3].reduce((sum, i) => sum + Math.min(RECONNECT_MAX, RECONNECT_MIN * 2 ** i) * 1.2, 0);
    delays.forEach((d, i) => assert.ok(d >= Math.min(RECONNECT_MAX, RECONNECT_MIN * 2 ** i) * 0.8 - 1 && d <= Math.min(RECONNECT_MAX, RECONNECT_MIN * 2 ** i) * 1.2 + 1, `delay ${i}: ${d} ms`));
    assert.ok(resumed - t <= bound + 4 * 300 + SLACK, `resumed after ${resumed - t} ms, bound ${bound} ms + handshakes`);
    report('refuse 3', { delays, totalMs: Math.round(resumed - t), bound: Math.round(bound) });
  });

  test('454 on keep-alive: session expired, full re-handshake, playing again', async () => {
    // timeout=3 s → keep-alive every 2.4 s (transport/keep-alive.ts keepAliveIntervalMs)
    const c = await scenario({ sessionTimeoutSec: 3 });
    const setupsBefore = c.d.stats.setups;
    const t = performance.now();
    c.d.setFaults({ keepAlive454: true });
    await until(() => c.r.statesAfter(t).some((s) => s.state === 'reconnecting'), 'reconnecting after the 454', 6000);
    const rec = c.r.statesAfter(t).find((s) => s.state === 'reconnecting')!;
    assert.equal(rec.reason, 'session expired');
    await c.r.framesSince(rec.at, 3, BACKOFF_BOUND + SLACK + 2000, 'frames after the re-handshake');
    const resumed = c.r.framesAfter(rec.at)[0]!.at;
    noBadFrames(c);
    assert.ok(c.d.stats.setups > setupsBefore, 'a new SETUP (not a retry with the dead Session)');
    assert.ok(resumed - rec.at <= BACKOFF_BOUND + SLACK, `resumed ${resumed - rec.at} ms after the 454`);
    assert.equal(c.s.state, 'playing');
    report('keep-alive 454', { recoveryMs: Math.round(resumed - rec.at), trail: c.r.stateTrail(t) });
  });

  test('401 with a new nonce on keep-alive: silent re-auth, the stream never stops', async () => {
    const c = await scenario({ sessionTimeoutSec: 3, auth: 'digest', username: 'admin', password: 'pw-for-test' }, { username: 'admin', password: 'pw-for-test' });
    const ka = c.d.stats.keepAlives;
    const t = performance.now();
    c.d.setFaults({ keepAlive401: true });
    // the 401'd keep-alive, then its authorised retry, then the next periodic one
    await until(() => c.d.stats.keepAlives >= ka + 3, 'keep-alives after the 401', 9000);
    noBadFrames(c);
    assert.equal(c.r.statesAfter(t).length, 0, `state changed: ${c.r.stateTrail(t)}`);
    assert.equal(c.r.errors.filter((e) => e.at > t).length, 0);
    const fr = c.r.framesAfter(t);
    const maxGap = Math.max(...fr.slice(1).map((f, i) => f.at - fr[i]!.at));
    assert.ok(maxGap < STALL, `frames paused for ${maxGap} ms`);
    const kaReqs = c.d.stats.requests.filter((q) => q.method === 'GET_PARAMETER' || (q.method === 'OPTIONS' && q.headers['session']));
    assert.ok(kaReqs.slice(-2).every((q) => /^Digest /.test(q.headers['authorization'] ?? '')), 'keep-alives carry Authorization');
    report('keep-alive 401', { keepAlives: c.d.stats.keepAlives - ka, maxFrameGapMs: Math.round(maxGap) });
  });

  test('RTCP BYE: end of stream, TEARDOWN, reconnect, playing again', async () => {
    const c = await scenario();
    const td = c.d.stats.teardowns;
    const t = performance.now();
    c.d.setFaults({ sendBye: true });
    await until(() => c.r.statesAfter(t).some((s) => s.state === 'reconnecting'), 'reconnecting after BYE', 3000);
    const rec = c.r.statesAfter(t).find((s) => s.state === 'reconnecting')!;
    assert.equal(rec.reason, 'end of stream');
    await c.r.framesSince(rec.at, 3, 6000, 'frames after BYE');
    const resumed = c.r.framesAfter(rec.at)[0]!.at;
    noBadFrames(c);
    await until(() => c.d.stats.teardowns > td, 'TEARDOWN of the ended session', 3000);
    assert.ok(resumed - rec.at <= BACKOFF_BOUND + SLACK, `resumed ${resumed - rec.at} ms after BYE`);
    report('bye', { detectMs: Math.round(rec.at - t), recoveryMs: Math.round(resumed - rec.at) });
  });

  test('no packets (stall): reconnecting (stalled) after the stall timeout, resumes when packets return', async () => {
    const c = await scenario();
    const t = performance.now();
    c.d.setFaults({ stall: true });
    await until(() => c.r.statesAfter(t).some((s) => s.state === 'reconnecting'), 'reconnecting after the stall', STALL + 2000);
    const rec = c.r.statesAfter(t).find((s) => s.state === 'reconnecting')!;
    assert.equal(rec.reason, 'stalled');
    assert.equal(c.r.errors.at(-1)?.err.reason, 'stalled');
    const lastFrame = c.r.frames.filter((f) => f.at <= rec.at).at(-1)!.at;
    // the watchdog ticks at most every 500 ms
    assert.ok(rec.at - lastFrame <= STALL + 600 + 300, `stall reported ${rec.at - lastFrame} ms after the last frame`);
    // let it fail once more while still stalled (backoff grows), then clear
    await until(() => c.r.statesAfter(t).filter((s) => s.state === 'reconnecting').length >= 2, 'a second stalled attempt', STALL * 2 + 3000);
    const recovery = await clearAndRecover(c, 'stall');
    noBadFrames(c);
    assert.ok(recovery <= BACKOFF_BOUND + SLACK, `resumed ${recovery} ms after packets returned`);
    assert.equal(c.s.state, 'playing');
    report('stall', { detectMs: Math.round(rec.at - lastFrame), recoveryMs: Math.round(recovery), trail: c.r.stateTrail(t) });
  });

  test('server restart on the same port: connection lost/refused while down, playing after it is back', async () => {
    // a port no other test process binds, so it is still free for the restart
    const c = await scenario({ port: await takePorts(1) });
    const port = c.d.port;
    const t = performance.now();
    await c.d.close();
    await until(() => c.s.state === 'reconnecting', 'reconnecting after the server went away', 3000);
    await sleep(1500);
    const down = c.r.statesAfter(t);
    assert.ok(down.every((s) => s.state !== 'playing'), `claimed playing while the server was down: ${c.r.stateTrail(t)}`);
    assert.ok(down.some((s) => s.reason === 'connection refused'), c.r.stateTrail(t));
    const up = performance.now();
    const d2 = await startDemoCamera({ width: 320, height: 240, fps: FPS, port });
    extraCams.push(d2);
    await c.r.framesSince(up, 3, 6000, 'frames after the restart');
    const resumed = c.r.framesAfter(up)[0]!.at;
    noBadFrames(c);
    assert.ok(resumed - up <= BACKOFF_BOUND + SLACK, `resumed ${resumed - up} ms after the server came back`);
    assert.equal(c.s.state, 'playing');
    report('server restart', { recoveryMs: Math.round(resumed - up), trail: c.r.stateTrail(t) });
  });
});
