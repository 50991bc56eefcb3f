/**
 * What `npm start` does with the flow in its user directory (scripts/start-flow.mjs): the demo
 * flow goes in on the first run or with RESET_FLOWS=1 only; a kept flow keeps every tab, and
 * RTSP_URL or a demo camera on another port retarget the camera node in place.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Flow = Record<string, unknown>[];
interface Plan { deploy: Flow | null; notes: string[] }
interface Mod {
  planFlow(current: Flow, demo: Flow, o: Record<string, unknown>): Plan;
  splitCredentials(url: string, env?: Record<string, string>): { url: string; username: string; password: string };
  liveViewPaths(flow: Flow): string[];
}

const ROOT = join(__dirname, '..', '..');
const load = (): Promise<Mod> => import(join(ROOT, 'scripts', 'start-flow.mjs')) as Promise<Mod>;
const demo = (): Flow => JSON.parse(readFileSync(join(ROOT, 'scripts', 'demo', 'flow.json'), 'utf8')) as Flow;
const DEMO_8554 = 'rtsp://127.0.0.1:8554/demo';

/** the demo flow as a first `npm start` leaves it, plus a tab of the user's own */
function userFlow(): Flow {
  return [...demo(), { id: 'mine', type: 'tab', label: 'my flow' }, { id: 'm1', type: 'inject', z: 'mine', wires: [['m2']] }, { id: 'm2', type: 'debug', z: 'mine', wires: [] }];
}
const camera = (flow: Flow): Record<string, unknown> => flow.find((n) => n.id === 'demo-cam')!;

test('first run: the demo flow, pointed at the demo camera or at RTSP_URL with its credentials', async () => {
  const { planFlow } = await load();
  const a = planFlow([], demo(), { demoUrl: 'rtsp://127.0.0.1:9000/demo' });
  assert.ok(a.deploy);
  assert.equal(camera(a.deploy).url, 'rtsp://127.0.0.1:9000/demo');
  assert.deepEqual(a.notes, ['demo flow deployed']);
  const b = planFlow([{ id: 't', type: 'tab' }], demo(), { camera: { url: 'rtsp://cam/s', username: 'u', password: 'p' }, transport: 'udp' });
  assert.deepEqual({ ...camera(b.deploy!), x: 0 }, { ...camera(b.deploy!), url: 'rtsp://cam/s', name: 'my camera', transport: 'udp', credentials: { username: 'u', password: 'p' }, x: 0 });
});

test('RTSP_URL with a kept flow keeps every tab and node and retargets the demo camera', async () => {
  const { planFlow } = await load();
  const before = userFlow();
  const p = planFlow(before, demo(), { camera: { url: 'rtsp://10.0.0.9/live', username: 'admin', password: 's3cret' } });
  assert.ok(p.deploy, 'the camera changes');
  assert.deepEqual(p.deploy.map((n) => n.id), before.map((n) => n.id), 'same nodes, same order');
  for (const n of p.deploy) if (n.id !== 'demo-cam') assert.deepEqual(n, before.find((b) => b.id === n.id), `${String(n.id)} untouched`);
  assert.equal(camera(p.deploy).url, 'rtsp://10.0.0.9/live');
  assert.deepEqual(camera(p.deploy).credentials, { username: 'admin', password: 's3cret' });
  const nodes = before.filter((n) => n.type !== 'tab').length;
  assert.match(p.notes.join('\n'), new RegExp(`kept your flow \\(2 tabs, ${nodes} nodes\\); RESET_FLOWS=1`));
  assert.ok(!p.notes.join('\n').includes('s3cret'), 'no password in the notes');
});

test('RTSP_URL: the only camera of a flow without the demo camera; several cameras: a note, no change', async () => {
  const { planFlow } = await load();
  const one: Flow = [{ id: 't', type: 'tab' }, { id: 'c1', type: 'rtsp-camera', name: 'porch', url: 'rtsp://a/1' }];
  assert.equal(planFlow(one, demo(), { camera: { url: 'rtsp://b/2', username: '', password: '' } }).deploy?.[1]?.url, 'rtsp://b/2');
  const two: Flow = [...one, { id: 'c2', type: 'rtsp-camera', url: 'rtsp://a/2' }];
  const p = planFlow(two, demo(), { camera: { url: 'rtsp://b/2', username: '', password: '' } });
  assert.equal(p.deploy, null);
  assert.match(p.notes.join('\n'), /RTSP_URL not applied: the flow has 2 cameras/);
});

