/**
 * `mjpeg http out` and `rtsp-mjpeg in` with a camera that fails, in a Node-RED 4 runtime
 * (node-red-node-test-helper) against the built-in demo camera and its faults:
 * - a camera that keeps its session but freezes: no snapshot (route or `payload: "snapshot"`)
 *   carries a frame older than the bound; snapshots and parts carry their capture time;
 * - a camera that is failing: viewers get a generated picture of the status that djpeg
 *   decodes, sent again while it lasts, then live frames; the snapshot's 503 names the reason;
 * - frames over the max frame size: `frame too large (limit …)` in status and Catch;
 * - `linger 0` on demand: polling snapshots costs one session, not one per request.
 */
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeAPI, NodeMessage } from 'node-red';
import { helper, until, collect, type FlowNode } from '../support/node-red-helper';
import cameraNode from '../../src/nodes/rtsp-camera';
import mjpegInNode from '../../src/nodes/rtsp-mjpeg-in';
import httpOutNode from '../../src/nodes/mjpeg-http-out';
import type { RtspCameraNode } from '../../src/nodes/lib/camera-contract';
import type { FrameInfo } from '../../src/camera/types';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { decodeJpeg } from '../support/djpeg';
import { openMjpeg, httpGet, type MjpegClient } from '../support/mjpeg-client';
import { get, rawClient, startNodeServer, statusTexts, type NodeServer, type RawClient } from './mjpeg-http-out-kit';

let server: NodeServer;
let NODES: ((RED: NodeAPI) => void)[] = [];
let demo: DemoCamera | null = null;
const clients: MjpegClient[] = [];
const raws: RawClient[] = [];

const tab: FlowNode = { id: 'f1', type: 'tab' };
const cam = (url: string, extra: Record<string, unknown> = {}): FlowNode =>
  ({ id: 'cam', type: 'rtsp-camera', name: 'demo', url, transport: 'tcp', ...extra });
const out = (id: string, path: string, extra: Record<string, unknown> = {}): FlowNode =>
  ({ id, type: 'mjpeg http out', z: 'f1', camera: 'cam', path, maxFps: 0, maxViewers: 10, ...extra });
const catcher = (wire: string): FlowNode[] => [
  { id: 'c1', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [[wire]] }, { id: wire, type: 'helper', z: 'f1' }];

async function view(path: string, keep = 1000): Promise<MjpegClient> {
  const c = await openMjpeg(server.base + path, { keep });
  clients.push(c);
  return c;
}

/** the status picture has a red band on top; the demo camera's picture starts with colour bars */
function isStatusPicture(jpeg: Buffer): boolean {
  const d = decodeJpeg(jpeg);
  if (!d.ok || !d.pixels || !d.width) return false;
  const i = (1 * d.width + Math.floor(d.width / 2)) * 3;
  const [r, g, b] = [d.pixels[i] ?? 0, d.pixels[i + 1] ?? 0, d.pixels[i + 2] ?? 0];
  return r > 150 && g < 100 && b < 100;
}

before(async () => {
  await helper.startServer();
  server = await startNodeServer();
  NODES = [cameraNode, mjpegInNode, server.wrap(httpOutNode)];
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const c of raws.splice(0)) c.close();
  await helper.unload();
  helper.settings({});
  if (demo) await demo.close();
  demo = null;
});
after(async () => {
  await server.close();
  await helper.stopServer();
});

describe('no stale picture', () => {
  test('a camera that freezes: no snapshot from the route or rtsp-mjpeg in is older than 2 s; capture times on snapshots and parts', async () => {
    helper.settings({ mjpegHttpOutSnapshotTimeout: 1000 } as Parameters<typeof helper.settings>[0]);
    const d = (demo = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 10 }));
    await helper.load(NODES, [tab, cam(d.url, { stallTimeout: 60 }), out('o1', '/fz'),
      { id: 'in1', type: 'rtsp-mjpeg in', z: 'f1', camera: 'cam', mode: 'request', wires: [['h1']] }, { id: 'h1', type: 'helper', z: 'f1' }]);
    const camNode = helper.getNode('cam') as unknown as RtspCameraNode;
    await until(() => camNode.latestFrame() !== null, 'frames');
    const live = await httpGet(`${server.base}/fz/snapshot.jpg`);
    assert.equal(live.status, 200);
    const ts = Number(live.headers['x-timestamp']) * 1000;
    assert.ok(Math.abs(ts - Date.now()) < 5000, `X-Timestamp ${String(live.headers['x-timestamp'])} is about now`);
    assert.ok(Math.abs(Date.parse(String(live.headers['last-modified'])) - Date.now()) < 5000, `Last-Modified ${String(live.headers['last-modified'])}`);
    const raw = await rawClient(server.port);
    raws.push(raw);
    raw.socket.write(get('/fz'));
    await until(() => /\r\nX-Timestamp: \d{10}\.\d{3}\r\n/.test(raw.received().toString('latin1')), 'stream parts carry X-Timestamp');
    raw.close();

    // the camera keeps its session but sends nothing more
    d.setFaults({ stall: true });
    const age = (): number => Date.now() - (camNode.latestFrame()?.info.receivedAt ?? Date.now());
    await until(() => age() > 2500, 'the last frame is 2.5 s old', 6000);
    const stale = camNode.latestFrame()?.jpeg;
    const snap = await httpGet(`${server.base}/fz/snapshot.jpg`);
    assert.ok(!(snap.status === 200 && stale && snap.body.equals(stale)), `a frame ${age()} ms old was served`);
    assert.equal(snap.status, 503);
    assert.match(snap.body.toString(), /^no frame within 1 s \(the last one is \d+(\.\d)? s old\)/);

    // rtsp-mjpeg in: the request waits for a fresh frame instead of taking the old one
    const answer = collect('h1', 1, 8000);
    helper.getNode('in1').receive({ payload: 'snapshot' } as NodeMessage);
    await new Promise((r) => setTimeout(r, 300));
    const resumedAt = Date.now();
    d.setFaults({});
    const [msg] = await answer;
    const info = msg?.frame as FrameInfo;
    assert.ok(info.receivedAt >= resumedAt, `rtsp-mjpeg in answered with a frame from ${resumedAt - info.receivedAt} ms before the camera resumed`);
    const fresh = await httpGet(`${server.base}/fz/snapshot.jpg`);
    assert.equal(fresh.status, 200);
    assert.ok(Number(fresh.headers['x-timestamp']) * 1000 >= resumedAt - 1000, 'a fresh frame after the camera resumed');
  });
});

