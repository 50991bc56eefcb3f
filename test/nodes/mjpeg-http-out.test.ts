/**
 * `mjpeg http out` in a Node-RED 4 runtime (node-red-node-test-helper) with RED.httpNode
 * served on a free port, against the built-in demo camera: the stream as a plain HTTP client
 * reads it (every part decodes with djpeg, the camera's rate), snapshots, the camera-less
 * input mode, routes gone after redeploy, duplicate paths, maxViewers, per-viewer fps, the
 * status line; `connect: on demand` (no connection without a viewer, one TEARDOWN a linger
 * after the last one), and start/stop of `rtsp-mjpeg in`.
 */
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { helper, collect, until, sleep, type FlowNode } from '../support/node-red-helper';
import cameraNode from '../../src/nodes/rtsp-camera';
import mjpegInNode from '../../src/nodes/rtsp-mjpeg-in';
import httpOutNode from '../../src/nodes/mjpeg-http-out';
import { startDemoCamera, type DemoCamera, type DemoCameraOptions } from '../../src/sim/demo-camera';
import { decodeJpeg } from '../support/djpeg';
import { openMjpeg, httpGet, waitUntil, type MjpegClient } from '../support/mjpeg-client';
import { startHttpNodeServer, type HttpNodeServer } from '../support/http-node';

let server: HttpNodeServer | null = null;
let NODES: ((RED: NodeAPI) => void)[] = [];
let base = '';
let demo: DemoCamera | null = null;
const clients: MjpegClient[] = [];

async function camera(opts: DemoCameraOptions = {}): Promise<DemoCamera> {
  demo = await startDemoCamera({ port: 0, width: 320, height: 240, fps: 15, ...opts });
  return demo;
}
async function view(path: string, o: Parameters<typeof openMjpeg>[1] = {}): Promise<MjpegClient> {
  const c = await openMjpeg(base + path, o);
  clients.push(c);
  return c;
}

const tab: FlowNode = { id: 'f1', type: 'tab' };
const cam = (url: string, extra: Record<string, unknown> = {}): FlowNode => ({ id: 'cam', type: 'rtsp-camera', name: 'demo', url, transport: 'tcp', ...extra });
const out = (id: string, path: string, extra: Record<string, unknown> = {}): FlowNode =>
  ({ id, type: 'mjpeg http out', z: 'f1', camera: 'cam', path, maxFps: 0, maxViewers: 10, ...extra });
const FIXTURE = readFileSync(join(__dirname, '..', 'fixtures', 'jpeg', 'q50-420.jpg'));

/** calls of one node's method: the helper's spies sit on the shared Node prototype */
function callsOf(n: Node, method: 'status' | 'error'): unknown[][] {
  const spy = (n as unknown as Record<string, { getCalls(): { thisValue: unknown; args: unknown[] }[] }>)[method];
  return (spy?.getCalls() ?? []).filter((c) => c.thisValue === n).map((c) => c.args);
}
function statusTexts(n: Node): string[] {
  return callsOf(n, 'status').map((a) => String((a[0] as { text?: string } | undefined)?.text ?? ''));
}
function errorCount(n: Node): number {
  return callsOf(n, 'error').length;
}

before(async () => {
  await helper.startServer();
  server = await startHttpNodeServer();
  base = server.base;
  NODES = [cameraNode, mjpegInNode, server.wrap(httpOutNode)];
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await helper.unload();
  if (demo) await demo.close();
  demo = null;
});
after(async () => {
  await server?.close();
  await helper.stopServer();
});

