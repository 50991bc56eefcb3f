/**
 * `mjpeg record` in a Node-RED 4 runtime (node-red-node-test-helper): JPEG messages in, a
 * motion message as the trigger, a clip out with the contract's fields whose frames are the
 * ones sent (pre-roll included, in order); "start"/"stop"; the demo camera used directly;
 * "list" and "replay" (the frames come out on output 2 at the recorded timing, and an
 * `mjpeg http out` without a camera serves them to a browser); a clip closed on redeploy is
 * complete; the folder is relative to the user directory; bad input reported once.
 */
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, NodeMessage } from 'node-red';
import { helper, until, type FlowNode } from '../support/node-red-helper';
import cameraNode from '../../src/nodes/rtsp-camera';
import recordNode from '../../src/nodes/mjpeg-record';
import httpOutNode from '../../src/nodes/mjpeg-http-out';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { readAviFrames } from '../../src/record/avi-reader';
import { SceneFrames } from '../support/scene-frames';
import { startHttpNodeServer, type HttpNodeServer } from '../support/http-node';
import { openMjpeg, waitUntil } from '../support/mjpeg-client';
import { decodeJpeg } from '../support/djpeg';

const root = mkdtempSync(join(tmpdir(), 'rtsp-mjpeg-record-node-'));
let n = 0;
const folder = (): string => join(root, `c${++n}`);
const tab: FlowNode = { id: 'f1', type: 'tab' };
const record = (dir: string, extra: Record<string, unknown> = {}): FlowNode => ({
  id: 'r1', type: 'mjpeg record', z: 'f1', camera: '', preRoll: 1, postRoll: 0.5, maxLength: 30, folder: dir, maxAgeDays: 0, maxSizeMB: 0,
  wires: [['clips'], ['replayed']], ...extra,
});
const helperNode = (id: string): FlowNode => ({ id, type: 'helper', z: 'f1' });

let demo: DemoCamera | null = null;
let http: HttpNodeServer | null = null;
before(async () => {
  await helper.startServer();
  http = await startHttpNodeServer();
});
afterEach(async () => {
  await helper.unload();
  await demo?.close();
  demo = null;
});
after(async () => {
  await http?.close();
  await helper.stopServer();
  rmSync(root, { recursive: true, force: true });
});

function received(id: string): NodeMessage[] {
  const got: NodeMessage[] = [];
  helper.getNode(id).on('input', (m: NodeMessage) => got.push(m));
  return got;
}
function callsOf(nd: Node, method: 'status' | 'error'): unknown[][] {
  const spy = (nd as unknown as Record<string, { getCalls(): { thisValue: unknown; args: unknown[] }[] }>)[method];
  return (spy?.getCalls() ?? []).filter((c) => c.thisValue === nd).map((c) => c.args);
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** sends scene frames at 20 fps in real time for `ms`, numbered by their JPEG comment-free bytes */
async function stream(r: Node, src: SceneFrames, ms: number, sent: Buffer[], sentAt: number[] = []): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const jpeg = src.at(Date.now());
    sent.push(jpeg);
    sentAt.push(Date.now());
    r.receive({ payload: jpeg, topic: 'front' });
    await sleep(50);
  }
}

interface ClipPayload { file: string; start: number; end: number; frames: number; bytes: number; preRollFrames: number }