describe('the picture says the camera is down', () => {
  test('a failing camera: a generated picture of the status (decodes with djpeg), sent again while it lasts; the snapshot 503 names the reason; then live frames', async () => {
    const d = (demo = await startDemoCamera({ port: 0, width: 320, height: 240, fps: 10 }));
    await helper.load(NODES, [tab, cam(d.url, { stallTimeout: 1, reconnectMin: 0.3, reconnectMax: 0.5 }), out('o1', '/down')]);
    const node = helper.getNode('o1');
    const c = await view('/down');
    await until(() => c.count >= 3, 'live frames');
    assert.ok(!c.kept.some(isStatusPicture));
    d.setFaults({ stall: true });
    await until(() => /stalled/.test(statusTexts(node).at(-1) ?? ''), 'red status "stalled"', 6000);
    await until(() => c.kept.filter(isStatusPicture).length >= 2, 'the status picture, sent again', 8000);
    const pictures = c.kept.filter(isStatusPicture);
    for (const p of pictures) {
      const r = decodeJpeg(p);
      assert.ok(r.ok, r.error);
      assert.equal(r.width, 320, 'the picture has the camera\'s frame size');
      assert.equal(r.height, 240);
    }
    const snap = await httpGet(`${server.base}/down/snapshot.jpg`);
    assert.equal(snap.status, 503);
    assert.match(snap.body.toString(), /^camera: stalled/);
    assert.ok(Number(snap.headers['retry-after']) > 0);
    d.setFaults({});
    const n = c.kept.length;
    await until(() => c.kept.slice(n).filter((f) => !isStatusPicture(f)).length >= 3, 'live frames again', 8000);
    assert.deepEqual(c.errors, []);
  });
});

describe('reasons', () => {
  test('frames over the max frame size: "frame too large (limit 0.01 MB)" in the status and Catch, not "stalled"', async () => {
    const d = (demo = await startDemoCamera({ port: 0, width: 640, height: 480, fps: 10 }));
    await helper.load(NODES, [tab, cam(d.url, { maxFrameMB: 0.01, stallTimeout: 1, reconnectMin: 0.5, reconnectMax: 1 }),
      { id: 'in1', type: 'rtsp-mjpeg in', z: 'f1', camera: 'cam', mode: 'stream', wires: [['h1']] }, { id: 'h1', type: 'helper', z: 'f1' }, ...catcher('hc')]);
    const [caught] = await collect('hc', 1, 8000);
    assert.equal(caught?.reason, 'frame too large');
    assert.match((caught?.error as { message: string }).message, /frame too large: \d+ frames? over the 0\.01 MB limit dropped/);
    const in1 = helper.getNode('in1');
    await until(() => statusTexts(in1).some((t) => t.startsWith('frame too large (limit 0.01 MB)')), `status (${statusTexts(in1).join(' | ')})`);
    assert.ok(!statusTexts(in1).some((t) => /stalled/.test(t)), statusTexts(in1).join(' | '));
  });

  test('linger 0 on demand: ten snapshots one after another cost one RTSP session, torn down after a second', async () => {
    const d = (demo = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 15 }));
    await helper.load(NODES, [tab, cam(d.url, { connect: 'on demand', linger: 0 }), out('o1', '/ld')]);
    for (let i = 0; i < 10; i++) {
      const r = await httpGet(`${server.base}/ld/snapshot.jpg`);
      assert.equal(r.status, 200);
    }
    assert.equal(d.stats.setups, 1, `${d.stats.setups} sessions for ten snapshots`);
    await until(() => d.stats.teardowns === 1 && d.stats.activeSessions === 0, 'TEARDOWN once nobody asks', 5000);
  });
});
