/**
 * Our client against emulations of real device firmware (test/peers/: Micro-RTSP on the
 * ESP32-CAM, a live555-based camera, Hikvision, Dahua and Axis dialogues from public bug
 * reports): every device streams over every transport it supports and every frame decodes;
 * the keep-alive cases run a live555-style camera that drops sessions after a short timeout
 * unless renewed, with GET_PARAMETER answered, ignored, or refused.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { peerAvailable, skipUnlessPeer, runClient, assertGoodRun, waitFor, type ClientRun } from '../support/peers';
import { openCamera } from '../../src/index';
import type { EmulatedDevice } from '../peers/device-engine';
import { startMicroRtsp } from '../peers/micro-rtsp';
import { startLive555Camera, type Live555Options } from '../peers/live555-camera';
import { startHikvision, startDahua, startAxis } from '../peers/ip-cameras';
import type { DeviceTransport } from '../peers/device-engine';

const SIZE = { width: 320, height: 240 };

const devices: { name: string; start: () => Promise<EmulatedDevice>; query: string; transports: DeviceTransport[] }[] = [
  { name: 'Micro-RTSP (ESP32-CAM)', start: () => startMicroRtsp(), query: '', transports: ['tcp', 'udp'] },
  { name: 'live555-based camera', start: () => startLive555Camera(), query: '', transports: ['tcp', 'udp'] },
  { name: 'Hikvision (Q < 128, no in-band tables)', start: () => startHikvision(), query: '', transports: ['tcp', 'udp'] },
  { name: 'Dahua (query string in the URL)', start: () => startDahua(), query: '?channel=1&subtype=1', transports: ['tcp', 'udp'] },
  { name: 'Axis', start: () => startAxis(), query: '?videocodec=jpeg', transports: ['tcp', 'udp'] },
];

for (const d of devices) {
  describe(`emulated device: ${d.name}`, () => {
    let dev: EmulatedDevice | undefined;
    before(async () => { dev = await d.start(); });
    after(async () => { await dev?.close(); });

    for (const transport of d.transports) {
      test(`${transport}: frames flow and decode; TEARDOWN sent on close`, async (t) => {
        if (!skipUnlessPeer(t, 'djpeg', 'ffmpeg')) return;
        const teardowns = dev!.stats.methods.get('TEARDOWN') ?? 0;
        const run = await runClient(dev!.url + d.query, { transport }, { streamMs: 1500 });
        assertGoodRun(run, SIZE);
        assert.equal(run.stats?.transport, transport);
        assert.equal(dev!.stats.methods.get('TEARDOWN'), teardowns + 1, 'no TEARDOWN on close');
        assert.equal(dev!.stats.expired, 0);
      });
    }
  });
}

describe('emulated device: Micro-RTSP serves one client at a time', () => {
  test('a second client waits while the first plays and streams once the first tore down', async (t) => {
    if (!skipUnlessPeer(t, 'djpeg', 'ffmpeg')) return;
    const dev = await startMicroRtsp();
    let second: ReturnType<typeof openCamera> | null = null;
    try {
      let framesB = 0;
      let framesBWhileA = -1;
      const a = await runClient(dev.url, { transport: 'tcp' }, {
        streamMs: 0,
        during: async () => {
          second = openCamera(dev.url, { transport: 'tcp' });
          second.on('frame', () => { framesB++; });
          second.on('error', () => undefined);
          await new Promise((r) => setTimeout(r, 1000));
          framesBWhileA = framesB;
        },
      });
      assert.ok(a.frames.length > 0, 'first client got no frame');
      assert.equal(framesBWhileA, 0, 'the firmware served a second client while the first played');
      assert.equal(dev.stats.tornDown, 1, 'the first client did not tear its session down');
      assert.ok(await waitFor(() => framesB >= 10, 8000), `second client got ${framesB} frames after the first left`);
    } finally {
      await (second as ReturnType<typeof openCamera> | null)?.close();
      await dev.close();
    }
  });
});

/**
 * Keep-alive: a 4 s session timeout (the same rule as the 60 s many cameras use, scaled so the
 * test runs in seconds; our client then renews every 3.2 s), RTCP not counted, 9 s of
 * streaming: two timeouts' worth. The camera counts every session it dropped; the client must
 * neither lose its session nor reconnect.
 */
