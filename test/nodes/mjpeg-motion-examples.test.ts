/**
 * The examples "09 Motion to clip to MQTT" and "10 Dashboard 2 motion events and clips", as
 * shipped, imported together (as a user would: one shared camera), against the demo camera
 * playing its scripted scene. The MQTT outputs and the dashboard widgets are replaced by
 * helper nodes with the same ids, so what they would publish or show is what the test reads:
 * the motion event as JSON and its snapshot, the clip message, the event list with its
 * thumbnail, the clip list, and a clip replayed to a browser through `mjpeg http out`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeAPI, NodeMessage } from 'node-red';
import { helper, until, type FlowNode } from '../support/node-red-helper';
import { startHttpNodeServer, type HttpNodeServer } from '../support/http-node';
import { openMjpeg, waitUntil, type MjpegClient } from '../support/mjpeg-client';
import { decodeJpeg } from '../support/djpeg';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { readAviFrames } from '../../src/record/avi-reader';
import cameraNode from '../../src/nodes/rtsp-camera';
import motionNode from '../../src/nodes/mjpeg-motion';
import recordNode from '../../src/nodes/mjpeg-record';
import httpOutNode from '../../src/nodes/mjpeg-http-out';

/* eslint-disable @typescript-eslint/no-require-imports */
const core = (p: string): ((RED: NodeAPI) => void) => require(`@node-red/nodes/core/${p}`) as (RED: NodeAPI) => void;
const CORE = [core('function/10-function.js'), core('function/10-switch.js'), core('function/15-change.js'), core('common/20-inject.js')];
/* eslint-enable @typescript-eslint/no-require-imports */
const EXAMPLES = join(__dirname, '..', '..', 'examples');

let http: HttpNodeServer | null = null;
let demo: DemoCamera | null = null;
const clients: MjpegClient[] = [];
const userDir = mkdtempSync(join(tmpdir(), 'rtsp-mjpeg-examples-'));
before(async () => {
  (helper as unknown as { settings(s: Record<string, unknown>): void }).settings({ userDir });
  await helper.startServer();
  http = await startHttpNodeServer();
});
after(async () => {
  for (const c of clients) c.close();
  await helper.unload();
  await http?.close();
  await helper.stopServer();
  (helper as unknown as { settings(s: Record<string, unknown>): void }).settings({});
  await demo?.close();
  rmSync(userDir, { recursive: true, force: true });
});

function load(file: string): FlowNode[] {
  return JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as FlowNode[];
}

test('examples 09 and 10 against the demo camera\'s scene: MQTT messages, clips, the dashboard\'s lists, a replay in a browser', async () => {
  // 5.5 s into the script: the first walk starts 2.5 s after the camera
  const d = await startDemoCamera({ port: 0, width: 320, height: 240, fps: 10, scene: { offsetSec: 5.5 } });
  demo = d;
  const h = http as HttpNodeServer;
  const flow: FlowNode[] = [{ id: 'f1', type: 'tab' }];
  const replaced = new Set<string>();
  for (const f of ['09 Motion to clip to MQTT.json', '10 Dashboard 2 motion events and clips.json']) {
    for (const n of load(f)) {
      if (flow.some((m) => m.id === n.id)) continue; // the shared camera (and dashboard base)
      if (n.type === 'comment' || n.type === 'mqtt-broker' || ['ui-group', 'ui-page', 'ui-base', 'ui-theme'].includes(n.type)) continue;
      if (n.type === 'rtsp-camera') n.url = d.url;
      if (n.type === 'mqtt out' || n.type === 'ui-template') {
        // what the broker or the page would get
        flow.push({ id: n.id, type: 'helper', z: 'f1', name: String(n.topic ?? n.name) });
        replaced.add(n.id);
        continue;
      }
      if ('x' in n) n.z = 'f1';
      flow.push(n);
    }
  }
  await helper.load([cameraNode, motionNode, recordNode, h.wrap(httpOutNode), ...CORE], flow);
  const byName = (name: string): NodeMessage[] => {
    const node = flow.find((n) => n.type === 'helper' && n.name === name);
    assert.ok(node, `helper ${name}`);
    const got: NodeMessage[] = [];
    helper.getNode(node.id).on('input', (m: NodeMessage) => got.push(m));
    return got;
  };
  const motionJson = byName('camera/demo/motion');
  const snapshot = byName('camera/demo/motion/snapshot');
  const clipJson = byName('camera/demo/clip');
  const events = byName('motion events');
  const clipList = byName('clips');

  const live = await openMjpeg(`${h.base}/motion/live`, { keep: 1 });
  clients.push(live);
  assert.equal(live.status, 200);

  await until(() => motionJson.length >= 1, 'example 09: motion published', 15000);
  const ev = motionJson[0]!.payload as { motion: boolean; area: number; boxes: unknown[]; event: { id: number }; camera: string };
  assert.equal(ev.motion, true);
  assert.ok(ev.area > 0 && ev.boxes.length > 0 && ev.event.id === 1);
  assert.equal(ev.camera, 'demo camera');
  await until(() => snapshot.length === 1, 'example 09: the snapshot of the motion');
  assert.ok(decodeJpeg(snapshot[0]!.payload as Buffer).ok);
  await until(() => events.length >= 1, 'example 10: the event list');
  const rows = events[0]!.payload as { thumb: string; text: string }[];
  assert.match(rows[0]!.thumb, /^data:image\/jpeg;base64,\/9j/);
  assert.match(rows[0]!.text, /^motion · \d+ % of the picture$/);

  // the walk lasts 6 s, then the gap (3 s) and post-roll (5 s): both record nodes write a clip
  await until(() => clipJson.length >= 1, 'example 09: the clip published', 30000);
  const clip = clipJson[0]!.payload as { file: string; frames: number; preRollFrames: number };
  assert.ok(clip.file.startsWith(join(userDir, 'clips', 'demo')), clip.file);
  assert.ok(clip.preRollFrames >= 20, `pre-roll of ${clip.preRollFrames} frames`);
  assert.equal(readAviFrames(readFileSync(clip.file)).frames.length, clip.frames);
  assert.equal((motionJson[motionJson.length - 1]!.payload as { motion: boolean }).motion, false, 'the end of the motion published');
  await until(() => clipList.some((m) => Array.isArray(m.payload) && (m.payload as unknown[]).length >= 1), 'example 10: the clip list after a clip');
  const list = clipList[clipList.length - 1]!.payload as { name: string; bytes: number }[];

  // the page's play button: the template sends { payload: "replay", file } to the record node
  const replay = await openMjpeg(`${h.base}/motion/clip`, { keep: 2 });
  clients.push(replay);
  const recordId = flow.find((n) => n.type === 'mjpeg record' && (n.wires as string[][])[1]!.length > 0)!.id;
  helper.getNode(recordId).receive({ payload: 'replay', file: list[0]!.name });
  assert.ok(await waitUntil(() => replay.count >= 5, 10000), `the browser got ${replay.count} replayed frames`);
  assert.ok(decodeJpeg(replay.kept[0]!).ok);
  assert.ok(live.count > 50, `live view frames: ${live.count}`);
  assert.equal(replaced.size, 6, 'three MQTT outputs and three dashboard widgets stood in for');
});
