/**
 * End-to-end in a real Node-RED 4.1 (the devDependency), the way a user installs the
 * package: `npm pack` → `npm install <tgz>` in a fresh user directory → `node-red`. Then the
 * MQTT example against a real mosquitto and the demo camera, with a separate MQTT subscriber,
 * and the scale-out layout of the README: two Node-RED instances, each owning one camera,
 * publishing into one broker.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { packedTarball } from './support/package-tarball';
import { makeUserDir, removeDir, startNodeRed, withLogs, type NodeRed } from './support/node-red';
import { startMosquitto, type Broker } from './support/mosquitto';
import { subscribe, type Subscriber } from './support/mqtt-subscriber';
import { mqttExampleFlow, topicsOf } from './support/flows';
import { checkPalette } from './support/palette';
import { assertDecodes, assertWholeJpegs } from './support/jpeg-checks';
import { sleep, until } from './support/processes';

interface StatsMessage {
  ssrc: number; packetsReceived: number; packetsExpected: number; packetsLost: number; fractionLost: number;
  jitterMs: number; framesEmitted: number; framesDropped: number; fps: number; bitrateKbps: number;
  senderReport: unknown; transport: string; state: string;
}

const STATS_KEYS = ['ssrc', 'packetsReceived', 'packetsExpected', 'packetsLost', 'fractionLost', 'jitterMs', 'framesEmitted',
  'framesDropped', 'fps', 'bitrateKbps', 'senderReport', 'transport', 'state'];

function assertStats(raw: Buffer, camFps: number, what: string): StatsMessage {
  const s = JSON.parse(raw.toString('utf8')) as StatsMessage;
  for (const k of STATS_KEYS) assert.ok(k in s, `${what}: stats has ${k}`);
  assert.equal(s.transport, 'tcp', `${what}: transport`);
  assert.equal(s.state, 'playing', `${what}: state`);
  assert.ok(s.packetsReceived > 0 && s.framesEmitted > 0, `${what}: packets and frames counted`);
  assert.equal(s.packetsLost, 0, `${what}: no loss on 127.0.0.1 over TCP`);
  assert.ok(s.fps > camFps * 0.5 && s.fps < camFps * 1.5, `${what}: fps ${s.fps} near the camera's ${camFps}`);
  return s;
}

/** Node-RED's log must not show errors from this package's nodes. */
function assertCleanLog(nr: NodeRed, what: string): void {
  const bad = nr.child.output().split('\n').filter((l) => /\[(error|warn)\]/.test(l) && /rtsp|rtcp|camera/i.test(l));
  assert.deepEqual(bad, [], `${what}: errors in the Node-RED log`);
}

