/**
 * The "Annotated stream" example as shipped (only the camera URL pointed at a demo camera on
 * a free port): frames → a function that changes them → `mjpeg http out` with no camera.
 * What a browser gets is the changed frames (they carry the function's JPEG comment) and
 * every one of them decodes with djpeg.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeAPI } from 'node-red';
import { helper, type FlowNode } from '../support/node-red-helper';
import { startHttpNodeServer, type HttpNodeServer } from '../support/http-node';
import { openMjpeg, httpGet, waitUntil, type MjpegClient } from '../support/mjpeg-client';
import { decodeJpeg } from '../support/djpeg';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import cameraNode from '../../src/nodes/rtsp-camera';
import mjpegInNode from '../../src/nodes/rtsp-mjpeg-in';
import httpOutNode from '../../src/nodes/mjpeg-http-out';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const functionNode = require('@node-red/nodes/core/function/10-function.js') as (RED: NodeAPI) => void;
const EXAMPLE = join(__dirname, '..', '..', 'examples', '07 Annotated stream.json');

let http: HttpNodeServer | null = null;
let demo: DemoCamera | null = null;
let client: MjpegClient | null = null;
before(async () => {
  await helper.startServer();
  http = await startHttpNodeServer();
});
after(async () => {
  client?.close();
  await helper.unload();
  await http?.close();
  await helper.stopServer();
  await demo?.close();
});

test('example "Annotated stream": the browser gets the function\'s frames, each decodable', async () => {
  const d = await startDemoCamera({ port: 0, width: 320, height: 240, fps: 15 });
  demo = d;
  const h = http as HttpNodeServer;
  // the comment node is the only one this runtime does not load; it does nothing
  const flow = (JSON.parse(readFileSync(EXAMPLE, 'utf8')) as FlowNode[]).filter((n) => n.type !== 'comment');
  for (const n of flow) {
    if (n.type === 'rtsp-camera') n.url = d.url;
    else n.z = 'f1';
  }
  const out = flow.find((n) => n.type === 'mjpeg http out');
  assert.ok(out && out.camera === '', 'the example serves its input, no camera');
  await helper.load([cameraNode, mjpegInNode, functionNode, h.wrap(httpOutNode)], [{ id: 'f1', type: 'tab' }, ...flow]);
  const c = await openMjpeg(`${h.base}${String(out.path)}`, { keep: 5 });
  client = c;
  assert.equal(c.status, 200);
  assert.ok(await waitUntil(() => c.count >= 5, 8000), `got ${c.count} frames`);
  assert.deepEqual(c.errors, []);
  for (const jpeg of c.kept) {
    assert.ok(jpeg.subarray(0, 200).toString('latin1').includes('seen by Node-RED at'), 'the frame carries the comment the function wrote');
    const r = decodeJpeg(jpeg);
    assert.ok(r.ok && r.width === 320 && r.height === 240, r.error ?? '');
  }
  const snap = await httpGet(`${h.base}${String(out.path)}/snapshot.jpg`);
  assert.equal(snap.status, 200);
  assert.ok(snap.body.subarray(0, 200).toString('latin1').includes('seen by Node-RED at'));
});
