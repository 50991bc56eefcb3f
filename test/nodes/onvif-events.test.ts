/**
 * `onvif events` in a Node-RED 4 runtime (node-red-node-test-helper) against the ONVIF device
 * emulations: a motion event reaches the flow within 2 s of the device raising it, the topic
 * filter, renewals, Unsubscribe on redeploy, no subscription or socket left after 100
 * redeploys, failures reported without the password; and the Find-cameras admin routes.
 */
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeMessage } from 'node-red';
import { helper, collect, until, sleep, spokenText, type FlowNode } from '../support/node-red-helper';
import cameraNode from '../../src/nodes/rtsp-camera';
import eventsNode from '../../src/nodes/onvif-events';
import { guessDeviceUrl, topicFilter } from '../../src/nodes/lib/onvif-events-options';
import { startDevice, PASSWORD, USERNAME, type DeviceName } from '../peers/onvif-devices';
import type { OnvifDeviceEmulation } from '../peers/onvif-device';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';

const NODES = [cameraNode, eventsNode];
const MOTION = 'tns1:RuleEngine/CellMotionDetector/Motion';
const tab: FlowNode = { id: 'f1', type: 'tab' };
const cam = (onvif: string, extra: Record<string, unknown> = {}): FlowNode => ({ id: 'cam', type: 'rtsp-camera', name: 'front', url: 'rtsp://127.0.0.1:8554/x', transport: 'tcp', onvif, ...extra });
const events = (topics = '', extra: Record<string, unknown> = {}): FlowNode => ({ id: 'ev', type: 'onvif events', z: 'f1', camera: 'cam', topics, wires: [['h1']], ...extra });
const helperNode: FlowNode = { id: 'h1', type: 'helper', z: 'f1' };
const CREDS = { cam: { username: USERNAME, password: PASSWORD } };

let device: OnvifDeviceEmulation | null = null;
let demo: DemoCamera | null = null;
async function emulation(name: DeviceName, overrides = {}): Promise<OnvifDeviceEmulation> {
  device = await startDevice(name, 554, overrides);
  return device;
}
const pp = () => device!.pullPoints!;

before(async () => { await helper.startServer(); });
afterEach(async () => {
  await helper.unload();
  if (device) await device.close();
  if (demo) await demo.close();
  device = null;
  demo = null;
});
after(async () => { await helper.stopServer(); });

