/**
 * Small baseline JPEG encoder (ITU T.81, sequential DCT, Huffman): the demo camera's frames
 * and the pictures the live view generates. Pure bytes: no I/O, no timers.
 *
 * It emits exactly what RFC 2435 types 0/1 can carry: three components Y/Cb/Cr, Y sampled
 * 2x1 (4:2:2, RTP type 0) or 2x2 (4:2:0, RTP type 1), chroma 1x1, 8-bit quantization
 * tables 0 (luma) and 1 (chroma), the standard Annex K.3 Huffman tables, one interleaved
 * scan, optional DRI + RSTn every N MCUs (RTP types 64/65).
 *
 * Speed: the input is YCbCr planes (the test pattern draws straight into them, so there is
 * no colour conversion), and a block whose 64 source samples are identical to the previous
 * frame's reuses its cached quantized coefficients, so a mostly static picture costs only
 * the entropy coding of the unchanged blocks plus a DCT of the changed ones.
 */
import { qTablesForQ, STD_HUFFMAN, ZIGZAG, type HuffmanSpec } from './tables';
import { makeJpegHeader } from './header';

export type ChromaSubsampling = '420' | '422';

export interface JpegEncoderOptions {
  width: number;
  height: number;
  /** '420' → RTP type 1 (default), '422' → RTP type 0 */
  subsampling?: ChromaSubsampling;
  /**
   * RFC 2435 Q 1..99: tables exactly as Appendix A computes them, so the stream can be
   * sent with that Q and no in-band tables. Ignored when `quality` is set.
   */
  q?: number;
  /** libjpeg-style quality 1..100 (same scaling as RFC 2435 App. A; 100 = all ones). Default 85. */
  quality?: number;
  /** restart interval in MCUs (0/undefined = none): writes DRI and RSTn markers */
  restartInterval?: number;
}

/** Source image as planes. Each plane has `stride` = padded width and padded height rows. */
export interface YCbCrPlanes {
  y: Uint8Array;
  cb: Uint8Array;
  cr: Uint8Array;
  /** padded luma width (multiple of the MCU width) */
  yStride: number;
  /** padded luma height (multiple of the MCU height) */
  yRows: number;
  /** padded chroma width and height */
  cStride: number;
  cRows: number;
}

/** AAN scale factors: cos(k·π/16)·√2 for k > 0 (the float AAN DCT leaves outputs scaled by these). */
const AAN_SCALE = Float64Array.from([0, 1, 2, 3, 4, 5, 6, 7].map((k) => (k === 0 ? 1 : Math.cos((k * Math.PI) / 16) * Math.SQRT2)));

/** Code/size lookup for one Huffman table (T.81 Annex C: Figure C.1–C.3). */
interface HuffCodes {
  code: Uint16Array;
  size: Uint8Array;
}

function buildHuffCodes(spec: HuffmanSpec): HuffCodes {
  const code = new Uint16Array(256);
  const size = new Uint8Array(256);
  let c = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = spec.bits[len - 1]!;
    for (let i = 0; i < n; i++) {
      const sym = spec.values[k++]!;
      code[sym] = c++;
      size[sym] = len;
    }
    c <<= 1;
  }
  return { code, size };
}

const HUFF_DC_L = buildHuffCodes(STD_HUFFMAN.dcLuma);
const HUFF_AC_L = buildHuffCodes(STD_HUFFMAN.acLuma);
const HUFF_DC_C = buildHuffCodes(STD_HUFFMAN.dcChroma);
const HUFF_AC_C = buildHuffCodes(STD_HUFFMAN.acChroma);

/** Zig-zag tables for quality 1..100 (100 → all ones, which Appendix A cannot express). */
function tablesForQuality(quality: number): { luma: Uint8Array; chroma: Uint8Array } {
  const qq = Math.round(Math.min(Math.max(quality, 1), 100));
  if (qq === 100) return { luma: new Uint8Array(64).fill(1), chroma: new Uint8Array(64).fill(1) };
  return qTablesForQ(qq)!;
}

/** Number of magnitude bits of |v| (the JPEG "category" SSSS), v in −2047..2047. */
const CATEGORY = new Uint8Array(4096);
for (let v = 1; v < 4096; v++) CATEGORY[v] = 32 - Math.clz32(v);