test('a demo camera on another port (DEMO_CAMERA_PORT) is followed; an own camera is left alone', async () => {
  const { planFlow } = await load();
  const flow = userFlow();
  camera(flow).url = DEMO_8554;
  const p = planFlow(flow, demo(), { demoUrl: 'rtsp://127.0.0.1:8600/demo' });
  assert.equal(camera(p.deploy!).url, 'rtsp://127.0.0.1:8600/demo');
  assert.equal(planFlow(flow, demo(), { demoUrl: DEMO_8554 }).deploy, null, 'same port: nothing to deploy');
  camera(flow).url = 'rtsp://192.168.1.20/stream1';
  const own = planFlow(flow, demo(), { demoUrl: DEMO_8554 });
  assert.equal(own.deploy, null);
  assert.match(own.notes.join('\n'), /no camera of your flow uses the demo camera/);
});

test('a flow without any camera is kept too (it used to be replaced); RESET_FLOWS=1 replaces it', async () => {
  const { planFlow } = await load();
  const mine: Flow = [{ id: 'mine', type: 'tab' }, { id: 'm1', type: 'inject', z: 'mine', wires: [] }];
  assert.equal(planFlow(mine, demo(), { demoUrl: DEMO_8554 }).deploy, null);
  assert.equal(planFlow(mine, demo(), { camera: { url: 'rtsp://x/y', username: '', password: '' } }).deploy, null);
  const reset = planFlow(mine, demo(), { demoUrl: DEMO_8554, reset: true });
  assert.deepEqual(reset.deploy!.map((n) => n.id), demo().map((n) => n.id));
  assert.match(reset.notes[0]!, /RESET_FLOWS=1: the demo flow replaced the flow \(1 tab, 1 node\)/);
});

test('credentials in the URL move out of it; live view paths', async () => {
  const { splitCredentials, liveViewPaths } = await load();
  assert.deepEqual(splitCredentials('rtsp://ad%40min:p%3Aw@cam:554/s'), { url: 'rtsp://cam:554/s', username: 'ad@min', password: 'p:w' });
  assert.deepEqual(splitCredentials('rtsp://cam/s', { RTSP_USERNAME: 'u', RTSP_PASSWORD: 'p' }), { url: 'rtsp://cam/s', username: 'u', password: 'p' });
  assert.deepEqual(splitCredentials('http://u:p@cam/video.mjpg'), { url: 'http://cam/video.mjpg', username: 'u', password: 'p' });
  assert.deepEqual(liveViewPaths(demo()), ['/camera/demo']);
});

test('the demo camera\'s ONVIF address follows it; a camera from RTSP_URL loses it', async () => {
  const { planFlow } = await load();
  const onvif = (port: number): string => `http://127.0.0.1:${port}/onvif/device_service`;
  const first = planFlow([], demo(), { demoUrl: DEMO_8554, demoOnvifUrl: onvif(8581) });
  assert.equal(camera(first.deploy!).onvif, onvif(8581), 'ONVIF on another port than 8580');
  const kept = userFlow();
  camera(kept).url = DEMO_8554;
  camera(kept).onvif = onvif(8580);
  assert.equal(camera(planFlow(kept, demo(), { demoUrl: DEMO_8554, demoOnvifUrl: onvif(8582) }).deploy!).onvif, onvif(8582));
  assert.equal(planFlow(kept, demo(), { demoUrl: DEMO_8554, demoOnvifUrl: onvif(8580) }).deploy, null, 'nothing moved');
  const mine = planFlow(kept, demo(), { camera: { url: 'rtsp://10.0.0.9/live', username: '', password: '' } });
  assert.equal(camera(mine.deploy!).onvif, '', 'the demo camera\'s ONVIF address is not the new camera\'s');
});
