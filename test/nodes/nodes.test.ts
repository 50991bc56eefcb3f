/**
 * The three nodes in a Node-RED 4 runtime (node-red-node-test-helper) against the built-in
 * demo camera on 127.0.0.1: frames and their metadata, one shared RTSP session, TEARDOWN
 * when the last user goes, failures reaching Catch nodes without credentials, no leaked
 * sockets/timers after many redeploys, maxFps, snapshots, statistics, the test endpoint.
 */
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { decode as decodeJpeg } from 'jpeg-js';
import type { NodeMessage } from 'node-red';
import { helper, collect, until, sleep, spokenText, type FlowNode } from '../support/node-red-helper';
import cameraNode from '../../src/nodes/rtsp-camera';
import mjpegInNode from '../../src/nodes/rtsp-mjpeg-in';
import rtcpStatsNode from '../../src/nodes/rtcp-stats';
import { startDemoCamera, type DemoCamera, type DemoCameraOptions } from '../../src/sim/demo-camera';
import type { FrameInfo } from '../../src/camera/types';
import type { RtspCameraNode } from '../../src/nodes/lib/camera-contract';
import { startFakeTunnelServer } from '../support/fake-tunnel-server';
import { decodeJpeg as djpeg } from '../support/djpeg';
import { takePorts } from '../support/ports';

const NODES = [cameraNode, mjpegInNode, rtcpStatsNode];
const SECRET = 'S3cr3t:p@ss/word%';
const SECRET_FORMS = [SECRET, encodeURIComponent(SECRET), encodeURI(SECRET), 'p@ss/word', 'S3cr3t:p'];
const FRAME_KEYS = ['capturedAt', 'height', 'index', 'receivedAt', 'rtpTimestamp', 'ssrc', 'width'];

let demo: DemoCamera | null = null;
async function camera(opts: DemoCameraOptions = {}): Promise<DemoCamera> {
  demo = await startDemoCamera({ port: 0, width: 320, height: 240, fps: 15, ...opts });
  return demo;
}

const tab: FlowNode = { id: 'f1', type: 'tab' };
const cam = (url: string, extra: Record<string, unknown> = {}): FlowNode => ({ id: 'cam', type: 'rtsp-camera', name: 'demo', url, transport: 'tcp', ...extra });
const mjpegIn = (id: string, wires: string[], extra: Record<string, unknown> = {}): FlowNode =>
  ({ id, type: 'rtsp-mjpeg in', z: 'f1', camera: 'cam', maxFps: 0, mode: 'stream', wires: [wires], ...extra });
const helperNode = (id: string): FlowNode => ({ id, type: 'helper', z: 'f1' });
const isJpeg = (b: unknown): boolean => Buffer.isBuffer(b) && b.length > 4 && b[0] === 0xff && b[1] === 0xd8 && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;

before(async () => {
  await helper.startServer();
});
afterEach(async () => {
  await helper.unload();
  if (demo) await demo.close();
  demo = null;
});
after(async () => {
  await helper.stopServer();
});

