/**
 * `npm start` (scripts/start.mjs) brings up the demo camera and Node-RED with
 * the demo flow; frames flow through the runtime (the flow's file sink keeps rewriting
 * latest.jpg, which must decode); the demo camera's scene makes the flow's motion node
 * fire and its record node write a clip; Ctrl-C stops everything and leaves no process behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJpeg } from '../support/djpeg';
import { readAviFrames } from '../../src/record/avi-reader';
import { freeTcpPort as freePort } from '../support/peers';
import { alive, descendants, get, nonLoopbackAddress, ROOT as root, runStart } from './support/npm-start';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

test('npm start runs Node-RED with the demo flow, frames flow, Ctrl-C leaves nothing running', { timeout: 150_000 }, async () => {
  assert.ok(existsSync(join(root, 'dist', 'cli.js')), 'the package must be built (npm install runs prepare)');
  const userDir = mkdtempSync(join(tmpdir(), 'rtsp-mjpeg-start-'));
  const editorPort = await freePort();
  const camPort = await freePort();
  const run = runStart({ PORT: String(editorPort), DEMO_CAMERA_PORT: String(camPort), NODE_RED_USER_DIR: userDir });
  const child = run.child;
  const out = (): string => run.output();
  try {
    await run.waitFor(`Node-RED editor: http://127.0.0.1:${editorPort}/`, 90_000);

    // The flow is deployed: the admin API lists the three node types of the demo.
    const flows = await (await fetch(`http://127.0.0.1:${editorPort}/flows`)).json() as { type: string }[];
    const types = new Set(flows.map((n) => n.type));
    for (const t of ['rtsp-camera', 'rtsp-mjpeg in', 'rtcp stats', 'mjpeg http out', 'mjpeg motion', 'mjpeg record']) assert.ok(types.has(t), `flow has a ${t} node`);
    assert.ok(out().includes(`live view in a browser: http://127.0.0.1:${editorPort}/camera/demo`), 'the live view URL is printed');
    assert.ok(!JSON.stringify(flows).includes('"password"'), 'no password in the exported flow');

    // Dashboard 2 is there for the examples without Manage palette (which npm start disables)
    const modules = await (await fetch(`http://127.0.0.1:${editorPort}/nodes`, { headers: { accept: 'application/json' } })).json() as { module: string }[];
    assert.ok(modules.some((m) => m.module === '@flowfuse/node-red-dashboard'), 'Dashboard 2 is loaded');

    // By default the editor is on loopback only: another address of this machine gets nothing.
    const lan = nonLoopbackAddress();
    if (lan) assert.equal((await get(`http://${lan}:${editorPort}/`)).status, 0, `editor not reachable at ${lan}`);
    assert.ok(!out().includes('WARNING'), 'no exposure warning on loopback');

    // Frames reach the runtime: latest.jpg is written, rewritten, and decodes.
    const file = join(userDir, 'latest.jpg');
    const deadline = Date.now() + 30_000;
    while (!existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    assert.ok(existsSync(file), `latest.jpg written by the demo flow\n${out()}`);
    const m1 = statSync(file).mtimeMs;
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(statSync(file).mtimeMs > m1, 'latest.jpg keeps being rewritten');
    let decoded = decodeJpeg(readFileSync(file));
    if (!decoded.ok) { await new Promise((r) => setTimeout(r, 300)); decoded = decodeJpeg(readFileSync(file)); } // caught mid-write
    assert.ok(decoded.ok, `latest.jpg decodes: ${decoded.error}`);

    // The live view the start message names serves the camera: a snapshot that decodes.
    const snap = await fetch(`http://127.0.0.1:${editorPort}/camera/demo/snapshot.jpg`);
    assert.equal(snap.status, 200);
    assert.equal(snap.headers.get('content-type'), 'image/jpeg');
    const snapped = decodeJpeg(Buffer.from(await snap.arrayBuffer()));
    assert.ok(snapped.ok, `the live view's snapshot decodes: ${snapped.error}`);

    // The demo camera plays its scripted scene: an object walks across 8 s after it started,
    // the flow's motion node reports it and its record node writes a clip of it.
    const clips = join(userDir, 'clips');
    const closedClip = (): string | null => {
      if (!existsSync(clips)) return null;
      for (const f of readdirSync(clips)) {
        const b = readFileSync(join(clips, f));
        if (f.endsWith('.avi') && b.length > 48 && (b.readUInt32LE(44) & 0x10) !== 0) return join(clips, f);
      }
      return null;
    };
    const clipDeadline = Date.now() + 60_000;
    while (!closedClip() && Date.now() < clipDeadline) await new Promise((r) => setTimeout(r, 500));
    const clip = closedClip();
    assert.ok(clip, `a motion clip in ${clips}\n${out().slice(-2000)}`);
    assert.ok(readAviFrames(readFileSync(clip)).frames.length > 20, 'the clip holds the walk');

    const tree = descendants(child.pid!);
    assert.ok(tree.length >= 2, 'demo camera and Node-RED run as children');
    const code = await run.stop();
    assert.equal(code, 0, out().slice(-2000));
    await new Promise((r) => setTimeout(r, 500));
    for (const pid of tree) assert.ok(!alive(pid), `process ${pid} left running after Ctrl-C`);
    assert.equal(await portOpen(editorPort), false, 'editor port closed');
    assert.equal(await portOpen(camPort), false, 'demo camera port closed');
  } finally {
    // after a failure: everything it started goes, then its folder (Node-RED may still be
    // writing into it), without an error here hiding the test's own
    for (const pid of descendants(child.pid ?? 0)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await run.exited(10_000).catch(() => null);
    try { rmSync(userDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }); } catch { /* a temp folder */ }
  }
});