describe('mjpeg http out', () => {
  test('a plain HTTP client reads 3 s of the stream: every part decodes with djpeg, at the camera\'s rate', async () => {
    const d = await camera({ fps: 15 });
    await helper.load(NODES, [tab, cam(d.url), out('o1', '/cameras/front')]);
    const c = await view('/cameras/front', { keep: 1000 });
    assert.equal(c.status, 200);
    assert.match(String(c.headers['content-type']), /^multipart\/x-mixed-replace; boundary=/);
    assert.match(String(c.headers['cache-control']), /no-store/);
    assert.ok(await waitUntil(() => c.count >= 2, 5000), 'frames flow');
    const [c0, s0] = [c.count, d.stats.framesSent];
    await sleep(3000);
    const [c1, s1] = [c.count, d.stats.framesSent];
    const got = c1 - c0;
    const sent = s1 - s0;
    assert.ok(Math.abs(got - sent) <= Math.max(1, sent * 0.1), `viewer got ${got} frames while the camera sent ${sent}`);
    assert.deepEqual(c.errors, []);
    for (const [i, jpeg] of c.kept.entries()) {
      const r = decodeJpeg(jpeg);
      assert.ok(r.ok, `part ${i}: ${r.error ?? ''}`);
      assert.equal(r.width, 320);
      assert.equal(r.height, 240);
    }
    const node = helper.getNode('o1');
    assert.ok(statusTexts(node).some((t) => /^1 viewer · \d+ fps$/.test(t)), `status: ${statusTexts(node).join(' | ')}`);
    c.close();
    await until(() => statusTexts(node).at(-1) === 'no viewers', 'status back to "no viewers"');

    const snap = await httpGet(`${base}/cameras/front/snapshot.jpg`);
    assert.equal(snap.status, 200);
    assert.equal(snap.headers['content-type'], 'image/jpeg');
    assert.match(String(snap.headers['cache-control']), /no-store/);
    const r = decodeJpeg(snap.body);
    assert.ok(r.ok && r.width === 320, `snapshot decodes: ${r.error ?? ''}`);
  });

  test('without a camera: serves the JPEG Buffers of its input; bad input is reported once', async () => {
    await helper.load(NODES, [tab, out('o1', '/annotated', { camera: '' })]);
    const node = helper.getNode('o1');
    const c = await view('/annotated', { keep: 10 });
    assert.equal(c.status, 200);
    await until(() => statusTexts(node).at(-1) === '1 viewer · waiting', `status ${statusTexts(node).at(-1)}`);
    for (let i = 0; i < 3; i++) {
      node.receive({ payload: FIXTURE });
      await sleep(20);
    }
    assert.ok(await waitUntil(() => c.count === 3, 3000), `got ${c.count}`);
    assert.ok(c.kept.every((b) => b.equals(FIXTURE)));
    for (let i = 0; i < 3; i++) node.receive({ payload: 'not a jpeg' });
    node.receive({ payload: Buffer.from('GIF89a') });
    await sleep(50);
    assert.equal(errorCount(node), 1, 'one error for a run of bad messages');
    const snap = await httpGet(`${base}/annotated/snapshot.jpg`);
    assert.ok(snap.body.equals(FIXTURE));
  });

  test('redeploy with the path changed: the old path answers 404, the new one streams; deleted: 404', async () => {
    const d = await camera();
    await helper.load(NODES, [tab, cam(d.url), out('o1', '/old')]);
    const c = await view('/old');
    assert.ok(await waitUntil(() => c.count >= 1, 5000));
    await helper.setFlows([tab, cam(d.url), out('o1', '/new')], 'nodes');
    assert.ok(await waitUntil(() => c.ended, 3000), 'the old stream was closed');
    assert.equal((await httpGet(`${base}/old`)).status, 404);
    assert.equal((await httpGet(`${base}/old/snapshot.jpg`)).status, 404);
    const n = await view('/new', { keep: 3 });
    assert.ok(await waitUntil(() => n.count >= 2, 5000), 'the new path streams');
    assert.ok(n.kept.every((b) => decodeJpeg(b).ok));
    n.close();
    await helper.setFlows([tab, cam(d.url)], 'nodes');
    assert.equal((await httpGet(`${base}/new`)).status, 404);
  });

  test('two nodes on one path: the second names the first (status, log and Catch); deleting the first hands the path over', async () => {
    const d = await camera();
    const catcher = { id: 'c1', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['hc']] };
    const flow = [tab, cam(d.url), out('o1', '/same', { name: 'front door' }), out('o2', 'same/', { name: 'spare' }), catcher, { id: 'hc', type: 'helper', z: 'f1' }];
    await helper.load(NODES, flow);
    const caught: NodeMessage[] = [];
    helper.getNode('hc').on('input', (m: NodeMessage) => caught.push(m));
    const [a, b] = [helper.getNode('o1'), helper.getNode('o2')];
    const loser = statusTexts(a).some((t) => t.startsWith('path in use')) ? a : b;
    const winner = loser === a ? b : a;
    const winnerName = winner === a ? '"front door"' : '"spare"';
    assert.ok(statusTexts(loser).includes(`path in use by ${winnerName}`), statusTexts(loser).join(' | '));
    await until(() => caught.length === 1, 'the duplicate path reaches the Catch node');
    const err = caught[0]?.error as { message: string; source: { id: string } };
    assert.equal(err.source.id, loser.id);
    assert.match(err.message, new RegExp(`/same is already served by mjpeg http out ${winnerName}`));
    assert.equal(errorCount(loser), 1);
    assert.ok(!statusTexts(winner).some((t) => t.startsWith('path in use')));
    const c = await view('/same');
    assert.ok(await waitUntil(() => c.count >= 1, 5000));
    c.close();

    // the owner is deleted (a partial deploy): the other node serves the path, without a redeploy of its own
    await helper.setFlows(flow.filter((n) => n.id !== winner.id), 'nodes');
    assert.equal(helper.getNode(loser.id), loser, 'the other node was not redeployed');
    await until(() => statusTexts(loser).at(-1) === 'no viewers', `the other node serves: ${statusTexts(loser).at(-1) ?? ''}`);
    const again = await view('/same', { keep: 2 });
    assert.equal(again.status, 200);
    assert.ok(await waitUntil(() => again.count >= 1, 5000), 'frames from the node that took the path over');
  });

  test('past maxViewers: 503 with Retry-After; ?fps=N thins one viewer', async () => {
    const d = await camera({ fps: 15 });
    await helper.load(NODES, [tab, cam(d.url), out('o1', '/cam', { maxViewers: 2 })]);
    const all = await view('/cam');
    const thin = await view('/cam?fps=3');
    const third = await httpGet(`${base}/cam`);
    assert.equal(third.status, 503);
    assert.ok(Number(third.headers['retry-after']) > 0);
    assert.equal((await httpGet(`${base}/cam?fps=abc`)).status, 400);
    assert.ok(await waitUntil(() => all.count >= 30, 8000));
    assert.ok(thin.count < all.count / 2, `fps=3 viewer got ${thin.count} frames, the full one ${all.count}`);
    assert.ok(thin.count >= 2);
    await until(() => /^2 viewers · \d+ fps$/.test(statusTexts(helper.getNode('o1')).at(-1) ?? ''), 'status "2 viewers · N fps"');
  });
});

