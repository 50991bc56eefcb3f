/**
 * `connect: on demand` against GStreamer's RTSP server, counted on the server's side: no RTSP
 * connection while nobody watches, the first viewer of an `mjpeg http out` connects the
 * camera (first frame well under a second on loopback), and the linger after the last viewer
 * ends in exactly one TEARDOWN, none before it. The linger is 2 s here so the suite stays
 * short; the default (10 s) is the same rule, proven with mock timers in the unit tests.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessPeer, startGstServer, type GstServer } from '../support/peers';
import { helper, sleep, until, type FlowNode } from '../support/node-red-helper';
import { startHttpNodeServer, type HttpNodeServer } from '../support/http-node';
import { openMjpeg, httpGet, waitUntil, type MjpegClient } from '../support/mjpeg-client';
import { decodeJpeg } from '../support/djpeg';
import cameraNode from '../../src/nodes/rtsp-camera';
import httpOutNode from '../../src/nodes/mjpeg-http-out';

const LINGER_S = 2;

describe('GStreamer RTSP server: a camera connected on demand', () => {
  let gst: GstServer | null = null;
  let http: HttpNodeServer | null = null;
  const clients: MjpegClient[] = [];
  before(async () => {
    await helper.startServer();
    http = await startHttpNodeServer();
  });
  after(async () => {
    for (const c of clients) c.close();
    await helper.unload();
    await http?.close();
    await helper.stopServer();
    await gst?.stop();
  });

  test('no connection idle; the first viewer connects; exactly one TEARDOWN a linger after the last viewer left', async (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server', 'djpeg')) return;
    const server = await startGstServer({ fps: 25, protocols: 'tcp', duration: 90 });
    gst = server;
    const h = http as HttpNodeServer;
    const flow: FlowNode[] = [
      { id: 'f1', type: 'tab' },
      { id: 'cam', type: 'rtsp-camera', name: 'gst', url: server.url, transport: 'tcp', connect: 'on demand', linger: LINGER_S },
      { id: 'o1', type: 'mjpeg http out', z: 'f1', camera: 'cam', path: '/gst', maxFps: 0, maxViewers: 10 },
    ];
    await helper.load([cameraNode, h.wrap(httpOutNode)], flow);
    await sleep(1000);
    assert.equal(server.connections(), 0, 'no RTSP connection while nobody watches');

    const t0 = Date.now();
    const a = await openMjpeg(`${h.base}/gst`, { keep: 10 });
    clients.push(a);
    assert.ok(await waitUntil(() => a.count >= 1, 5000), 'a first frame');
    const firstFrameMs = Date.now() - t0;
    assert.ok(firstFrameMs < 1000, `first frame after ${firstFrameMs} ms`);
    const b = await openMjpeg(`${h.base}/gst`, { keep: 10 });
    clients.push(b);
    assert.ok(await waitUntil(() => b.count >= 5 && a.count >= 10, 5000));
    assert.equal(server.connections(), 1, 'one RTSP connection for two viewers');
    for (const jpeg of [...a.kept, ...b.kept]) assert.ok(decodeJpeg(jpeg).ok);

    a.close();
    b.close();
    const left = Date.now();
    await sleep(LINGER_S * 1000 * 0.6);
    assert.equal(server.teardowns(), 0, 'no TEARDOWN during the linger');
    await until(() => server.teardowns() >= 1, 'a TEARDOWN after the linger', 5000);
    const after = (Date.now() - left) / 1000;
    assert.ok(after >= LINGER_S * 0.9, `TEARDOWN ${after.toFixed(1)} s after the last viewer left`);
    await sleep(1500);
    assert.equal(server.teardowns(), 1, 'exactly one TEARDOWN');
    assert.equal(server.connections(), 1, 'and no new connection after it');

    // a snapshot on the idle camera connects it once more and answers the first frame
    const snap = await httpGet(`${h.base}/gst/snapshot.jpg`);
    assert.equal(snap.status, 200);
    assert.ok(decodeJpeg(snap.body).ok);
    assert.equal(server.connections(), 2);
    await until(() => server.teardowns() === 2, 'TEARDOWN after the snapshot\'s linger', 6000);
  });
});
