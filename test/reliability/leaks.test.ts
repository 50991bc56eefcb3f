/**
 * Leaks: 200 deploy/redeploy cycles of a Node-RED flow with two cameras (one TCP,
 * one UDP) and 1,000 open/close cycles of CameraSession. Afterwards the process's handles
 * (sockets, UDP sockets, timers: process.getActiveResourcesInfo()), the cameras' sessions and
 * UDP ports, and the heap after a full GC must be back to the baseline taken after warm-up.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { helper, collect, type FlowNode } from '../support/node-red-helper';
import cameraNode from '../../src/nodes/rtsp-camera';
import mjpegInNode from '../../src/nodes/rtsp-mjpeg-in';
import { openCamera } from '../../src/camera/open';
import { startDemoCamera } from '../../src/sim/demo-camera';
import type { CameraSession } from '../../src/camera/session';
import { resourceCounts, resourcesAbove, until, heapAfterGc, sleep, MB } from './support';
import { reserveUdpRange } from '../support/ports';

/** heap growth allowed after the cycles (a GC'd heap; JIT/IC warm-up happens before the baseline) */
const HEAP_SLACK_MB = 4;
/** the UDP range of the cameras here, no other test process's */
let PORTS: [number, number] = [0, 0];

function report(name: string, data: Record<string, unknown>): void {
  process.stdout.write(`# reliability leaks ${name}: ${JSON.stringify(data)}\n`);
}

/** Every port of the range can be bound again (the client released its UDP pairs). */
async function portsFree(range: [number, number]): Promise<number[]> {
  const busy: number[] = [];
  for (let p = range[0]; p <= range[1]; p++) {
    const s = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(p, '0.0.0.0', () => resolve(true));
    });
    if (!ok) busy.push(p);
    await new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } });
  }
  return busy;
}

before(async () => { PORTS = await reserveUdpRange(100); });

describe('Node-RED redeploys', () => {
  before(async () => { await helper.startServer(); });
  after(async () => { await helper.stopServer(); });

  test('200 deploy/redeploy cycles (after a warm-up round of 200) of a two-camera flow: handles, sessions, UDP ports and heap back to baseline', async () => {
    const tcpCam = await startDemoCamera({ width: 160, height: 120, fps: 30 });
    const udpCam = await startDemoCamera({ width: 160, height: 120, fps: 30 });
    try {
      const flow: FlowNode[] = [{ id: 'f1', type: 'tab' },
        { id: 'camA', type: 'rtsp-camera', name: 'a', url: tcpCam.url, transport: 'tcp', reconnectMin: 0.1, reconnectMax: 0.5 },
        { id: 'camB', type: 'rtsp-camera', name: 'b', url: udpCam.url, transport: 'udp', udpPortRange: `${PORTS[0]}-${PORTS[1]}`, reconnectMin: 0.1, reconnectMax: 0.5 },
        { id: 'inA', type: 'rtsp-mjpeg in', z: 'f1', camera: 'camA', maxFps: 0, mode: 'stream', wires: [['hA']] },
        { id: 'inB', type: 'rtsp-mjpeg in', z: 'f1', camera: 'camB', maxFps: 0, mode: 'stream', wires: [['hB']] },
        { id: 'hA', type: 'helper', z: 'f1' }, { id: 'hB', type: 'helper', z: 'f1' }];
      let played = 0;
      const round = async (): Promise<void> => {
        await helper.load([cameraNode, mjpegInNode], flow);
        for (let i = 0; i < 200; i++) {
          await helper.setFlows(flow, 'full');
          // every 10th deploy streams before the next one; the others are torn down mid-handshake
          if (i % 10 === 9) {
            await Promise.all([collect('hA', 1), collect('hB', 1)]);
            played++;
          }
        }
        await helper.unload();
        await until(() => tcpCam.stats.activeSessions === 0 && udpCam.stats.activeSessions === 0, 'sessions gone', 5000).catch(() => undefined);
      };
      // Warm-up round: Node-RED itself grows its heap by ~5 MB over its first 200 redeploys
      // (measured with a flow of helper nodes only) and then stays flat, so the baseline is
      // taken after one full round and the measured round must not grow.
      const heapStart = heapAfterGc();
      await round();
      await sleep(200);
      const baseline = resourceCounts();
      const heap0 = heapAfterGc();
      const warmupGrowth = (heap0 - heapStart) / MB;
      const t0 = Date.now();
      await round();
      const elapsed = Date.now() - t0;
      await until(() => resourcesAbove(baseline).length === 0, 'handles back to baseline', 8000).catch(() => {
        assert.fail(`leaked handles: ${resourcesAbove(baseline).join(', ')}`);
      });
      // the UDP camera's sessions outlive their connection unless TEARDOWN reached it
      await until(() => tcpCam.stats.activeSessions === 0 && udpCam.stats.activeSessions === 0, 'no session left on the cameras', 5000).catch(() => {
        assert.fail(`sessions left: tcp ${tcpCam.stats.activeSessions}, udp ${udpCam.stats.activeSessions} (setups ${udpCam.stats.setups}, teardowns ${udpCam.stats.teardowns})`);
      });
      const busy = await portsFree(PORTS);
      assert.deepEqual(busy, [], 'UDP client ports still bound');
      const heapGrowth = (heapAfterGc() - heap0) / MB;
      assert.ok(heapGrowth < HEAP_SLACK_MB, `heap grew ${heapGrowth.toFixed(2)} MB`);
      report('200 redeploys', {
        elapsedMs: elapsed, played, warmupRoundHeapGrowthMB: Math.round(warmupGrowth * 100) / 100, heapGrowthMB: Math.round(heapGrowth * 100) / 100,
        tcp: { connections: tcpCam.stats.connections, setups: tcpCam.stats.setups, teardowns: tcpCam.stats.teardowns },
        udp: { connections: udpCam.stats.connections, setups: udpCam.stats.setups, teardowns: udpCam.stats.teardowns },
      });
    } finally {
      await helper.unload();
      await tcpCam.close();
      await udpCam.close();
    }
  });
});

