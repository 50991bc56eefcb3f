/**
 * DC-only reader for baseline JPEG (ITU T.81): the mean brightness of every 8×8 luma block,
 * without a full decode. The DC coefficient of a block is 8 × its mean sample value minus the
 * level shift (T.81 A.3.3: S00 = ¼·C0·C0·Σs = Σs/8), so mean = 128 + DC·Q00/8. The reader
 * parses the markers, Huffman-decodes each block's DC difference (T.81 F.2.2.1) and skips the
 * AC coefficients by decoding only their run/size symbols and jumping over the amplitude bits
 * (F.2.2.2); there is no dequantization of AC, no IDCT and no colour conversion.
 *
 * Handles sequential Huffman frames (SOF0, SOF1; 8- or 12-bit samples), any sampling factors
 * (4:2:0, 4:2:2, 4:4:4, grey and others), interleaved and single-component scans, restart
 * intervals (DRI + RSTn, T.81 B.2.4.4 and F.2.1.3.1), and the abbreviated Motion-JPEG frames
 * that omit DHT (the Annex K.3 tables are then assumed, as Motion-JPEG decoders do).
 * Progressive, lossless, hierarchical and arithmetic-coded frames are refused with a
 * JpegDcError whose `code` says which.
 *
 * Bounded: the map is allocated only after the scan header proves the data can hold that many
 * blocks (every block costs at least two bits), and a scan that runs past its data by more
 * than a few bytes is rejected as truncated, so time and memory follow the input's size.
 */
import { JpegDcError } from './dc-error';
import { buildTable, type HuffTable } from './huffman-decode';
import { decodeScan, type Component, type Frame } from './dc-scan';

export { JpegDcError, type DcReadErrorCode } from './dc-error';

export interface DcMap {
  /** picture size in pixels (from the frame header) */
  width: number;
  height: number;
  /** blocks across and down that cover the picture's first component (the luma) */
  cols: number;
  rows: number;
  /** mean brightness 0..255 of each block of the first component, row by row */
  means: Float32Array;
  /** '420', '422', '444', 'grey', or the luma's sampling factors as 'HxV' */
  sampling: string;
}

export interface DcReadOptions {
  /** refuse pictures larger than this many pixels (default 64 M) */
  maxPixels?: number;
  /** a map array to fill when it has the right length (saves an allocation per frame) */
  reuse?: Float32Array | undefined;
}

const u16 = (d: Uint8Array, p: number): number => (d[p]! << 8) | d[p + 1]!;

function samplingName(f: Frame): string {
  const [y, ...c] = f.comps;
  if (!y) return '';
  if (c.length === 0) return 'grey';
  if (c.every((x) => x.h === 1 && x.v === 1)) {
    if (y.h === 2 && y.v === 2) return '420';
    if (y.h === 2 && y.v === 1) return '422';
    if (y.h === 1 && y.v === 1) return '444';
  }
  return `${y.h}x${y.v}`;
}


/** Reads the DC map of a baseline JPEG; throws JpegDcError on anything else. */
export function readDcMap(jpeg: Uint8Array, opts: DcReadOptions = {}): DcMap {
  const d = jpeg;
  const len = d.length;
  if (len < 4 || d[0] !== 0xff || d[1] !== 0xd8) throw new JpegDcError('not jpeg', 'not a JPEG image (no SOI marker)');
  const maxPixels = opts.maxPixels ?? 64 * 1024 * 1024;
  const qdc = new Float64Array(4).fill(NaN);
  const dcTables: (HuffTable | undefined)[] = [];
  const acTables: (HuffTable | undefined)[] = [];
  let restartInterval = 0;
  let frame: Frame | null = null;
  let means: Float32Array | null = null;
  let scanned = false;
  let p = 2;
  for (;;) {
    // markers may be preceded by any number of 0xFF fill bytes (T.81 B.1.1.2)
    if (p >= len) break;
    if (d[p] !== 0xff) throw new JpegDcError('corrupt', `expected a marker at byte ${p}`);
    while (p < len && d[p] === 0xff) p++;
    if (p >= len) break;
    const m = d[p++]!;
    if (m === 0xd9) break; // EOI
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue; // no length field
    if (p + 2 > len) break;
    const segLen = u16(d, p);
    if (segLen < 2 || p + segLen > len) throw new JpegDcError('truncated', `marker FF${m.toString(16).toUpperCase()} runs past the end of the data`);
    const s = p + 2;
    const e = p + segLen;
    p = e;
    switch (m) {
      case 0xc0: case 0xc1:
        if (frame) throw new JpegDcError('corrupt', 'second frame header');
        frame = parseFrame(d, s, e, maxPixels);
        break;
      case 0xc2: case 0xc6:
        throw new JpegDcError('progressive', 'progressive JPEG: only baseline (sequential) JPEG can be read without a full decode');
      case 0xc3: case 0xc7:
        throw new JpegDcError('lossless', 'lossless JPEG is not supported');
      case 0xc5:
        throw new JpegDcError('unsupported', 'hierarchical JPEG is not supported');
      case 0xc9: case 0xca: case 0xcb: case 0xcd: case 0xce: case 0xcf: case 0xcc:
        throw new JpegDcError('arithmetic', 'arithmetic-coded JPEG is not supported');
      case 0xdb: parseDqt(d, s, e, qdc); break;
      case 0xc4: parseDht(d, s, e, dcTables, acTables); break;
      case 0xdd:
        if (e - s < 2) throw new JpegDcError('corrupt', 'short DRI segment');
        restartInterval = u16(d, s);
        break;
      case 0xdc:
        throw new JpegDcError('unsupported', 'DNL (the height given after the scan) is not supported');
      case 0xda: {
        if (!frame) throw new JpegDcError('corrupt', 'scan before the frame header');
        const f: Frame = frame;
        means ??= allocMap(f, opts.reuse);
        p = decodeScan(d, s, e, f, qdc, dcTables, acTables, restartInterval, means);
        scanned = true;
        break;
      }
      default:
        break; // APPn, COM, DHP, EXP…: not needed for the DC map
    }
  }
  if (!frame || !means || !scanned) throw new JpegDcError('truncated', 'no complete scan in the data');
  const y = frame.comps[0]!;
  return { width: frame.width, height: frame.height, cols: y.bw, rows: y.bh, means, sampling: samplingName(frame) };
}

