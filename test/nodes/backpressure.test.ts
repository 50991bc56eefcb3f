/**
 * "Drop rather than queue": a flow that is slower than the camera gets the newest frame,
 * never a growing backlog. The demo camera runs in a child process so that it keeps sending
 * while this process is busy (in-process, its timers would stall together with the flow).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { NodeMessage } from 'node-red';
import { helper, until, type FlowNode } from '../support/node-red-helper';
import cameraNode from '../../src/nodes/rtsp-camera';
import mjpegInNode from '../../src/nodes/rtsp-mjpeg-in';
import type { RtspCameraNode } from '../../src/nodes/lib/camera-contract';

const root = join(__dirname, '..', '..');
let child: ChildProcess | null = null;

function startDemoInChild(): Promise<string> {
  const code = "require('./src/sim/demo-camera').startDemoCamera({ port: 0, fps: 30, width: 320, height: 240 }).then((c) => console.log(c.url));";
  const c = spawn(process.execPath, ['--import', 'tsx', '-e', code], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  child = c;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('demo camera child did not start')), 15000);
    c.stdout?.on('data', (d: Buffer) => {
      const m = /rtsp:\/\/\S+/.exec(d.toString());
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    c.on('exit', () => reject(new Error('demo camera child exited')));
  });
}

after(async () => {
  await helper.unload().catch(() => undefined);
  await helper.stopServer();
  if (child && child.exitCode === null) child.kill('SIGTERM');
});

test('a slow flow gets the newest frames; the rest are dropped and counted, not queued', async () => {
  const url = await startDemoInChild();
  await helper.startServer();
  const flow: FlowNode[] = [
    { id: 'f1', type: 'tab' },
    { id: 'cam', type: 'rtsp-camera', name: 'demo', url, transport: 'tcp' },
    { id: 'in1', type: 'rtsp-mjpeg in', z: 'f1', camera: 'cam', maxFps: 0, mode: 'stream', wires: [['h1']] },
    { id: 'h1', type: 'helper', z: 'f1' },
  ];
  await helper.load([cameraNode, mjpegInNode], flow);
  const got: NodeMessage[] = [];
  helper.getNode('h1').on('input', (m: NodeMessage) => {
    got.push(m);
    // a flow that needs 200 ms per frame of a 30 fps camera
    const end = Date.now() + 200;
    while (Date.now() < end) { /* busy */ }
  });
  await until(() => got.length >= 8, '8 frames through the slow flow', 15000);
  const in1 = helper.getNode('in1') as unknown as { framesDroppedDownstream: number };
  const stats = (helper.getNode('cam') as unknown as RtspCameraNode).stats();
  assert.ok(in1.framesDroppedDownstream > 0, 'frames were dropped');
  assert.equal(stats.framesDroppedDownstream, in1.framesDroppedDownstream);
  assert.ok(stats.framesDropped >= stats.framesDroppedDownstream);
  // each delivered frame is newer than the previous one by more than one frame on average
  const idx = got.map((m) => (m.frame as { index: number }).index);
  assert.ok(idx.every((v, i) => i === 0 || v > (idx[i - 1] as number)));
  assert.ok((idx[idx.length - 1] as number) - (idx[0] as number) > 2 * (idx.length - 1), `indexes ${idx.join(',')}`);
});
