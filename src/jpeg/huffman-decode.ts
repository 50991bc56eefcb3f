/**
 * Huffman decoding for the DC-only reader (ITU T.81 Annex C, F.2.2): tables in a form fast to
 * decode, the scan data with its byte stuffing removed, and one block read as its DC
 * difference with its AC coefficients skipped (their run/size codes decoded, their amplitude
 * bits jumped over).
 */
import { STD_HUFFMAN, type HuffmanSpec } from './tables';
import { JpegDcError } from './dc-error';

/** A Huffman table in a form fast to decode: a 9-bit lookup, then T.81 F.2.2.3 per length. */
export interface HuffTable {
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

export function buildTable(bits: Uint8Array, values: Uint8Array): HuffTable {
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
export function stdTables(): { dc: HuffTable[]; ac: HuffTable[] } {
  STD_TABLES ??= {
    dc: [stdTable(STD_HUFFMAN.dcLuma), stdTable(STD_HUFFMAN.dcChroma)],
    ac: [stdTable(STD_HUFFMAN.acLuma), stdTable(STD_HUFFMAN.acChroma)],
  };
  return STD_TABLES;
}

/**
 * The entropy-coded data of one scan with byte stuffing removed (T.81 F.1.2.3: FF 00 → FF),
 * cut at the first marker that is not RSTn; `restarts` holds the offsets in `bytes` where
 * each RSTn stood. Followed by zero bytes, so reads past the end need no bounds checks.
 */
export interface ScanData {
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

export function unstuff(d: Uint8Array, start: number): ScanData {
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
export class Bits {
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
export function decodeBlock(r: Bits, dc: HuffTable, ac: HuffTable): number {
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
