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
import { STD_HUFFMAN, type HuffmanSpec } from './tables';

export type DcReadErrorCode = 'not jpeg' | 'progressive' | 'arithmetic' | 'lossless' | 'unsupported' | 'too large' | 'corrupt' | 'truncated';

export class JpegDcError extends Error {
  readonly code: DcReadErrorCode;
  constructor(code: DcReadErrorCode, message: string) {
    super(message);
    this.name = 'JpegDcError';
    this.code = code;
  }
}

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

/** A Huffman table in a form fast to decode: a 9-bit lookup, then T.81 F.2.2.3 per length. */
interface HuffTable {
  /** (code length << 8) | symbol for codes of ≤ 9 bits, indexed by the next 9 bits; 0 = longer */
  fast: Uint16Array;
  /** largest code of each length 1..16, −1 when none (T.81 Figure F.16 MAXCODE) */
  maxcode: Int32Array;
  /** index into `values` of the first code of each length, minus that code (VALPTR − MINCODE) */
  valoff: Int32Array;
  values: Uint8Array;
  /**
   * For AC tables: the whole coefficient per 9-bit lookup, code and amplitude bits together:
   * (bits to drop) | (positions to advance << 8); EOB advances 64. 0 = take the slow path.
   */
  skip: Int32Array;
}

const FAST_BITS = 9;

function buildTable(bits: Uint8Array, values: Uint8Array): HuffTable {
  const fast = new Uint16Array(1 << FAST_BITS);
  const maxcode = new Int32Array(18).fill(-1);
  const valoff = new Int32Array(18);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = bits[len - 1]!;
    valoff[len] = k - code;
    for (let i = 0; i < n; i++) {
      if (code >= 1 << len) throw new JpegDcError('corrupt', 'Huffman table: more codes than fit their lengths');
      if (len <= FAST_BITS) {
        const shift = FAST_BITS - len;
        const entry = (len << 8) | values[k]!;
        for (let j = code << shift, end = (code + 1) << shift; j < end; j++) fast[j] = entry;
      }
      code++;
      k++;
    }
    if (n > 0) maxcode[len] = code - 1;
    code <<= 1;
  }
  const skip = new Int32Array(1 << FAST_BITS);
  for (let i = 0; i < skip.length; i++) {
    const e = fast[i]!;
    if (e === 0) continue;
    const rs = e & 0xff;
    const size = rs & 15;
    const advance = size !== 0 ? (rs >> 4) + 1 : rs === 0xf0 ? 16 : 64;
    skip[i] = ((e >> 8) + size) | (advance << 8);
  }
  return { fast, maxcode, valoff, values, skip };
}

const stdTable = (s: HuffmanSpec): HuffTable => buildTable(s.bits, s.values);
/** T.81 K.3 tables, for Motion-JPEG frames that leave out DHT (DC and AC, luma and chroma). */
let STD_TABLES: { dc: HuffTable[]; ac: HuffTable[] } | null = null;
function stdTables(): { dc: HuffTable[]; ac: HuffTable[] } {
  STD_TABLES ??= {
    dc: [stdTable(STD_HUFFMAN.dcLuma), stdTable(STD_HUFFMAN.dcChroma)],
    ac: [stdTable(STD_HUFFMAN.acLuma), stdTable(STD_HUFFMAN.acChroma)],
  };
  return STD_TABLES;
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  /** blocks across and down that cover this component (T.81 A.1.1) */
  bw: number;
  bh: number;
}

interface Frame {
  precision: number;
  width: number;
  height: number;
  comps: Component[];
  hmax: number;
  vmax: number;
}

/**
 * The entropy-coded data of one scan with byte stuffing removed (T.81 F.1.2.3: FF 00 → FF),
 * cut at the first marker that is not RSTn; `restarts` holds the offsets in `bytes` where
 * each RSTn stood. Followed by zero bytes, so reads past the end need no bounds checks.
 */
interface ScanData {
  bytes: Uint8Array;
  length: number;
  restarts: number[];
  /** position in the JPEG after the scan data (the next marker) */
  next: number;
}

/** Zero bytes after the data: more than one block can read (16 + 11 + 63 × 31 bits). */
const TAIL = 1024;
/** Scratch buffer for unstuffed scan data, grown as needed and reused across frames. */
let scratch = new Uint8Array(64 * 1024);