describe('CameraSession open/close', () => {
  test('1,000 open/close cycles (closed before, during and after the handshake; TCP and UDP): everything released', async () => {
    const cam = await startDemoCamera({ width: 160, height: 120, fps: 10 });
    try {
      const cycle = async (i: number): Promise<void> => {
        const udp = i % 4 === 3;
        const s: CameraSession = openCamera(cam.url, {
          transport: udp ? 'udp' : 'tcp', udpPortRange: PORTS, reconnectMinMs: 100, reconnectMaxMs: 500, requestTimeoutMs: 3000,
        });
        s.on('error', () => { /* counted by the state */ });
        try {
          const when = i % 3;
          if (when === 1) await sleep(i % 7); // mid-handshake
          else if (when === 2) await until(() => s.state === 'playing', `cycle ${i} playing`, 5000);
        } finally {
          await s.close(); // also when a cycle failed: a live session would hold the file open
        }
        assert.equal(s.state, 'closed');
      };
      const BATCH = 20;
      const run = async (from: number, to: number): Promise<void> => {
        for (let b = from; b < to; b += BATCH) {
          await Promise.all(Array.from({ length: Math.min(BATCH, to - b) }, (_, k) => cycle(b + k)));
        }
      };
      await run(0, 40); // warm-up
      await until(() => cam.stats.activeSessions === 0, 'warm-up sessions gone', 5000);
      await sleep(200);
      const baseline = resourceCounts();
      const heap0 = heapAfterGc();
      const t0 = Date.now();
      await run(0, 1000);
      const elapsed = Date.now() - t0;
      await until(() => resourcesAbove(baseline).length === 0, 'handles back to baseline', 8000).catch(() => {
        assert.fail(`leaked handles: ${resourcesAbove(baseline).join(', ')}`);
      });
      await until(() => cam.stats.activeSessions === 0, 'no session left on the camera', 5000).catch(() => {
        assert.fail(`sessions left: ${cam.stats.activeSessions} (setups ${cam.stats.setups}, teardowns ${cam.stats.teardowns})`);
      });
      assert.deepEqual(await portsFree(PORTS), [], 'UDP client ports still bound');
      const heapGrowth = (heapAfterGc() - heap0) / MB;
      assert.ok(heapGrowth < HEAP_SLACK_MB, `heap grew ${heapGrowth.toFixed(2)} MB`);
      report('1000 open/close', { elapsedMs: elapsed, heapGrowthMB: Math.round(heapGrowth * 100) / 100, connections: cam.stats.connections, setups: cam.stats.setups, teardowns: cam.stats.teardowns, plays: cam.stats.plays });
    } finally {
      await cam.close();
    }
  });
});
