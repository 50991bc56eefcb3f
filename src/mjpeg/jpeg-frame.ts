/**
 * What the HTTP sources need to know of a JPEG (ITU-T T.81 Annex B) without decoding it:
 * where a complete picture starts and ends inside a received body (SOI … EOI, B.1.1.3), and
 * its size from the frame header (SOFn, B.2.2). Pure functions over bytes; they never throw
 * and read only inside the given range.
 */

const SOI = 0xd8;
const EOI = 0xd9;

/** Bytes a server may put around a picture: CR, LF, space, tab (a CRLF before the delimiter, a padded part). */
function isPadding(b: number): boolean {
  return b === 0x0d || b === 0x0a || b === 0x20 || b === 0x09;
}

/**
 * [start, end) of the JPEG in `buf[from, to)`: it must begin with SOI (after padding) and end
 * with EOI (before padding). null when the range is not one whole picture with only padding
 * around it.
 */
export function jpegBounds(buf: Uint8Array, from = 0, to = buf.length): { start: number; end: number } | null {
  let s = from;
  while (s < to && isPadding(buf[s]!)) s++;
  let e = to;
  while (e > s && isPadding(buf[e - 1]!)) e--;
  if (e - s < 4) return null;
  if (buf[s] !== 0xff || buf[s + 1] !== SOI || buf[e - 2] !== 0xff || buf[e - 1] !== EOI) return null;
  return { start: s, end: e };
}

/** SOFn markers (T.81 Table B.1): C0–C3, C5–C7, C9–CB, CD–CF; C4 (DHT), C8 (JPG) and CC (DAC) are not frames. */
function isSof(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

/**
 * Width and height from the first SOFn, walking marker segments from SOI; null when none is
 * found before SOS or the data ends. Reads at most `limit` bytes (the header of any camera
 * picture is far shorter).
 */
export function jpegSize(buf: Uint8Array, limit = 65536): { width: number; height: number } | null {
  const end = Math.min(buf.length, limit);
  if (end < 4 || buf[0] !== 0xff || buf[1] !== SOI) return null;
  let i = 2;
  while (i + 4 <= end) {
    if (buf[i] !== 0xff) return null;
    const m = buf[i + 1]!;
    if (m === 0xff) { i++; continue; } // fill bytes (B.1.1.2)
    if (m === SOI || (m >= 0xd0 && m <= 0xd7) || m === 0x01) { i += 2; continue; } // no length field
    if (m === EOI || m === 0xda) return null; // SOS before any frame header
    const len = (buf[i + 2]! << 8) | buf[i + 3]!;
    if (len < 2) return null;
    if (isSof(m)) {
      if (i + 9 > end || len < 7) return null;
      const height = (buf[i + 5]! << 8) | buf[i + 6]!;
      const width = (buf[i + 7]! << 8) | buf[i + 8]!;
      return width > 0 && height > 0 ? { width, height } : null;
    }
    i += 2 + len;
  }
  return null;
}

/** `b[start, end)` in a Buffer of its own (Buffer.from would slice the shared pool for small sizes). */
export function ownCopy(b: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafeSlow(end - start);
  b.copy(out, 0, start, end);
  return out;
}
