/**
 * nodes/lib/camera-hub, the `rtsp-camera` config node's logic, without Node-RED: fake
 * sessions (event emitters with CameraSession's surface) and fake users. One session per
 * camera, opened with the first user (or the first want, on demand) and closed with the last
 * (removed) user, after the grace period (redeployed) or the linger (on demand); status and
 * frames to every user; errors redacted; nothing reopens after close().
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { NodeStatus } from 'node-red';
import { CameraHub, type CameraHubOptions, type HubSession } from '../../src/nodes/lib/camera-hub';
import type { CameraUser, SharedFrame } from '../../src/nodes/lib/camera-contract';
import type { CameraSessionEvents, CameraState, FrameInfo, StatsReport, TrackInfo } from '../../src/camera/types';
import { CameraError, type CameraErrorReason } from '../../src/errors';
import { redactText } from '../../src/rtsp/redact';
import { MIN_LINGER_MS } from '../../src/nodes/lib/on-demand';

const SECRET = 'hunter2';

class FakeSession extends EventEmitter<CameraSessionEvents> {
  state: CameraState = 'connecting';
  tracks: TrackInfo[] = [];
  latestFrame: { jpeg: Buffer; info: FrameInfo } | null = null;
  stats: StatsReport = {
    ssrc: 1, packetsReceived: 10, packetsExpected: 10, packetsLost: 0, fractionLost: 0, jitterMs: 0,
    framesEmitted: 0, framesDropped: 1, fps: 0, bitrateKbps: 0, senderReport: null, transport: 'tcp',
    state: 'connecting', bytesReceived: 0, width: 0, height: 0,
  };
  closed = 0;
  /** a session whose close() never finishes */
  hangOnClose = false;

  getStats(): StatsReport {
    return { ...this.stats, state: this.state };
  }

  close(): Promise<void> {
    this.closed++;
    return this.hangOnClose ? new Promise<void>(() => undefined) : Promise.resolve();
  }

  setState(state: CameraState, reason?: CameraErrorReason): void {
    this.state = state;
    this.emit('state', reason ? { state, reason } : { state });
  }

  frame(n: number): Buffer {
    const jpeg = Buffer.from([0xff, 0xd8, n, 0xff, 0xd9]);
    const info: FrameInfo = { index: n, width: 320, height: 240, rtpTimestamp: n * 3000, ssrc: 1, receivedAt: Date.now(), capturedAt: null };
    this.latestFrame = { jpeg, info };
    this.stats.framesEmitted++;
    this.emit('frame', jpeg, info);
    return jpeg;
  }
}

class FakeUser implements CameraUser {
  statuses: NodeStatus[] = [];
  errors: { reason: CameraErrorReason; message: string }[] = [];
  frames: Buffer[] = [];
  idle = 0;
  constructor(readonly id: string) {}
  cameraStatus(s: NodeStatus): void {
    this.statuses.push(s);
  }
  cameraError(reason: CameraErrorReason, message: string): void {
    this.errors.push({ reason, message });
  }
  cameraFrame(f: SharedFrame): void {
    this.frames.push(f.take());
  }
  cameraIdle(): void {
    this.idle++;
  }
  get status(): NodeStatus | undefined {
    return this.statuses.at(-1);
  }
}

function hubWith(opts: Partial<CameraHubOptions> = {}): { hub: CameraHub; sessions: FakeSession[]; lines: string[] } {
  const sessions: FakeSession[] = [];
  const lines: string[] = [];
  const hub = new CameraHub({
    url: 'rtsp://127.0.0.1:8554/cam',
    open: () => {
      const s = new FakeSession();
      sessions.push(s);
      return s satisfies HubSession;
    },
    onDemand: false,
    lingerMs: 0,
    maxFrameBytes: 16 * 1048576,
    redact: (t) => redactText(t, [SECRET]),
    log: (line) => lines.push(line),
    graceMs: 30,
    ...opts,
  });
  return { hub, sessions, lines };
}

/** lets the promise callbacks of a closed session run (setImmediate is not mocked) */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

const deregister = (hub: CameraHub, u: CameraUser, removed: boolean): Promise<void> => new Promise((resolve) => hub.deregister(u, removed, resolve));

