/**
 * RFC 2435 send side: splits a baseline JFIF/JPEG into RTP/JPEG packets.
 * Used by the built-in demo camera and by tests (round trips against the depacketizer).
 *
 * Only what RFC 2435 types 0/1 (and 64/65 with restart markers) can carry is accepted:
 * baseline (SOF0), 8-bit, three components, Y sampling 2x1 (type 0, 4:2:2) or 2x2
 * (type 1, 4:2:0), Cb/Cr 1x1, one interleaved scan, the Annex K.3 Huffman tables.
 * Anything else throws a clear Error (the caller chose a wrong encoder setting).
 */
import { STD_HUFFMAN, qTablesForQ, type HuffmanSpec } from './tables';

export interface PacketizerOptions {
  ssrc: number;
  /** RTP payload type, default 26 (static JPEG) */
  payloadType?: number;
  /** maximum size of a whole RTP packet in bytes (default 1400, as GStreamer rtpjpegpay) */
  mtu?: number;
  /** first RTP sequence number (default random) */
  initialSequence?: number;
}

export interface PacketizeFrameOptions {
  /**
   * RFC 2435 Q field. 255 (default): tables in-band in every frame (§3.1.8: dynamic).
   * 128..254: static mapping Q → tables, so the tables go in-band only the first time this
   * packetizer sends that Q (and again if they differ), Length 0 afterwards.
   * 1..99: no tables on the wire; the JPEG's tables must equal Appendix A tables for Q.
   */
  q?: number;
  /** send width/height 0 (receivers need the size out of band: SDP a=x-dimensions) */
  zeroDimensions?: boolean;
}

/** What the packetizer needs from a baseline JPEG. */
export interface BaselineJpegInfo {
  width: number;
  height: number;
  /** RFC 2435 type without the restart flag: 0 = 4:2:2, 1 = 4:2:0 */
  type: 0 | 1;
  /** restart interval from DRI (0 = none) */
  restartInterval: number;
  /** quantization tables as DQT payloads (64 or 128 bytes), [luma, chroma] */
  tables: [Buffer, Buffer];
  /** true if the table is 16-bit (DQT Pq = 1) */
  sixteenBit: [boolean, boolean];
  /** entropy-coded scan data (after the SOS header), up to and including EOI if present */
  scan: Buffer;
}

/** FF D9, searched once per frame: built once. */
const EOI = Buffer.from([0xff, 0xd9]);

function fail(msg: string): never {
  throw new Error(`JPEG not sendable as RFC 2435 type 0/1: ${msg}`);
}

function sameHuffman(b: Buffer, spec: HuffmanSpec): boolean {
  if (b.length !== 16 + spec.values.length) return false;
  for (let i = 0; i < 16; i++) if (b[i] !== spec.bits[i]) return false;
  for (let i = 0; i < spec.values.length; i++) if (b[16 + i] !== spec.values[i]) return false;
  return true;
}

