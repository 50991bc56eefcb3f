/**
 * `mjpeg motion` in a Node-RED 4 runtime (node-red-node-test-helper): the scripted scene fed
 * as JPEG messages faster than real time (frame times in msg.frame.receivedAt) gives one
 * start and one end per walk; the demo camera with the scene, used directly, gives an event
 * with the JPEG that triggered it; the rate skips frames; a progressive JPEG is reported once;
 * a payload that is not a JPEG is reported once; the motion ends when frames stop; the
 * editor's snapshot endpoint serves the latest frame.
 */
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, NodeMessage } from 'node-red';
import { helper, until, type FlowNode } from '../support/node-red-helper';
import cameraNode from '../../src/nodes/rtsp-camera';
import motionNode from '../../src/nodes/mjpeg-motion';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { WALKS, SCENE_PERIOD_SEC } from '../../src/sim/scene';
import { SceneFrames, TEXT_BAND } from '../support/scene-frames';
import { decodeJpeg } from '../support/djpeg';

const tab: FlowNode = { id: 'f1', type: 'tab' };
const motion = (extra: Record<string, unknown> = {}): FlowNode => ({
  id: 'm1', type: 'mjpeg motion', z: 'f1', camera: '', rate: 5, threshold: 12, minArea: 0.005, mask: [TEXT_BAND], gap: 2, perFrame: false,
  wires: [['events'], ['frames']], ...extra,
});
const helperNode = (id: string): FlowNode => ({ id, type: 'helper', z: 'f1' });

let demo: DemoCamera | null = null;
before(async () => {
  await helper.startServer();
});
afterEach(async () => {
  await helper.unload();
  await demo?.close();
  demo = null;
});
after(async () => {
  await helper.stopServer();
});

