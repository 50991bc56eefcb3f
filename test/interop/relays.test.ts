/**
 * Third-party RTSP relays (test/support/relays.ts): FFmpeg publishes Motion-JPEG into them with
 * ANNOUNCE/RECORD, our client reads it back. Both relays forward RTP over UDP only (neither
 * implements interleaved TCP), so our client is run with `udp` and with `auto`; every frame
 * must decode with djpeg and FFmpeg, at the published size, with ≥ 95 % of the frames sent.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { peerAvailable, skipUnlessPeer, runClient, assertGoodRun, type PeerName } from '../support/peers';
import { startPerlRelay, startJsRelay, type Relay } from '../support/relays';

const SIZE = { width: 320, height: 240 };

const relays: { name: string; peers: PeerName[]; start: () => Promise<Relay> }[] = [
  { name: 'rtsp-server-perl', peers: ['rtsp-server-perl', 'ffmpeg', 'djpeg'], start: () => startPerlRelay({ duration: 40 }) },
  { name: 'rtsp-streaming-server (npm)', peers: ['ffmpeg', 'djpeg'], start: () => startJsRelay({ duration: 40 }) },
];

for (const r of relays) {
  describe(`relay: ${r.name}, fed by FFmpeg (ANNOUNCE/RECORD)`, () => {
    let relay: Relay | undefined;
    before(async () => {
      if (r.peers.every((p) => peerAvailable(p).ok)) relay = await r.start();
    });
    after(async () => { await relay?.stop(); });

    for (const transport of ['udp', 'auto'] as const) {
      test(`${transport}: every frame decodes, none lost`, async (t) => {
        if (!skipUnlessPeer(t, ...r.peers)) return;
        const run = await runClient(relay!.url, { transport }, { streamMs: 2000 });
        assert.ok(run.frames.length > 0, `no frame; FFmpeg said: ${relay!.publisherLog().slice(-800)}`);
        assertGoodRun(run, SIZE);
        assert.equal(run.stats?.transport, 'udp');
      });
    }
  });
}