/** Parses the marker segments of a baseline JPEG up to SOS. Throws a clear Error if unsuitable. */
export function parseBaselineJpeg(jpeg: Buffer): BaselineJpegInfo {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) fail('no SOI');
  const dqt = new Map<number, { data: Buffer; sixteen: boolean }>();
  const dht = new Map<number, Buffer>(); // key: class<<4 | id
  let restartInterval = 0;
  let sof: { width: number; height: number; comps: { id: number; h: number; v: number; tq: number }[] } | null = null;
  let off = 2;
  for (;;) {
    // Fill bytes (0xFF padding) may precede a marker (T.81 B.1.1.2).
    while (off < jpeg.length && jpeg[off] === 0xff && jpeg[off + 1] === 0xff) off++;
    if (off + 4 > jpeg.length) fail('truncated before SOS');
    if (jpeg[off] !== 0xff) fail(`marker expected at byte ${off}`);
    const marker = jpeg[off + 1]!;
    const len = jpeg.readUInt16BE(off + 2);
    if (len < 2 || off + 2 + len > jpeg.length) fail(`bad segment length at byte ${off}`);
    const seg = jpeg.subarray(off + 4, off + 2 + len);
    off += 2 + len;
    if (marker === 0xdb) {
      let p = 0;
      while (p < seg.length) {
        const pq = seg[p]! >> 4;
        const tq = seg[p]! & 15;
        const n = pq ? 128 : 64;
        if (pq > 1 || tq > 3 || p + 1 + n > seg.length) fail('bad DQT');
        dqt.set(tq, { data: seg.subarray(p + 1, p + 1 + n), sixteen: pq === 1 });
        p += 1 + n;
      }
    } else if (marker === 0xc4) {
      let p = 0;
      while (p + 17 <= seg.length) {
        const key = seg[p]!;
        let n = 0;
        for (let i = 0; i < 16; i++) n += seg[p + 1 + i]!;
        if (p + 17 + n > seg.length) fail('bad DHT');
        dht.set(key, seg.subarray(p + 1, p + 17 + n));
        p += 17 + n;
      }
    } else if (marker === 0xdd) {
      if (seg.length < 2) fail('bad DRI');
      restartInterval = seg.readUInt16BE(0);
    } else if (marker === 0xc0) {
      if (seg.length < 6) fail('bad SOF0');
      if (seg[0] !== 8) fail(`sample precision ${seg[0]} (need 8)`);
      const height = seg.readUInt16BE(1);
      const width = seg.readUInt16BE(3);
      const nc = seg[5]!;
      if (nc !== 3) fail(`${nc} components (need 3: Y, Cb, Cr)`);
      if (seg.length < 6 + 3 * nc) fail('bad SOF0');
      const comps = [];
      for (let i = 0; i < nc; i++) {
        const b = seg[7 + 3 * i]!;
        comps.push({ id: seg[6 + 3 * i]!, h: b >> 4, v: b & 15, tq: seg[8 + 3 * i]! });
      }
      if (width === 0 || height === 0) fail('zero image size in SOF');
      sof = { width, height, comps };
    } else if ((marker >= 0xc1 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)) {
      fail(`SOF${marker - 0xc0} (only baseline SOF0 is allowed)`);
    } else if (marker === 0xda) {
      if (!sof) fail('SOS before SOF');
      const ns = seg[0];
      if (ns !== 3 || seg.length < 1 + 2 * 3 + 3) fail('scan is not one interleaved 3-component scan');
      const sel = [seg[2]!, seg[4]!, seg[6]!];
      for (let i = 0; i < 3; i++) {
        if (seg[1 + 2 * i] !== sof.comps[i]!.id) fail('scan component order differs from SOF');
      }
      if (sel[0] !== 0x00 || sel[1] !== 0x11 || sel[2] !== 0x11) fail('Huffman table selectors must be Y 0/0, Cb/Cr 1/1');
      if (seg[7] !== 0 || seg[8] !== 63 || seg[9] !== 0) fail('not a sequential scan (Ss/Se/Ah/Al)');
      const [y, cb, cr] = sof.comps as [typeof sof.comps[0], typeof sof.comps[0], typeof sof.comps[0]];
      if (cb.h !== 1 || cb.v !== 1 || cr.h !== 1 || cr.v !== 1) fail('chroma sampling must be 1x1');
      let type: 0 | 1;
      if (y.h === 2 && y.v === 1) type = 0;
      else if (y.h === 2 && y.v === 2) type = 1;
      else fail(`luma sampling ${y.h}x${y.v} (need 2x1 for 4:2:2 or 2x2 for 4:2:0)`);
      if (cb.tq !== cr.tq) fail('Cb and Cr use different quantization tables');
      const tl = dqt.get(y.tq);
      const tc = dqt.get(cb.tq);
      if (!tl || !tc) fail('missing DQT');
      // Absent DHT means the decoder default, which is Annex K (Motion-JPEG/AVI1 convention).
      const checks: [number, HuffmanSpec][] = [[0x00, STD_HUFFMAN.dcLuma], [0x10, STD_HUFFMAN.acLuma], [0x01, STD_HUFFMAN.dcChroma], [0x11, STD_HUFFMAN.acChroma]];
      for (const [key, spec] of checks) {
        const got = dht.get(key);
        if (got && !sameHuffman(got, spec)) fail('non-standard Huffman tables (RFC 2435 requires Annex K.3 tables)');
      }
      let end = jpeg.length;
      // Drop trailing garbage after EOI; keep EOI itself (as GStreamer rtpjpegpay does).
      const eoi = jpeg.lastIndexOf(EOI);
      if (eoi >= off) end = eoi + 2;
      return {
        width: sof.width, height: sof.height, type, restartInterval,
        tables: [tl.data, tc.data], sixteenBit: [tl.sixteen, tc.sixteen],
        scan: jpeg.subarray(off, end),
      };
    } else if (marker === 0xd9) {
      fail('EOI before SOS');
    }
    // APPn, COM and anything else: skipped.
  }
}

function tablesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class JpegPacketizer {
  nextSequence: number;
  private readonly ssrc: number;
  private readonly payloadType: number;
  private readonly mtu: number;
  /** Q 128..254 → tables already sent (RFC 2435 §3.1.8: static mapping, Length 0 allowed after) */
  private readonly sentStatic = new Map<number, Buffer>();

  constructor(opts: PacketizerOptions) {
    this.ssrc = opts.ssrc >>> 0;
    this.payloadType = (opts.payloadType ?? 26) & 0x7f;
    this.mtu = opts.mtu ?? 1400;
    if (!Number.isInteger(this.mtu) || this.mtu < 12 + 8 + 4 + 4 + 256 + 1) {
      throw new Error(`mtu ${this.mtu} too small (minimum ${12 + 8 + 4 + 4 + 256 + 1})`);
    }
    this.nextSequence = (opts.initialSequence ?? Math.floor(Math.random() * 65536)) & 0xffff;
  }

  /** Splits one JPEG into whole RTP packets (marker set on the last one). */
  packetize(jpeg: Buffer, rtpTimestamp: number, opts: PacketizeFrameOptions = {}): Buffer[] {
    const info = parseBaselineJpeg(jpeg);
    const q = opts.q ?? 255;
    if (!Number.isInteger(q) || q < 1 || q > 255 || (q >= 100 && q <= 127)) {
      throw new Error(`Q ${q} is reserved or out of range (RFC 2435: 1..99 or 128..255)`);
    }
    let qHeader: Buffer | null = null;
    if (q < 100) {
      const std = qTablesForQ(q)!;
      if (info.sixteenBit[0] || info.sixteenBit[1] || !tablesEqual(info.tables[0], std.luma) || !tablesEqual(info.tables[1], std.chroma)) {
        throw new Error(`JPEG quantization tables are not the RFC 2435 Appendix A tables for Q=${q}`);
      }
    } else {
      const data = Buffer.concat([info.tables[0], info.tables[1]]);
      let send = true;
      if (q < 255) {
        const prev = this.sentStatic.get(q);
        if (prev && prev.equals(data)) send = false;
        else this.sentStatic.set(q, data);
      }
      // Quantization Table header (§3.1.8): MBZ, precision (bit i = table i is 16-bit), length.
      qHeader = Buffer.alloc(4 + (send ? data.length : 0));
      qHeader[1] = (info.sixteenBit[0] ? 1 : 0) | (info.sixteenBit[1] ? 2 : 0);
      if (send) {
        qHeader.writeUInt16BE(data.length, 2);
        data.copy(qHeader, 4);
      }
    }
    const type = info.type | (info.restartInterval ? 64 : 0);
    const tooBig = info.width > 2040 || info.height > 2040;
    const wBlocks = opts.zeroDimensions || tooBig ? 0 : Math.ceil(info.width / 8);
    const hBlocks = opts.zeroDimensions || tooBig ? 0 : Math.ceil(info.height / 8);
    const scan = info.scan;
    if (scan.length >= 1 << 24) throw new Error('scan data exceeds the 24-bit fragment offset');

    const fixed = 12 + 8 + (info.restartInterval ? 4 : 0);
    const packets: Buffer[] = [];
    let offset = 0;
    do {
      const extra = offset === 0 && qHeader ? qHeader.length : 0;
      const room = this.mtu - fixed - extra;
      const n = Math.min(room, scan.length - offset);
      const last = offset + n >= scan.length;
      const pkt = Buffer.allocUnsafe(fixed + extra + n);
      // RTP fixed header (RFC 3550 §5.1): V=2, no padding/extension/CSRC.
      pkt[0] = 0x80;
      pkt[1] = (last ? 0x80 : 0) | this.payloadType;
      pkt.writeUInt16BE(this.nextSequence, 2);
      pkt.writeUInt32BE(rtpTimestamp >>> 0, 4);
      pkt.writeUInt32BE(this.ssrc, 8);
      // RFC 2435 §3.1 main JPEG header.
      pkt[12] = 0; // type-specific: progressive frame
      pkt[13] = (offset >>> 16) & 0xff;
      pkt[14] = (offset >>> 8) & 0xff;
      pkt[15] = offset & 0xff;
      pkt[16] = type;
      pkt[17] = q;
      pkt[18] = wBlocks;
      pkt[19] = hBlocks;
      let p = 20;
      if (info.restartInterval) {
        // §3.1.7: F=L=1, count 0x3FFF: packets are not aligned to restart intervals.
        pkt.writeUInt16BE(info.restartInterval, p);
        pkt.writeUInt16BE(0xffff, p + 2);
        p += 4;
      }
      if (extra) { qHeader!.copy(pkt, p); p += extra; }
      scan.copy(pkt, p, offset, offset + n);
      packets.push(pkt);
      this.nextSequence = (this.nextSequence + 1) & 0xffff;
      offset += n;
    } while (offset < scan.length);
    return packets;
  }
}
