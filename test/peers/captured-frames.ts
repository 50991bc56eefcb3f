/**
 * RTP/JPEG frames the device emulations send: packets GStreamer's payloader made (the
 * gst-udp-320x240 capture in test/fixtures/vectors/, 320×240, type 1, Q=255 with in-band
 * tables), grouped into frames. The engine rewrites sequence numbers, timestamps and SSRC.
 */
import { join } from 'node:path';
import { vectorPackets } from '../support/pcap';
import { framesOf } from '../support/fake-rtsp-server';

const VECTOR = join(__dirname, '..', 'fixtures', 'vectors', 'gst-udp-320x240.pcap');

let cache: Buffer[][] | null = null;

/** The first `n` complete frames of the capture (each a list of whole RTP packets). */
export function capturedFrames(n = 25): Buffer[][] {
  cache ??= framesOf(vectorPackets(VECTOR).rtp.map((x) => x.packet));
  return cache.slice(0, n).map((f) => f.map((p) => Buffer.from(p)));
}

/**
 * The same frames as a camera that uses the RFC 2435 Appendix A tables sends them: Q below
 * 128 and no quantization table header (the decoder derives the tables from Q). The scan
 * data stays as it is: it decodes with any tables, only the picture's contrast changes.
 */
export function withoutInBandTables(frames: Buffer[][], q: number): Buffer[][] {
  return frames.map((f) => f.map((p) => {
    const cc = p[0]! & 0x0f;
    const j = 12 + 4 * cc; // RTP header, CSRCs; no extension in these packets
    const fragOffset = p.readUIntBE(j + 1, 3);
    const out = Buffer.from(p);
    out[j + 5] = q;
    if (fragOffset !== 0 || p[j + 5]! < 128) return out;
    const qlen = p.readUInt16BE(j + 8 + 2);
    return Buffer.concat([out.subarray(0, j + 8), out.subarray(j + 8 + 4 + qlen)]);
  }));
}
