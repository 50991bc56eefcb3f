/**
 * The live view under a mix of hostile clients for 60 s (LIVE_VIEW_ATTACK_S to change it),
 * against an on-demand demo camera in a Node-RED 4 runtime (node-red-node-test-helper), behind
 * an asynchronous httpNodeMiddleware: stream and snapshot requests pipelined on one
 * connection and dropped, requests aborted mid-way, viewers and snapshots that never read,
 * normal viewers in between, and 1000 start/stop messages to an `rtsp-mjpeg in` of the same
 * camera. Every normal viewer must get frames throughout; at the end no viewer, no waiting
 * snapshot and no camera session may remain, and the process's file descriptors and heap
 * (after a full GC) must be back near what they were after a warm-up round of the same mix.
 * Randomness is seeded, every loop is bounded in count and in time, and every socket is closed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import type { NodeAPI, NodeMessage } from 'node-red';
import { helper, type FlowNode } from '../support/node-red-helper';
import cameraNode from '../../src/nodes/rtsp-camera';
import mjpegInNode from '../../src/nodes/rtsp-mjpeg-in';
import httpOutNode from '../../src/nodes/mjpeg-http-out';
import type { MjpegViewers } from '../../src/http/mjpeg-viewers';
import { startDemoCamera, type DemoCamera } from '../../src/sim/demo-camera';
import { openMjpeg } from '../support/mjpeg-client';
import { get, rawClient, startNodeServer, type NodeServer, type RawClient } from '../nodes/mjpeg-http-out-kit';
import { heapAfterGc, MB, until } from './support';

const ATTACK_MS = (Number(process.env.LIVE_VIEW_ATTACK_S) || 60) * 1000;
const WARMUP_MS = 5000;
const START_STOP_MESSAGES = 1000;
/** at most this many attack operations at once (the machine is shared) */
const PARALLEL = 12;
const MAX_OPERATIONS = 50_000;
/** the process keeps a few descriptors more or less (log files, the loader's caches) */
const FD_SLACK = 6;
const HEAP_SLACK_MB = 10;

let server: NodeServer;
let demo: DemoCamera;
const open = new Set<RawClient>();

/** mulberry32: a small seeded PRNG, so a failing run can be replayed */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const fds = (): number => readdirSync('/proc/self/fd').length;

/** The test helper's spies keep the arguments of every status, log, send and receive call;
 * they are the test's memory, not the nodes': forget them before the heap is weighed. */
function forgetSpyCalls(): void {
  const h = helper as unknown as { _sandbox?: { resetHistory(): void } };
  h._sandbox?.resetHistory();
}
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Tally {
  operations: Record<string, number>;
  viewersOk: number;
  viewersFailed: string[];
  startStop: number;
}

async function raw(read = true): Promise<RawClient> {
  const c = await rawClient(server.port, { read });
  open.add(c);
  c.socket.once('close', () => open.delete(c));
  return c;
}

/** One attack operation, chosen by `r`; resolves when its client is gone. */
async function operation(r: () => number, tally: Tally): Promise<void> {
  const pick = r();
  const path = (): string => (r() < 0.6 ? '/atk' : '/atk/snapshot.jpg');
  let kind: string;
  if (pick < 0.3) {
    kind = 'pipelined';
    const c = await raw();
    c.socket.write(Array.from({ length: 2 + Math.floor(r() * 9) }, () => get(path())).join(''));
    await wait(Math.floor(r() * 300));
    c.close();
  } else if (pick < 0.55) {
    kind = 'aborted';
    const c = await raw();
    const req = get(path());
    c.socket.write(r() < 0.5 ? req : req.slice(0, Math.floor(r() * req.length)));
    await wait(Math.floor(r() * 40));
    c.close();
  } else if (pick < 0.7) {
    kind = 'deaf viewer';
    const c = await raw(false);
    c.socket.write(get('/atk'));
    await wait(500 + Math.floor(r() * 2500));
    c.close();
  } else if (pick < 0.85) {
    kind = 'deaf snapshot';
    const c = await raw(false);
    c.socket.write(get('/atk/snapshot.jpg'));
    await wait(200 + Math.floor(r() * 1500));
    c.close();
  } else {
    kind = 'viewer';
    const v = await openMjpeg(`${server.base}/atk`, { keep: 0 });
    const deadline = Date.now() + 10_000;
    while (v.status === 200 && v.count < 1 && Date.now() < deadline) await wait(20);
    if (v.status === 200 && v.count >= 1) tally.viewersOk++;
    else tally.viewersFailed.push(`status ${v.status}, ${v.count} frames`);
    v.close();
  }
  tally.operations[kind] = (tally.operations[kind] ?? 0) + 1;
}