describe('onvif events', () => {
  for (const name of ['wsSecurityOnly', 'digestOnly'] as DeviceName[]) {
    test(`${name}: a motion event reaches the flow within 2 s, as { topic, payload: { state, source, data, time } }`, async () => {
      const d = await emulation(name);
      await helper.load(NODES, [tab, cam(d.deviceUrl), events(), helperNode], CREDS);
      await until(() => pp().active === 1 && pp().counters.pulls > 0, 'subscribed and pulling');
      const got = collect('h1', 1, 4000);
      const raised = Date.now();
      pp().raise(MOTION, { VideoSourceConfigurationToken: 'vsc0', Rule: 'MyMotionDetectorRule' }, { IsMotion: 'true' });
      const [m] = await got;
      const delay = Date.now() - raised;
      assert.ok(delay < 2000, `${delay} ms`);
      assert.equal(m!.topic, MOTION);
      const p = m!.payload as Record<string, unknown>;
      assert.deepEqual(Object.keys(p), ['state', 'source', 'data', 'time']);
      assert.deepEqual([p['state'], p['source'], p['data']], [true, { VideoSourceConfigurationToken: 'vsc0', Rule: 'MyMotionDetectorRule' }, { IsMotion: true }]);
      assert.ok(Math.abs((p['time'] as number) - raised) < 2000);
      assert.equal((m as NodeMessage & { camera: string }).camera, 'front');
      const node = helper.getNode('ev');
      await until(() => /CellMotionDetector|Motion/.test(JSON.stringify((node.status as unknown as { lastCall?: { args: unknown[] } }).lastCall?.args ?? '')), 'status shows the last event');
    });
  }

  test("a camera whose URL still holds user:pass@ (a hand-written flow): its events log in with them, as its stream does", async () => {
    const d = await emulation('digestOnly');
    const url = `rtsp://${encodeURIComponent(USERNAME)}:${encodeURIComponent(PASSWORD)}@127.0.0.1:8554/x`;
    await helper.load(NODES, [tab, cam(d.deviceUrl, { url }), events(), helperNode]);
    await until(() => pp().active === 1 && pp().counters.pulls > 0, 'subscribed with the credentials of the URL');
  });

  test('the topic filter passes only matching topics (case ignored)', async () => {
    const d = await emulation('oddPrefixes');
    await helper.load(NODES, [tab, cam(d.deviceUrl), events(' motion , Tamper'), helperNode], CREDS);
    await until(() => pp().active === 1 && pp().counters.pulls > 0, 'subscribed');
    const got = collect('h1', 2, 4000);
    pp().raise('tns1:Device/Trigger/DigitalInput', { InputToken: '1' }, { LogicalState: 'true' });
    pp().raise(MOTION, {}, { IsMotion: 'true' });
    pp().raise('tns1:VideoSource/GlobalSceneChange/ImagingService', {}, { State: 'true' });
    pp().raise('tns1:RuleEngine/TamperDetector/Tamper', {}, { IsTamper: 'false' });
    const msgs = await got;
    assert.deepEqual(msgs.map((m) => m.topic), [MOTION, 'tns1:RuleEngine/TamperDetector/Tamper']);
    assert.equal((msgs[1]!.payload as { state: unknown }).state, false);
    const f = topicFilter('');
    assert.ok(f('anything'));
  });

  test('renewals happen on a device that extends subscriptions only on Renew', async () => {
    const d = await emulation('wsSecurityOnly', { events: { addressing: 'reference-parameter', extendOnPull: false, maxTerminationSec: 2 } });
    await helper.load(NODES, [tab, cam(d.deviceUrl), events(), helperNode], CREDS);
    await until(() => pp().counters.renewed >= 3, 'three renewals of a 2 s subscription', 8000);
    assert.equal(pp().counters.created, 1);
    assert.equal(pp().counters.unknown, 0);
  });

  test('Unsubscribe arrives on redeploy; a new subscription replaces it', async () => {
    const d = await emulation('digestOnly');
    const flow = [tab, cam(d.deviceUrl), events(), helperNode];
    await helper.load(NODES, flow, CREDS);
    await until(() => pp().active === 1, 'subscribed');
    await helper.setFlows(flow, 'full', CREDS);
    await until(() => pp().counters.created === 2 && pp().active === 1, 'subscribed again after the redeploy');
    assert.equal(pp().counters.unsubscribed, 1);
    await helper.unload();
    await until(() => pp().active === 0, 'no subscription left after the flows stop');
    assert.equal(pp().counters.unsubscribed, 2);
  });

  test('100 redeploys leave no subscription, socket or timer behind', async () => {
    const d = await emulation('wsSecurityOnly');
    const flow = [tab, cam(d.deviceUrl), events(), helperNode];
    const count = (): Record<string, number> => {
      const c: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) c[r] = (c[r] ?? 0) + 1;
      return c;
    };
    await sleep(300);
    const baseline = count();
    await helper.load(NODES, flow, CREDS);
    await until(() => pp().active === 1, 'subscribed');
    for (let i = 1; i <= 100; i++) {
      await helper.setFlows(flow, 'full', CREDS);
      // every deploy really subscribes before the next one ends it
      await until(() => pp().counters.created === i + 1, `subscription ${i + 1}`);
    }
    await helper.unload();
    await until(() => pp().active === 0, 'every subscription ended');
    assert.equal(pp().counters.created, 101);
    assert.equal(pp().counters.unsubscribed, 101, 'one Unsubscribe per subscription');
    const over = (): string[] => {
      const now = count();
      return Object.keys(now).filter((k) => k !== 'FSReqCallback' && (now[k] ?? 0) > (baseline[k] ?? 0)).map((k) => `${k} ${baseline[k] ?? 0}→${now[k]}`);
    };
    await until(() => over().length === 0, `resources back to baseline (${over().join(', ')})`, 8000).catch(() => assert.fail(`leaked: ${over().join(', ')}`));
  });

  test('a wrong password: status with the advice, one error for Catch nodes, no password anywhere', async () => {
    const d = await emulation('wsSecurityOnly');
    await helper.load(NODES, [tab, cam(d.deviceUrl), events(), helperNode], { cam: { username: USERNAME, password: 'Wrong-Pass-77' } });
    const node = helper.getNode('ev');
    await until(() => /auth failed: check the user name and password/.test(spokenText(node)), 'auth failed status');
    assert.ok(!spokenText(node).includes('Wrong-Pass-77'));
    const errors = (node as unknown as { error: { args: unknown[][] } }).error.args;
    assert.equal(errors.length, 1, 'reported once, not per retry');
  });

  test('the demo camera: its scripted motion reaches the flow', async () => {
    demo = await startDemoCamera({ onvif: { discoveryPort: null, motionEverySec: 1 } });
    await helper.load(NODES, [tab, cam(demo.onvif!.deviceUrl, { url: demo.url }), events('Motion'), helperNode]);
    const msgs = await collect('h1', 2, 6000);
    assert.deepEqual(msgs.map((m) => (m.payload as { state: unknown }).state).sort(), [false, true]);
  });

  test('no camera, and the device URL guessed from the RTSP URL when the onvif field is empty', async () => {
    await helper.load(NODES, [tab, { id: 'ev', type: 'onvif events', z: 'f1', camera: '', wires: [[]] }]);
    assert.match(spokenText(helper.getNode('ev')), /no camera/);
    assert.equal(guessDeviceUrl('rtsp://10.0.0.5:554/Streaming/Channels/101'), 'http://10.0.0.5/onvif/device_service');
    assert.equal(guessDeviceUrl('rtsps://[fe80::1]/x'), 'http://[fe80::1]/onvif/device_service');
  });
});