describe('CameraHub: always connected', () => {
  test('the first user opens the one session; every user gets the status, on registering and on each change', async () => {
    const { hub, sessions } = hubWith();
    const a = new FakeUser('a');
    const b = new FakeUser('b');
    hub.register(a);
    assert.equal(sessions.length, 1);
    assert.deepEqual(a.status, { fill: 'yellow', shape: 'ring', text: 'connecting' });
    hub.register(b);
    assert.equal(sessions.length, 1, 'one session per camera');
    assert.deepEqual(b.status, hub.currentStatus());
    sessions[0]!.setState('playing');
    for (const u of [a, b]) assert.deepEqual(u.status, { fill: 'green', shape: 'ring', text: 'connected, waiting for frames' });
    await hub.close();
  });

  test('a frame goes to every user; the first taker gets the session Buffer, later takers a copy', async () => {
    const { hub, sessions, lines } = hubWith();
    const [a, b] = [new FakeUser('a'), new FakeUser('b')];
    hub.register(a);
    hub.register(b);
    sessions[0]!.setState('playing');
    const jpeg = sessions[0]!.frame(7);
    assert.equal(a.frames[0], jpeg);
    assert.notEqual(b.frames[0], jpeg);
    assert.deepEqual(b.frames[0], jpeg);
    assert.deepEqual(hub.latestFrame()?.jpeg, jpeg);
    assert.deepEqual(lines, ['connected to rtsp://127.0.0.1:8554/cam over tcp, 320×240']);
    await hub.close();
  });

  test('while playing, the stats update the status at most once a second', async () => {
    let now = 1000;
    const { hub, sessions } = hubWith({ now: () => now });
    const a = new FakeUser('a');
    hub.register(a);
    const s = sessions[0]!;
    s.setState('playing');
    s.frame(1);
    const report = (fps: number): StatsReport => ({ ...s.getStats(), fps, width: 320, height: 240 });
    const before = a.statuses.length;
    now += 500;
    s.emit('stats', report(10));
    assert.equal(a.statuses.length, before, 'not within a second of the last status');
    now += 500;
    s.emit('stats', report(10));
    assert.deepEqual(a.status, { fill: 'green', shape: 'dot', text: '10.0 fps 320×240' });
    await hub.close();
  });

  test('errors reach every user redacted; the status says the reason; frames too large name the limit', async () => {
    const { hub, sessions } = hubWith({ maxFrameBytes: 4 * 1048576 });
    const a = new FakeUser('a');
    hub.register(a);
    sessions[0]!.emit('error', new CameraError('auth failed', `401 for rtsp://admin:${SECRET}@cam/x`));
    assert.deepEqual(a.errors, [{ reason: 'auth failed', message: '401 for rtsp://***@cam/x' }]);
    assert.deepEqual(a.status, { fill: 'red', shape: 'ring', text: 'auth failed' });
    sessions[0]!.emit('error', new CameraError('frame too large', 'a frame of 5 MB'));
    assert.deepEqual(a.status, { fill: 'red', shape: 'ring', text: 'frame too large (limit 4 MB)' });
    await hub.close();
  });

  test('a URL the camera layer refuses: closed with the reason, the error to the users, no session', async () => {
    const { hub } = hubWith({ open: () => { throw new CameraError('invalid url', `bad rtsp://u:${SECRET}@x`); } });
    const a = new FakeUser('a');
    hub.register(a);
    assert.equal(hub.sessionOpen, false);
    assert.equal(a.status?.fill, 'red');
    assert.match(String(a.status?.text), /^invalid url/);
    assert.deepEqual(a.errors, [{ reason: 'invalid url', message: 'bad rtsp://***@x' }]);
    await hub.close();
  });

  test('the last user removed closes the session before done; redeployed, after the grace period unless one is back', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { hub, sessions } = hubWith({ graceMs: 3000 });
    const a = new FakeUser('a');
    hub.register(a);
    await deregister(hub, a, true);
    assert.equal(sessions[0]!.closed, 1);
    assert.deepEqual(a.status, {}, 'a leaving user is told to clear its camera status');
    assert.equal(sessions[0]!.listenerCount('frame') + sessions[0]!.listenerCount('error'), 0, 'no listener left on a closed session');

    hub.register(a);
    assert.equal(sessions.length, 2);
    await deregister(hub, a, false);
    t.mock.timers.tick(2999);
    assert.equal(sessions[1]!.closed, 0, 'kept for the grace period');
    hub.register(a);
    t.mock.timers.tick(10000);
    assert.equal(sessions[1]!.closed, 0, 'a user came back within the grace period');
    assert.equal(sessions.length, 2);

    await deregister(hub, a, false);
    t.mock.timers.tick(3000);
    assert.equal(sessions[1]!.closed, 1, 'closed after the grace period');
    await settle();
    assert.deepEqual(hub.stats().state, 'idle');
    await hub.close();
  });

  test('stats: the session counters plus the drops of the users; empty stats without a session', async () => {
    const { hub, sessions } = hubWith();
    assert.equal(hub.stats().framesEmitted, 0);
    assert.equal(hub.stats().state, 'idle');
    const a = new FakeUser('a');
    hub.register(a);
    hub.countDownstreamDrop();
    hub.countDownstreamDrop();
    const st = hub.stats();
    assert.equal(st.framesDroppedDownstream, 2);
    assert.equal(st.framesDropped, sessions[0]!.stats.framesDropped + 2);
    await hub.close();
  });

  test('close(): the session is closed (bounded even if it hangs), and nothing reopens it', async () => {
    const { hub, sessions } = hubWith({ closeTimeoutMs: 50 });
    const a = new FakeUser('a');
    hub.register(a);
    sessions[0]!.hangOnClose = true;
    await hub.close();
    assert.equal(sessions[0]!.closed, 1);
    hub.register(new FakeUser('b'));
    hub.setDemand(a, true);
    assert.equal(sessions.length, 1);
    assert.equal(hub.sessionOpen, false);
  });
});

