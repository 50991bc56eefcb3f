/**
 * Independent JPEG decoder for tests: libjpeg-turbo's `djpeg -pnm` (stdin → PNM on stdout)
 * when it is on PATH, else jpeg-js. `ok` is false on any decoder error or warning
 * (djpeg exits 2 on "Corrupt JPEG data" warnings), so a frame that decodes with glitches fails.
 * The same bytes always decode the same way, so a result is kept (by SHA-1 of the bytes, a
 * bounded number of pixel bytes) and a frame seen before is not decoded again: cameras and test
 * patterns send many byte-identical frames, and a decoder process per frame is what made the
 * interop suites slow.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';

export interface DecodeResult {
  ok: boolean;
  width?: number;
  height?: number;
  /** RGB (3 bytes/pixel) or grey (1 byte/pixel), row-major */
  pixels?: Buffer;
  error?: string;
}

let available: boolean | undefined;

export function djpegAvailable(): boolean {
  if (available === undefined) {
    const r = spawnSync('djpeg', ['-version'], { encoding: 'latin1' });
    available = !r.error;
  }
  return available;
}

/** Parses binary PNM (P5/P6, maxval ≤ 255). */
function parsePnm(b: Buffer): { width: number; height: number; pixels: Buffer } | null {
  const fields: string[] = [];
  let i = 0;
  while (fields.length < 4 && i < b.length) {
    while (i < b.length && /\s/.test(String.fromCharCode(b[i]!))) i++;
    if (b[i] === 0x23) { while (i < b.length && b[i] !== 0x0a) i++; continue; }
    let s = '';
    while (i < b.length && !/\s/.test(String.fromCharCode(b[i]!))) s += String.fromCharCode(b[i++]!);
    fields.push(s);
  }
  i++; // single whitespace after maxval
  const [magic, w, h] = fields;
  if ((magic !== 'P6' && magic !== 'P5') || !w || !h) return null;
  return { width: Number(w), height: Number(h), pixels: b.subarray(i) };
}

/** results by SHA-1 of the JPEG, oldest first; at most CACHE_BYTES of pixels */
const cache = new Map<string, DecodeResult>();
const CACHE_BYTES = 64 * 1024 * 1024;
let cachedBytes = 0;

export function decodeJpeg(jpeg: Buffer): DecodeResult {
  const key = createHash('sha1').update(jpeg).digest('hex');
  const hit = cache.get(key);
  if (hit) return hit;
  const r = decodeUncached(jpeg);
  cache.set(key, r);
  cachedBytes += r.pixels?.length ?? 0;
  for (const [k, v] of cache) {
    if (cachedBytes <= CACHE_BYTES) break;
    cache.delete(k);
    cachedBytes -= v.pixels?.length ?? 0;
  }
  return r;
}

function decodeUncached(jpeg: Buffer): DecodeResult {
  if (djpegAvailable()) {
    const r = spawnSync('djpeg', ['-pnm'], { input: jpeg, maxBuffer: 256 * 1024 * 1024 });
    const stderr = r.stderr ? r.stderr.toString('latin1').trim() : '';
    if (r.error) return { ok: false, error: r.error.message };
    const pnm = r.stdout && r.stdout.length ? parsePnm(r.stdout) : null;
    if (r.status !== 0 || stderr || !pnm) {
      return { ok: false, error: stderr || `djpeg exit ${r.status}`, ...(pnm ?? {}) };
    }
    return { ok: true, ...pnm };
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const jpegJs = require('jpeg-js') as { decode: (b: Buffer, o: object) => { width: number; height: number; data: Uint8Array } };
    const img = jpegJs.decode(jpeg, { formatAsRGBA: false, useTArray: true, tolerantDecoding: false, maxMemoryUsageInMB: 512 });
    return { ok: true, width: img.width, height: img.height, pixels: Buffer.from(img.data) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}