describe('rtsp-mjpeg in', () => {
  test('emits complete JPEG Buffers with msg.topic and msg.frame as the contract lists', async () => {
    const d = await camera();
    await helper.load(NODES, [tab, cam(d.url), mjpegIn('in1', ['h1']), helperNode('h1')]);
    const msgs = await collect('h1', 4);
    let lastIndex = 0;
    for (const m of msgs) {
      assert.ok(isJpeg(m.payload), 'payload is SOI…EOI');
      assert.equal(m.topic, 'demo');
      const f = m.frame as FrameInfo;
      assert.deepEqual(Object.keys(f).sort(), FRAME_KEYS);
      assert.equal(f.width, 320);
      assert.equal(f.height, 240);
      assert.ok(f.index > lastIndex);
      lastIndex = f.index;
      assert.ok(Math.abs(f.receivedAt - Date.now()) < 60000);
      assert.ok(f.capturedAt === null || typeof f.capturedAt === 'number');
    }
    const img = decodeJpeg(msgs[0]?.payload as Buffer, { useTArray: true });
    assert.equal(img.width, 320);
    assert.equal(img.height, 240);
  });

  test('topic falls back to the URL without credentials', async () => {
    const d = await camera();
    const withCreds = d.url.replace('rtsp://', 'rtsp://viewer:pw1@');
    await helper.load(NODES, [tab, cam(withCreds, { name: '' }), mjpegIn('in1', ['h1']), helperNode('h1')]);
    const [m] = await collect('h1', 1);
    assert.equal(m?.topic, d.url);
  });

  test('two nodes share ONE RTSP session; removing one keeps it, removing both sends TEARDOWN', async () => {
    const d = await camera();
    const flow = [tab, cam(d.url), mjpegIn('in1', ['h1']), mjpegIn('in2', ['h2']), helperNode('h1'), helperNode('h2')];
    await helper.load(NODES, flow);
    // both outputs listen from the same moment, so five frames each overlap
    const [a, b] = await Promise.all([collect('h1', 5), collect('h2', 5)]);
    assert.equal(d.stats.setups, 1, 'one SETUP');
    assert.equal(d.stats.plays, 1, 'one PLAY');
    // same frame, different bytes: each message has its own Buffer
    const byIndex = new Map((a ?? []).map((m) => [(m.frame as FrameInfo).index, m.payload as Buffer]));
    const twin = (b ?? []).find((m) => byIndex.has((m.frame as FrameInfo).index));
    const indices = (ms: NodeMessage[] | undefined): string => (ms ?? []).map((m) => (m.frame as FrameInfo).index).join(',');
    assert.ok(twin, `no frame reached both outputs (in1 ${indices(a)}, in2 ${indices(b)}): the own-Buffer check would check nothing`);
    const p1 = byIndex.get((twin.frame as FrameInfo).index) as Buffer;
    const p2 = twin.payload as Buffer;
    assert.ok(p1.equals(p2));
    p2[2] = p2[2] === 0 ? 1 : 0;
    assert.ok(!p1.equals(p2), 'the two messages share bytes');

    await helper.setFlows([tab, cam(d.url), mjpegIn('in1', ['h1']), helperNode('h1')], 'nodes');
    await collect('h1', 3);
    assert.equal(d.stats.teardowns, 0, 'no TEARDOWN while a user remains');
    assert.equal(d.stats.setups, 1);

    await helper.setFlows([tab, cam(d.url), helperNode('h1')], 'nodes');
    await until(() => d.stats.teardowns === 1, 'TEARDOWN after the last user was removed');
    assert.equal(d.stats.plays, 1);
  });

  test('maxFps thins the stream evenly (every third frame of 15 fps at 5 fps)', async () => {
    const d = await camera({ fps: 15 });
    // in0 (no limit) records every frame the camera node delivered, as the reference
    await helper.load(NODES, [tab, cam(d.url), mjpegIn('in1', ['h1'], { maxFps: 5 }), mjpegIn('in0', ['h0']), helperNode('h1'), helperNode('h0')]);
    const all = new Map<number, number>(); // index → RTP timestamp
    const out: FrameInfo[] = [];
    helper.getNode('h0').on('input', (m: NodeMessage) => { const f = m.frame as FrameInfo; all.set(f.index, f.rtpTimestamp); });
    helper.getNode('h1').on('input', (m: NodeMessage) => { out.push(m.frame as FrameInfo); });
    // The gate keeps a grid of RTP time. The demo camera runs in this process and skips
    // frames when its timer fires more than a frame late (a loaded machine, Node-RED starting
    // the flow); after such a hole the first frame past it is let through and the next grid
    // point may come fewer than three frames later. So a pair of consecutive outputs is
    // judged only when the camera sent every frame from the output before the pair to the
    // end of it; the others are left out and counted. At least five pairs must be judged.
    const contiguous = (a: FrameInfo, b: FrameInfo): boolean => {
      for (let i = a.index; i < b.index; i++) {
        const t0 = all.get(i);
        const t1 = all.get(i + 1);
        if (t0 === undefined || t1 === undefined || ((t1 - t0) >>> 0) !== 6000) return false;
      }
      return true;
    };
    const judged = (): [FrameInfo, FrameInfo][] => out.slice(2).map((b, i) => [out[i]!, out[i + 1]!, b] as const)
      .filter(([before, , b]) => contiguous(before, b)).map(([, a, b]) => [a, b]);
    try {
      await until(() => judged().length >= 5, 'five pairs of outputs to judge', 12000);
    } catch (e) {
      const camGaps = [...all.keys()].sort((x, y) => x - y).slice(1).map((i) => `${i}:${((all.get(i)! - (all.get(i - 1) ?? NaN)) >>> 0) / 6000}`);
      throw new Error(`${(e as Error).message}: outputs ${out.map((f) => f.index).join(',')}; camera frames (index:periods since the previous) ${camGaps.join(' ')}`);
    }
    const pairs = judged();
    const fmt = (ps: [FrameInfo, FrameInfo][]): string => ps.map(([a, b]) => `${a.index}→${b.index}: ${(b.rtpTimestamp - a.rtpTimestamp) >>> 0}`).join(', ');
    const left = out.length - 1 - pairs.length;
    assert.ok(pairs.every(([a, b]) => ((b.rtpTimestamp - a.rtpTimestamp) >>> 0) === 18000), `RTP gaps ${fmt(pairs)} (expected 3 × 6000; ${left} pairs left out: the first, or near a camera hole)`);
    assert.ok(pairs.every(([a, b]) => b.index - a.index === 3), `index gaps ${fmt(pairs)}`);
    const node = helper.getNode('in1') as unknown as { framesSkipped: number };
    assert.ok(node.framesSkipped >= 10);
  });

  test('request mode emits only on input, the latest frame once, reusing the message', async () => {
    const d = await camera();
    await helper.load(NODES, [tab, cam(d.url), mjpegIn('in1', ['h1'], { mode: 'request' }), helperNode('h1')]);
    const h1 = helper.getNode('h1');
    const got: NodeMessage[] = [];
    h1.on('input', (m: NodeMessage) => got.push(m));
    const camNode = helper.getNode('cam') as unknown as RtspCameraNode;
    await until(() => camNode.stats().framesEmitted >= 3, 'frames at the camera node');
    await sleep(150);
    assert.equal(got.length, 0, 'nothing sent without a request');
    helper.getNode('in1').receive({ payload: 'anything', keep: 'me' } as NodeMessage);
    await until(() => got.length === 1, 'one snapshot');
    await sleep(200);
    assert.equal(got.length, 1, 'exactly one message per request');
    assert.ok(isJpeg(got[0]?.payload));
    assert.equal(got[0]?.keep, 'me');
    assert.deepEqual(Object.keys(got[0]?.frame as object).sort(), FRAME_KEYS);
  });

  test('a "snapshot" request before the first frame waits for it; in stream mode it adds one message', async () => {
    const d = await camera();
    await helper.load(NODES, [tab, cam(d.url), mjpegIn('in1', ['h1'], { mode: 'stream', maxFps: 0.5 }), helperNode('h1')]);
    const wait = collect('h1', 2, 6000);
    helper.getNode('in1').receive({ payload: 'snapshot', marker: 1 } as NodeMessage);
    const msgs = await wait;
    assert.equal(msgs.filter((m) => m.marker === 1).length, 1, 'the request got its snapshot');
    assert.ok(msgs.every((m) => isJpeg(m.payload)));
  });
});

