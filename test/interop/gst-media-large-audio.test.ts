/**
 * Our client against GStreamer's RTSP server, one server per media variant: 2560x1440 (RTP
 * header size 0, SDP a=x-dimensions), and a video + PCMU session with and without the audio
 * track set up. (Types 0 and 65 are in gst-media.test.ts.) Where packets are captured, our
 * JPEGs must be byte-identical to what GStreamer's own rtpjpegdepay rebuilds from them.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  skipUnlessPeer, startGstServer, runClient, assertGoodRun, assertMatchesGstreamer, type GstServer, type GstServerOptions,
} from '../support/peers';
import { capturedRun } from '../support/captured-run';
import { reserveUdpRange } from '../support/ports';

describe('GStreamer RTSP server: large and audio variants', () => {
  const servers: GstServer[] = [];
  after(async () => { await Promise.all(servers.map((s) => s.stop())); });

  async function start(opts: GstServerOptions): Promise<GstServer> {
    const s = await startGstServer({ duration: 60, ...opts });
    servers.push(s);
    return s;
  }

  test('2560x1440 (RTP header size 0, a=x-dimensions) over tcp: full-size decodable frames', async (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server', 'ffmpeg', 'djpeg', 'tshark')) return;
    const server = await start({ large: true, fps: 5, quality: 30, pattern: 'ball' });
    const { run, file, cleanup } = await capturedRun(server, 'tcp', 3000, await reserveUdpRange(10, t));
    try {
      assertGoodRun(run, { width: 2560, height: 1440 }, 5);
      assertMatchesGstreamer(run, file, { xDimensions: [2560, 1440] });
    } finally {
      cleanup();
    }
  });

  for (const setupAudio of [false, true]) {
    test(`video + PCMU session, setupAudio ${setupAudio}: video frames flow over tcp and udp`, async (t) => {
      if (!skipUnlessPeer(t, 'gst-rtsp-server', 'ffmpeg', 'djpeg')) return;
      const server = await start({ audio: true, width: 320, height: 240 });
      for (const transport of ['tcp', 'udp'] as const) {
        const run = await runClient(server.url, { transport, setupAudio, udpPortRange: await reserveUdpRange(20, t) }, { streamMs: 2000 });
        assertGoodRun(run, { width: 320, height: 240 });
        assert.equal(run.stats?.transport, transport);
      }
    });
  }
});