describe('connect: on demand', () => {
  test('no RTSP connection without a viewer; the first viewer connects it; one TEARDOWN a linger after the last left', async () => {
    const d = await camera({ fps: 15 });
    await helper.load(NODES, [tab, cam(d.url, { connect: 'on demand', linger: 1 }), out('o1', '/od')]);
    await sleep(500);
    assert.equal(d.stats.connections, 0, 'no connection while nobody watches');
    const t0 = Date.now();
    const a = await view('/od');
    const b = await view('/od');
    assert.ok(await waitUntil(() => a.count >= 1, 5000), 'frames');
    const firstFrameMs = Date.now() - t0;
    assert.ok(firstFrameMs < 1000, `first frame after ${firstFrameMs} ms`);
    assert.equal(d.stats.setups, 1, 'one session for two viewers');
    a.close();
    await sleep(1500);
    assert.equal(d.stats.teardowns, 0, 'a viewer remains');
    b.close();
    await sleep(500);
    assert.equal(d.stats.teardowns, 0, 'lingers');
    await until(() => d.stats.teardowns === 1, 'TEARDOWN after the linger', 3000);
    await sleep(1000);
    assert.equal(d.stats.teardowns, 1);
    assert.equal(d.stats.connections, 1, 'no reconnect after the TEARDOWN');

    // a snapshot on the idle camera connects it, gets a fresh frame, then lingers
    const snap = await httpGet(`${base}/od/snapshot.jpg`);
    assert.equal(snap.status, 200);
    assert.ok(decodeJpeg(snap.body).ok);
    assert.equal(d.stats.setups, 2);
    await until(() => d.stats.teardowns === 2, 'TEARDOWN after the snapshot\'s linger', 4000);
  });

  test('rtsp-mjpeg in: startOnDeploy off shows "stopped" and holds no connection; start and stop', async () => {
    const d = await camera({ fps: 15 });
    await helper.load(NODES, [tab, cam(d.url, { connect: 'on demand', linger: 0.5 }),
      { id: 'in1', type: 'rtsp-mjpeg in', z: 'f1', camera: 'cam', maxFps: 0, mode: 'stream', startOnDeploy: false, wires: [['h1']] },
      { id: 'h1', type: 'helper', z: 'f1' }]);
    const node = helper.getNode('in1');
    await sleep(500);
    assert.equal(statusTexts(node).at(-1), 'stopped');
    assert.equal(d.stats.connections, 0);
    const got = collect('h1', 3);
    node.receive({ payload: 'start' });
    await got;
    assert.equal(d.stats.setups, 1);
    node.receive({ payload: 'stop' });
    assert.equal(statusTexts(node).at(-1), 'stopped');
    await until(() => d.stats.teardowns === 1, 'TEARDOWN after stop and linger', 4000);
    const h = helper.getNode('h1') as unknown as { on(e: string, f: () => void): void };
    let after = 0;
    h.on('input', () => after++);
    await sleep(500);
    assert.equal(after, 0, 'a stopped node sends nothing');
    assert.equal(statusTexts(node).at(-1), 'stopped');
  });

  test('connect: always (the default) connects at deploy, as before', async () => {
    const d = await camera();
    await helper.load(NODES, [tab, cam(d.url), out('o1', '/al')]);
    await until(() => d.stats.plays === 1, 'PLAY without a viewer');
  });
});
