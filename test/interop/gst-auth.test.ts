/**
 * Our client against GStreamer's RTSP server with authentication (GstRTSPAuth): Basic and
 * Digest (GStreamer's challenge has no qop, so RFC 2069 responses), and a wrong password,
 * which must end in reason 'auth failed' quickly and without hammering the server.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnlessPeer, startGstServer, runClient, assertGoodRun, waitFor, type GstServer } from '../support/peers';
import { openCamera } from '../../src/index';
import type { StateChange } from '../../src/camera/types';
import type { CameraError } from '../../src/errors';
import { reserveUdpRange } from '../support/ports';

const USER = 'viewer';
const PASSWORD = 'pa:ss wörd"1';

describe('GStreamer RTSP server: authentication', () => {
  const servers: GstServer[] = [];
  after(async () => { await Promise.all(servers.map((s) => s.stop())); });

  for (const [method, transport] of [['basic', 'tcp'], ['digest', 'tcp'], ['digest', 'udp']] as const) {
    test(`${method} auth over ${transport}: frames flow, password never in states/errors`, async (t) => {
      if (!skipUnlessPeer(t, 'gst-rtsp-server', 'ffmpeg', 'djpeg')) return;
      const server = await startGstServer({ auth: method, user: USER, password: PASSWORD, duration: 60 });
      servers.push(server);
      const run = await runClient(server.url, { username: USER, password: PASSWORD, transport, udpPortRange: await reserveUdpRange(20, t) }, { streamMs: 2500 });
      assertGoodRun(run, { width: 320, height: 240 });
      const text = JSON.stringify(run.states) + run.errors.map((e) => e.message).join(' ');
      assert.ok(!text.includes(PASSWORD), 'password leaked into states/errors');
    });
  }

  test('wrong password: reason "auth failed" within seconds, no retry storm, no frames', async (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server')) return;
    const server = await startGstServer({ auth: 'digest', user: USER, password: PASSWORD, duration: 60 });
    servers.push(server);
    const states: StateChange[] = [];
    const errors: CameraError[] = [];
    let frames = 0;
    const t0 = Date.now();
    const session = openCamera(server.url, { username: USER, password: 'wrong', transport: 'tcp', reconnectMinMs: 1000 });
    session.on('state', (s: StateChange) => states.push(s));
    session.on('error', (e: CameraError) => errors.push(e));
    session.on('frame', () => { frames++; });
    try {
      const failed = (): boolean => states.some((s) => s.reason === 'auth failed') || errors.some((e) => e.reason === 'auth failed');
      assert.ok(await waitFor(failed, 5000), `no 'auth failed' within 5 s: ${JSON.stringify(states)} ${errors.map((e) => e.reason).join(',')}`);
      const elapsed = Date.now() - t0;
      // observe a few more seconds: a retry storm shows up as many RTSP connections
      await new Promise((r) => setTimeout(r, 4000));
      assert.equal(frames, 0);
      assert.ok(server.connections() <= 4, `${server.connections()} RTSP connections in ${((Date.now() - t0) / 1000).toFixed(1)} s after a 401 (retry storm)`);
      t.diagnostic(`auth failed after ${elapsed} ms; ${server.connections()} connection(s) in total`);
      const text = JSON.stringify(states) + errors.map((e) => e.message).join(' ');
      assert.ok(!text.includes('wrong'), 'password leaked');
    } finally {
      await session.close();
    }
  });
});
