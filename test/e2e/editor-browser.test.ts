/**
 * The editor in a real browser (Debian's Chromium driven by playwright-core; no browser is
 * ever downloaded): drop an `rtsp mjpeg` node, create its camera from the edit dialog, paste a
 * URL with credentials (they move to the credential fields), test the connection (track
 * summary + snapshot), deploy, see the green status with fps. The password, which needs
 * percent-encoding in a URL, must then appear nowhere: not in the flow export, the flows
 * file, the admin API or the log. Then as a new user: a new camera starts from a placeholder URL
 * and shows the defaults, a wrong path names the URL in the connection test, two imported
 * examples make one camera and one RTSP session, the palette search finds every node of the
 * package by "rtsp" and by "camera". No uncaught error may reach the browser console during the
 * whole suite. Screenshots go to test/e2e/artifacts/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { ARTIFACTS, packedTarball } from './support/package-tarball';
import { makeUserDir, removeDir, startNodeRed, withLogs, PACKAGE, type NodeRed } from './support/node-red';

const CHROMIUM = '/usr/bin/chromium';
const USERNAME = 'admin';
const PASSWORD = 'S3cr3t:p@ss/word%';
const SHOTS = join(ARTIFACTS, 'screenshots');

describe('editor in Chromium: camera config, connection test, deploy, no password in exports', { timeout: 180_000 }, () => {
  let cam: DemoCamera | undefined;
  /** an open camera for the imported examples */
  let cam2: DemoCamera | undefined;
  /** every uncaught page error and console error of the whole suite */
  const consoleErrors: string[] = [];
  let nr: NodeRed | undefined;
  let dir: string | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let cleanUrl = '';
  let deployed = false;

  const shot = async (name: string): Promise<void> => {
    await page!.screenshot({ path: join(SHOTS, `${name}.png`) });
  };

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is not installed (apt-get install chromium)`);
    mkdirSync(SHOTS, { recursive: true });
    const tgz = await packedTarball();
    cam = await startDemoCamera({ port: 0, fps: 10, width: 640, height: 480, path: '/secure', auth: 'digest', username: USERNAME, password: PASSWORD });
    cleanUrl = cam.url;
    cam2 = await startDemoCamera({ port: 0, fps: 5, width: 320, height: 240, path: '/demo' });
    dir = await makeUserDir(tgz, 'browser');
    nr = await startNodeRed({ userDir: dir, label: 'browser' });
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: nr.url.replace(/\/$/, '') });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.stack ?? err.message}`));
    page.on('console', (m) => {
      // RED.comms catches what a subscriber throws and reports it with console.warn
      if (m.type() === 'error' || (m.type() === 'warning' && /uncaught|error/i.test(m.text()))) {
        consoleErrors.push(`console.${m.type()}: ${m.text()} (${m.location().url}:${m.location().lineNumber})`);
      }
    });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await nr?.stop();
    await cam?.close();
    await cam2?.close();
    removeDir(dir);
  });

  test('add a camera through the rtsp mjpeg edit dialog, test it, deploy, green status with fps', () => withLogs([nr], async () => {
    const p = page!;
    try {
      await p.goto(nr!.url);
      const paletteNode = p.locator('.red-ui-palette-node[data-palette-type="rtsp-mjpeg in"]');
      await paletteNode.waitFor({ state: 'attached' });
      for (const t of ['rtsp-mjpeg in', 'rtcp stats']) {
        const icon = await p.evaluate(`getComputedStyle(document.querySelector('.red-ui-palette-node[data-palette-type="${t}"] .red-ui-palette-icon')).backgroundImage`) as string;
        assert.match(icon, /icons\/node-red-contrib-rtsp-mjpeg\/(camera|stats)\.svg/, `${t} palette icon`);
      }
      // the palette filter reacts to typing (keyup), not to a programmatic value change
      await p.locator('#red-ui-palette-search input').pressSequentially('rtsp', { delay: 30 });
      await p.locator('.red-ui-palette-node[data-palette-type="inject"]').waitFor({ state: 'hidden' });
      await paletteNode.scrollIntoViewIfNeeded();
      await shot('01-palette');

      // drag from the palette onto the workspace (jQuery UI draggable: real mouse events)
      const from = (await paletteNode.boundingBox())!;
      const chart = (await p.locator('#red-ui-workspace-chart').boundingBox())!;
      assert.ok(from.y > 0 && from.y + from.height < 900, `palette node on screen at y=${from.y}`);
      await p.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
      await p.mouse.down();
      await p.mouse.move(from.x + 40, from.y + 20, { steps: 5 });
      await p.mouse.move(chart.x + 250, chart.y + 150, { steps: 15 });
      await p.mouse.move(chart.x + 260, chart.y + 160, { steps: 5 });
      await p.mouse.up();
      const onCanvas = p.locator('#red-ui-workspace-chart g.red-ui-flow-node-group');
      await onCanvas.first().waitFor();
      assert.equal(await onCanvas.count(), 1, 'one node on the workspace');

      // the help sidebar for the dropped (selected) node, as its "?" button shows it
      await p.evaluate(`RED.actions.invoke('core:show-help-tab')`);
      const help = p.locator('.red-ui-sidebar-help-stack .red-ui-help').first();
      await help.waitFor();
      assert.match(await help.innerText(), /Receives Motion-JPEG from an RTSP camera/, 'help text from locales/en-US');
      await shot('01b-help');

      // edit dialog → add new rtsp-camera
      await p.locator('#red-ui-workspace-chart .red-ui-flow-node').first().dblclick();
      await p.locator('#node-input-camera').waitFor({ state: 'attached' });
      // the "add new config node" button: id since Node-RED 4.1, the older lookup button before
      await p.locator('#node-input-btn-camera-add, #node-input-lookup-camera').first().click();
      const urlInput = p.locator('#node-config-input-url');
      await urlInput.waitFor({ state: 'visible' });

      // paste a URL with the credentials in it (a real Ctrl+V from the clipboard), first as
      // users often do (password not encoded), then percent-encoded as RFC 3986 requires
      const raw = cleanUrl.replace('rtsp://', `rtsp://${USERNAME}:${PASSWORD}@`);
      const encoded = cleanUrl.replace('rtsp://', `rtsp://${USERNAME}:${encodeURIComponent(PASSWORD)}@`);
      for (const withCreds of [raw, encoded]) {
        await p.locator('#node-config-input-username').fill('');
        await p.locator('#node-config-input-password').fill('');
        await p.evaluate(`navigator.clipboard.writeText(${JSON.stringify(withCreds)})`);
        await urlInput.click();
        await urlInput.press('Control+a');
        await urlInput.press('Control+v');
        await p.waitForFunction(`document.querySelector('#node-config-input-username').value !== ''`);
        assert.equal(await urlInput.inputValue(), cleanUrl, `URL without credentials after pasting ${withCreds === raw ? 'raw' : 'encoded'}`);
        assert.equal(await p.locator('#node-config-input-username').inputValue(), USERNAME);
        assert.equal(await p.locator('#node-config-input-password').inputValue(), PASSWORD);
      }
      assert.ok(await p.locator('#rtsp-camera-url-note').isVisible(), 'the "credentials moved" note shows');
      await p.locator('#node-config-input-name').fill('e2e camera');

      // test connection: track summary + snapshot
      await p.locator('#rtsp-camera-test').click();
      const result = p.locator('#rtsp-camera-test-result');
      await result.locator('img').waitFor({ timeout: 30_000 });
      const summary = (await result.innerText()).trim();
      assert.match(summary, /640×480/, `summary: ${summary}`);
      assert.match(summary, /JPEG/i, `summary: ${summary}`);
      assert.match(summary, /tcp/i, `summary: ${summary}`);
      assert.match(summary, /1 track/, `summary: ${summary}`);
      await p.waitForFunction(`(() => { const i = document.querySelector('#rtsp-camera-test-result img'); return i && i.complete && i.naturalWidth > 0; })()`);
      const natural = await p.evaluate(`(() => { const i = document.querySelector('#rtsp-camera-test-result img'); return [i.naturalWidth, i.naturalHeight]; })()`) as [number, number];
      assert.deepEqual(natural, [640, 480], 'the snapshot decodes in the browser');
      assert.ok(!summary.includes(PASSWORD) && !summary.includes(encodeURIComponent(PASSWORD)), 'no password in the result');
      await shot('02-camera-config-tested');

      await p.locator('#node-config-dialog-ok').click();
      await urlInput.waitFor({ state: 'detached' });
      assert.match(await p.locator('#node-input-camera option:checked').innerText(), /e2e camera/);
      await shot('03-node-edit-dialog');
      await p.locator('#node-dialog-ok').click();
      await p.locator('#node-input-camera').waitFor({ state: 'detached' });

      // deploy and watch the status under the node
      await p.locator('#red-ui-header-button-deploy').click();
      const label = p.locator('#red-ui-workspace-chart .red-ui-flow-node-status-label');
      await p.waitForFunction(`(() => { const l = document.querySelector('#red-ui-workspace-chart .red-ui-flow-node-status-label'); return l && / fps/.test(l.textContent); })()`, undefined, { timeout: 30_000 });
      const statusText = await label.first().textContent();
      assert.match(statusText ?? '', /^\d+(\.\d)? fps 640×480$/, `status: ${statusText}`);
      const dotClass = await p.locator('#red-ui-workspace-chart .red-ui-flow-node-status').first().getAttribute('class');
      assert.match(dotClass ?? '', /red-ui-flow-node-status-dot-green/, `status shape: ${dotClass}`);
      await shot('04-deployed-status');
      deployed = true;

      // the camera saw Digest authentication succeed
      const auths = cam!.stats.requests.map((r) => Object.entries(r.headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1] ?? '');
      assert.ok(auths.some((a) => a.startsWith('Digest ')), 'Digest Authorization sent');
      assert.ok(cam!.stats.plays >= 2, 'connection test and deployed node each played');
    } catch (err) {
      await shot('failure').catch(() => undefined);
      throw err;
    }
  }));

  test('the password is in no export, file, API answer or log', async () => {
    assert.ok(deployed, 'needs the deployed camera from the previous test');
    const p = page!;
    const forms = [PASSWORD, encodeURIComponent(PASSWORD), 'S3cr3t'];
    const assertClean = (text: string, where: string): void => {
      for (const f of forms) assert.ok(!text.includes(f), `${where} contains the password (${f})`);
    };

    // the editor's own Export → all flows
    await p.locator('#red-ui-header-button-sidemenu').click();
    await p.locator('#menu-item-export').click();
    await p.locator('#red-ui-clipboard-dialog-export-rng-full').click();
    await p.locator('a[href="#red-ui-clipboard-dialog-export-tab-clipboard-json"]').click();
    const exportText = p.locator('#red-ui-clipboard-dialog-export-text');
    await exportText.waitFor();
    await shot('05-export-dialog');
    const shown = await exportText.inputValue();
    // "Copy to clipboard", then read what the user would paste elsewhere
    await p.evaluate(`navigator.clipboard.writeText('')`);
    await p.locator('#red-ui-clipboard-dialog-export').click();
    await p.waitForFunction(`navigator.clipboard.readText().then((t) => t.length > 0)`);
    const exported = await p.evaluate(`navigator.clipboard.readText()`) as string;
    assert.equal(exported, shown, 'the clipboard holds the JSON the dialog showed');
    const nodes = JSON.parse(exported) as { type: string; url?: string; credentials?: unknown }[];
    const camNode = nodes.find((n) => n.type === 'rtsp-camera');
    assert.ok(camNode, 'export has the camera');
    assert.equal(camNode.url, cleanUrl);
    assertClean(exported, 'editor export');

    const flows = await nr!.http('GET', '/flows');
    assertClean(flows.text, 'GET /flows');
    assert.ok(flows.text.includes(cleanUrl));
    assertClean(readFileSync(join(dir!, 'flows.json'), 'utf8'), 'flows.json');
    const credFile = join(dir!, 'flows_cred.json');
    assert.ok(existsSync(credFile), 'credentials stored (encrypted) in flows_cred.json');
    assertClean(readFileSync(credFile, 'utf8'), 'flows_cred.json');
    const camCreds = await nr!.getJson<Record<string, unknown>>(`/credentials/rtsp-camera/${encodeURIComponent(String((camNode as { id?: string }).id))}`);
    assert.equal(camCreds.username, USERNAME);
    assert.equal(camCreds.has_password, true);
    assertClean(JSON.stringify(camCreds), 'GET /credentials');
    assertClean(nr!.child.output(), 'Node-RED log');
  });

  test('a new camera: placeholder URL, default Advanced values; a wrong path names the URL in the test result', () => withLogs([nr], async () => {
    assert.ok(deployed, 'needs the deployed node from the first test');
    const p = page!;
    try {
      await p.locator('#red-ui-workspace-chart .red-ui-flow-node').first().dblclick();
      await p.locator('#node-input-camera').waitFor({ state: 'attached' });
      await p.locator('#node-input-btn-camera-add').click();
      const urlInput = p.locator('#node-config-input-url');
      await urlInput.waitFor({ state: 'visible' });
      assert.equal(await urlInput.inputValue(), '', 'no pre-filled URL');
      assert.equal(await urlInput.getAttribute('placeholder'), 'rtsp://camera-ip:554/path');
      await showTab(p, 'advanced');
      await shot('06-new-camera-advanced');
      const advanced = await advancedValues(p);
      assert.deepEqual(advanced, { reconnectMin: '1', reconnectMax: '30', stallTimeout: '10', maxFrameMB: '16' });
      await showTab(p, 'connection');
      const wrong = cam2!.url.replace(/\/demo$/, '/no-such-stream');
      await urlInput.fill(wrong);
      await p.locator('#rtsp-camera-test').click();
      const result = p.locator('#rtsp-camera-test-result');
      await p.waitForFunction(`/not found/.test(document.querySelector('#rtsp-camera-test-result').textContent)`, undefined, { timeout: 30_000 });
      const text = (await result.innerText()).trim();
      assert.ok(text.includes(`not found: DESCRIBE ${wrong}: 404`), `test result names the URL: ${text}`);
      await shot('07-test-connection-404');
      await p.locator('#node-config-dialog-cancel').click();
      await urlInput.waitFor({ state: 'detached' });
      await p.locator('#node-dialog-cancel').click();
      await p.locator('#node-input-camera').waitFor({ state: 'detached' });
    } catch (err) {
      await shot('failure-new-camera').catch(() => undefined);
      throw err;
    }
  }));

  test('two imported examples make one camera config node and one RTSP session; its Advanced tab shows its values', () => withLogs([nr], async () => {
    const p = page!;
    try {
      const before = cam2!.stats.connections;
      for (const [i, name] of ['03 Reception statistics', '04 Snapshot on request'].entries()) {
        await p.evaluate(`RED.actions.invoke('core:show-examples-import-dialog')`);
        const browser = p.locator('#red-ui-clipboard-dialog-import-tab-examples');
        // the package's folder opens on a click (and Node-RED may remember it open: then a click
        // would close it): click until the example shows, at most three times
        const example = browser.locator('.red-ui-treeList-label', { hasText: name }).first();
        for (let k = 0; k < 3 && !(await example.isVisible()); k++) {
          await browser.locator('.red-ui-treeList-label', { hasText: PACKAGE }).first().click();
          await example.waitFor({ state: 'visible', timeout: 5000 }).catch(() => undefined);
        }
        await example.click();
        await p.locator('#red-ui-clipboard-dialog-ok').click();
        if (i > 0) {
          // the camera exists already: Node-RED asks, and "Import copy" reuses the config node
          // (RED.nodes.import matches an existing config node by id when it generates new ids)
          const notice = p.locator('.red-ui-notification', { hasText: 'already exist' });
          await notice.waitFor();
          await shot('08-import-conflict');
          await notice.locator('button', { hasText: 'Import copy' }).click();
        }
        // imported nodes follow the mouse until a click drops them
        const chart = (await p.locator('#red-ui-workspace-chart').boundingBox())!;
        await p.mouse.move(chart.x + 300, chart.y + 250 + 150 * i, { steps: 5 });
        await p.mouse.click(chart.x + 300, chart.y + 250 + 150 * i);
      }
      const cameras = await p.evaluate(`(() => { const c = []; RED.nodes.eachConfig((n) => { if (n.type === 'rtsp-camera') c.push(n.name); }); return c; })()`) as string[];
      assert.deepEqual(cameras.filter((n) => n === 'demo camera'), ['demo camera'], `one demo camera: ${JSON.stringify(cameras)}`);
      const users = await p.evaluate(`(() => { const u = []; RED.nodes.eachNode((n) => { if (n.camera) u.push(n.camera); }); return u; })()`) as string[];
      assert.equal(users.filter((c) => c === 'demo-cam').length, 3, 'rtcp stats + two rtsp-mjpeg in use the one camera');
      await shot('09-two-examples-imported');

      // an older flow's camera without the Advanced fields shows the effective values too
      await p.evaluate(`(() => { const n = RED.nodes.node('demo-cam'); for (const f of ['reconnectMin', 'reconnectMax', 'stallTimeout', 'maxFrameMB']) n[f] = ''; })()`);
      await p.evaluate(`RED.editor.editConfig('', 'rtsp-camera', 'demo-cam')`);
      const urlInput = p.locator('#node-config-input-url');
      await urlInput.waitFor({ state: 'visible' });
      await showTab(p, 'advanced');
      assert.deepEqual(await advancedValues(p), { reconnectMin: '1', reconnectMax: '30', stallTimeout: '10', maxFrameMB: '16' });
      await shot('10-demo-camera-advanced');
      // point it at this test's camera (the examples use the demo camera's port 8554)
      await showTab(p, 'connection');
      await urlInput.fill(cam2!.url);
      await p.locator('#node-config-dialog-ok').click();
      await urlInput.waitFor({ state: 'detached' });

      await p.locator('#red-ui-header-button-deploy').click();
      await p.waitForFunction(`RED.nodes.dirty() === false`, undefined, { timeout: 20_000 });
      const deadline = Date.now() + 20_000;
      while (cam2!.stats.plays < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(cam2!.stats.activeSessions, 1, 'one RTSP session for the three nodes of two examples');
      assert.equal(cam2!.stats.connections - before, 1, 'one RTSP connection');
      await shot('11-examples-deployed');
    } catch (err) {
      await shot('failure-examples').catch(() => undefined);
      throw err;
    }
  }));

  test('palette search: "rtsp" and "camera" each find every node of the package, "mjpeg" those of an mjpeg type', async () => {
    const p = page!;
    const types = await p.evaluate(`RED.nodes.registry.getNodeList().filter((s) => s.module === ${JSON.stringify(PACKAGE)}).flatMap((s) => s.types)
      .filter((t) => RED.nodes.getType(t) && RED.nodes.getType(t).category !== 'config')`) as string[];
    assert.ok(types.length >= 2, `palette types of the package: ${types.join(', ')}`);
    const search = p.locator('#red-ui-palette-search input');
    for (const term of ['rtsp', 'camera', 'mjpeg']) {
      await search.fill('');
      await search.pressSequentially(term, { delay: 30 });
      await p.locator('.red-ui-palette-node[data-palette-type="inject"]').waitFor({ state: 'hidden' });
      const visible = await p.evaluate(`[...document.querySelectorAll('#red-ui-palette-container .red-ui-palette-node')]
        .filter((el) => el.getAttribute('data-filter') !== 'true').map((el) => el.getAttribute('data-palette-type'))`) as string[];
      for (const t of types.filter((x) => term !== 'mjpeg' || x.includes('mjpeg'))) assert.ok(visible.includes(t), `"${term}" finds ${t} (visible: ${visible.join(', ')})`);
      await shot(`12-palette-${term}`);
    }
    await search.fill('');
    await search.press('Backspace');
  });

  test('no uncaught error in the browser console during the suite', () => {
    assert.deepEqual(consoleErrors, []);
  });
});

/** Switches the camera dialog's tab. RED.tabs takes two clicks in quick succession as a
 * double click, so click, wait, and click again until the tab's content shows. */
async function showTab(p: Page, tab: 'connection' | 'advanced'): Promise<void> {
  const content = p.locator(`#rtsp-camera-tab-${tab}`);
  for (let i = 0; i < 5 && !(await content.isVisible()); i++) {
    await new Promise((r) => setTimeout(r, 500));
    await p.locator(`#red-ui-tab-rtsp-camera-tab-${tab} .red-ui-tab-label`).click();
  }
  await content.waitFor({ state: 'visible', timeout: 2000 });
}

async function advancedValues(p: Page): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of ['reconnectMin', 'reconnectMax', 'stallTimeout', 'maxFrameMB']) out[f] = await p.locator(`#node-config-input-${f}`).inputValue();
  return out;
}