export class JpegEncoder {
  readonly width: number;
  readonly height: number;
  readonly subsampling: ChromaSubsampling;
  readonly restartInterval: number;
  /** DQT payloads in zig-zag order (what RFC 2435 carries in-band) */
  readonly lumaTable: Uint8Array;
  readonly chromaTable: Uint8Array;
  /** RFC 2435 type for this sampling: 0 (4:2:2) or 1 (4:2:0) */
  readonly rtpType: number;

  private readonly mcuW: number;
  private readonly mcuH: number;
  private readonly mcusX: number;
  private readonly mcusY: number;
  private readonly yStride: number;
  private readonly yRows: number;
  private readonly cStride: number;
  private readonly cRows: number;
  /** reciprocal divisors in natural order: 1 / (q · aan[u] · aan[v] · 8) */
  private readonly recipL = new Float64Array(64);
  private readonly recipC = new Float64Array(64);
  private readonly header: Buffer;
  /** previous frame's planes, to find unchanged blocks */
  private prevY: Uint8Array;
  private prevCb: Uint8Array;
  private prevCr: Uint8Array;
  private havePrev = false;
  /** quantized coefficients per block, zig-zag order; luma blocks then cb then cr */
  private readonly coefY: Int16Array;
  private readonly coefCb: Int16Array;
  private readonly coefCr: Int16Array;
  /** last non-zero zig-zag index per block (0 when only DC) */
  private readonly lastY: Uint8Array;
  private readonly lastCb: Uint8Array;
  private readonly lastCr: Uint8Array;
  private readonly work = new Float64Array(64);
  private out: Uint8Array;
  private pos = 0;
  private bitBuf = 0;
  private bitCnt = 0;
  /** blocks transformed (not taken from the cache) in the last encode, for tests/bench */
  lastTransformedBlocks = 0;