describe('failures', () => {
  for (const variant of ['credential fields', 'pasted into the URL'] as const) {
    test(`a wrong password (${variant}) gives a red status and a Catch message, never the password`, async () => {
      const d = await camera({ auth: 'digest', username: 'admin', password: 'the-right-one' });
      const url = variant === 'pasted into the URL' ? d.url.replace('rtsp://', `rtsp://admin:${encodeURIComponent(SECRET)}@`) : d.url;
      const flow = [tab, cam(url), mjpegIn('in1', ['h1']), helperNode('h1'),
        { id: 'c1', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['hc']] }, helperNode('hc')];
      const creds = variant === 'credential fields' ? { cam: { username: 'admin', password: SECRET } } : {};
      await helper.load(NODES, flow, creds);
      const [caught] = await collect('hc', 1);
      assert.equal(caught?.reason, 'auth failed');
      const err = caught?.error as { message: string; code: string; source: { id: string } };
      assert.equal(err.code, 'auth failed');
      assert.equal(err.source.id, 'in1');
      assert.equal(caught?.topic, 'demo');
      const in1 = helper.getNode('in1');
      await until(() => /"fill":"red"[^}]*auth failed/.test(spokenText(in1)), 'red status with the reason');
      const everything = [JSON.stringify(caught), spokenText(in1), spokenText(helper.getNode('cam')),
        JSON.stringify((helper.log() as unknown as { args: unknown[][] }).args)].join('\n');
      for (const s of SECRET_FORMS) assert.ok(!everything.includes(s), `"${s}" leaked`);
    });
  }

  test('a camera that is not there: red status, retries, and one Catch message for the repeated failure', async () => {
    // a port no other test process binds, so nothing answers there once it is closed
    const d = await camera({ port: await takePorts(1) });
    const url = d.url;
    await d.close();
    demo = null;
    await helper.load(NODES, [tab, cam(url, { reconnectMin: 0.1, reconnectMax: 0.2 }), mjpegIn('in1', ['h1']), helperNode('h1'),
      { id: 'c1', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['hc']] }, helperNode('hc')]);
    const caught: NodeMessage[] = [];
    helper.getNode('hc').on('input', (m: NodeMessage) => caught.push(m));
    await until(() => caught.length === 1, 'a Catch message');
    assert.equal(caught[0]?.reason, 'connection refused');
    const in1 = helper.getNode('in1');
    const retries = (): number => ((in1.status as unknown as { args: [{ text?: string }][] }).args)
      .filter(([st]) => /^connection refused: check the port[^,]*, retry/.test(st?.text ?? '')).length;
    await until(() => retries() >= 3, 'several retries');
    assert.equal(caught.length, 1, 'the same failure is reported once, not on every retry');
    assert.match(spokenText(in1), /"fill":"red"/);
  });
});

