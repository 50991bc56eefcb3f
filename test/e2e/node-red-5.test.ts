/**
 * The same install-and-deploy check in Node-RED 5 on Node 22 (Node-RED 5 refuses Node < 22.9,
 * this machine's Node is 20): a Node 22 binary and node-red@5 from the npm registry, the
 * packed package installed into a fresh user dir with that Node's npm, then the palette check
 * and the MQTT example against mosquitto and the demo camera; `mjpeg http out` on Node-RED 5's
 * Express 5 (its routes are taken off another router stack than Express 4's).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { packedTarball } from './support/package-tarball';
import { makeUserDir, removeDir, startNodeRed, withLogs, type NodeRed } from './support/node-red';
import { startMosquitto, type Broker } from './support/mosquitto';
import { subscribe } from './support/mqtt-subscriber';
import { mqttExampleFlow, topicsOf } from './support/flows';
import { checkPalette } from './support/palette';
import { assertDecodes, assertWholeJpegs } from './support/jpeg-checks';
import { node22, nodeRed5 } from './support/node22';
import { sleep, until } from './support/processes';
import { decodeJpeg } from '../support/djpeg';

describe('Node-RED 5 on Node 22 with the packed package', { timeout: 480_000 }, () => {
  let broker: Broker | undefined;
  let cam: DemoCamera | undefined;
  let nr: NodeRed | undefined;
  let dir: string | undefined;

  before(async () => {
    const tgz = await packedTarball();
    const node = await node22();
    const red = await nodeRed5(node.bin);
    dir = await makeUserDir(tgz, 'nr5', { nodeBin: node.bin });
    broker = await startMosquitto();
    cam = await startDemoCamera({ port: 0, fps: 8, width: 320, height: 240 });
    nr = await startNodeRed({ userDir: dir, label: 'nr5', nodeBin: node.bin, redJs: red.redJs });
    const banner = nr.child.output();
    assert.match(banner, /Node-RED version: v5\./, 'runs Node-RED 5');
    assert.match(banner, /Node\.js\s+version: v22\./, 'runs on Node 22');
  });

  after(async () => {
    await nr?.stop();
    await Promise.allSettled([broker?.stop(), cam?.close()]);
    removeDir(dir);
  });

  test('palette: the four node types, help, icons and examples', async () => {
    await checkPalette(nr!);
  });

  test('MQTT example deploys and publishes decodable JPEGs and rtcp stats', async () => {
    const flow = mqttExampleFlow({ brokerPort: broker!.port, cameraUrl: cam!.url, statsInterval: 1 });
    const topics = topicsOf(flow);
    const sub = await subscribe(broker!.port, [topics.jpeg, topics.stats]);
    try {
      await withLogs([nr], async () => {
        await nr!.deploy(flow);
        await until(() => sub.messages(topics.jpeg).length >= 3 && sub.messages(topics.stats).length >= 1, 'JPEGs and stats over MQTT', 20_000);
        const frames = sub.messages(topics.jpeg).map((m) => m.payload);
        assertWholeJpegs(frames, 'nr5 jpeg');
        assertDecodes(frames, { width: 320, height: 240 }, 'nr5 jpeg');
        const stats = JSON.parse(sub.messages(topics.stats).at(-1)!.payload.toString('utf8')) as { state: string; framesEmitted: number };
        assert.equal(stats.state, 'playing');
        assert.ok(stats.framesEmitted > 0);
        const bad = nr!.child.output().split('\n').filter((l) => /\[(error|warn)\]/.test(l) && /rtsp|rtcp|camera/i.test(l));
        assert.deepEqual(bad, [], 'errors in the Node-RED 5 log');
      });
    } finally {
      await sub.close();
    }
  });

  test('mjpeg http out on Express 5: snapshot and stream; a changed path answers 404 at the old one', () => withLogs([nr], async () => {
    const flow = (path: string): Record<string, unknown>[] => [
      { id: 'nr5tab', type: 'tab', label: 'live' },
      { id: 'nr5cam', type: 'rtsp-camera', name: 'demo', url: cam!.url, transport: 'tcp' },
      { id: 'nr5out', type: 'mjpeg http out', z: 'nr5tab', camera: 'nr5cam', path, maxFps: 0, maxViewers: 10, wires: [] },
    ];
    await nr!.deploy(flow('/nr5/a'));
    let snap: Buffer | null = null;
    await until(async () => {
      const r = await nr!.http('GET', '/nr5/a/snapshot.jpg', undefined, { accept: 'image/jpeg' });
      if (r.status === 200) snap = r.body;
      return r.status === 200;
    }, 'a snapshot', 20_000);
    assert.ok(decodeJpeg(snap as unknown as Buffer).ok);
    const head = await nr!.http('HEAD', '/nr5/a');
    assert.match(String(head.headers['content-type']), /^multipart\/x-mixed-replace/);
    await nr!.deploy(flow('/nr5/b'));
    await sleep(300);
    assert.equal((await nr!.http('GET', '/nr5/a/snapshot.jpg')).status, 404, 'old path gone');
    await until(async () => (await nr!.http('GET', '/nr5/b/snapshot.jpg')).status === 200, 'new path serves', 20_000);
  }));
});
