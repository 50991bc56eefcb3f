/**
 * The nodes, unchanged, on an http(s):// camera (the demo camera's HTTP side: an MJPEG stream
 * and a snapshot URL): `rtsp-mjpeg in` frames and msg.frame, `rtcp stats` with its contract
 * fields (RTP-only ones null, transport http-mjpeg / http-snapshot), `mjpeg http out` serving
 * the camera, connect on demand with linger, start/stop, the snapshot request, failures on
 * the status and in Catch without the password, and the Test connection route saying which
 * kind it found.
 */
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeAPI, NodeMessage } from 'node-red';
import { helper, collect, until, sleep, spokenText, type FlowNode } from '../support/node-red-helper';
import cameraNode from '../../src/nodes/rtsp-camera';
import mjpegInNode from '../../src/nodes/rtsp-mjpeg-in';
import rtcpStatsNode from '../../src/nodes/rtcp-stats';
import httpOutNode from '../../src/nodes/mjpeg-http-out';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import type { FrameInfo } from '../../src/camera/types';
import { decodeJpeg } from '../support/djpeg';
import { openMjpeg, type MjpegClient } from '../support/mjpeg-client';
import { startHttpNodeServer, type HttpNodeServer } from '../support/http-node';

let server: HttpNodeServer | null = null;
let NODES: ((RED: NodeAPI) => void)[] = [];
let demo: DemoCamera | null = null;
const clients: MjpegClient[] = [];
const SECRET = 'h77p:S3cr@t/';

async function camera(o: Parameters<typeof startDemoCamera>[0] = {}): Promise<DemoCamera> {
  demo = await startDemoCamera({ httpPort: 0, width: 320, height: 240, fps: 15, ...o });
  return demo;
}
const tab: FlowNode = { id: 'f1', type: 'tab' };
const cam = (url: string, extra: Record<string, unknown> = {}): FlowNode => ({ id: 'cam', type: 'rtsp-camera', name: 'esp', url, transport: 'tcp', ...extra });
const mjpegIn = (id: string, wires: string[], extra: Record<string, unknown> = {}): FlowNode =>
  ({ id, type: 'rtsp-mjpeg in', z: 'f1', camera: 'cam', maxFps: 0, mode: 'stream', wires: [wires], ...extra });
const helperNode = (id: string): FlowNode => ({ id, type: 'helper', z: 'f1' });

before(async () => {
  await helper.startServer();
  server = await startHttpNodeServer();
  NODES = [cameraNode, mjpegInNode, rtcpStatsNode, server.wrap(httpOutNode)];
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await helper.unload();
  if (demo) await demo.close();
  demo = null;
});
after(async () => {
  await server?.close();
  await helper.stopServer();
});

