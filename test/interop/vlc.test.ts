/**
 * VLC 3 as the RTSP server (live555-free VLC RTSP output, UDP only): absolute a=control URLs,
 * `Session: …;timeout=60`, EOI inside the last fragment, 1388-byte payloads (peers.md §3).
 * VLC answers RTP/AVP/TCP with 461, so 'auto' must settle on UDP and 'tcp' must fail clearly.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { peerAvailable, skipUnlessPeer, startVlcServer, runClient, assertGoodRun, type VlcServer } from '../support/peers';
import { reserveUdpRange } from '../support/ports';

describe('VLC RTSP server', () => {
  let vlc: VlcServer | undefined;
  before(async () => {
    if (!peerAvailable('vlc').ok || !peerAvailable('ffmpeg').ok) return;
    vlc = await startVlcServer({ clipSeconds: 40, duration: 60 });
  });
  after(async () => { await vlc?.stop(); });

  for (const transport of ['udp', 'auto'] as const) {
    test(`${transport}: frames flow and decode`, async (t) => {
      if (!skipUnlessPeer(t, 'vlc', 'ffmpeg', 'djpeg')) return;
      const run = await runClient(vlc!.url, { transport, udpPortRange: await reserveUdpRange(20, t) }, { streamMs: 3000 });
      assertGoodRun(run, { width: 320, height: 240 });
      assert.equal(run.stats?.transport, 'udp');
    });
  }

  test('tcp: VLC refuses interleaved transport, reason "unsupported transport"', async (t) => {
    if (!skipUnlessPeer(t, 'vlc', 'ffmpeg')) return;
    const run = await runClient(vlc!.url, { transport: 'tcp' }, { streamMs: 0, firstFrameTimeoutMs: 3000 });
    assert.equal(run.frames.length, 0);
    const reasons = [...run.states.map((s) => s.reason), ...run.errors.map((e) => e.reason)];
    assert.ok(reasons.includes('unsupported transport'), `reasons: ${JSON.stringify(reasons)}`);
  });
});
