/**
 * The header fields of one multipart body part (RFC 2046 §5.1: MIME header fields, names
 * case-insensitive, RFC 9110 §5.1) that an MJPEG reader needs: Content-Length, whether the
 * Content-Type is a picture, and X-Timestamp (ESP32, mjpg-streamer: `seconds.microseconds` of
 * the camera's capture clock). Parsed byte by byte without building strings: this runs once
 * per frame. Pure; never throws.
 */

export interface PartHeaders {
  /** Content-Length, or null when absent or not a number */
  length: number | null;
  /** false when the Content-Type names something other than a picture (text, XML) */
  isImage: boolean;
  /** X-Timestamp in ms, or null */
  timestampMs: number | null;
}

const LF = 0x0a;
const CONTENT_LENGTH = Buffer.from('content-length');
const CONTENT_TYPE = Buffer.from('content-type');
const X_TIMESTAMP = Buffer.from('x-timestamp');
const IMAGE_SLASH = Buffer.from('image/');
const OCTET_STREAM = Buffer.from('application/octet-stream');

/** CR, LF, space, tab: what surrounds names, values and pictures. */
export function isPad(c: number): boolean {
  return c === 0x0d || c === LF || c === 0x20 || c === 0x09;
}

/** ASCII lower-case of a byte. */
function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** Whether `b[s, e)` starts with `lc` (lower-case ASCII), case-insensitively. */
function startsWithCi(b: Uint8Array, s: number, e: number, lc: Uint8Array): boolean {
  if (e - s < lc.length) return false;
  for (let k = 0; k < lc.length; k++) if (lower(b[s + k]!) !== lc[k]) return false;
  return true;
}

/** Whether `b[s, e)` is the header name `lc`, case-insensitively. */
function nameIs(b: Uint8Array, s: number, e: number, lc: Uint8Array): boolean {
  return e - s === lc.length && startsWithCi(b, s, e, lc);
}

/** `b[s, e)` as a decimal number of 1..maxDigits digits, or null. */
function decimal(b: Uint8Array, s: number, e: number, maxDigits: number): number | null {
  if (e <= s || e - s > maxDigits) return null;
  let n = 0;
  for (let k = s; k < e; k++) {
    const d = b[k]! - 0x30;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return n;
}

/** The fields of the header block `l[0, upTo)` (lines ending in LF or CRLF). */
export function parsePartHeaders(l: Uint8Array, upTo: number): PartHeaders {
  const out: PartHeaders = { length: null, isImage: true, timestampMs: null };
  let i = 0;
  while (i < upTo) {
    let eol = l.indexOf(LF, i);
    if (eol < 0 || eol > upTo) eol = upTo;
    let colon = i;
    while (colon < eol && l[colon] !== 0x3a) colon++;
    if (colon < eol) {
      let ns = i;
      let ne = colon;
      while (ns < ne && isPad(l[ns]!)) ns++;
      while (ne > ns && isPad(l[ne - 1]!)) ne--;
      let vs = colon + 1;
      let ve = eol;
      while (vs < ve && isPad(l[vs]!)) vs++;
      while (ve > vs && isPad(l[ve - 1]!)) ve--;
      if (nameIs(l, ns, ne, CONTENT_LENGTH)) {
        const n = decimal(l, vs, ve, 15);
        if (n !== null) out.length = n;
      } else if (nameIs(l, ns, ne, CONTENT_TYPE)) {
        let es = ve;
        for (let k = vs; k < ve; k++) if (l[k] === 0x3b) { es = k; break; }
        while (es > vs && isPad(l[es - 1]!)) es--;
        out.isImage = es === vs || startsWithCi(l, vs, es, IMAGE_SLASH) || (es - vs === OCTET_STREAM.length && startsWithCi(l, vs, es, OCTET_STREAM));
      } else if (nameIs(l, ns, ne, X_TIMESTAMP)) {
        let dot = ve;
        for (let k = vs; k < ve; k++) if (l[k] === 0x2e) { dot = k; break; }
        const sec = decimal(l, vs, dot, 12);
        const frac = dot < ve ? decimal(l, dot + 1, ve, 9) : 0;
        if (sec !== null && frac !== null) out.timestampMs = sec * 1000 + (dot < ve ? (frac * 1000) / 10 ** (ve - dot - 1) : 0);
      }
    }
    i = eol + 1;
  }
  return out;
}
