/**
 * JPEG header synthesis for RFC 2435 frames (Appendix B "MakeHeaders"): SOI, DQT, [DRI],
 * SOF0, four DHT, SOS — no JFIF APP0.
 *
 * The layout is byte-identical to GStreamer 1.22 rtpjpegdepay (checked against the
 * reference frames in test/fixtures/vectors/reference): one DQT segment per table (ids 0
 * and 1), DRI before SOF0, component ids 0/1/2 as in the RFC's sample code, DHT in the
 * order DC-luma, AC-luma, DC-chroma, AC-chroma.
 */
import { STD_HUFFMAN, type HuffmanSpec } from './tables';

export interface JpegHeaderParams {
  /** RFC 2435 type with the restart bit cleared: 0 = 4:2:2 (Y 2x1), 1 = 4:2:0 (Y 2x2) */
  type: 0 | 1;
  /** pixels, 1..65535 */
  width: number;
  height: number;
  /** DQT payload of table 0 (luma): 64 bytes (8-bit) or 128 bytes (16-bit, big-endian) */
  luma: Uint8Array;
  /** DQT payload of table 1 (chroma), or null when only one table exists (chroma uses table 0) */
  chroma: Uint8Array | null;
  /** restart interval in MCUs; 0 = no DRI segment */
  restartInterval: number;
}

function dhtSegment(tableClass: number, id: number, spec: HuffmanSpec): Buffer {
  const n = spec.values.length;
  const seg = Buffer.alloc(2 + 2 + 1 + 16 + n);
  seg[0] = 0xff;
  seg[1] = 0xc4;
  seg.writeUInt16BE(2 + 1 + 16 + n, 2);
  seg[4] = (tableClass << 4) | id;
  Buffer.from(spec.bits).copy(seg, 5);
  Buffer.from(spec.values).copy(seg, 21);
  return seg;
}

/** The four DHT segments never change for types 0/1: built once. */
const DHT_BLOCK: Buffer = Buffer.concat([
  dhtSegment(0, 0, STD_HUFFMAN.dcLuma),
  dhtSegment(1, 0, STD_HUFFMAN.acLuma),
  dhtSegment(0, 1, STD_HUFFMAN.dcChroma),
  dhtSegment(1, 1, STD_HUFFMAN.acChroma),
]);

/** SOS for the one interleaved scan: ids 0/1/2, Huffman 0/0 for Y and 1/1 for Cb/Cr, Ss 0, Se 63. */
const SOS_SEGMENT: Buffer = Buffer.from([0xff, 0xda, 0x00, 0x0c, 0x03, 0x00, 0x00, 0x01, 0x11, 0x02, 0x11, 0x00, 0x3f, 0x00]);

const SOF_LENGTH = 2 + 2 + 15; // marker + length field + (P, Y, X, Nf, 3×3)
/** Bytes a DRI segment adds to the header: marker, length 4, interval. */
export const DRI_SEGMENT_LENGTH = 6;
const DRI_LENGTH = DRI_SEGMENT_LENGTH;

function dqtLength(table: Uint8Array): number {
  return 2 + 2 + 1 + table.length;
}

/** Exact byte length of the header `writeJpegHeader` writes for these parameters. */
export function jpegHeaderLength(p: JpegHeaderParams): number {
  return 2 + dqtLength(p.luma) + (p.chroma ? dqtLength(p.chroma) : 0) +
    (p.restartInterval ? DRI_LENGTH : 0) + SOF_LENGTH + DHT_BLOCK.length + SOS_SEGMENT.length;
}

function writeDqt(out: Buffer, off: number, id: number, table: Uint8Array): number {
  out[off] = 0xff;
  out[off + 1] = 0xdb;
  out.writeUInt16BE(2 + 1 + table.length, off + 2);
  // Pq = 1 for 16-bit entries (T.81 B.2.4.1); the depacketizer narrows to 8 bit when it can.
  out[off + 4] = (table.length === 128 ? 0x10 : 0x00) | id;
  out.set(table, off + 5);
  return off + 5 + table.length;
}

/**
 * Writes the header into `out` at `offset` and returns the offset after it. The caller
 * sized `out` with `jpegHeaderLength` (one allocation per frame).
 */
export function writeJpegHeader(p: JpegHeaderParams, out: Buffer, offset = 0): number {
  let o = offset;
  out[o++] = 0xff;
  out[o++] = 0xd8;
  o = writeDqt(out, o, 0, p.luma);
  if (p.chroma) o = writeDqt(out, o, 1, p.chroma);
  if (p.restartInterval) {
    out[o] = 0xff;
    out[o + 1] = 0xdd;
    out[o + 2] = 0;
    out[o + 3] = 4;
    out.writeUInt16BE(p.restartInterval, o + 4);
    o += DRI_LENGTH;
  }
  const chromaQ = p.chroma ? 1 : 0;
  out[o] = 0xff;
  out[o + 1] = 0xc0;
  out.writeUInt16BE(17, o + 2);
  out[o + 4] = 8;
  out.writeUInt16BE(p.height, o + 5);
  out.writeUInt16BE(p.width, o + 7);
  out[o + 9] = 3;
  out[o + 10] = 0;
  out[o + 11] = p.type === 0 ? 0x21 : 0x22; // RFC 2435 §4.1: type 0 → 2h1v, type 1 → 2h2v
  out[o + 12] = 0;
  out[o + 13] = 1;
  out[o + 14] = 0x11;
  out[o + 15] = chromaQ;
  out[o + 16] = 2;
  out[o + 17] = 0x11;
  out[o + 18] = chromaQ;
  o += SOF_LENGTH;
  DHT_BLOCK.copy(out, o);
  o += DHT_BLOCK.length;
  SOS_SEGMENT.copy(out, o);
  return o + SOS_SEGMENT.length;
}

/** Convenience for tests and tools: the header as a new Buffer. */
export function makeJpegHeader(p: JpegHeaderParams): Buffer {
  const out = Buffer.allocUnsafe(jpegHeaderLength(p));
  writeJpegHeader(p, out, 0);
  return out;
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The last header built, reused while the parameters stay the same (a stream's size, type,
 * tables and restart interval rarely change): one memcpy per frame instead of writing each
 * segment. Tables are compared by content (Q 255 tables arrive in-band with every frame) and
 * copied, so the cache never references packet memory.
 */
export class JpegHeaderCache {
  private bytes: Buffer | null = null;
  private type = -1;
  private width = 0;
  private height = 0;
  private restartInterval = -1;
  private luma: Uint8Array | null = null;
  private chroma: Uint8Array | null = null;

  /** Header bytes for `p` (the returned Buffer is shared: copy from it, never write to it). */
  get(p: JpegHeaderParams): Buffer {
    if (this.bytes !== null && p.type === this.type && p.width === this.width && p.height === this.height &&
        p.restartInterval === this.restartInterval && sameBytes(p.luma, this.luma) && sameBytes(p.chroma, this.chroma)) {
      return this.bytes;
    }
    const out = Buffer.allocUnsafeSlow(jpegHeaderLength(p));
    writeJpegHeader(p, out, 0);
    this.bytes = out;
    this.type = p.type;
    this.width = p.width;
    this.height = p.height;
    this.restartInterval = p.restartInterval;
    this.luma = Uint8Array.from(p.luma);
    this.chroma = p.chroma ? Uint8Array.from(p.chroma) : null;
    return out;
  }
}