function parseFrame(d: Uint8Array, s: number, e: number, maxPixels: number): Frame {
  if (e - s < 6) throw new JpegDcError('corrupt', 'short frame header');
  const precision = d[s]!;
  const height = u16(d, s + 1);
  const width = u16(d, s + 3);
  const n = d[s + 5]!;
  if (precision !== 8 && precision !== 12) throw new JpegDcError('corrupt', `sample precision ${precision}`);
  if (height === 0) throw new JpegDcError('unsupported', 'height 0 (given later by DNL) is not supported');
  if (width === 0 || n === 0 || n > 4 || e - s < 6 + 3 * n) throw new JpegDcError('corrupt', 'bad frame header');
  if (width * height > maxPixels) throw new JpegDcError('too large', `${width}×${height} is larger than ${maxPixels} pixels`);
  const comps: Component[] = [];
  let hmax = 1;
  let vmax = 1;
  for (let i = 0; i < n; i++) {
    const o = s + 6 + 3 * i;
    const h = d[o + 1]! >> 4;
    const v = d[o + 1]! & 15;
    const tq = d[o + 2]!;
    if (h < 1 || h > 4 || v < 1 || v > 4 || tq > 3) throw new JpegDcError('corrupt', 'bad component in the frame header');
    comps.push({ id: d[o]!, h, v, tq, bw: 0, bh: 0 });
    hmax = Math.max(hmax, h);
    vmax = Math.max(vmax, v);
  }
  for (const c of comps) {
    c.bw = Math.ceil(Math.ceil((width * c.h) / hmax) / 8);
    c.bh = Math.ceil(Math.ceil((height * c.v) / vmax) / 8);
  }
  return { precision, width, height, comps, hmax, vmax };
}

function parseDqt(d: Uint8Array, s: number, e: number, qdc: Float64Array): void {
  let o = s;
  while (o < e) {
    const pq = d[o]! >> 4;
    const tq = d[o]! & 15;
    const size = pq === 0 ? 64 : 128;
    if (pq > 1 || tq > 3 || o + 1 + size > e) throw new JpegDcError('corrupt', 'bad DQT segment');
    // element 0 in zig-zag order is the DC quantizer
    qdc[tq] = pq === 0 ? d[o + 1]! : u16(d, o + 1);
    o += 1 + size;
  }
}

function parseDht(d: Uint8Array, s: number, e: number, dc: (HuffTable | undefined)[], ac: (HuffTable | undefined)[]): void {
  let o = s;
  while (o < e) {
    if (o + 17 > e) throw new JpegDcError('corrupt', 'short DHT segment');
    const tc = d[o]! >> 4;
    const th = d[o]! & 15;
    if (tc > 1 || th > 3) throw new JpegDcError('corrupt', 'bad DHT table class or id');
    const bits = d.subarray(o + 1, o + 17);
    let total = 0;
    for (let i = 0; i < 16; i++) total += bits[i]!;
    if (total > 256 || o + 17 + total > e) throw new JpegDcError('corrupt', 'bad DHT segment');
    const table = buildTable(bits, d.slice(o + 17, o + 17 + total));
    (tc === 0 ? dc : ac)[th] = table;
    o += 17 + total;
  }
}

function allocMap(f: Frame, reuse: Float32Array | undefined): Float32Array {
  const y = f.comps[0]!;
  const n = y.bw * y.bh;
  if (reuse && reuse.length === n) return reuse;
  return new Float32Array(n);
}

/** The picture size from the frame header (any SOFn), or null when there is none before the scan. */
export function jpegSize(jpeg: Uint8Array): { width: number; height: number } | null {
  const d = jpeg;
  if (d.length < 4 || d[0] !== 0xff || d[1] !== 0xd8) return null;
  let p = 2;
  while (p + 4 <= d.length) {
    if (d[p] !== 0xff) return null;
    const m = d[p + 1]!;
    if (m === 0xff) {
      p++;
      continue;
    }
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      p += 2;
      continue;
    }
    if (m === 0xda || m === 0xd9) return null;
    const len = u16(d, p + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC)
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc && p + 9 <= d.length) {
      const height = u16(d, p + 5);
      const width = u16(d, p + 7);
      return width > 0 && height > 0 ? { width, height } : null;
    }
    p += 2 + len;
  }
  return null;
}