/** The mix for `ms`, at most PARALLEL operations at once, plus start/stop messages. */
async function attack(ms: number, seed: number, messages: number): Promise<Tally> {
  const r = prng(seed);
  const tally: Tally = { operations: {}, viewersOk: 0, viewersFailed: [], startStop: 0 };
  const end = Date.now() + ms;
  const running = new Set<Promise<void>>();
  const in1 = helper.getNode('in1');
  const messageEvery = ms / messages;
  let started = 0;
  const nextMessageAt = (): number => end - ms + tally.startStop * messageEvery;
  while (Date.now() < end && started < MAX_OPERATIONS) {
    while (tally.startStop < messages && Date.now() >= nextMessageAt()) {
      in1.receive({ payload: tally.startStop % 2 === 0 ? 'start' : 'stop' } as NodeMessage);
      tally.startStop++;
    }
    if (running.size >= PARALLEL) {
      await Promise.race([...running, wait(20)]);
      continue;
    }
    started++;
    const p: Promise<void> = operation(r, tally).catch((err: unknown) => {
      tally.operations.error = (tally.operations.error ?? 0) + 1;
      tally.viewersFailed.push(String(err));
    }).finally(() => running.delete(p));
    running.add(p);
    await wait(Math.floor(r() * 15));
  }
  while (tally.startStop < messages) {
    in1.receive({ payload: tally.startStop % 2 === 0 ? 'start' : 'stop' } as NodeMessage);
    tally.startStop++;
  }
  await Promise.all(running);
  // an odd count would leave the stream started: it must end stopped, holding nothing
  if (tally.startStop % 2 === 1) in1.receive({ payload: 'stop' } as NodeMessage);
  return tally;
}

const hub = (): MjpegViewers => {
  const h = (helper.getNode('o1') as unknown as { viewers: MjpegViewers | null }).viewers;
  assert.ok(h);
  return h;
};

async function settled(what: string): Promise<void> {
  for (const c of open) c.close();
  await until(() => open.size === 0, `${what}: every attack socket closed`, 10_000);
  await until(() => hub().viewerCount === 0 && hub().pendingSnapshots === 0, `${what}: no viewer (${hub().viewerCount}), no snapshot (${hub().pendingSnapshots})`, 10_000);
  await until(() => demo.stats.activeSessions === 0, `${what}: the camera torn down after the linger (${demo.stats.activeSessions} sessions)`, 15_000);
}

before(async () => {
  await helper.startServer();
  server = await startNodeServer();
  demo = await startDemoCamera({ port: 0, width: 160, height: 120, fps: 10 });
  // the route runs after an asynchronous middleware, so some clients are gone by then
  const r = prng(7);
  helper.settings({ httpNodeMiddleware: (_req: unknown, _res: unknown, next: () => void) => setTimeout(next, Math.floor(r() * 30)) });
  const flow: FlowNode[] = [
    { id: 'f1', type: 'tab' },
    { id: 'cam', type: 'rtsp-camera', name: 'demo', url: demo.url, transport: 'tcp', connect: 'on demand', linger: 1 },
    { id: 'o1', type: 'mjpeg http out', z: 'f1', camera: 'cam', path: '/atk', maxFps: 0, maxViewers: 40 },
    { id: 'in1', type: 'rtsp-mjpeg in', z: 'f1', camera: 'cam', mode: 'stream', startOnDeploy: false, maxFps: 2, wires: [['h1']] },
    { id: 'h1', type: 'helper', z: 'f1' },
  ];
  await helper.load([cameraNode, mjpegInNode, server.wrap(httpOutNode) as (RED: NodeAPI) => void], flow);
});

after(async () => {
  for (const c of open) c.close();
  await helper.unload();
  helper.settings({});
  await server.close();
  await helper.stopServer();
  await demo.close();
});

test(`attack mix for ${ATTACK_MS / 1000} s against an on-demand camera: viewers served throughout; nothing held, fds and heap back afterwards`, { timeout: ATTACK_MS + 120_000 }, async () => {
  const warm = await attack(WARMUP_MS, 1, 20);
  await settled('after the warm-up');
  const fd0 = fds();
  forgetSpyCalls();
  const heap0 = heapAfterGc();
  const sessions0 = demo.stats.setups;

  const t = await attack(ATTACK_MS, 2, START_STOP_MESSAGES);
  await settled('after the attack');
  await until(() => fds() <= fd0 + FD_SLACK, `file descriptors back (${fd0} → ${fds()})`, 10_000);
  forgetSpyCalls();
  const heap1 = heapAfterGc();
  const report = {
    warmup: warm.operations, operations: t.operations, viewersOk: t.viewersOk, startStop: t.startStop,
    sessions: demo.stats.setups - sessions0, fds: [fd0, fds()], heapMB: [+(heap0 / MB).toFixed(1), +(heap1 / MB).toFixed(1)],
    counters: hub().counters(), snapshotsRefused: hub().snapshotsRefused,
  };
  process.stdout.write(`# live-view attack: ${JSON.stringify(report)}\n`);
  assert.deepEqual(t.viewersFailed, [], 'every normal viewer got frames during the attack');
  assert.ok(t.viewersOk > 0 && Object.keys(t.operations).length >= 5, JSON.stringify(t.operations));
  assert.equal(t.startStop, START_STOP_MESSAGES);
  assert.ok((heap1 - heap0) / MB < HEAP_SLACK_MB, `heap ${(heap0 / MB).toFixed(1)} → ${(heap1 / MB).toFixed(1)} MB`);
});
