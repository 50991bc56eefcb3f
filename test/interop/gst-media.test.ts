/**
 * Our client against GStreamer's RTSP server, one server per media variant: RTP/JPEG type 0
 * (4:2:2, Y42B) at MTU 600 and type 65 (restart markers, avenc_mjpeg slice threads); the
 * 2560x1440 and video + PCMU variants are in gst-media-large-audio.test.ts. Our JPEGs must be
 * byte-identical to what GStreamer's own rtpjpegdepay rebuilds from the captured packets.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  skipUnlessPeer, startGstServer, assertGoodRun, assertMatchesGstreamer, type GstServer, type GstServerOptions,
} from '../support/peers';
import { capturedRun } from '../support/captured-run';
import { reserveUdpRange } from '../support/ports';

/** JPEG marker segments present before the scan (SOF0 sampling, DRI) for checking the variant. */
function jpegFacts(jpeg: Buffer): { hSampY: number; vSampY: number; dri: number | null } {
  let off = 2;
  let hSampY = 0;
  let vSampY = 0;
  let dri: number | null = null;
  while (off + 4 <= jpeg.length && jpeg[off] === 0xff) {
    const marker = jpeg[off + 1]!;
    const len = jpeg.readUInt16BE(off + 2);
    if (marker === 0xc0) { hSampY = jpeg[off + 11]! >> 4; vSampY = jpeg[off + 11]! & 15; }
    if (marker === 0xdd) dri = jpeg.readUInt16BE(off + 4);
    if (marker === 0xda) break;
    off += 2 + len;
  }
  return { hSampY, vSampY, dri };
}

describe('GStreamer RTSP server: media variants', () => {
  const servers: GstServer[] = [];
  after(async () => { await Promise.all(servers.map((s) => s.stop())); });

  async function start(opts: GstServerOptions): Promise<GstServer> {
    const s = await startGstServer({ duration: 60, ...opts });
    servers.push(s);
    return s;
  }

  test('type 0 (Y42B, 4:2:2) at MTU 600 over tcp: byte-identical to GStreamer', async (t) => {
    if (!skipUnlessPeer(t, 'gst-rtsp-server', 'ffmpeg', 'djpeg', 'tshark')) return;
    const server = await start({ format: 'Y42B', mtu: 600, width: 320, height: 240 });
    const { run, file, cleanup } = await capturedRun(server, 'tcp', 3000, await reserveUdpRange(10, t));
    try {
      assertGoodRun(run, { width: 320, height: 240 });
      const f = jpegFacts(run.frames[0]!.jpeg);
      assert.deepEqual([f.hSampY, f.vSampY], [2, 1], 'type 0 must rebuild as 4:2:2 (H=2, V=1)');
      assertMatchesGstreamer(run, file);
    } finally {
      cleanup();
    }
  });

  for (const transport of ['tcp', 'udp'] as const) {
    test(`type 65 (DRI + RSTn, avenc_mjpeg) over ${transport}: DRI kept, byte-identical to GStreamer`, async (t) => {
      if (!skipUnlessPeer(t, 'gst-rtsp-server', 'gst-libav', 'ffmpeg', 'djpeg', 'tshark')) return;
      const server = await start({ dri: true, width: 320, height: 240 });
      const { run, file, cleanup } = await capturedRun(server, transport, 3000, await reserveUdpRange(10, t));
      try {
        assertGoodRun(run, { width: 320, height: 240 });
        assert.ok(run.frames.every((f) => jpegFacts(f.jpeg).dri !== null && jpegFacts(f.jpeg).dri! > 0), 'a type 65 frame without DRI');
        assertMatchesGstreamer(run, file);
      } finally {
        cleanup();
      }
    });
  }
});