describe('Node-RED 4.1 with the packed package', { timeout: 240_000 }, () => {
  let broker: Broker | undefined;
  let camA: DemoCamera | undefined;
  let camB: DemoCamera | undefined;
  let nr1: NodeRed | undefined;
  let nr2: NodeRed | undefined;
  const dirs: string[] = [];
  let tgz = '';

  before(async () => {
    tgz = await packedTarball();
    broker = await startMosquitto();
    camA = await startDemoCamera({ port: 0, fps: 10, width: 640, height: 480, path: '/cam-a' });
    camB = await startDemoCamera({ port: 0, fps: 6, width: 320, height: 240, path: '/cam-b' });
    const dir = await makeUserDir(tgz, 'nr4-a');
    dirs.push(dir);
    nr1 = await startNodeRed({ userDir: dir, label: 'nr4-a' });
  });

  after(async () => {
    await Promise.allSettled([nr1?.stop(), nr2?.stop()]);
    await Promise.allSettled([broker?.stop(), camA?.close(), camB?.close()]);
    for (const d of dirs) removeDir(d);
  });

  test('palette: the four node types load from the user directory, with help, icons and examples', async () => {
    await checkPalette(nr1!);
  });

  test('MQTT example: JPEGs at the example\'s 2 frames/s reach a separate subscriber; rtcp stats on the other topic', async () => {
    const flow = mqttExampleFlow({ brokerPort: broker!.port, cameraUrl: camA!.url });
    const topics = topicsOf(flow);
    assert.deepEqual(topics, { jpeg: 'camera/demo/jpeg', stats: 'camera/demo/stats' });
    const maxFps = Number(flow.find((n) => n.type === 'rtsp-mjpeg in')!.maxFps);
    const sub: Subscriber = await subscribe(broker!.port, [topics.jpeg, topics.stats]);
    try {
      await withLogs([nr1], async () => {
        await nr1!.deploy(flow);
        await until(() => sub.messages(topics.jpeg).length >= 2, 'first JPEGs over MQTT', 20_000);
        // a measured window: the example's rate limit holds while the camera sends 10 frames/s
        const n0 = sub.messages(topics.jpeg).length;
        const sent0 = camA!.stats.framesSent;
        const t0 = Date.now();
        await sleep(5000);
        const secs = (Date.now() - t0) / 1000;
        const got = sub.messages(topics.jpeg).length - n0;
        const sent = camA!.stats.framesSent - sent0;
        assert.ok(sent > 8 * secs * 0.6, `camera sent ${sent} frames in ${secs} s`);
        assert.ok(got >= maxFps * secs * 0.6 && got <= maxFps * secs * 1.4 + 1, `${got} JPEGs in ${secs.toFixed(1)} s at maxFps ${maxFps}`);
        await until(() => sub.messages(topics.stats).length >= 1, 'rtcp stats over MQTT', 15_000);

        const frames = sub.messages(topics.jpeg).map((m) => m.payload);
        assertWholeJpegs(frames, 'mqtt jpeg');
        assertDecodes(frames, { width: 640, height: 480 }, 'mqtt jpeg');
        const stats = assertStats(sub.messages(topics.stats)[0]!.payload, 10, 'mqtt stats');
        assert.ok(stats.framesEmitted >= frames.length, 'stats count the frames the node passed on');
        assertCleanLog(nr1!, 'nr4-a');
      });
    } finally {
      await sub.close();
    }
  });

  test('scale-out: two Node-RED instances, each owning one camera, one broker, one subscriber gets both streams', async () => {
    const dir2 = await makeUserDir(tgz, 'nr4-b');
    dirs.push(dir2);
    nr2 = await startNodeRed({ userDir: dir2, label: 'nr4-b' });
    // every frame (maxFps 0), so each stream runs at its camera's own rate
    const flowA = mqttExampleFlow({ brokerPort: broker!.port, cameraUrl: camA!.url, topicPrefix: 'camera/cam-a/', cameraName: 'cam-a', maxFps: 0, statsInterval: 2 });
    const flowB = mqttExampleFlow({ brokerPort: broker!.port, cameraUrl: camB!.url, topicPrefix: 'camera/cam-b/', cameraName: 'cam-b', maxFps: 0, statsInterval: 2 });
    const tA = topicsOf(flowA);
    const tB = topicsOf(flowB);
    const sub = await subscribe(broker!.port, ['camera/+/jpeg', 'camera/+/stats']);
    try {
      await withLogs([nr1, nr2], async () => {
        await nr1!.deploy(flowA);
        await nr2!.deploy(flowB);
        await until(() => sub.messages(tA.jpeg).length >= 3 && sub.messages(tB.jpeg).length >= 3, 'both streams over MQTT', 20_000);
        const a0 = sub.messages(tA.jpeg).length; const b0 = sub.messages(tB.jpeg).length;
        const sa0 = camA!.stats.framesSent; const sb0 = camB!.stats.framesSent;
        await sleep(5000);
        // compared with what each camera sent in the same window, not with the clock
        const gotA = sub.messages(tA.jpeg).length - a0; const sentA = camA!.stats.framesSent - sa0;
        const gotB = sub.messages(tB.jpeg).length - b0; const sentB = camB!.stats.framesSent - sb0;
        assert.ok(Math.abs(gotA - sentA) <= Math.max(2, sentA * 0.1), `cam-a: ${gotA} received vs ${sentA} sent`);
        assert.ok(Math.abs(gotB - sentB) <= Math.max(2, sentB * 0.1), `cam-b: ${gotB} received vs ${sentB} sent`);
        await until(() => sub.messages(tA.stats).length >= 1 && sub.messages(tB.stats).length >= 1, 'stats of both cameras', 10_000);

        const framesA = sub.messages(tA.jpeg).map((m) => m.payload);
        const framesB = sub.messages(tB.jpeg).map((m) => m.payload);
        assertWholeJpegs(framesA, 'cam-a'); assertWholeJpegs(framesB, 'cam-b');
        assertDecodes(framesA, { width: 640, height: 480 }, 'cam-a');
        assertDecodes(framesB, { width: 320, height: 240 }, 'cam-b');
        const sA = assertStats(sub.messages(tA.stats).at(-1)!.payload, 10, 'cam-a stats');
        const sB = assertStats(sub.messages(tB.stats).at(-1)!.payload, 6, 'cam-b stats');
        assert.notEqual(sA.ssrc, sB.ssrc, 'two different RTP streams');
        // each camera is owned by exactly one instance: one RTSP session each
        assert.equal(camA!.stats.activeSessions, 1, 'cam-a sessions');
        assert.equal(camB!.stats.activeSessions, 1, 'cam-b sessions');
        assertCleanLog(nr1!, 'nr4-a'); assertCleanLog(nr2!, 'nr4-b');
      });
    } finally {
      await sub.close();
    }
  });

  test('stopping Node-RED (SIGTERM) tears its RTSP session down', async () => {
    assert.ok(nr2, 'needs the second instance from the scale-out test');
    const before = camB!.stats.teardowns;
    await nr2.stop();
    await until(() => camB!.stats.activeSessions === 0, 'cam-b session to end', 10_000);
    assert.equal(camB!.stats.teardowns, before + 1, 'one TEARDOWN from the stopped instance');
    assert.equal(camA!.stats.activeSessions, 1, 'the other instance keeps its camera');
  });
});
