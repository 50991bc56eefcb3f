/**
 * Two promises of `mjpeg http out` that a browser or script relies on:
 * - a 503 says when to come back in whole seconds (RFC 9110 §10.2.3 delta-seconds), a few of
 *   them: a client that honours a value in milliseconds would wait for hours;
 * - a snapshot is never a frame from before the camera stopped: once the camera has left
 *   'playing' (its server killed, or an on-demand camera stopped after its linger), a GET of
 *   snapshot.jpg answers 503, or a frame that arrived after that moment.
 */
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, NodeAPI } from 'node-red';
import { helper, collect, until, type FlowNode } from '../support/node-red-helper';
import cameraNode from '../../src/nodes/rtsp-camera';
import mjpegInNode from '../../src/nodes/rtsp-mjpeg-in';
import httpOutNode from '../../src/nodes/mjpeg-http-out';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { openMjpeg, httpGet, waitUntil, type MjpegClient } from '../support/mjpeg-client';
import { startHttpNodeServer, type HttpNodeServer } from '../support/http-node';

/** how long a snapshot waits for a frame before its 503: short, so a 503 comes fast */
const SNAPSHOT_TIMEOUT_MS = 700;

let server: HttpNodeServer | null = null;
let NODES: ((RED: NodeAPI) => void)[] = [];
let base = '';
let demo: DemoCamera | null = null;
const clients: MjpegClient[] = [];

const tab: FlowNode = { id: 'f1', type: 'tab' };
const cam = (url: string, extra: Record<string, unknown> = {}): FlowNode => ({ id: 'cam', type: 'rtsp-camera', name: 'demo', url, transport: 'tcp', reconnectMin: 0.2, reconnectMax: 1, ...extra });
const out = (id: string, path: string, extra: Record<string, unknown> = {}): FlowNode =>
  ({ id, type: 'mjpeg http out', z: 'f1', camera: 'cam', path, maxFps: 0, maxViewers: 10, ...extra });

function lastStatus(n: Node): { fill?: string; text?: string } {
  const spy = (n as unknown as Record<string, { getCalls(): { thisValue: unknown; args: unknown[] }[] }>)['status'];
  const calls = (spy?.getCalls() ?? []).filter((c) => c.thisValue === n);
  return (calls.at(-1)?.args[0] ?? {}) as { fill?: string; text?: string };
}

/** a 503's Retry-After: delta-seconds, 1 to 60 of them */
function assertRetryAfterSeconds(h: string | string[] | undefined, what: string): void {
  assert.equal(typeof h, 'string', `${what}: Retry-After present`);
  assert.match(h as string, /^\d+$/, `${what}: Retry-After is delta-seconds`);
  const s = Number(h);
  assert.ok(s >= 1 && s <= 60, `${what}: Retry-After ${s} s (seconds, not milliseconds)`);
}

before(async () => {
  helper.settings({ mjpegHttpOutSnapshotTimeout: SNAPSHOT_TIMEOUT_MS } as Parameters<typeof helper.settings>[0]);
  await helper.startServer();
  server = await startHttpNodeServer();
  base = server.base;
  NODES = [cameraNode, mjpegInNode, server.wrap(httpOutNode)];
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
  helper.settings({});
});

test('503 past maxViewers and 503 for a snapshot without a frame: Retry-After in seconds, a few of them', async () => {
  // the camera-less mode: no camera, frames only from the input, none sent
  await helper.load(NODES, [tab, out('o1', '/busy', { camera: '', maxViewers: 1 })]);
  const first = await openMjpeg(`${base}/busy`);
  clients.push(first);
  assert.equal(first.status, 200);
  const busy = await httpGet(`${base}/busy`);
  assert.equal(busy.status, 503);
  assertRetryAfterSeconds(busy.headers['retry-after'], 'past maxViewers');
  const noFrame = await httpGet(`${base}/busy/snapshot.jpg`);
  assert.equal(noFrame.status, 503);
  assertRetryAfterSeconds(noFrame.headers['retry-after'], 'snapshot without a frame');
});

test('camera server killed while playing: snapshot.jpg answers 503, never the frame from before', async () => {
  demo = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 15 });
  await helper.load(NODES, [tab, cam(demo.url), out('o1', '/killed')]);
  const o1 = helper.getNode('o1');
  // the snapshot works while the camera plays
  let snap = await httpGet(`${base}/killed/snapshot.jpg`);
  assert.equal(snap.status, 200, 'a snapshot while playing');
  await demo.close();
  demo = null;
  await until(() => { const s = lastStatus(o1); return s.fill !== undefined && s.fill !== 'green'; }, 'the node shows the camera is not playing', 8000);
  snap = await httpGet(`${base}/killed/snapshot.jpg`);
  assert.equal(snap.status, 503, `after the camera died: ${snap.status} with ${snap.body.length} bytes (a stale frame?)`);
});

test('on-demand camera stopped (its only stream user stopped, linger over): snapshot.jpg is 503 or a newer frame', async () => {
  demo = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 15 });
  const d = demo;
  await helper.load(NODES, [tab, cam(d.url, { connect: 'on demand', linger: 0.2 }), out('o1', '/stopped'),
    { id: 'in1', type: 'rtsp-mjpeg in', z: 'f1', camera: 'cam', maxFps: 0, mode: 'stream', wires: [['h1']] },
    { id: 'h1', type: 'helper', z: 'f1' }]);
  // frames reach the http out node too (it is a user of the same camera) without a viewer
  await collect('h1', 3);
  assert.equal((await httpGet(`${base}/stopped/snapshot.jpg`)).status, 200, 'a snapshot while playing');
  helper.getNode('in1').receive({ payload: 'stop' });
  await until(() => d.stats.teardowns === 1, 'TEARDOWN after stop and linger', 5000);
  // no newer frame can exist: the camera is gone too
  await d.close();
  demo = null;
  const snap = await httpGet(`${base}/stopped/snapshot.jpg`);
  assert.equal(snap.status, 503, `after the camera stopped: ${snap.status} with ${snap.body.length} bytes (a stale frame?)`);
});

test('the same with a viewer watching when the camera server dies: the viewer keeps its connection, snapshots are 503', async () => {
  demo = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 15 });
  await helper.load(NODES, [tab, cam(demo.url), out('o1', '/watched')]);
  const o1 = helper.getNode('o1');
  const v = await openMjpeg(`${base}/watched`);
  clients.push(v);
  assert.ok(await waitUntil(() => v.count >= 2, 5000), 'the viewer gets frames');
  await demo.close();
  demo = null;
  await until(() => { const s = lastStatus(o1); return s.fill !== undefined && s.fill !== 'green' && !/fps/.test(s.text ?? ''); }, 'the node shows the camera is not playing', 8000);
  const snap = await httpGet(`${base}/watched/snapshot.jpg`);
  assert.equal(snap.status, 503, `after the camera died: ${snap.status} with ${snap.body.length} bytes (a stale frame?)`);
});
