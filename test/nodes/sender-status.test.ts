/**
 * Statuses that say what the node itself does: an `rtsp-mjpeg in` thinned to 1 frame/s shows
 * 1.0 fps while its camera sends 15, an on-request one shows "on request", a refused
 * connection says what to check, and an on-demand camera writes a log line when it lets
 * the camera go after its linger.
 */
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { helper, until, type FlowNode } from '../support/node-red-helper';
import cameraNode from '../../src/nodes/rtsp-camera';
import mjpegInNode from '../../src/nodes/rtsp-mjpeg-in';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';

const NODES = [cameraNode, mjpegInNode];
const tab: FlowNode = { id: 'f1', type: 'tab' };

/** status texts node `id` showed (the helper's spy is shared by all nodes: sort by `this`) */
function statusTexts(id: string): string[] {
  const spy = helper.getNode(id).status as unknown as { args: [{ text?: string }][]; thisValues: { id: string }[] };
  return spy.args.filter((_, i) => spy.thisValues[i]?.id === id).map(([s]) => s?.text ?? '');
}
function logLines(id: string): string[] {
  const spy = helper.getNode(id).log as unknown as { args: unknown[][]; thisValues: { id: string }[] };
  return spy.args.filter((_, i) => spy.thisValues[i]?.id === id).map((a) => String(a[0]));
}

let demo: DemoCamera | null = null;

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

test('a throttled node shows the rate it sends, an on-request node says so, a full-rate node the camera\'s', { timeout: 30_000 }, async () => {
  demo = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 15 });
  await helper.load(NODES, [
    tab,
    { id: 'cam', type: 'rtsp-camera', name: 'front door', url: demo.url, transport: 'tcp' },
    { id: 'slow', type: 'rtsp-mjpeg in', z: 'f1', camera: 'cam', maxFps: 1, mode: 'stream', wires: [[]] },
    { id: 'ask', type: 'rtsp-mjpeg in', z: 'f1', camera: 'cam', maxFps: 0, mode: 'request', wires: [[]] },
    { id: 'all', type: 'rtsp-mjpeg in', z: 'f1', camera: 'cam', maxFps: 0, mode: 'stream', wires: [[]] },
  ]);
  const fps = /^(\d+\.\d) fps 160×120$/;
  await until(() => statusTexts('all').filter((s) => fps.test(s)).length >= 2, 'the full-rate node shows the camera\'s fps', 20_000);
  const cameraRate = Number(fps.exec(statusTexts('all').filter((s) => fps.test(s)).at(-1)!)![1]);
  assert.ok(cameraRate > 5, `camera ${cameraRate} fps`);
  const slow = statusTexts('slow').filter((s) => fps.test(s));
  assert.ok(slow.length >= 2, statusTexts('slow').join(' | '));
  assert.deepEqual([...new Set(slow)], ['1.0 fps 160×120'], 'max rate 1: what it sends');
  const ask = statusTexts('ask');
  assert.ok(ask.includes('on request 160×120'), ask.join(' | '));
  assert.ok(ask.every((s) => !/fps/.test(s)), `an on-request node shows no rate: ${ask.join(' | ')}`);
});

test('connection refused comes with advice, like the other failures', { timeout: 30_000 }, async () => {
  // a port that was free a moment ago and has nothing listening on it
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  await helper.load(NODES, [
    tab,
    { id: 'cam', type: 'rtsp-camera', name: 'front door', url: `rtsp://127.0.0.1:${port}/x`, transport: 'tcp', reconnectMin: 0.1, reconnectMax: 0.2 },
    { id: 'in1', type: 'rtsp-mjpeg in', z: 'f1', camera: 'cam', maxFps: 0, mode: 'stream', wires: [[]] },
  ]);
  await until(() => statusTexts('in1').some((s) => s.startsWith('connection refused: ')), 'a connection refused status with advice', 20_000);
  const text = statusTexts('in1').find((s) => s.startsWith('connection refused: '))!;
  assert.match(text, /^connection refused: check the port and that the camera's RTSP service is on, retry in \d+ s$/);
});

test('an on-demand camera logs when it disconnects after its linger, and when it connects again', { timeout: 30_000 }, async () => {
  demo = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 15 });
  await helper.load(NODES, [
    tab,
    { id: 'cam', type: 'rtsp-camera', name: 'front door', url: demo.url, transport: 'tcp', connect: 'on demand', linger: 0.5 }, // at least 1 s is kept
    { id: 'in1', type: 'rtsp-mjpeg in', z: 'f1', camera: 'cam', maxFps: 0, mode: 'stream', wires: [[]] },
  ]);
  await until(() => logLines('cam').some((l) => l.startsWith('connected to ')), 'the connected line', 15_000);
  helper.getNode('in1').receive({ payload: 'stop' });
  await until(() => demo!.stats.activeSessions === 0, 'the session to end after the linger', 15_000);
  await until(() => logLines('cam').some((l) => l.startsWith('disconnected from ')), 'the disconnected line', 5000);
  assert.equal(logLines('cam').find((l) => l.startsWith('disconnected from ')), `disconnected from ${demo.url}: nothing needed frames for 1 s (connect: on demand)`);
  helper.getNode('in1').receive({ payload: 'start' });
  await until(() => logLines('cam').filter((l) => l.startsWith('connected to ')).length === 2, 'connected again', 15_000);
  assert.equal(logLines('cam').filter((l) => l.startsWith('disconnected from ')).length, 1, logLines('cam').join('\n'));
});