describe('CameraHub: on demand', () => {
  test('registering opens nothing; the first want opens, the last want ends it after the linger (never shorter than the floor), and the users hear it went idle', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { hub, sessions, lines } = hubWith({ onDemand: true, lingerMs: 0 });
    const [a, b] = [new FakeUser('a'), new FakeUser('b')];
    hub.register(a);
    hub.register(b);
    assert.equal(sessions.length, 0);
    assert.deepEqual(a.status, { fill: 'grey', shape: 'ring', text: 'idle' });
    hub.setDemand(a, true);
    hub.setDemand(b, true, 'snapshot');
    assert.equal(sessions.length, 1);
    sessions[0]!.setState('playing');
    hub.setDemand(a, false);
    hub.setDemand(b, false, 'snapshot');
    t.mock.timers.tick(MIN_LINGER_MS - 1);
    assert.equal(sessions[0]!.closed, 0, 'never before the shortest linger');
    t.mock.timers.tick(1);
    assert.equal(sessions[0]!.closed, 1);
    await settle();
    assert.deepEqual([a.idle, b.idle], [1, 1]);
    assert.deepEqual(a.status, { fill: 'grey', shape: 'ring', text: 'idle' });
    assert.deepEqual(lines, [`disconnected from rtsp://127.0.0.1:8554/cam: nothing needed frames for ${MIN_LINGER_MS / 1000} s (connect: on demand)`]);
    await hub.close();
  });

  test('a want of a user that is not registered is ignored; a user that leaves takes all its wants with it', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { hub, sessions } = hubWith({ onDemand: true, lingerMs: 5000 });
    const a = new FakeUser('a');
    hub.setDemand(a, true);
    assert.equal(sessions.length, 0);
    hub.register(a);
    hub.setDemand(a, true, 'stream');
    hub.setDemand(a, true, 'snapshot');
    assert.equal(sessions.length, 1);
    await deregister(hub, a, false);
    t.mock.timers.tick(5000);
    assert.equal(sessions[0]!.closed, 1, 'closed once the leaving user took its wants');
    await hub.close();
  });

  test('two wants of one user (a stream and a snapshot): ending one keeps the session', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { hub, sessions } = hubWith({ onDemand: true, lingerMs: 5000 });
    const a = new FakeUser('a');
    hub.register(a);
    hub.setDemand(a, true);
    hub.setDemand(a, true, 'snapshot');
    hub.setDemand(a, false, 'snapshot');
    t.mock.timers.tick(60000);
    assert.equal(sessions[0]!.closed, 0);
    hub.setDemand(a, false);
    t.mock.timers.tick(5000);
    assert.equal(sessions[0]!.closed, 1);
    await hub.close();
  });

  test('a want during the linger keeps the running session', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { hub, sessions } = hubWith({ onDemand: true, lingerMs: 5000 });
    const a = new FakeUser('a');
    hub.register(a);
    hub.setDemand(a, true);
    hub.setDemand(a, false);
    t.mock.timers.tick(4000);
    hub.setDemand(a, true);
    t.mock.timers.tick(60000);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]!.closed, 0);
    await hub.close();
    assert.equal(sessions[0]!.closed, 1);
  });
});
