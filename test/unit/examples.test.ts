/**
 * The example flows and the `npm start` demo flow describe one and the same demo camera: same
 * config node id and fields, so importing several examples (or one next to the demo flow)
 * gives one camera in the editor and one RTSP session, not one per example. Every camera
 * field is written out, so the editor shows the effective values. An example for an HTTP
 * camera (an ESP32-CAM) has its own camera node, the same wherever it appears.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const FIELDS = ['name', 'url', 'transport', 'connect', 'linger', 'setupAudio', 'reconnectMin', 'reconnectMax', 'stallTimeout', 'udpPortRange', 'maxFrameMB', 'width', 'height', 'onvif'];

test('every example and the demo flow share one rtsp-camera config node', () => {
  const files = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.json')).map((f) => join('examples', f));
  files.push(join('scripts', 'demo', 'flow.json'));
  const cameras: Record<string, unknown>[] = [];
  const others = new Map<string, Record<string, unknown>>();
  for (const f of files) {
    const flow = JSON.parse(readFileSync(join(ROOT, f), 'utf8')) as Record<string, unknown>[];
    const cams = flow.filter((n) => n.type === 'rtsp-camera');
    assert.equal(cams.length, 1, `${f}: one camera`);
    const cam = cams[0]!;
    for (const k of FIELDS) assert.ok(k in cam, `${f}: camera field ${k} written out`);
    // an empty camera is an mjpeg http out fed by its input (no camera of its own)
    for (const n of flow) if (typeof n.camera === 'string' && n.camera !== '') assert.equal(n.camera, cam.id, `${f}: ${String(n.id)} uses the shared camera`);
    if (/^https?:\/\//.test(String(cam.url))) {
      assert.ok('snapshotFps' in cam, `${f}: camera field snapshotFps written out`);
      const seen = others.get(String(cam.id));
      if (seen) assert.deepEqual(cam, seen, `${f}: the HTTP camera ${String(cam.id)} differs between examples`);
      others.set(String(cam.id), cam);
      continue;
    }
    cameras.push(Object.fromEntries(['id', 'type', ...FIELDS].map((k) => [k, cam[k]])));
  }
  for (let i = 1; i < cameras.length; i++) assert.deepEqual(cameras[i], cameras[0], `${files[i]} vs ${files[0]}`);
});

type Node = Record<string, unknown>;
const examples = (): { file: string; flow: Node[] }[] => readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, flow: JSON.parse(readFileSync(join(ROOT, 'examples', f), 'utf8')) as Node[] }));
const comment = (flow: Node[]): string => flow.filter((n) => n.type === 'comment').map((n) => `${String(n.name)}\n${String(n.info)}`).join('\n');

test('the MQTT examples share one broker config node (one id, same fields), as they share the camera', () => {
  const brokers = examples().flatMap(({ file, flow }) => flow.filter((n) => n.type === 'mqtt-broker').map((b) => ({ file, b })));
  assert.ok(brokers.length >= 2, 'two examples use MQTT');
  for (const { file, b } of brokers) {
    assert.deepEqual(b, brokers[0]!.b, `${file}: the broker equals ${brokers[0]!.file}'s`);
  }
  for (const { file, flow } of examples()) {
    for (const n of flow) if (typeof n.broker === 'string' && n.type !== 'mqtt-broker') assert.equal(n.broker, brokers[0]!.b.id, `${file}: ${String(n.id)} uses the shared broker`);
  }
});

test('every example says which import button keeps one camera', () => {
  for (const { file, flow } of examples()) {
    assert.match(comment(flow), /already exist[^]*\*\*Import copy\*\*[^]*one camera and one (?:RTSP session|connection to it)/, `${file}: Import copy explained`);
  }
});

test('examples say what their camera does: no "connects on demand" on a camera that connects always', () => {
  for (const { file, flow } of examples()) {
    const cam = flow.find((n) => n.type === 'rtsp-camera')!;
    const text = comment(flow);
    if (cam.connect !== 'on demand') {
      assert.doesNotMatch(text, /camera connects on demand/i, `${file}: its camera connects ${String(cam.connect)}`);
      // an example about on demand tells how to switch to it
      if (/on demand/i.test(text)) assert.match(text, /set \*\*Connect\*\* to \*on demand\*/, `${file}: how to switch`);
    }
  }
});

test('the Dashboard 2 example says it is there with npm start and how to install it elsewhere', () => {
  const dash = examples().filter(({ flow }) => flow.some((n) => String(n.type).startsWith('ui-')));
  assert.ok(dash.length >= 1);
  for (const { file, flow } of dash) {
    const text = comment(flow);
    assert.match(text, /`npm start` has it already/, `${file}: npm start`);
    assert.match(text, /Manage palette → Install/, `${file}: own Node-RED`);
  }
});

test('the motion examples and the demo flow: the clock band masked, motion wired to a record node, clips in the user directory', () => {
  const files = ['examples/09 Motion to clip to MQTT.json', 'examples/10 Dashboard 2 motion events and clips.json', 'scripts/demo/flow.json'];
  for (const f of files) {
    const flow = JSON.parse(readFileSync(join(ROOT, f), 'utf8')) as Record<string, unknown>[];
    const motion = flow.filter((n) => n.type === 'mjpeg motion');
    const record = flow.filter((n) => n.type === 'mjpeg record');
    assert.equal(motion.length, 1, `${f}: one motion node`);
    assert.equal(record.length, 1, `${f}: one record node`);
    const m = motion[0]!;
    // the demo camera prints its clock in the bottom third, changing every frame
    assert.deepEqual(m.mask, [{ x: 0, y: 0.66, w: 1, h: 0.34 }], `${f}: mask`);
    for (const k of ['camera', 'rate', 'threshold', 'minArea', 'gap', 'perFrame']) assert.ok(k in m, `${f}: motion field ${k} written out`);
    assert.ok((m.wires as string[][])[0]!.includes(String(record[0]!.id)), `${f}: motion triggers the record node`);
    const r = record[0]!;
    for (const k of ['preRoll', 'postRoll', 'maxLength', 'folder', 'maxAgeDays', 'maxSizeMB']) assert.ok(k in r, `${f}: record field ${k} written out`);
    assert.ok(!String(r.folder).startsWith('/'), `${f}: the folder is relative to the user directory`);
  }
});