describe('Find cameras admin routes', () => {
  test('POST /rtsp-camera/onvif/discover: unicast to the hosts typed (multicast off here)', async () => {
    demo = await startDemoCamera({ onvif: { discoveryPort: 0, motionEverySec: 0 } });
    await helper.load(NODES, [tab, cam('')]);
    const res = await helper.request().post('/rtsp-camera/onvif/discover').send({ hosts: `127.0.0.1:${demo.onvif!.discoveryPort}`, multicast: false, timeout: 0.8 }).expect(200);
    const body = res.body as { ok: boolean; devices: { name: string; deviceUrl: string }[] };
    assert.equal(body.ok, true);
    assert.deepEqual(body.devices.map((d) => [d.name, d.deviceUrl]), [['demo camera', demo.onvif!.deviceUrl]]);
    const bad = await helper.request().post('/rtsp-camera/onvif/discover').send({ hosts: 'not a host!' }).expect(400);
    assert.equal((bad.body as { reason: string }).reason, 'invalid host');
  });

  test('POST /rtsp-camera/onvif/profiles: the JPEG stream URI with typed or stored credentials; a wrong one is not echoed', async () => {
    const d = await emulation('digestOnly', {});
    await helper.load(NODES, [tab, cam(d.deviceUrl)], CREDS);
    const typed = await helper.request().post('/rtsp-camera/onvif/profiles').send({ url: `127.0.0.1:${d.port}`, username: USERNAME, password: PASSWORD }).expect(200);
    const b = typed.body as { ok: boolean; jpegStreamUri: string; deviceUrl: string; profiles: unknown[] };
    assert.equal(b.ok, true, JSON.stringify(typed.body));
    assert.equal(b.jpegStreamUri, 'rtsp://127.0.0.1:554/Streaming/Channels/102?transportmode=unicast&profile=Profile_2');
    assert.equal(b.deviceUrl, d.deviceUrl);
    assert.equal(b.profiles.length, 2);
    const stored = await helper.request().post('/rtsp-camera/onvif/profiles').send({ url: d.deviceUrl, id: 'cam', password: '__PWRD__' }).expect(200);
    assert.equal((stored.body as { ok: boolean }).ok, true, JSON.stringify(stored.body));
    const wrong = await helper.request().post('/rtsp-camera/onvif/profiles').send({ url: d.deviceUrl, username: USERNAME, password: 'Not-The-One-9' }).expect(200);
    assert.deepEqual([(wrong.body as { ok: boolean }).ok, (wrong.body as { reason: string }).reason], [false, 'auth failed']);
    assert.ok(!JSON.stringify(wrong.body).includes('Not-The-One-9'));
    const invalid = await helper.request().post('/rtsp-camera/onvif/profiles').send({ url: 'ftp://x' }).expect(400);
    assert.equal((invalid.body as { reason: string }).reason, 'invalid url');
  });
});