const KEEPALIVE_MS = 9000;
const keepAliveCases: { name: string; opts: Live555Options }[] = [
  { name: 'drops sessions unless a request renews them; GET_PARAMETER answered', opts: { getParameter: 'ok', renews: 'any' } },
  { name: 'ignores GET_PARAMETER (no reply) but the request still renews', opts: { getParameter: 'ignore', renews: 'any' } },
  // The next three renew only on a request they answer with success: the OPTIONS that must
  // follow an unanswered or refused GET_PARAMETER at once (not one period later) keeps them.
  { name: 'ignores GET_PARAMETER, which renews nothing', opts: { getParameter: 'ignore', renews: 'answered' } },
  { name: 'refuses GET_PARAMETER with 400, which renews nothing', opts: { getParameter: 400, renews: 'answered' } },
  { name: 'refuses GET_PARAMETER with 501, which renews nothing', opts: { getParameter: 501, renews: 'answered' } },
];

interface KeepAliveResult { run: ClientRun; expired: number; connections: number; keepAlives: number }

/** One camera, our client on it for KEEPALIVE_MS over `transport`; the camera is closed after. */
async function keepAliveRun(dev: EmulatedDevice, url: string, transport: 'tcp' | 'udp'): Promise<KeepAliveResult> {
  try {
    const run = await runClient(url, { transport }, { streamMs: KEEPALIVE_MS });
    const keepAlives = (dev.stats.methods.get('GET_PARAMETER') ?? 0) + (dev.stats.methods.get('OPTIONS') ?? 0) - 1;
    return { run, expired: dev.stats.expired, connections: dev.server.conns.length, keepAlives };
  } finally {
    await dev.close();
  }
}

function assertKeptAlive(r: KeepAliveResult): void {
  assert.equal(r.expired, 0, `the camera dropped ${r.expired} session(s); states ${JSON.stringify(r.run.states)}`);
  assert.equal(r.connections, 1, 'the client reconnected');
  assert.ok(!r.run.states.some((s) => s.state === 'reconnecting'), JSON.stringify(r.run.states));
  assert.ok(r.keepAlives >= 2, `${r.keepAlives} keep-alive requests in ${KEEPALIVE_MS} ms`);
  assertGoodRun(r.run, SIZE);
}

describe('keep-alive against cameras with short session timeouts', () => {
  // All cameras run at once and are judged afterwards: decoding frames (djpeg, synchronous)
  // while another client streams would stall its keep-alive timers and the camera's clock alike.
  const results = new Map<string, KeepAliveResult>();
  const DAHUA = 'Dahua rule: only requests renew (RTCP does not), 4 s timeout, UDP';
  before(async () => {
    if (!peerAvailable('djpeg').ok || !peerAvailable('ffmpeg').ok) return;
    const runs = keepAliveCases.map(async (c) => {
      const dev = await startLive555Camera({ timeoutSec: 4, rtcpRenews: false, ...c.opts });
      results.set(c.name, await keepAliveRun(dev, dev.url, 'tcp'));
    });
    runs.push((async () => {
      const dev = await startDahua({ timeoutSec: 4 });
      results.set(DAHUA, await keepAliveRun(dev, `${dev.url}?channel=1&subtype=1`, 'udp'));
    })());
    await Promise.all(runs);
  });

  for (const c of keepAliveCases) {
    test(c.name, (t) => {
      if (!skipUnlessPeer(t, 'djpeg', 'ffmpeg')) return;
      assertKeptAlive(results.get(c.name)!);
    });
  }
  test(DAHUA, (t) => {
    if (!skipUnlessPeer(t, 'djpeg', 'ffmpeg')) return;
    assertKeptAlive(results.get(DAHUA)!);
  });
});
