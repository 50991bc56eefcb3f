/**
 * `connect: on demand`: a user node that goes away takes its demand with it. A started
 * `rtsp-mjpeg in` removed by a "modified nodes" deploy (the camera node itself unchanged,
 * so it is not restarted) must let the camera close after `linger`, with one TEARDOWN, and
 * not hold the camera open until the next full redeploy. Also when other users of the
 * camera remain that want no frames (an `mjpeg http out` without viewers).
 */
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeAPI } from 'node-red';
import { helper, collect, until, type FlowNode } from '../support/node-red-helper';
import cameraNode from '../../src/nodes/rtsp-camera';
import mjpegInNode from '../../src/nodes/rtsp-mjpeg-in';
import httpOutNode from '../../src/nodes/mjpeg-http-out';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { startHttpNodeServer, type HttpNodeServer } from '../support/http-node';

const LINGER_S = 0.3;
/** linger plus the TEARDOWN's round trip, with room for a loaded machine */
const RELEASE_WITHIN_MS = LINGER_S * 1000 + 4000;

let server: HttpNodeServer | null = null;
let NODES: ((RED: NodeAPI) => void)[] = [];
let demo: DemoCamera | null = null;

const tab: FlowNode = { id: 'f1', type: 'tab' };
const cam = (url: string): FlowNode => ({ id: 'cam', type: 'rtsp-camera', name: 'demo', url, transport: 'tcp', connect: 'on demand', linger: LINGER_S });
const mjpegIn = (id: string, wires: string[]): FlowNode => ({ id, type: 'rtsp-mjpeg in', z: 'f1', camera: 'cam', maxFps: 0, mode: 'stream', wires: [wires] });
const helperNode = (id: string): FlowNode => ({ id, type: 'helper', z: 'f1' });
const httpOut = (id: string, path: string): FlowNode => ({ id, type: 'mjpeg http out', z: 'f1', camera: 'cam', path, maxFps: 0, maxViewers: 10 });

before(async () => {
  await helper.startServer();
  server = await startHttpNodeServer();
  NODES = [cameraNode, mjpegInNode, server.wrap(httpOutNode)];
});
afterEach(async () => {
  await helper.unload();
  if (demo) await demo.close();
  demo = null;
});
after(async () => {
  await server?.close();
  await helper.stopServer();
});

test('the only user, a started rtsp-mjpeg in, removed by a "modified nodes" deploy: TEARDOWN after linger', async () => {
  demo = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 15 });
  const d = demo;
  await helper.load(NODES, [tab, cam(d.url), mjpegIn('in1', ['h1']), helperNode('h1')]);
  await collect('h1', 2);
  assert.equal(d.stats.setups, 1);
  await helper.setFlows([tab, cam(d.url), helperNode('h1')], 'nodes');
  await until(() => d.stats.teardowns === 1, 'TEARDOWN once the last user was deleted and linger passed', RELEASE_WITHIN_MS);
  assert.equal(d.stats.connections, 1, 'no new connection after the TEARDOWN');
});

test('a started rtsp-mjpeg in removed while an mjpeg http out without viewers stays: TEARDOWN after linger', async () => {
  demo = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 15 });
  const d = demo;
  await helper.load(NODES, [tab, cam(d.url), mjpegIn('in1', ['h1']), helperNode('h1'), httpOut('o1', '/release')]);
  await collect('h1', 2);
  await helper.setFlows([tab, cam(d.url), helperNode('h1'), httpOut('o1', '/release')], 'nodes');
  await until(() => d.stats.teardowns === 1, 'TEARDOWN once no remaining user wants frames and linger passed', RELEASE_WITHIN_MS);
  assert.equal(d.stats.connections, 1, 'no new connection after the TEARDOWN');
});