describe('lifecycle', () => {
  test('50 redeploys leave no socket, timer or port behind', async () => {
    const d = await camera({ fps: 25 });
    const flow = [tab, cam(d.url), mjpegIn('in1', ['h1']), helperNode('h1'),
      { id: 's1', type: 'rtcp stats', z: 'f1', camera: 'cam', interval: 1, wires: [['h1']] }];
    const count = (): Record<string, number> => {
      const c: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) c[r] = (c[r] ?? 0) + 1;
      return c;
    };
    await sleep(300);
    const baseline = count();
    await helper.load(NODES, flow);
    await collect('h1', 1);
    for (let i = 0; i < 50; i++) {
      await helper.setFlows(flow, 'full');
      // every deploy really plays: SETUP, PLAY and a frame, before the next one tears it down
      await collect('h1', 1);
    }
    await helper.unload();
    const over = (): string[] => {
      const now = count();
      return Object.keys(now).filter((k) => k !== 'FSReqCallback' && (now[k] ?? 0) > (baseline[k] ?? 0)).map((k) => `${k} ${baseline[k] ?? 0}→${now[k]}`);
    };
    await until(() => over().length === 0, `resources back to baseline (${over().join(', ')})`, 8000).catch(() => {
      assert.fail(`leaked: ${over().join(', ')}`);
    });
    assert.equal(d.stats.setups, d.stats.teardowns, 'every SETUP was torn down');
    assert.ok(d.stats.setups >= 50);
    assert.equal(d.stats.activeSessions, 0);
  });
});

describe('rtcp stats', () => {
  const PAYLOAD_KEYS = ['bitrateKbps', 'bytesReceived', 'fps', 'fractionLost', 'framesDropped', 'framesDroppedDownstream', 'framesEmitted', 'jitterMs',
    'packetsExpected', 'packetsLost', 'packetsReceived', 'senderReport', 'ssrc', 'state', 'transport', 'width', 'height'].sort();
  test('reports every interval with the contract fields and rates over its own interval', async () => {
    const d = await camera({ fps: 15 });
    await helper.load(NODES, [tab, cam(d.url), { id: 's1', type: 'rtcp stats', z: 'f1', camera: 'cam', interval: 0.5, wires: [['h1']] }, helperNode('h1')]);
    const msgs = await collect('h1', 4);
    const last = msgs[3]?.payload as Record<string, unknown>;
    assert.deepEqual(Object.keys(last).sort(), PAYLOAD_KEYS);
    assert.equal(msgs[3]?.topic, 'demo');
    assert.equal(last.state, 'playing');
    assert.equal(last.transport, 'tcp');
    assert.equal(typeof last.ssrc, 'number');
    assert.ok((last.packetsReceived as number) > 0);
    assert.ok((last.fps as number) > 5 && (last.fps as number) < 30, `fps ${last.fps}`);
    assert.ok((last.bitrateKbps as number) > 0);
    assert.equal(last.packetsLost, 0);
  });

  test('reports on any input message, reusing it; no timer with interval 0', async () => {
    const d = await camera();
    await helper.load(NODES, [tab, cam(d.url), { id: 's1', type: 'rtcp stats', z: 'f1', camera: 'cam', interval: 0, wires: [['h1']] }, helperNode('h1')]);
    const camNode = helper.getNode('cam') as unknown as RtspCameraNode;
    await until(() => camNode.stats().framesEmitted >= 2, 'frames');
    const wait = collect('h1', 1);
    helper.getNode('s1').receive({ payload: 'now', tag: 7 } as NodeMessage);
    const [m] = await wait;
    assert.equal(m?.tag, 7);
    assert.equal((m?.payload as { state: string }).state, 'playing');
    assert.ok((m?.payload as { framesEmitted: number }).framesEmitted >= 2);
  });
});