function unstuff(d: Uint8Array, start: number): ScanData {
  const end = d.length;
  if (scratch.length < end - start + TAIL) scratch = new Uint8Array(Math.max(end - start + TAIL, scratch.length * 2));
  const out = scratch;
  const restarts: number[] = [];
  let o = 0;
  let p = start;
  while (p < end) {
    const b = d[p]!;
    if (b !== 0xff) {
      out[o++] = b;
      p++;
      continue;
    }
    const n = p + 1 < end ? d[p + 1]! : 0xd9;
    if (n === 0) {
      out[o++] = 0xff;
      p += 2;
    } else if (n >= 0xd0 && n <= 0xd7) {
      restarts.push(o);
      p += 2;
    } else if (n === 0xff) {
      p++; // fill byte before a marker
    } else break;
  }
  out.fill(0, o, o + TAIL);
  return { bytes: out, length: o, restarts, next: p };
}

/** Bit position state of one scan decode (T.81 F.2.2.5 NEXTBIT over unstuffed bytes). */
class Bits {
  acc = 0;
  cnt = 0;
  pos = 0;
  readonly bytes: Uint8Array;
  constructor(data: ScanData) {
    this.bytes = data.bytes;
  }

  /**
   * Whether only padding is left before byte `offset`: fewer than 8 bits, all ones (T.81
   * F.1.2.3 pads each entropy-coded segment with 1-bits to a byte boundary).
   */
  onlyPaddingBefore(offset: number): boolean {
    const left = offset * 8 - (this.pos * 8 - this.cnt);
    if (left < 0 || left > 7) return false;
    if (left === 0) return true;
    const b = this.bytes[offset - 1]!;
    const mask = (1 << left) - 1;
    return (b & mask) === mask;
  }

  restartAt(offset: number): void {
    this.pos = offset;
    this.acc = 0;
    this.cnt = 0;
  }
}

/** Longest-code search past the 9-bit lookup (T.81 F.2.2.3 DECODE): (length << 8) | symbol. */
function decodeSlow(acc: number, cnt: number, t: HuffTable): number {
  for (let len = FAST_BITS + 1; len <= 16; len++) {
    const code = (acc >>> (cnt - len)) & ((1 << len) - 1);
    if (code <= t.maxcode[len]!) return (len << 8) | t.values[t.valoff[len]! + code]!;
  }
  throw new JpegDcError('corrupt', 'bad Huffman code in the scan data');
}

/**
 * DC difference of one block (T.81 F.2.2.1), its AC coefficients skipped (F.2.2.2). The bit
 * buffer lives in locals for the block (this loop is where the reader spends its time) and
 * is refilled to ≥ 25 bits before each code: a code of ≤ 16 bits, or a ≤ 9-bit code with up
 * to 15 amplitude bits, then fits.
 */
