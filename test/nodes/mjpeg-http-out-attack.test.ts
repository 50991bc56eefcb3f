/**
 * `mjpeg http out` against clients that a browser would never be, in a Node-RED 4 runtime
 * (node-red-node-test-helper) with RED.httpNode served on a free port and an on-demand demo
 * camera, over raw TCP:
 * - stream requests pipelined on one keep-alive connection (and a snapshot with ten streams
 *   in one write), the connection closed: no viewer place stays taken, a new viewer gets in,
 *   the camera gets its TEARDOWN after the linger;
 * - clients that are gone by the time an asynchronous httpNodeMiddleware or httpNodeAuth lets
 *   their request through: no place taken, no camera session opened for them.
 */
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeAPI } from 'node-red';
import { helper, until, type FlowNode } from '../support/node-red-helper';
import cameraNode from '../../src/nodes/rtsp-camera';
import httpOutNode from '../../src/nodes/mjpeg-http-out';
import type { MjpegViewers } from '../../src/http/mjpeg-viewers';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { openMjpeg, type MjpegClient } from '../support/mjpeg-client';
import { get, rawClient, startNodeServer, statusTexts, type Middleware, type NodeServer, type RawClient } from './mjpeg-http-out-kit';

let server: NodeServer;
let NODES: ((RED: NodeAPI) => void)[] = [];
let demo: DemoCamera | null = null;
const raws: RawClient[] = [];
const clients: MjpegClient[] = [];

const tab: FlowNode = { id: 'f1', type: 'tab' };
const cam = (url: string, extra: Record<string, unknown> = {}): FlowNode =>
  ({ id: 'cam', type: 'rtsp-camera', name: 'demo', url, transport: 'tcp', connect: 'on demand', linger: 1, ...extra });
const out = (id: string, path: string, extra: Record<string, unknown> = {}): FlowNode =>
  ({ id, type: 'mjpeg http out', z: 'f1', camera: 'cam', path, maxFps: 0, maxViewers: 5, ...extra });

async function raw(opts: { read?: boolean } = {}): Promise<RawClient> {
  const c = await rawClient(server.port, opts);
  raws.push(c);
  return c;
}
const hubOf = (id: string): MjpegViewers => {
  const hub = (helper.getNode(id) as unknown as { viewers: MjpegViewers | null }).viewers;
  assert.ok(hub, 'the node serves its path');
  return hub;
};

before(async () => {
  await helper.startServer();
  server = await startNodeServer();
  NODES = [cameraNode, server.wrap(httpOutNode)];
});
afterEach(async () => {
  for (const c of raws.splice(0)) c.close();
  for (const c of clients.splice(0)) c.close();
  server.setAuth(null);
  await helper.unload();
  helper.settings({});
  if (demo) await demo.close();
  demo = null;
});
after(async () => {
  await server.close();
  await helper.stopServer();
});

