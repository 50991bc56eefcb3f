/**
 * The RFC 2435 §3.1 headers at the start of every RTP/JPEG payload. Read in place from
 * `data[start, end)`, never throwing: a header that does not fit, or says something the
 * RFC reserves, comes back as the name of the counter that records the drop.
 *
 * Main JPEG header (§3.1), in every packet:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    | Type-specific |              Fragment Offset                  |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |      Type     |       Q       |     Width     |     Height    |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Restart Marker header (§3.1.7), after the main header when Type is 64..127:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |       Restart Interval        |F|L|       Restart Count       |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Quantization Table header (§3.1.8), in the first packet of a frame when Q is 128..255:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |      MBZ      |   Precision   |             Length            |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                    Quantization Table Data                    |
 *    |                              ...                              |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Supported: types 0/1 (and 64/65 with the restart header); Q 1..99 (tables computed,
 * Appendix A) and 128..255 (in-band; 128..254 may send Length 0 to reuse the last tables of
 * that Q, §3.1.8). Q 0 and 100..127 are reserved.
 */
import { qTablesForQ } from './tables';

export const MAIN_HEADER_LENGTH = 8;
export const RESTART_HEADER_LENGTH = 4;
const QTABLE_HEADER_LENGTH = 4;

export interface QTables {
  luma: Uint8Array;
  chroma: Uint8Array | null;
}

/** Why a frame's first packet was refused: the stats counter it goes to. */
export type HeaderRejection = 'invalidPackets' | 'unsupportedType' | 'badQ' | 'badTables';

/** What the first packet of a frame says (§3.1). */
export interface FirstPacketHeaders {
  /** Type without the restart bit: 0 = 4:2:2, 1 = 4:2:0 */
  type: 0 | 1;
  q: number;
  /** pixels from the 8-pixel Width/Height fields; 0 when the packet says 0 */
  width: number;
  height: number;
  /** from the restart header, 0 without one */
  restartInterval: number;
  tables: QTables;
  /** payload offset where the scan data begins */
  scanStart: number;
}

/** Fragment Offset (24 bits) of the payload at `start`; the payload is at least 8 bytes. */
export function fragmentOffset(data: Uint8Array, start: number): number {
  return (data[start + 1]! << 16) | (data[start + 2]! << 8) | data[start + 3]!;
}

/** The Type field of the payload at `start`. */
export function payloadType(data: Uint8Array, start: number): number {
  return data[start + 4]!;
}

/** Types 64..127 carry a restart header after the main header (§3.1.7). */
export function hasRestartHeader(type: number): boolean {
  return type < 128 && (type & 0x40) !== 0;
}

/**
 * Narrows a 16-bit table to 8-bit when every entry fits (T.81 wants Pq=0 for 8-bit samples).
 * `keep`: the table outlives the packet (Q 128..254 cache), so it must not reference the
 * packet's memory; a Q=255 table lives only as long as its frame, whose packets are held anyway.
 */
function tableFromWire(src: Buffer, sixteen: boolean, keep: boolean): Uint8Array {
  if (!sixteen) return keep ? Uint8Array.from(src.subarray(0, 64)) : src.subarray(0, 64);
  let fits = true;
  for (let i = 0; i < 64; i++) if (src[2 * i] !== 0) { fits = false; break; }
  if (!fits) return Uint8Array.from(src.subarray(0, 128));
  const out = new Uint8Array(64);
  for (let i = 0; i < 64; i++) out[i] = src[2 * i + 1]!;
  return out;
}

/**
 * Reads the headers of a frame's first packet (`pl` is its whole payload). `qCache` maps
 * Q 128..254 to the tables last received in-band (§3.1.8 static mapping) and is updated here.
 */
export function readFirstPacketHeaders(pl: Buffer, qCache: Map<number, QTables>): FirstPacketHeaders | HeaderRejection {
  const type = pl[4]!;
  const q = pl[5]!;
  let p = MAIN_HEADER_LENGTH;
  let restartInterval = 0;
  if (hasRestartHeader(type)) {
    // §3.1.7: the restart header comes before any quantization table header.
    if (pl.length < p + RESTART_HEADER_LENGTH) return 'invalidPackets';
    restartInterval = pl.readUInt16BE(p);
    if (restartInterval === 0) return 'invalidPackets';
    p += RESTART_HEADER_LENGTH;
  }
  if (type >= 128 || (type & 0x3f) > 1) return 'unsupportedType';
  if (q === 0 || (q >= 100 && q <= 127)) return 'badQ';

  let tables: QTables | null;
  if (q < 100) {
    tables = qTablesForQ(q)!; // shared and cached, never mutated
  } else {
    if (pl.length < p + QTABLE_HEADER_LENGTH) return 'invalidPackets';
    const precision = pl[p + 1]!;
    const length = pl.readUInt16BE(p + 2);
    p += QTABLE_HEADER_LENGTH;
    if (p + length > pl.length) return 'invalidPackets'; // §3.1.8: MUST discard
    if (length === 0) {
      tables = q === 255 ? null : (qCache.get(q) ?? null); // Q=255 with Length 0 is forbidden
      if (!tables) return 'badTables';
    } else {
      const size0 = precision & 1 ? 128 : 64;
      const size1 = precision & 2 ? 128 : 64;
      if (length < size0) return 'badTables';
      const keep = q < 255;
      const luma = tableFromWire(pl.subarray(p, p + size0), (precision & 1) !== 0, keep);
      // One table (Length 64, FFmpeg's default): chroma uses table 0. Extra tables are ignored.
      const chroma = length >= size0 + size1 ? tableFromWire(pl.subarray(p + size0, p + size0 + size1), (precision & 2) !== 0, keep) : null;
      tables = { luma, chroma };
      if (q < 255) qCache.set(q, tables);
      p += length;
    }
  }
  return { type: (type & 0x3f) as 0 | 1, q, width: pl[6]! * 8, height: pl[7]! * 8, restartInterval, tables, scanStart: p };
}
