/**
 * `npm start` with a flow of the user's already in its user directory (the demo flow from an
 * earlier run plus a tab of their own): the flow is kept, every tab stays, and
 * - a demo camera on another port (DEMO_CAMERA_PORT) is followed: the camera node uses the
 *   new port from the start, so the log has no 'connection refused' and frames flow;
 * - RTSP_URL with credentials in it points the demo camera node at that camera: it plays
 *   with those credentials, and the password is in no flow the admin API shows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { freeTcpPort as freePort } from '../support/peers';
import { ROOT, runStart, until, type StartRun } from './support/npm-start';

type FlowNode = Record<string, unknown> & { id: string; type: string };

const USER = 'viewer';
const PASSWORD = 'p@ss:w/rd';

/** the demo flow as an earlier `npm start` left it (demo camera on `oldPort`) plus a tab of the user's */
function seedFlow(oldPort: number): FlowNode[] {
  const flow = JSON.parse(readFileSync(join(ROOT, 'scripts', 'demo', 'flow.json'), 'utf8')) as FlowNode[];
  flow.find((n) => n.id === 'demo-cam')!.url = `rtsp://127.0.0.1:${oldPort}/demo`;
  flow.push(
    { id: 'my-tab', type: 'tab', label: 'my own flow', disabled: false, info: '' },
    { id: 'my-inject', type: 'inject', z: 'my-tab', name: 'tick', props: [{ p: 'payload' }], repeat: '', once: false, topic: '', payload: '', payloadType: 'date', x: 120, y: 60, wires: [['my-debug']] },
    { id: 'my-debug', type: 'debug', z: 'my-tab', name: 'mine', active: true, tosidebar: true, complete: 'payload', x: 320, y: 60, wires: [] },
  );
  return flow;
}

describe('npm start keeps an existing flow', { timeout: 150_000 }, () => {
  let userDir = '';
  let run: StartRun | undefined;
  let secure: DemoCamera | undefined;

  before(async () => {
    userDir = mkdtempSync(join(tmpdir(), 'rtsp-mjpeg-kept-'));
    secure = await startDemoCamera({ port: 0, width: 320, height: 240, fps: 10, path: '/secure', auth: 'digest', username: USER, password: PASSWORD });
  });
  after(async () => {
    await run?.stop();
    await secure?.close();
    rmSync(userDir, { recursive: true, force: true });
  });

  const flows = async (port: number): Promise<FlowNode[]> => (await fetch(`http://127.0.0.1:${port}/flows`)).json() as Promise<FlowNode[]>;

  test('DEMO_CAMERA_PORT changed: the kept flow follows the demo camera, no connection refused, frames flow', async () => {
    const deadPort = await freePort();
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(seedFlow(deadPort)));
    const editorPort = await freePort();
    const camPort = await freePort();
    run = runStart({ PORT: String(editorPort), DEMO_CAMERA_PORT: String(camPort), NODE_RED_USER_DIR: userDir });
    try {
      await run.waitFor('Node-RED editor:', 90_000);
      const deployed = await flows(editorPort);
      assert.deepEqual(deployed.filter((n) => n.type === 'tab').map((n) => n.label), ['Demo camera', 'my own flow'], 'both tabs kept');
      assert.ok(deployed.some((n) => n.id === 'my-debug'), 'the user\'s nodes kept');
      assert.equal(deployed.find((n) => n.id === 'demo-cam')!.url, `rtsp://127.0.0.1:${camPort}/demo`);
      const seeded = seedFlow(deadPort).filter((n) => n.type !== 'tab').length;
      assert.match(run.output(), new RegExp(`kept your flow \\(2 tabs, ${seeded} nodes\\)`));
      assert.match(run.output(), new RegExp(`now uses rtsp://127\\.0\\.0\\.1:${camPort}/demo \\(it used rtsp://127\\.0\\.0\\.1:${deadPort}/demo\\)`));
      const file = join(userDir, 'latest.jpg');
      await until(() => existsSync(file) && statSync(file).size > 0, 'latest.jpg from the demo flow', 30_000);
      assert.ok(!/connection refused/.test(run.output()), `no connection refused in the log:\n${run.output().slice(-2000)}`);
      assert.equal(await run.stop(), 0, 'Ctrl-C ends it cleanly');
    } finally {
      await run.stop();
      run = undefined;
    }
  });

  test('RTSP_URL with credentials: the demo camera node plays that camera, the tabs stay, no password in the flow', async () => {
    const editorPort = await freePort();
    const url = secure!.url.replace('rtsp://', `rtsp://${encodeURIComponent(USER)}:${encodeURIComponent(PASSWORD)}@`);
    run = runStart({ PORT: String(editorPort), RTSP_URL: url, NODE_RED_USER_DIR: userDir });
    try {
      await run.waitFor('Node-RED editor:', 90_000);
      const deployed = await flows(editorPort);
      assert.deepEqual(deployed.filter((n) => n.type === 'tab').map((n) => n.label), ['Demo camera', 'my own flow'], 'both tabs kept');
      assert.equal(deployed.find((n) => n.id === 'demo-cam')!.url, secure!.url, 'the clean URL');
      await until(() => secure!.stats.plays >= 1, 'the camera plays with the credentials from RTSP_URL', 30_000);
      assert.equal(secure!.stats.activeSessions, 1, 'one RTSP session');
      assert.ok(!JSON.stringify(deployed).includes(PASSWORD) && !JSON.stringify(deployed).includes(encodeURIComponent(PASSWORD)), 'no password in the flow');
      assert.ok(!run.output().includes(PASSWORD) && !run.output().includes(encodeURIComponent(PASSWORD)), 'no password in the output');
      assert.equal(await run.stop(), 0, 'Ctrl-C ends it cleanly');
    } finally {
      await run.stop();
      run = undefined;
    }
  });
});