describe("transport 'http' (RTSP over HTTP tunnel)", () => {
  test('a camera with transport http streams through the tunnel; rtcp stats say http; the Test connection route takes it too', async () => {
    const d = await camera({ fps: 15 });
    const front = await startFakeTunnelServer({ relayTo: { host: '127.0.0.1', port: d.port } });
    try {
      const url = `rtsp://127.0.0.1:${front.port}/demo`;
      await helper.load(NODES, [tab, cam(url, { transport: 'http' }), mjpegIn('in1', ['h1']), helperNode('h1'),
        { id: 's1', type: 'rtcp stats', z: 'f1', camera: 'cam', interval: 0.5, wires: [['h2']] }, helperNode('h2')]);
      const msgs = await collect('h1', 3);
      for (const m of msgs) { const r = djpeg(m.payload as Buffer); assert.ok(r.ok, r.error); }
      const [stats] = await collect('h2', 1);
      assert.equal((stats?.payload as { transport: string }).transport, 'http');
      assert.ok(front.requests.some((r) => r.method === 'POST'), 'the RTSP requests went on the tunnel POST');
      const res = await helper.request().post('/rtsp-camera/test').send({ url, transport: 'http' }).expect(200);
      assert.equal((res.body as { ok: boolean }).ok, true, JSON.stringify(res.body));
      assert.equal((res.body as { transport: string }).transport, 'http');
      await helper.unload();
      await until(() => front.openSockets() === 0, 'every tunnel connection closed after the redeploy/stop');
      assert.equal(d.stats.teardowns, 2, 'TEARDOWN through the tunnel: the node and the Test connection');
    } finally {
      await front.close();
    }
  });
});

describe('admin endpoint POST /rtsp-camera/test', () => {
  test('connects, returns the summary and a snapshot', async () => {
    const d = await camera();
    await helper.load(NODES, [tab, cam(d.url)]);
    const res = await helper.request().post('/rtsp-camera/test').send({ url: d.url, transport: 'tcp' }).expect(200);
    const body = res.body as { ok: boolean; codec: string; width: number; height: number; transport: string; tracks: unknown[]; snapshot: string };
    assert.equal(body.ok, true, JSON.stringify(body));
    assert.equal(body.codec, 'JPEG');
    assert.equal(body.width, 320);
    assert.equal(body.height, 240);
    assert.equal(body.transport, 'tcp');
    assert.ok(body.tracks.length >= 1);
    assert.ok(isJpeg(Buffer.from(body.snapshot, 'base64')));
    await until(() => d.stats.teardowns === 1, 'the test session was torn down');
  });

  test('uses the stored password for the __PWRD__ placeholder; a wrong one fails without echoing it', async () => {
    const d = await camera({ auth: 'digest', username: 'admin', password: SECRET });
    await helper.load(NODES, [tab, cam(d.url)], { cam: { username: 'admin', password: SECRET } });
    const ok = await helper.request().post('/rtsp-camera/test').send({ url: d.url, id: 'cam', username: 'admin', password: '__PWRD__' }).expect(200);
    assert.equal((ok.body as { ok: boolean }).ok, true, JSON.stringify(ok.body));
    const bad = await helper.request().post('/rtsp-camera/test').send({ url: d.url, username: 'admin', password: `x${SECRET}` }).expect(200);
    assert.deepEqual([(bad.body as { ok: boolean }).ok, (bad.body as { reason: string }).reason], [false, 'auth failed']);
    for (const s of SECRET_FORMS) assert.ok(!JSON.stringify(bad.body).includes(s), `"${s}" leaked`);
  });

  test('rejects a malformed URL', async () => {
    await helper.load(NODES, [tab]);
    const res = await helper.request().post('/rtsp-camera/test').send({ url: 'ftp://x' }).expect(400);
    assert.equal((res.body as { reason: string }).reason, 'invalid url');
  });
});