function received(id: string): NodeMessage[] {
  const got: NodeMessage[] = [];
  helper.getNode(id).on('input', (m: NodeMessage) => got.push(m));
  return got;
}
function callsOf(n: Node, method: 'status' | 'error'): unknown[][] {
  const spy = (n as unknown as Record<string, { getCalls(): { thisValue: unknown; args: unknown[] }[] }>)[method];
  return (spy?.getCalls() ?? []).filter((c) => c.thisValue === n).map((c) => c.args);
}
const statusTexts = (n: Node): string[] => callsOf(n, 'status').map((a) => String((a[0] as { text?: string } | undefined)?.text ?? ''));
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('mjpeg motion', () => {
  test('the scene as messages, faster than real time: one start and one end per walk, with image and event', async () => {
    await helper.load(motionNode, [tab, motion({ perFrame: true }), helperNode('events'), helperNode('frames')]);
    const events = received('events');
    const frames = received('frames');
    const m = helper.getNode('m1');
    const src = new SceneFrames(320, 240);
    const t0 = 1_700_000_000_000;
    // 15 fps in, 5 analyses a second
    for (let i = 0; i < SCENE_PERIOD_SEC * 15; i++) {
      const t = t0 + (i * 1000) / 15;
      m.receive({ payload: src.at(t - t0), topic: 'front door', frame: { receivedAt: t } } as NodeMessage);
      if (i % 10 === 0) await tick();
    }
    await until(() => events.length >= 4, 'two walks: start and end each');
    assert.equal(events.length, 4, JSON.stringify(events.map((e) => e.payload)));
    const kinds = events.map((e) => (e.payload as { motion: boolean }).motion);
    assert.deepEqual(kinds, [true, false, true, false]);
    events.forEach((e, i) => {
      const p = e.payload as Record<string, unknown>;
      assert.deepEqual(Object.keys(p).sort(), ['area', 'boxes', 'motion', 'score']);
      assert.equal(e.topic, 'front door');
      const img = (e as { image?: Buffer }).image;
      assert.ok(Buffer.isBuffer(img) && img[0] === 0xff && img[1] === 0xd8);
      const ev = (e as { event?: { start: number; end: number | null } }).event!;
      const walk = WALKS[i >> 1]!;
      if (i % 2 === 0) {
        assert.ok((p.area as number) >= 0.005);
        assert.ok((p.boxes as unknown[]).length >= 1);
        assert.ok(ev.start - t0 >= walk.start * 1000 && ev.start - t0 <= walk.start * 1000 + 600, `start at ${ev.start - t0}`);
        assert.equal(ev.end, null);
      } else {
        assert.ok(ev.end! - t0 >= walk.end * 1000 && ev.end! - t0 <= walk.end * 1000 + 2600, `end at ${ev.end! - t0}`);
      }
    });
    // every analysed frame on output 2: a third of the frames, at 5 a second
    await until(() => frames.length >= SCENE_PERIOD_SEC * 5 - 2, 'per-frame messages delivered');
    assert.ok(Math.abs(frames.length - SCENE_PERIOD_SEC * 5) <= 2, `${frames.length} per-frame messages`);
    const counts = (m as unknown as { counts: { analysed: number; skipped: number } }).counts;
    assert.equal(counts.analysed + counts.skipped, SCENE_PERIOD_SEC * 15);
    assert.ok(statusTexts(m).some((s) => /^motion · \d+ % · \d+ box(es)?$/.test(s)), statusTexts(m).join(' | '));
    assert.ok(statusTexts(m).includes('still'));
  });

  test('a camera used directly: the demo camera\'s scene gives an event whose image decodes', async () => {
    // start 5 s into the script: the first walk begins 3 s after the camera starts
    const d = await startDemoCamera({ port: 0, width: 320, height: 240, fps: 10, scene: { offsetSec: 5 } });
    demo = d;
    await helper.load([cameraNode, motionNode], [tab, { id: 'cam', type: 'rtsp-camera', name: 'demo', url: d.url, transport: 'tcp' }, motion({ camera: 'cam', gap: 1 }), helperNode('events'), helperNode('frames')]);
    const events = received('events');
    await until(() => events.length >= 2, 'start and end of the first walk', 20000);
    const [start, end] = events;
    assert.equal((start!.payload as { motion: boolean }).motion, true);
    assert.equal((end!.payload as { motion: boolean }).motion, false);
    assert.equal(start!.topic, 'demo');
    const r = decodeJpeg((start as { image?: Buffer }).image!);
    assert.ok(r.ok && r.width === 320, r.error);
    const ev = (end as { event?: { duration: number } }).event!;
    assert.ok(ev.duration >= 4000 && ev.duration <= 8000, `the walk lasted ${ev.duration} ms`);
  });

  test('a progressive JPEG is reported once, not per frame; a payload that is not a JPEG once', async () => {
    await helper.load(motionNode, [tab, motion({ rate: 0 }), helperNode('events'), helperNode('frames')]);
    const m = helper.getNode('m1');
    const progressive = readFileSync(join(__dirname, '..', 'fixtures', 'jpeg', 'progressive.jpg'));
    for (let i = 0; i < 5; i++) m.receive({ payload: progressive });
    await until(() => statusTexts(m).includes('progressive JPEG not supported'), 'status says why');
    assert.equal(callsOf(m, 'error').length, 1, 'one error for five frames');
    assert.match(String(callsOf(m, 'error')[0]![0]), /progressive/);
    for (let i = 0; i < 5; i++) m.receive({ payload: 'hello' });
    await until(() => callsOf(m, 'error').length === 2, 'the bad payload reported');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(callsOf(m, 'error').length, 2);
  });

  test('when frames stop during motion, the motion ends gap seconds later (with the last frame)', async () => {
    await helper.load(motionNode, [tab, motion({ rate: 0, gap: 0.5 }), helperNode('events'), helperNode('frames')]);
    const events = received('events');
    const m = helper.getNode('m1');
    const src = new SceneFrames(320, 240);
    const t0 = Date.now() - 12_000;
    // learn on the empty scene, then the walk begins (8 s into the script)
    for (let s = 0; s <= 9.5; s += 0.25) m.receive({ payload: src.at(s * 1000), frame: { receivedAt: t0 + s * 1000 } } as NodeMessage);
    await until(() => events.length === 1, 'motion started');
    const before = Date.now();
    await until(() => events.length === 2, 'motion ended without more frames', 5000);
    assert.ok(Date.now() - before < 3000);
    assert.equal((events[1]!.payload as { motion: boolean }).motion, false);
    assert.ok(Buffer.isBuffer((events[1] as { image?: Buffer }).image));
  });

  test('the editor\'s snapshot endpoint serves the node\'s latest frame, 404 before one', async () => {
    await helper.load(motionNode, [tab, motion(), helperNode('events'), helperNode('frames')]);
    await helper.request().get('/mjpeg-motion/snapshot/m1').expect(404);
    const jpeg = new SceneFrames(160, 120).at(0);
    helper.getNode('m1').receive({ payload: jpeg });
    await until(() => (helper.getNode('m1') as unknown as { latestJpeg: Buffer | null }).latestJpeg !== null, 'frame taken');
    const res = await helper.request().get('/mjpeg-motion/snapshot/m1').buffer(true).parse((r, cb) => {
      const parts: Buffer[] = [];
      r.on('data', (c: Buffer) => parts.push(c));
      r.on('end', () => cb(null, Buffer.concat(parts)));
    }).expect(200);
    assert.equal(res.headers['content-type'], 'image/jpeg');
    assert.ok((res.body as Buffer).equals(jpeg));
  });
});
