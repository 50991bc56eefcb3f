/**
 * The "ESP32-CAM stream to live view and MQTT" example as shipped, run against what it tells
 * users to start when they have no board: the demo camera's HTTP side (the camera URL's port
 * moved to a free one). The live view serves decodable frames; the MQTT outputs get JPEGs
 * and statistics with transport http-mjpeg (the mqtt out nodes stand replaced by helpers:
 * the broker is the e2e suite's business).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { helper, collect, type FlowNode } from '../support/node-red-helper';
import { startHttpNodeServer, type HttpNodeServer } from '../support/http-node';
import { openMjpeg, waitUntil, type MjpegClient } from '../support/mjpeg-client';
import { decodeJpeg } from '../support/djpeg';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import cameraNode from '../../src/nodes/rtsp-camera';
import mjpegInNode from '../../src/nodes/rtsp-mjpeg-in';
import rtcpStatsNode from '../../src/nodes/rtcp-stats';
import httpOutNode from '../../src/nodes/mjpeg-http-out';

const EXAMPLE = join(__dirname, '..', '..', 'examples', '08 ESP32-CAM stream to live view and MQTT.json');

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

test('example "ESP32-CAM stream…": live view and both MQTT outputs, against `demo-camera --http-port`', async () => {
  const d = await startDemoCamera({ port: 0, httpPort: 0, width: 320, height: 240, fps: 15 });
  demo = d;
  const h = http as HttpNodeServer;
  const flow = (JSON.parse(readFileSync(EXAMPLE, 'utf8')) as FlowNode[]).filter((n) => n.type !== 'comment' && n.type !== 'mqtt-broker');
  const camera = flow.find((n) => n.type === 'rtsp-camera')!;
  assert.equal(camera.url, 'http://127.0.0.1:8081/stream', 'the URL `demo-camera --http-port 8081` serves');
  camera.url = `${d.httpUrl}/stream`;
  for (const n of flow) {
    if (n.type === 'rtsp-camera') continue;
    n.z = 'f1';
    if (n.type === 'mqtt out') { n.type = 'helper'; n.name = String(n.topic); }
  }
  const [jpegOut, statsOut] = ['camera/esp32/jpeg', 'camera/esp32/stats'].map((t) => flow.find((n) => n.name === t)!.id);
  await helper.load([cameraNode, mjpegInNode, rtcpStatsNode, h.wrap(httpOutNode)], [{ id: 'f1', type: 'tab' }, ...flow]);
  const view = flow.find((n) => n.type === 'mjpeg http out')!;
  const c = await openMjpeg(`${h.base}${String(view.path)}`, { keep: 3 });
  client = c;
  assert.ok(await waitUntil(() => c.count >= 3, 8000), `live view: ${c.count} frames`);
  for (const j of c.kept) assert.ok(decodeJpeg(j).ok);
  const [m] = await collect(jpegOut!, 1, 8000);
  assert.ok(decodeJpeg(m!.payload as Buffer).ok);
  const [s] = await collect(statsOut!, 1, 15000);
  const p = s!.payload as { transport: string; packetsLost: unknown; framesEmitted: number };
  assert.deepEqual([p.transport, p.packetsLost], ['http-mjpeg', null]);
  assert.ok(p.framesEmitted > 0);
});
