/**
 * The camera goes away mid-stream and comes back on the same port: GStreamer's server is
 * killed while our client plays, restarted a second later, and frames must resume within
 * the reconnect backoff bound, with frame indices continuing across the reconnect.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessPeer, startGstServer, freeTcpPort, waitFor, undecodable, type GstServer, type ReceivedFrame } from '../support/peers';
import { openCamera } from '../../src/index';
import type { FrameInfo, StateChange } from '../../src/camera/types';
import { reserveUdpRange } from '../support/ports';

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 2000;
const STALL_MS = 3000;

describe('GStreamer RTSP server: killed and restarted', () => {
  const servers: GstServer[] = [];
  after(async () => { await Promise.all(servers.map((s) => s.stop())); });

  for (const transport of ['tcp', 'udp'] as const) {
    test(`${transport}: frames resume on the same port within the backoff bound`, async (t) => {
      if (!skipUnlessPeer(t, 'gst-rtsp-server', 'ffmpeg', 'djpeg')) return;
      const port = await freeTcpPort();
      const first = await startGstServer({ port, width: 320, height: 240, duration: 60 });
      servers.push(first);
      const frames: ReceivedFrame[] = [];
      const states: StateChange[] = [];
      const session = openCamera(first.url, {
        transport, udpPortRange: await reserveUdpRange(20, t),
        reconnectMinMs: RECONNECT_MIN_MS, reconnectMaxMs: RECONNECT_MAX_MS, stallTimeoutMs: STALL_MS,
      });
      session.on('frame', (jpeg: Buffer, info: FrameInfo) => frames.push({ jpeg, info }));
      session.on('state', (s: StateChange) => states.push(s));
      session.on('error', () => undefined);
      try {
        assert.ok(await waitFor(() => frames.length >= 25, 10000), `first server: ${frames.length} frames`);
        await first.stop();
        const beforeRestart = frames.length;
        // UDP has no connection to lose: the client learns from the stall watchdog
        assert.ok(await waitFor(() => states.some((s) => s.state === 'reconnecting'), STALL_MS + 3000),
          `no 'reconnecting' after the server died: ${JSON.stringify(states)}`);
        await new Promise((r) => setTimeout(r, 1000));
        const second = await startGstServer({ port, width: 320, height: 240, duration: 60 });
        servers.push(second);
        const restartedAt = Date.now();
        // bound: one maximal backoff + stall detection + connect/DESCRIBE/SETUP/PLAY + first frame
        const bound = RECONNECT_MAX_MS + STALL_MS + 4000;
        assert.ok(await waitFor(() => frames.length >= beforeRestart + 10, bound),
          `frames did not resume within ${bound} ms of the restart: ${JSON.stringify(states.slice(-5))}`);
        t.diagnostic(`frames resumed ${Date.now() - restartedAt} ms after the restart`);
        const after = frames.slice(beforeRestart);
        assert.equal(after[0]!.info.index, frames[beforeRestart - 1]!.info.index + 1, 'index continues across reconnects');
        assert.notEqual(after[0]!.info.ssrc, frames[0]!.info.ssrc, 'a new server instance has a new SSRC');
        assert.deepEqual(undecodable(after.slice(0, 20), { width: 320, height: 240 }), []);
        assert.ok(states.some((s) => s.state === 'playing' && states.indexOf(s) > states.findIndex((x) => x.state === 'reconnecting')));
      } finally {
        await session.close();
      }
    });
  }
});