function decodeBlock(r: Bits, dc: HuffTable, ac: HuffTable): number {
  const b = r.bytes;
  let acc = r.acc;
  let cnt = r.cnt;
  let pos = r.pos;
  while (cnt <= 24) { acc = (acc << 8) | b[pos++]!; cnt += 8; }
  let e = dc.fast[(acc >>> (cnt - FAST_BITS)) & 0x1ff]!;
  if (e === 0) e = decodeSlow(acc, cnt, dc);
  cnt -= e >> 8;
  const s = e & 0xff;
  let diff = 0;
  if (s !== 0) {
    if (s > 15) throw new JpegDcError('corrupt', 'DC difference category out of range');
    while (cnt < s) { acc = (acc << 8) | b[pos++]!; cnt += 8; }
    const v = (acc >>> (cnt - s)) & ((1 << s) - 1);
    cnt -= s;
    diff = v < 1 << (s - 1) ? v - (1 << s) + 1 : v; // EXTEND, T.81 Figure F.12
  }
  const skip = ac.skip;
  for (let k = 1; k < 64;) {
    while (cnt <= 24) { acc = (acc << 8) | b[pos++]!; cnt += 8; }
    const x = skip[(acc >>> (cnt - FAST_BITS)) & 0x1ff]!;
    if (x !== 0) {
      cnt -= x & 0xff;
      k += x >> 8;
      continue;
    }
    const f = decodeSlow(acc, cnt, ac);
    cnt -= f >> 8;
    const rs = f & 0xff;
    const size = rs & 15;
    if (size === 0) {
      if (rs !== 0xf0) break; // EOB
      k += 16; // ZRL
      continue;
    }
    while (cnt < size) { acc = (acc << 8) | b[pos++]!; cnt += 8; }
    cnt -= size;
    k += (rs >> 4) + 1;
  }
  r.acc = acc;
  r.cnt = cnt;
  r.pos = pos;
  return diff;
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

interface ScanComp {
  comp: Component;
  dc: HuffTable;
  ac: HuffTable;
  /** this scan component is the frame's first component, the one the map holds */
  mapped: boolean;
  pred: number;
}

/** Decodes one scan (T.81 B.2.3 header, then the entropy-coded segments); returns the position after it. */
function decodeScan(
  d: Uint8Array, s: number, e: number, f: Frame, qdc: Float64Array,
  dcTables: (HuffTable | undefined)[], acTables: (HuffTable | undefined)[],
  restartInterval: number, means: Float32Array,
): number {
  const ns = d[s]!;
  if (ns < 1 || ns > 4 || e - s < 4 + 2 * ns) throw new JpegDcError('corrupt', 'bad scan header');
  const ss = d[s + 1 + 2 * ns]!;
  const se = d[s + 2 + 2 * ns]!;
  const a = d[s + 3 + 2 * ns]!;
  if (ss !== 0 || se !== 63 || a !== 0) throw new JpegDcError('progressive', 'scan with spectral selection or successive approximation (progressive JPEG)');
  const std = (): { dc: HuffTable[]; ac: HuffTable[] } => stdTables();
  const comps: ScanComp[] = [];
  for (let i = 0; i < ns; i++) {
    const id = d[s + 1 + 2 * i]!;
    const td = d[s + 2 + 2 * i]! >> 4;
    const ta = d[s + 2 + 2 * i]! & 15;
    const comp = f.comps.find((c) => c.id === id);
    if (!comp || td > 3 || ta > 3) throw new JpegDcError('corrupt', 'scan names an unknown component or table');
    const dc = dcTables[td] ?? (td < 2 ? std().dc[td] : undefined);
    const ac = acTables[ta] ?? (ta < 2 ? std().ac[ta] : undefined);
    if (!dc || !ac) throw new JpegDcError('corrupt', 'scan uses an undefined Huffman table');
    comps.push({ comp, dc, ac, mapped: comp === f.comps[0], pred: 0 });
  }
  const y = f.comps[0]!;
  const q = qdc[y.tq]!;
  if (comps.some((c) => c.mapped) && !Number.isFinite(q)) throw new JpegDcError('corrupt', 'the luma quantization table is missing');
  // mean = level shift + DC·Q/8 (T.81 A.3.3), scaled to 0..255 for 12-bit samples
  const scale = f.precision === 8 ? q / 8 : q / 8 / 16;
  const base = 128;
  const cols = y.bw;
  const rows = y.bh;
  let mcusX: number, mcusY: number;
  if (ns === 1) {
    // a single-component scan is not interleaved: one block per MCU (T.81 A.2.2)
    mcusX = comps[0]!.comp.bw;
    mcusY = comps[0]!.comp.bh;
  } else {
    mcusX = Math.ceil(f.width / (8 * f.hmax));
    mcusY = Math.ceil(f.height / (8 * f.vmax));
  }
  const total = mcusX * mcusY;
  let blocksPerMcu = 0;
  for (const c of comps) blocksPerMcu += ns === 1 ? 1 : c.comp.h * c.comp.v;
  // every block costs at least two bits (a DC code and an AC code), so this much data is a
  // lower bound; a header that claims more is refused before any work
  if (total * blocksPerMcu > (d.length - e) * 4 + 64) throw new JpegDcError('truncated', 'the scan data is too short for the picture size');
  const data = unstuff(d, e);
  const r = new Bits(data);
  let nextRestart = 0;
  for (let mcu = 0; mcu < total; mcu++) {
    // a restart after every restartInterval MCUs (T.81 F.2.1.3.1), or wherever the data holds
    // an RSTn the decoder has reached: some encoders write RSTn without DRI
    const due = restartInterval > 0 && mcu > 0 && mcu % restartInterval === 0;
    const implicit = restartInterval === 0 && nextRestart < data.restarts.length && r.onlyPaddingBefore(data.restarts[nextRestart]!);
    if (nextRestart < data.restarts.length && (due || implicit)) {
      r.restartAt(data.restarts[nextRestart++]!);
      for (const c of comps) c.pred = 0;
    } else if (due) {
      throw new JpegDcError('truncated', 'scan data ends before a restart marker');
    }
    const mx = mcu % mcusX;
    const my = (mcu - mx) / mcusX;
    for (let ci = 0; ci < comps.length; ci++) {
      const c = comps[ci]!;
      const bh = ns === 1 ? 1 : c.comp.h;
      const bv = ns === 1 ? 1 : c.comp.v;
      for (let v = 0; v < bv; v++) {
        for (let h = 0; h < bh; h++) {
          c.pred += decodeBlock(r, c.dc, c.ac);
          // the reader fetches at most 4 bytes ahead: beyond that it is decoding zeros
          if (r.pos > data.length + 8) throw new JpegDcError('truncated', 'scan data ends before its last block');
          if (!c.mapped) continue;
          const bx = mx * bh + h;
          const by = my * bv + v;
          if (bx < cols && by < rows) {
            const m = base + c.pred * scale;
            means[by * cols + bx] = m < 0 ? 0 : m > 255 ? 255 : m;
          }
        }
      }
    }
  }
  return data.next;
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