describe('mjpeg record', () => {
  test('frames + a motion trigger: one clip with the contract\'s fields, holding the frames sent, pre-roll first', async () => {
    const dir = folder();
    await helper.load(recordNode, [tab, record(dir), helperNode('clips'), helperNode('replayed')]);
    const clips = received('clips');
    const r = helper.getNode('r1');
    const src = new SceneFrames(160, 120);
    const sent: Buffer[] = [];
    const sentAt: number[] = [];
    await stream(r, src, 1500, sent, sentAt);
    const triggerIndex = sent.length;
    const triggerAt = Date.now();
    // the pre-roll is 1 s of frames: about 20 at 20 fps, fewer when a busy machine sends slower
    const inLastSecond = sentAt.filter((t) => t > triggerAt - 1000).length;
    r.receive({ payload: { motion: true, score: 50, area: 0.1, boxes: [] } });
    await stream(r, src, 1000, sent);
    r.receive({ payload: { motion: false, score: 0, area: 0, boxes: [] } });
    await stream(r, src, 1200, sent);
    await until(() => clips.length === 1, 'clip message', 8000);
    const c = clips[0]!.payload as ClipPayload;
    assert.deepEqual(Object.keys(c).sort(), ['bytes', 'end', 'file', 'frames', 'preRollFrames', 'start']);
    assert.equal(clips[0]!.topic, 'front');
    assert.ok(c.file.startsWith(dir) && c.file.endsWith('.avi'));
    assert.equal(c.bytes, statSync(c.file).size);
    assert.ok(Math.abs(c.preRollFrames - inLastSecond) <= 2, `pre-roll ${c.preRollFrames} frames; ${inLastSecond} were sent in the last second before the trigger`);
    const got = readAviFrames(readFileSync(c.file)).frames.map((f) => f.jpeg);
    assert.equal(got.length, c.frames);
    // the clip is a run of consecutive frames sent, in order, none twice
    const first = sent.findIndex((s) => s.equals(got[0]!));
    assert.ok(first >= 0);
    got.forEach((g, i) => assert.ok(g.equals(sent[first + i]!), `frame ${i} of the clip is frame ${first + i} sent`));
    assert.equal(triggerIndex - first, c.preRollFrames);
    assert.ok(c.end - c.start >= 1400 && c.end - c.start <= 2800, `clip of ${c.end - c.start} ms`);
  });

  test('"start" and "stop", a clip closed by a redeploy is complete, the folder is relative to the user directory', async () => {
    const rel = `clips-${Date.now()}`;
    const userDir = folder();
    const settings = (helper as unknown as { settings(s: Record<string, unknown>): void }).settings.bind(helper);
    settings({ userDir });
    try {
      await helper.load(recordNode, [tab, record(rel, { preRoll: 0 }), helperNode('clips'), helperNode('replayed')]);
    } finally {
      settings({});
    }
    const r = helper.getNode('r1') as Node & { clipFolder: string };
    assert.equal(r.clipFolder, join(userDir, rel));
    const src = new SceneFrames(160, 120);
    r.receive({ payload: 'start' });
    await stream(r, src, 600, []);
    await helper.unload();
    const files = readdirSync(r.clipFolder);
    assert.equal(files.length, 1);
    const b = readFileSync(join(r.clipFolder, files[0]!));
    assert.equal(b.readUInt32LE(44), 0x10, 'closed with its index');
    assert.ok(readAviFrames(b).frames.length >= 8);
  });

  test('the demo camera used directly; "list"; "replay" sends the frames at their timing to a camera-less mjpeg http out', async () => {
    const d = await startDemoCamera({ port: 0, width: 320, height: 240, fps: 10 });
    demo = d;
    const dir = folder();
    const h = http as HttpNodeServer;
    await helper.load([cameraNode, recordNode, h.wrap(httpOutNode)], [
      tab, { id: 'cam', type: 'rtsp-camera', name: 'demo', url: d.url, transport: 'tcp' },
      record(dir, { camera: 'cam', preRoll: 1, postRoll: 0.2 }),
      { id: 'clips', type: 'helper', z: 'f1' },
      { id: 'replayed', type: 'helper', z: 'f1', wires: [['out']] },
      { id: 'out', type: 'mjpeg http out', z: 'f1', camera: '', path: '/clips/replay', maxFps: 0, maxViewers: 5 },
    ]);
    // the replayed frames also go to the http out: wire the helper's input through
    const out = helper.getNode('out');
    helper.getNode('replayed').on('input', (m: NodeMessage) => { if (Buffer.isBuffer(m.payload)) out.receive({ payload: m.payload }); });
    const clips = received('clips');
    const replayed = received('replayed');
    const r = helper.getNode('r1');
    await until(() => (r as unknown as { recorder: { bufferedFrames: number } }).recorder.bufferedFrames >= 8, 'pre-roll filled', 10000);
    r.receive({ payload: 'start' });
    await sleep(1000);
    r.receive({ payload: 'stop' });
    await until(() => clips.length === 1, 'clip', 8000);
    const c = clips[0]!.payload as ClipPayload;
    assert.ok(c.frames >= 15 && c.frames <= 25, `${c.frames} frames in about 2.2 s at 10 fps`);
    r.receive({ payload: 'list' });
    await until(() => clips.length === 2, 'list');
    assert.equal(clips[1]!.topic, 'clips');
    assert.deepEqual((clips[1]!.payload as { file: string }[]).map((x) => x.file), [c.file]);
    const viewer = await openMjpeg(`${h.base}/clips/replay`, { keep: 3 });
    try {
      const t0 = Date.now();
      r.receive({ payload: 'replay', file: c.file.slice(dir.length + 1) });
      await until(() => replayed.some((m) => m.topic === 'replay end'), 'replay over', 10000);
      const took = Date.now() - t0;
      const frames = replayed.filter((m) => Buffer.isBuffer(m.payload));
      assert.equal(frames.length, c.frames);
      assert.ok(took >= (c.end - c.start) * 0.8, `replayed in ${took} ms, recorded over ${c.end - c.start} ms`);
      assert.ok(await waitUntil(() => viewer.count >= 3, 3000), `the browser got ${viewer.count} frames`);
      const dec = decodeJpeg(viewer.kept[0]!);
      assert.ok(dec.ok && dec.width === 320, dec.error);
    } finally {
      viewer.close();
    }
    r.receive({ payload: 'replay', file: '../../etc/passwd' });
    await until(() => callsOf(r, 'error').length >= 1, 'refused');
    assert.match(String(callsOf(r, 'error')[0]![0]), /must name a clip/);
  });

  test('a payload that is none of the inputs is reported once', async () => {
    await helper.load(recordNode, [tab, record(folder()), helperNode('clips'), helperNode('replayed')]);
    const r = helper.getNode('r1');
    for (let i = 0; i < 4; i++) r.receive({ payload: 42 });
    await until(() => callsOf(r, 'error').length === 1, 'reported');
    await sleep(100);
    assert.equal(callsOf(r, 'error').length, 1);
  });
});
