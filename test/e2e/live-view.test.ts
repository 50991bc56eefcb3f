/**
 * Live view end to end, in a real Node-RED 4.1 with the packed package and Dashboard 2
 * installed from npm, and `httpNodeAuth` set in settings.js as the README asks:
 * - the stream and the snapshot answer 401 without credentials and 200 with them;
 * - the "Live view on Dashboard 2" example, deployed as shipped (camera URL aside): Chromium
 *   shows the demo camera in the page's <img>, and two screenshots 1 s apart differ (the
 *   demo camera's frame counter moves);
 * - the "Snapshot on an MQTT trigger" example against a real mosquitto: a request message
 *   gets one JPEG published back and written to the file;
 * - both examples with their camera switched to "connect: on demand" as their comments say:
 *   no RTSP session while nobody watches, one while the page is open or a request is being
 *   answered, none again a linger after the last viewer or request.
 * Screenshots go to test/e2e/artifacts/screenshots/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type Browser } from 'playwright-core';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { ARTIFACTS, ROOT, packedTarball } from './support/package-tarball';
import { makeUserDir, removeDir, startNodeRed, withLogs, type NodeRed } from './support/node-red';
import { loadExample, onTab, type FlowNode } from './support/flows';
import { startMosquitto, type Broker } from './support/mosquitto';
import { subscribe, type Subscriber } from './support/mqtt-subscriber';
import { assertDecodes, assertWholeJpegs } from './support/jpeg-checks';
import { sleep, until } from './support/processes';
import { decodeJpeg } from '../support/djpeg';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ARTIFACTS, 'screenshots');
const USER = 'viewer';
const PASS = 'watch:the-cam';
const DASHBOARD = '@flowfuse/node-red-dashboard';
const AUTH = { authorization: `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}` };

function dashboardVersion(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const v = pkg.devDependencies[DASHBOARD];
  assert.ok(v, `${DASHBOARD} is a devDependency`);
  return `${DASHBOARD}@${v}`;
}

describe('live view: httpNodeAuth, the Dashboard 2 example in Chromium, the MQTT snapshot example', { timeout: 300_000 }, () => {
  let cam: DemoCamera | undefined;
  let nr: NodeRed | undefined;
  let dir: string | undefined;
  let broker: Broker | undefined;
  let sub: Subscriber | undefined;
  let browser: Browser | undefined;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const tgz = await packedTarball();
    cam = await startDemoCamera({ port: 0, fps: 10, width: 640, height: 480 });
    broker = await startMosquitto();
    dir = await makeUserDir(tgz, 'live', {}, [dashboardVersion()]);
    const bcrypt = createRequire(join(ROOT, 'package.json'))('bcryptjs') as { hashSync(pw: string, rounds: number): string };
    nr = await startNodeRed({
      userDir: dir, label: 'live',
      extraSettings: `  httpNodeAuth: { user: ${JSON.stringify(USER)}, pass: ${JSON.stringify(bcrypt.hashSync(PASS, 4))} },`,
    });
    const flow: FlowNode[] = [];
    const dashboard = loadExample('05 Live view on Dashboard 2.json');
    const mqtt = loadExample('06 Snapshot on an MQTT trigger.json');
    for (const n of [...dashboard, ...mqtt]) {
      if (n.type === 'rtsp-camera') {
        n.url = cam.url;
        // what the examples' comments tell a user to do to see on demand
        assert.equal(n.connect, 'always', 'the examples ship the shared camera with connect: always');
        n.connect = 'on demand';
      }
      if (n.type === 'mqtt-broker') n.port = String(broker.port);
      if (n.type === 'file') n.filename = join(dir, 'mqtt-snapshot.jpg');
    }
    flow.push(...onTab(dashboard, 'dashboard'), ...onTab(mqtt, 'mqtt'));
    await nr.deploy(flow);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await sub?.close().catch(() => undefined);
    await nr?.stop();
    await broker?.stop();
    await cam?.close();
    removeDir(dir);
  });

  test('on demand: no RTSP session while nobody watches', async () => {
    await sleep(2000);
    assert.equal(cam!.stats.activeSessions, 0, 'deployed, nobody watching: no session');
    assert.equal(cam!.stats.connections, 0, 'and no connection was ever made');
  });

  test('httpNodeAuth: stream and snapshot answer 401 without credentials, 200 with them', () => withLogs([nr], async () => {
    const n = nr!;
    for (const path of ['/cameras/demo', '/cameras/demo/snapshot.jpg']) {
      const r = await n.http('HEAD', path);
      assert.equal(r.status, 401, `${path} without credentials`);
      const bad = await n.http('HEAD', path, undefined, { authorization: `Basic ${Buffer.from(`${USER}:wrong`).toString('base64')}` });
      assert.equal(bad.status, 401, `${path} with a wrong password`);
    }
    let snap: Buffer | null = null;
    await until(async () => {
      const r = await n.http('GET', '/cameras/demo/snapshot.jpg', undefined, { ...AUTH, accept: 'image/jpeg' });
      if (r.status !== 200) return false;
      snap = r.body;
      return true;
    }, 'snapshot with credentials', 20_000);
    const d = decodeJpeg(snap as unknown as Buffer);
    assert.ok(d.ok && d.width === 640, d.error ?? '');
    const head = await n.http('HEAD', '/cameras/demo', undefined, AUTH);
    assert.equal(head.status, 200);
    assert.match(String(head.headers['content-type']), /^multipart\/x-mixed-replace/);
  }));

  test('Dashboard 2 example in Chromium: the <img> shows the demo camera and moves', () => withLogs([nr], async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is not installed (apt-get install chromium)`);
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 }, httpCredentials: { username: USER, password: PASS } });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(`${nr!.url}dashboard/live`);
    const img = page.locator('img.live-view');
    await img.waitFor({ state: 'visible' });
    await until(async () => (await img.evaluate((e) => (e as HTMLImageElement).naturalWidth)) === 640, 'the <img> has the camera\'s 640 px frames', 20_000);
    await sleep(500);
    const a = await img.screenshot();
    await sleep(1000);
    const b = await img.screenshot();
    await page.screenshot({ path: join(SHOTS, 'live-view-dashboard.png') });
    assert.ok(a.length > 1000 && b.length > 1000, 'screenshots taken');
    assert.ok(!a.equals(b), 'two screenshots 1 s apart differ: the picture moves');
    const natural = await img.evaluate((e) => ({ w: (e as HTMLImageElement).naturalWidth, h: (e as HTMLImageElement).naturalHeight }));
    assert.deepEqual(natural, { w: 640, h: 480 });
    assert.equal(cam!.stats.activeSessions, 1, 'the page holds one session');
    // the last viewer leaves: the camera disconnects once the linger (10 s) has passed
    await context.close();
    await until(() => cam!.stats.activeSessions === 0, 'the on-demand camera to disconnect after the linger', 30_000);
  }));

  test('MQTT snapshot example: a request gets one JPEG published back and written to the file', () => withLogs([nr], async () => {
    const n = nr!;
    sub = await subscribe(broker!.port, ['camera/demo/snapshot']);
    // the flow's mqtt in connects asynchronously after deploy: ask until an answer comes
    await until(async () => {
      await sub!.client.publishAsync('camera/demo/snapshot/request', 'ring', { qos: 1 });
      await sleep(700);
      return sub!.messages('camera/demo/snapshot').length > 0;
    }, 'a JPEG on camera/demo/snapshot', 30_000);
    const frames = sub.messages('camera/demo/snapshot').map((m) => m.payload);
    assertWholeJpegs(frames, 'mqtt snapshot');
    assertDecodes(frames, { width: 640, height: 480 }, 'mqtt snapshot');
    const file = join(n.userDir, 'mqtt-snapshot.jpg');
    await until(() => existsSync(file), 'the snapshot file', 5000);
    const d = decodeJpeg(readFileSync(file));
    assert.ok(d.ok && d.width === 640, d.error ?? '');
    // a request connected the on-demand camera; after the linger nothing holds it
    await until(() => cam!.stats.activeSessions === 0, 'the on-demand camera to disconnect after the request', 30_000);
  }));
});