  constructor(opts: JpegEncoderOptions) {
    const { width, height } = opts;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 65535 || height > 65535) {
      throw new RangeError('JpegEncoder: width/height must be integers 1..65535');
    }
    this.width = width;
    this.height = height;
    this.subsampling = opts.subsampling ?? '420';
    this.rtpType = this.subsampling === '420' ? 1 : 0;
    this.restartInterval = Math.max(0, Math.floor(opts.restartInterval ?? 0));
    if (this.restartInterval > 0xffff) throw new RangeError('JpegEncoder: restart interval > 65535');
    const tables = opts.quality !== undefined
      ? tablesForQuality(opts.quality)
      : opts.q !== undefined
        ? qTablesForQ(opts.q)
        : tablesForQuality(85);
    if (!tables) throw new RangeError('JpegEncoder: q must be an integer 1..99');
    this.lumaTable = tables.luma;
    this.chromaTable = tables.chroma;
    for (let k = 0; k < 64; k++) {
      const n = ZIGZAG[k]!;
      const s = AAN_SCALE[n >> 3]! * AAN_SCALE[n & 7]! * 8;
      this.recipL[n] = 1 / (tables.luma[k]! * s);
      this.recipC[n] = 1 / (tables.chroma[k]! * s);
    }
    this.mcuW = 16;
    this.mcuH = this.subsampling === '420' ? 16 : 8;
    this.mcusX = Math.ceil(width / this.mcuW);
    this.mcusY = Math.ceil(height / this.mcuH);
    this.yStride = this.mcusX * this.mcuW;
    this.yRows = this.mcusY * this.mcuH;
    this.cStride = this.mcusX * 8;
    this.cRows = this.mcusY * 8;
    this.prevY = new Uint8Array(this.yStride * this.yRows);
    this.prevCb = new Uint8Array(this.cStride * this.cRows);
    this.prevCr = new Uint8Array(this.cStride * this.cRows);
    const yBlocks = (this.yStride / 8) * (this.yRows / 8);
    const cBlocks = (this.cStride / 8) * (this.cRows / 8);
    this.coefY = new Int16Array(yBlocks * 64);
    this.coefCb = new Int16Array(cBlocks * 64);
    this.coefCr = new Int16Array(cBlocks * 64);
    this.lastY = new Uint8Array(yBlocks);
    this.lastCb = new Uint8Array(cBlocks);
    this.lastCr = new Uint8Array(cBlocks);
    this.header = this.buildHeader();
    this.out = new Uint8Array(Math.max(65536, this.yStride * this.yRows));
  }

  /** Planes of the right padded size for `encode` (filled with mid grey). */
  allocPlanes(): YCbCrPlanes {
    return {
      y: new Uint8Array(this.yStride * this.yRows).fill(128),
      cb: new Uint8Array(this.cStride * this.cRows).fill(128),
      cr: new Uint8Array(this.cStride * this.cRows).fill(128),
      yStride: this.yStride,
      yRows: this.yRows,
      cStride: this.cStride,
      cRows: this.cRows,
    };
  }

  /** Convert packed RGB (3 bytes per pixel, width×height) into planes (JFIF BT.601 full range). */
  rgbToPlanes(rgb: Uint8Array, planes: YCbCrPlanes = this.allocPlanes()): YCbCrPlanes {
    const { width, height } = this;
    const { y, cb, cr, yStride, yRows, cStride, cRows } = planes;
    const hs = 2;
    const vs = this.subsampling === '420' ? 2 : 1;
    const cbSum = new Float64Array(cStride * cRows);
    const crSum = new Float64Array(cStride * cRows);
    for (let row = 0; row < yRows; row++) {
      const sy = row < height ? row : height - 1;
      for (let col = 0; col < yStride; col++) {
        const sx = col < width ? col : width - 1;
        const i = (sy * width + sx) * 3;
        const r = rgb[i]!, g = rgb[i + 1]!, b = rgb[i + 2]!;
        y[row * yStride + col] = clamp8(0.299 * r + 0.587 * g + 0.114 * b);
        const ci = ((row / vs) | 0) * cStride + ((col / hs) | 0);
        cbSum[ci] += -0.168736 * r - 0.331264 * g + 0.5 * b + 128;
        crSum[ci] += 0.5 * r - 0.418688 * g - 0.081312 * b + 128;
      }
    }
    const n = hs * vs;
    for (let i = 0; i < cbSum.length; i++) {
      cb[i] = clamp8(cbSum[i]! / n);
      cr[i] = clamp8(crSum[i]! / n);
    }
    return planes;
  }

  /** Encode one frame; returns a new Buffer holding SOI … EOI. */
  encode(p: YCbCrPlanes): Buffer {
    if (p.yStride !== this.yStride || p.yRows !== this.yRows || p.cStride !== this.cStride || p.cRows !== this.cRows) {
      throw new RangeError('JpegEncoder.encode: planes do not match this encoder (use allocPlanes)');
    }
    this.lastTransformedBlocks = 0;
    this.pos = 0;
    this.bitBuf = 0;
    this.bitCnt = 0;
    this.ensure(this.header.length);
    this.out.set(this.header, 0);
    this.pos = this.header.length;
    let predY = 0, predCb = 0, predCr = 0;
    const ri = this.restartInterval;
    let mcuCount = 0;
    let rst = 0;
    const bw = this.yStride >> 3;
    const cbw = this.cStride >> 3;
    const v2 = this.subsampling === '420';
    for (let my = 0; my < this.mcusY; my++) {
      // worst case per MCU is well under 6 blocks × 64 × 4 bytes
      this.ensure(this.mcusX * 6 * 64 * 4 + 16);
      for (let mx = 0; mx < this.mcusX; mx++) {
        if (ri > 0 && mcuCount > 0 && mcuCount % ri === 0) {
          this.flushBits();
          this.out[this.pos++] = 0xff;
          this.out[this.pos++] = 0xd0 + rst;
          rst = (rst + 1) & 7;
          predY = predCb = predCr = 0;
        }
        mcuCount++;
        const by0 = v2 ? my * 2 : my;
        const bx0 = mx * 2;
        predY = this.block(p.y, this.prevY, this.yStride, by0 * bw + bx0, bx0, by0, this.coefY, this.lastY, this.recipL, predY, HUFF_DC_L, HUFF_AC_L);
        predY = this.block(p.y, this.prevY, this.yStride, by0 * bw + bx0 + 1, bx0 + 1, by0, this.coefY, this.lastY, this.recipL, predY, HUFF_DC_L, HUFF_AC_L);
        if (v2) {
          predY = this.block(p.y, this.prevY, this.yStride, (by0 + 1) * bw + bx0, bx0, by0 + 1, this.coefY, this.lastY, this.recipL, predY, HUFF_DC_L, HUFF_AC_L);
          predY = this.block(p.y, this.prevY, this.yStride, (by0 + 1) * bw + bx0 + 1, bx0 + 1, by0 + 1, this.coefY, this.lastY, this.recipL, predY, HUFF_DC_L, HUFF_AC_L);
        }
        const ci = my * cbw + mx;
        predCb = this.block(p.cb, this.prevCb, this.cStride, ci, mx, my, this.coefCb, this.lastCb, this.recipC, predCb, HUFF_DC_C, HUFF_AC_C);
        predCr = this.block(p.cr, this.prevCr, this.cStride, ci, mx, my, this.coefCr, this.lastCr, this.recipC, predCr, HUFF_DC_C, HUFF_AC_C);
      }
    }
    this.flushBits();
    this.ensure(2);
    this.out[this.pos++] = 0xff;
    this.out[this.pos++] = 0xd9;
    this.prevY.set(p.y);
    this.prevCb.set(p.cb);
    this.prevCr.set(p.cr);
    this.havePrev = true;
    return Buffer.from(this.out.subarray(0, this.pos));
  }

  /** Forget the cached previous frame (next encode transforms every block). */
  resetCache(): void {
    this.havePrev = false;
  }

  /**
   * One 8×8 block: reuse the cached coefficients when the samples are unchanged, else
   * level shift + float AAN DCT + quantize; then Huffman-code it (T.81 F.1.2). Returns
   * the new DC predictor.
   */
  private block(
    plane: Uint8Array, prev: Uint8Array, stride: number, blockIndex: number, bx: number, by: number,
    coefs: Int16Array, lasts: Uint8Array, recip: Float64Array, pred: number, dc: HuffCodes, ac: HuffCodes,
  ): number {
    const base = by * 8 * stride + bx * 8;
    const cOff = blockIndex * 64;
    let same = this.havePrev;
    if (same) {
      for (let r = 0, o = base; r < 8 && same; r++, o += stride) {
        if (plane[o] !== prev[o] || plane[o + 1] !== prev[o + 1] || plane[o + 2] !== prev[o + 2] || plane[o + 3] !== prev[o + 3]
          || plane[o + 4] !== prev[o + 4] || plane[o + 5] !== prev[o + 5] || plane[o + 6] !== prev[o + 6] || plane[o + 7] !== prev[o + 7]) {
          same = false;
        }
      }
    }
    if (!same) {
      this.lastTransformedBlocks++;
      lasts[blockIndex] = this.transform(plane, stride, base, coefs, cOff, recip);
    }
    // entropy coding
    const dcVal = coefs[cOff]!;
    let diff = dcVal - pred;
    let cat = diff < 0 ? CATEGORY[-diff]! : CATEGORY[diff]!;
    this.putBits(dc.code[cat]!, dc.size[cat]!);
    if (cat > 0) {
      if (diff < 0) diff += (1 << cat) - 1;
      this.putBits(diff & ((1 << cat) - 1), cat);
    }
    const last = lasts[blockIndex]!;
    let run = 0;
    for (let k = 1; k <= last; k++) {
      let v = coefs[cOff + k]!;
      if (v === 0) {
        run++;
        continue;
      }
      while (run > 15) {
        this.putBits(ac.code[0xf0]!, ac.size[0xf0]!); // ZRL
        run -= 16;
      }
      cat = v < 0 ? CATEGORY[-v]! : CATEGORY[v]!;
      const sym = (run << 4) | cat;
      this.putBits(ac.code[sym]!, ac.size[sym]!);
      if (v < 0) v += (1 << cat) - 1;
      this.putBits(v & ((1 << cat) - 1), cat);
      run = 0;
    }
    if (last < 63) this.putBits(ac.code[0]!, ac.size[0]!); // EOB
    return dcVal;
  }

  /** DCT + quantization of one block into coefs[cOff..cOff+63] (zig-zag); returns last non-zero index. */
  private transform(plane: Uint8Array, stride: number, base: number, coefs: Int16Array, cOff: number, recip: Float64Array): number {
    const d = this.work;
    // Flat block (common in the test pattern): only DC is non-zero, skip the DCT.
    const first = plane[base]!;
    let flat = true;
    for (let r = 0, o = base; r < 8 && flat; r++, o += stride) {
      for (let c = 0; c < 8; c++) {
        if (plane[o + c] !== first) {
          flat = false;
          break;
        }
      }
    }
    if (flat) {
      coefs[cOff] = quant((first - 128) * 64 * recip[0]!);
      coefs.fill(0, cOff + 1, cOff + 64);
      return 0;
    }
    for (let r = 0, o = base, i = 0; r < 8; r++, o += stride, i += 8) {
      for (let c = 0; c < 8; c++) d[i + c] = plane[o + c]! - 128;
    }
    // rows then columns: AAN float forward DCT (Arai, Agui, Nakajima; as in libjpeg jfdctflt)
    for (let i = 0; i < 64; i += 8) fdct8(d, i, 1);
    for (let i = 0; i < 8; i++) fdct8(d, i, 8);
    let last = 0;
    for (let k = 0; k < 64; k++) {
      const n = ZIGZAG[k]!;
      const q = quant(d[n]! * recip[n]!);
      coefs[cOff + k] = q;
      if (q !== 0) last = k;
    }
    return last;
  }

  private putBits(code: number, size: number): void {
    this.bitBuf = ((this.bitBuf << size) | code) >>> 0;
    this.bitCnt += size;
    while (this.bitCnt >= 8) {
      const b = (this.bitBuf >>> (this.bitCnt - 8)) & 0xff;
      this.out[this.pos++] = b;
      if (b === 0xff) this.out[this.pos++] = 0; // byte stuffing (T.81 B.1.1.5)
      this.bitCnt -= 8;
    }
    this.bitBuf &= (1 << this.bitCnt) - 1;
  }

  /** Pad the last partial byte with 1-bits (T.81 F.1.2.3). */
  private flushBits(): void {
    if (this.bitCnt > 0) this.putBits((1 << (8 - this.bitCnt)) - 1, 8 - this.bitCnt);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.out.length) return;
    const bigger = new Uint8Array(Math.max(this.out.length * 2, this.pos + n));
    bigger.set(this.out.subarray(0, this.pos));
    this.out = bigger;
  }

  /**
   * SOI, DQT×2, [DRI], SOF0, DHT×4, SOS: the very header the receive side synthesizes
   * (RFC 2435 Appendix B, jpeg/header.ts), so a frame survives packetizer → depacketizer
   * byte for byte.
   */
  private buildHeader(): Buffer {
    return makeJpegHeader({
      type: this.rtpType === 0 ? 0 : 1, width: this.width, height: this.height,
      luma: this.lumaTable, chroma: this.chromaTable, restartInterval: this.restartInterval,
    });
  }
}