describe('rtsp-camera with an http(s) URL', () => {
  test('MJPEG stream: rtsp-mjpeg in emits JPEGs with msg.frame; rtcp stats keeps its fields, RTP-only ones null', async () => {
    const d = await camera();
    const url = `${d.httpUrl}/stream`;
    await helper.load(NODES, [tab, cam(url), mjpegIn('in1', ['h1']), helperNode('h1'),
      { id: 's1', type: 'rtcp stats', z: 'f1', camera: 'cam', interval: 0.5, wires: [['h2']] }, helperNode('h2')]);
    const msgs = await collect('h1', 5);
    for (const m of msgs) {
      const f = m.frame as FrameInfo;
      assert.deepEqual(Object.keys(f).sort(), ['capturedAt', 'height', 'index', 'receivedAt', 'rtpTimestamp', 'ssrc', 'width']);
      assert.deepEqual([f.width, f.height, f.ssrc, f.capturedAt], [320, 240, 0, null]);
      assert.ok(decodeJpeg(m.payload as Buffer).ok);
      assert.equal(m.topic, 'esp');
    }
    const stats = await collect('h2', 3);
    const p = stats[2]!.payload as Record<string, unknown>;
    assert.deepEqual(Object.keys(p).sort(), ['bitrateKbps', 'bytesReceived', 'fps', 'fractionLost', 'framesDropped', 'framesDroppedDownstream', 'framesEmitted', 'jitterMs',
      'packetsExpected', 'packetsLost', 'packetsReceived', 'senderReport', 'ssrc', 'state', 'transport', 'width', 'height'].sort());
    assert.deepEqual([p.ssrc, p.packetsReceived, p.packetsExpected, p.packetsLost, p.fractionLost, p.jitterMs, p.senderReport], [null, null, null, null, null, null, null]);
    assert.deepEqual([p.transport, p.state], ['http-mjpeg', 'playing']);
    assert.ok((p.fps as number) > 0 && (p.bitrateKbps as number) > 0 && (p.framesEmitted as number) >= 5);
  });

  test('snapshot URL (polled at the node\'s snapshotFps); the snapshot request of rtsp-mjpeg in', async () => {
    const d = await camera();
    await helper.load(NODES, [tab, cam(`${d.httpUrl}/capture`, { snapshotFps: 5 }), mjpegIn('in1', ['h1'], { mode: 'request' }), helperNode('h1'),
      { id: 's1', type: 'rtcp stats', z: 'f1', camera: 'cam', interval: 0.5, wires: [['h2']] }, helperNode('h2')]);
    const stats = await collect('h2', 2);
    assert.equal((stats[1]!.payload as { transport: string }).transport, 'http-snapshot');
    const wait = collect('h1', 1);
    helper.getNode('in1').receive({ payload: 'snapshot' } as NodeMessage);
    const [m] = await wait;
    assert.ok(decodeJpeg(m!.payload as Buffer).ok);
  });

  test('mjpeg http out serves the HTTP camera; connect on demand: no request without a viewer, gone a linger after', async () => {
    const d = await camera();
    await helper.load(NODES, [tab, cam(`${d.httpUrl}/stream`, { connect: 'on demand', linger: 0.5 }),
      { id: 'o1', type: 'mjpeg http out', z: 'f1', camera: 'cam', path: '/esp', maxFps: 0, maxViewers: 10 }]);
    const camNode = helper.getNode('cam') as unknown as { stats(): { state: string } };
    await sleep(500);
    assert.equal(camNode.stats().state, 'idle', 'no connection while nobody watches');
    const c = await openMjpeg(`${server!.base}/esp`, { keep: 3 });
    clients.push(c);
    await until(() => c.count >= 3, 'the viewer gets frames', 8000);
    for (const j of c.kept) assert.ok(decodeJpeg(j).ok);
    c.close();
    await until(() => camNode.stats().state === 'idle', 'disconnected a linger after the last viewer', 5000);
  });

  test('start and stop of rtsp-mjpeg in on an on-demand HTTP camera', async () => {
    const d = await camera();
    await helper.load(NODES, [tab, cam(`${d.httpUrl}/stream`, { connect: 'on demand', linger: 0.3 }),
      mjpegIn('in1', ['h1'], { startOnDeploy: false }), helperNode('h1')]);
    const camNode = helper.getNode('cam') as unknown as { stats(): { state: string } };
    await sleep(300);
    assert.equal(camNode.stats().state, 'idle');
    const got = collect('h1', 3);
    helper.getNode('in1').receive({ payload: 'start' } as NodeMessage);
    await got;
    helper.getNode('in1').receive({ payload: 'stop' } as NodeMessage);
    await until(() => camNode.stats().state === 'idle', 'idle after stop and linger', 4000);
  });

  test('a wrong password: red status and a Catch message with the reason, never the password', async () => {
    const d = await camera({ auth: 'digest', username: 'admin', password: 'right' });
    await helper.load(NODES, [tab, cam(`${d.httpUrl}/stream`), mjpegIn('in1', []),
      { id: 'c1', type: 'catch', z: 'f1', scope: null, wires: [['h1']] }, helperNode('h1')], { cam: { username: 'admin', password: SECRET } });
    const [m] = await collect('h1', 1);
    assert.match(String((m!.error as { message: string }).message), /auth failed/);
    const node = helper.getNode('in1');
    await until(() => /auth failed/.test(spokenText(node)), 'the status says auth failed');
    for (const text of [JSON.stringify(m), spokenText(node), spokenText(helper.getNode('cam'))]) {
      assert.ok(!text.includes(SECRET) && !text.includes(encodeURIComponent(SECRET)), 'password leaked');
    }
  });
});

describe('POST /rtsp-camera/test with http(s) URLs', () => {
  test('says which kind it found: an MJPEG stream, a snapshot URL; a wrong path is not found', async () => {
    const d = await camera();
    await helper.load(NODES, [tab]);
    const a = await helper.request().post('/rtsp-camera/test').send({ url: `${d.httpUrl}/stream` }).expect(200);
    assert.deepEqual([a.body.ok, a.body.transport, a.body.codec, a.body.width], [true, 'http-mjpeg', 'JPEG', 320], JSON.stringify(a.body));
    const b = await helper.request().post('/rtsp-camera/test').send({ url: `${d.httpUrl}/capture`, snapshotFps: 2 }).expect(200);
    assert.deepEqual([b.body.ok, b.body.transport], [true, 'http-snapshot'], JSON.stringify(b.body));
    const page = await helper.request().post('/rtsp-camera/test').send({ url: `${d.httpUrl}/nothing-here` }).expect(200);
    assert.deepEqual([page.body.ok, page.body.reason], [false, 'not found']);
  });
});
