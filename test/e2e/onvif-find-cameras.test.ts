/**
 * "Find cameras" in a real browser (Debian's Chromium, playwright-core) against the built-in demo
 * camera with Digest authentication: a new camera dialog searches (unicast to the demo camera's
 * WS-Discovery port, typed in the box; settings.js turns multicast off so the test stays on
 * 127.0.0.1), lists the demo camera, Use without credentials says to type them, Read profiles
 * with them fills the URL with the JPEG profile's stream (credentials stay in their fields),
 * shows both profiles, keeps the device service in the ONVIF field; deployed, the camera streams
 * and an `onvif events` node on it gets the camera's motion event. No browser console error.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { ARTIFACTS, packedTarball } from './support/package-tarball';
import { makeUserDir, removeDir, startNodeRed, withLogs, type NodeRed } from './support/node-red';

const CHROMIUM = '/usr/bin/chromium';
const USERNAME = 'viewer';
const PASSWORD = 'Find:me@1%';
const SHOTS = join(ARTIFACTS, 'screenshots');

let cam: DemoCamera | undefined;
let nr: NodeRed | undefined;
let dir: string | undefined;
let browser: Browser | undefined;
let page: Page | undefined;
const consoleErrors: string[] = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is not installed (apt-get install chromium)`);
  mkdirSync(SHOTS, { recursive: true });
  const tgz = await packedTarball();
  cam = await startDemoCamera({ port: 0, fps: 10, width: 320, height: 240, auth: 'digest', username: USERNAME, password: PASSWORD, onvif: { discoveryPort: 0, motionEverySec: 2 } });
  dir = await makeUserDir(tgz, 'find-cameras');
  nr = await startNodeRed({ userDir: dir, label: 'find-cameras', extraSettings: '  rtspCameraDiscoveryInterfaces: [],' });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.stack ?? err.message}`));
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`console.error: ${m.text()}`); });
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await nr?.stop();
  await cam?.close();
  removeDir(dir);
});

test('Find cameras → Use → Read profiles fills the URL; deployed, it streams and the camera events node gets motion', { timeout: 180_000 }, () => withLogs([nr], async () => {
  const p = page!;
  const shot = (name: string): Promise<unknown> => p.screenshot({ path: join(SHOTS, `onvif-${name}.png`) });
  try {
    await p.goto(nr!.url);
    const palette = p.locator('.red-ui-palette-node[data-palette-type="onvif events"]');
    await palette.waitFor({ state: 'attached' });
    assert.match(await palette.innerText(), /rtsp camera\s+events/);
    await p.locator('#red-ui-palette-search input').pressSequentially('events', { delay: 30 });
    await palette.scrollIntoViewIfNeeded();
    const from = (await palette.boundingBox())!;
    const chart = (await p.locator('#red-ui-workspace-chart').boundingBox())!;
    const placed = p.locator('#red-ui-workspace-chart .red-ui-flow-node').first();
    // the palette drag as a user does it; the editor test proves drag and drop itself, so when a
    // busy machine loses the drag, the node is placed through the editor's own import instead
    await p.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await p.mouse.down();
    await p.mouse.move(from.x + 40, from.y + 20, { steps: 5 });
    await p.mouse.move(chart.x + 250, chart.y + 150, { steps: 15 });
    await p.mouse.move(chart.x + 260, chart.y + 160, { steps: 5 });
    await p.mouse.up();
    if (!(await placed.waitFor({ state: 'visible', timeout: 7000 }).then(() => true, () => false))) {
      await p.evaluate(`RED.view.importNodes([{ id: RED.nodes.id(), type: 'onvif events', name: '', camera: '', topics: '', x: 300, y: 160, z: RED.workspaces.active(), wires: [[]] }], { generateIds: false, touchImport: true })`);
      await placed.waitFor({ state: 'visible', timeout: 10000 });
    }
    await placed.dblclick();
    await p.locator('#node-input-topics').fill('Motion');
    await p.locator('#node-input-btn-camera-add, #node-input-lookup-camera').first().click();
    await p.locator('#node-config-input-url').waitFor({ state: 'visible' });

    // search: unicast to the demo camera's discovery port
    await p.locator('#rtsp-camera-find-hosts').fill(`127.0.0.1:${cam!.onvif!.discoveryPort}`);
    await p.locator('#rtsp-camera-find').click();
    const row = p.locator('#rtsp-camera-find-result div', { hasText: 'demo camera' });
    await row.waitFor({ timeout: 20_000 });
    assert.match(await row.innerText(), /demo camera · rtsp-mjpeg-demo · 127\.0\.0\.1/);
    await shot('01-found');

    // Use without credentials: the camera wants them, the dialog says so
    await row.locator('button').click();
    const result = p.locator('#rtsp-camera-onvif-result');
    await p.waitForFunction(`/auth failed/.test(document.querySelector('#rtsp-camera-onvif-result').textContent)`);
    assert.match(await result.innerText(), /type the camera's user name and password above/);
    assert.equal(await p.locator('#node-config-input-onvif').inputValue(), cam!.onvif!.deviceUrl);

    await p.locator('#node-config-input-username').fill(USERNAME);
    await p.locator('#node-config-input-password').fill(PASSWORD);
    await p.locator('#rtsp-camera-onvif-read').click();
    await p.waitForFunction(`/URL set to the Motion-JPEG profile/.test(document.querySelector('#rtsp-camera-onvif-result').textContent)`);
    assert.equal(await p.locator('#node-config-input-url').inputValue(), cam!.url, 'the URL is the JPEG profile\'s stream, without credentials');
    const table = await result.locator('table').innerText();
    assert.match(table, /Motion-JPEG\s+JPEG\s+320×240\s+10/);
    assert.match(table, /H\.264 main stream\s+H264\s+1920×1080\s+25/);
    assert.ok(!(await result.innerText()).includes(PASSWORD));
    assert.equal(await p.locator('#node-config-input-name').inputValue(), 'demo camera', 'the name from the discovery scopes');
    await shot('02-profiles');

    await p.locator('#node-config-dialog-ok').click();
    await p.locator('#node-config-input-url').waitFor({ state: 'detached' });
    await p.locator('#node-dialog-ok').click();
    await p.locator('#red-ui-header-button-deploy').click();

    // the camera events node subscribes with the camera's credentials and gets the scripted motion
    await p.waitForFunction(`(() => { const l = document.querySelector('#red-ui-workspace-chart .red-ui-flow-node-status-label'); return l && /Motion (true|false) at/.test(l.textContent); })()`, undefined, { timeout: 30_000 });
    await shot('03-event-status');
    const flows = readFileSync(join(dir!, 'flows.json'), 'utf8');
    const camNode = (JSON.parse(flows) as Record<string, unknown>[]).find((n) => n['type'] === 'rtsp-camera')!;
    assert.equal(camNode['url'], cam!.url);
    assert.equal(camNode['onvif'], cam!.onvif!.deviceUrl);
    assert.ok(!flows.includes(PASSWORD) && !flows.includes(encodeURIComponent(PASSWORD)), 'no password in flows.json');
    assert.ok(cam!.onvif!.stats.subscriptions >= 1);
    assert.deepEqual(consoleErrors, []);
  } catch (err) {
    await shot('failure').catch(() => undefined);
    throw err;
  }
}));