describe('pipelined requests', () => {
  test('ten stream GETs on one keep-alive connection, closed: no viewers, a new viewer gets 200, TEARDOWN after the linger', async () => {
    const d = (demo = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 10 }));
    await helper.load(NODES, [tab, cam(d.url), out('o1', '/p')]);
    const node = helper.getNode('o1');
    const c = await raw();
    c.socket.write(Array.from({ length: 10 }, () => get('/p')).join(''));
    // the first stream plays while nine wait behind it on the connection
    await until(() => c.received().indexOf('Content-Type: image/jpeg') >= 0, 'the first stream shows frames');
    await until(() => (c.received().toString('latin1').match(/Content-Type: image\/jpeg/g) ?? []).length >= 10, 'ten frames on the first stream');
    assert.deepEqual(c.statuses(), [200], 'one response: the others wait for it');
    c.close();
    await until(() => statusTexts(node).at(-1) === 'no viewers', `status "no viewers" (now "${statusTexts(node).at(-1) ?? ''}")`, 3000);
    assert.equal(hubOf('o1').viewerCount, 0);
    const v = await openMjpeg(`${server.base}/p`);
    clients.push(v);
    assert.equal(v.status, 200, 'a new viewer gets in');
    v.close();
    await until(() => hubOf('o1').viewerCount === 0, 'the new viewer left');
    await until(() => d.stats.teardowns === 1 && d.stats.activeSessions === 0, `TEARDOWN after the linger (teardowns ${d.stats.teardowns}, sessions ${d.stats.activeSessions})`, 6000);
  });

  test('a snapshot GET and ten stream GETs in one write, closed after 5 ms: nothing stays taken, TEARDOWN after the linger', async () => {
    const d = (demo = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 10 }));
    await helper.load(NODES, [tab, cam(d.url), out('o1', '/q')]);
    const node = helper.getNode('o1');
    const c = await raw();
    c.socket.write(get('/q/snapshot.jpg') + Array.from({ length: 10 }, () => get('/q')).join(''));
    await new Promise<void>((r) => setTimeout(r, 5));
    c.close();
    // the snapshot woke the on-demand camera; with the client gone nothing holds it
    await until(() => d.stats.connections >= 1, 'the snapshot asked the camera for a frame');
    const hub = hubOf('o1');
    await until(() => hub.viewerCount === 0 && hub.pendingSnapshots === 0, `nothing pending (viewers ${hub.viewerCount}, snapshots ${hub.pendingSnapshots})`, 3000);
    const v = await openMjpeg(`${server.base}/q`);
    clients.push(v);
    assert.equal(v.status, 200);
    v.close();
    await until(() => statusTexts(node).at(-1) === 'no viewers', 'status "no viewers"');
    await until(() => d.stats.activeSessions === 0 && d.stats.teardowns >= 1, `TEARDOWN after the linger (sessions ${d.stats.activeSessions})`, 6000);
  });
});

describe('clients gone before the route runs', () => {
  for (const where of ['httpNodeMiddleware', 'httpNodeAuth'] as const) {
    test(`${where} that calls next() 300 ms later: ten clients gone after 50 ms leave no viewer, no snapshot, no session`, async () => {
      const d = (demo = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 10 }));
      let passed = 0;
      const slow: Middleware = (_req, _res, next) => {
        setTimeout(() => {
          next();
          passed++;
        }, 300);
      };
      if (where === 'httpNodeMiddleware') helper.settings({ httpNodeMiddleware: slow });
      else server.setAuth(slow);
      await helper.load(NODES, [tab, cam(d.url), out('o1', '/m', { maxViewers: 10 })]);
      const node = helper.getNode('o1');
      const gone: RawClient[] = [];
      for (let i = 0; i < 10; i++) {
        const c = await raw();
        c.socket.write(get(i % 2 ? '/m/snapshot.jpg' : '/m'));
        gone.push(c);
      }
      await new Promise<void>((r) => setTimeout(r, 50));
      for (const c of gone) c.close();
      await until(() => passed === 10, `the ${where} let all ten through (${passed})`);
      const hub = hubOf('o1');
      assert.equal(hub.viewerCount, 0, 'no viewer place taken');
      assert.equal(hub.pendingSnapshots, 0, 'no snapshot waiting');
      assert.ok(!statusTexts(node).some((t) => /viewer/.test(t) && t !== 'no viewers'), statusTexts(node).join(' | '));
      // a later viewer comes through the same middleware and plays
      const v = await openMjpeg(`${server.base}/m`);
      clients.push(v);
      assert.equal(v.status, 200);
      await until(() => v.count >= 1, 'frames for the real viewer');
      v.close();
      await until(() => d.stats.activeSessions === 0 && d.stats.teardowns === 1, `one TEARDOWN after the linger (sessions ${d.stats.activeSessions}, teardowns ${d.stats.teardowns})`, 6000);
      assert.equal(d.stats.setups, 1, 'the gone clients opened no session of their own');
    });
  }
});