function clamp8(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

/** Round half away from zero, clamped to the baseline range ±2047 (T.81 F.1.2.1). */
function quant(v: number): number {
  const r = v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
  return r > 2047 ? 2047 : r < -2047 ? -2047 : r;
}

/** One 8-point AAN forward DCT over d[o], d[o+s], … d[o+7s], in place. */
function fdct8(d: Float64Array, o: number, s: number): void {
  const i0 = o, i1 = o + s, i2 = o + 2 * s, i3 = o + 3 * s, i4 = o + 4 * s, i5 = o + 5 * s, i6 = o + 6 * s, i7 = o + 7 * s;
  const t0 = d[i0]! + d[i7]!, t7 = d[i0]! - d[i7]!;
  const t1 = d[i1]! + d[i6]!, t6 = d[i1]! - d[i6]!;
  const t2 = d[i2]! + d[i5]!, t5 = d[i2]! - d[i5]!;
  const t3 = d[i3]! + d[i4]!, t4 = d[i3]! - d[i4]!;
  // even part
  const e10 = t0 + t3, e13 = t0 - t3, e11 = t1 + t2, e12 = t1 - t2;
  d[i0] = e10 + e11;
  d[i4] = e10 - e11;
  const z1 = (e12 + e13) * 0.707106781;
  d[i2] = e13 + z1;
  d[i6] = e13 - z1;
  // odd part
  const o10 = t4 + t5, o11 = t5 + t6, o12 = t6 + t7;
  const z5 = (o10 - o12) * 0.382683433;
  const z2 = 0.5411961 * o10 + z5;
  const z4 = 1.306562965 * o12 + z5;
  const z3 = o11 * 0.707106781;
  const z11 = t7 + z3, z13 = t7 - z3;
  d[i5] = z13 + z2;
  d[i3] = z13 - z2;
  d[i1] = z11 + z4;
  d[i7] = z11 - z4;
}
