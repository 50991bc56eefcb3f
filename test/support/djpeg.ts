/**
 * Independent JPEG decoder for tests: libjpeg-turbo's `djpeg -pnm` (stdin → PNM on stdout)
 * when it is on PATH, else jpeg-js. `ok` is false on any decoder error or warning
 * (djpeg exits 2 on "Corrupt JPEG data" warnings), so a frame that decodes with glitches fails.
 *
 * Speed, for suites that decode hundreds of frames: the same bytes always decode the same way,
 * so a result is kept (by SHA-1 of the bytes, a bounded number of pixel bytes) and a frame seen
 * before is not decoded again (cameras and test patterns send many byte-identical frames); and
 * decodeEach() runs djpeg once per frame from one small shell per batch, instead of forking
 * this (large) test process for every frame.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

const keyOf = (jpeg: Buffer): string => createHash('sha1').update(jpeg).digest('hex');

function remember(key: string, r: DecodeResult): void {
  cache.set(key, r);
  cachedBytes += r.pixels?.length ?? 0;
  for (const [k, v] of cache) {
    if (cachedBytes <= CACHE_BYTES) break;
    cache.delete(k);
    cachedBytes -= v.pixels?.length ?? 0;
  }
}

export function decodeJpeg(jpeg: Buffer): DecodeResult {
  const key = keyOf(jpeg);
  const hit = cache.get(key);
  if (hit) return hit;
  const r = decodeUncached(jpeg);
  remember(key, r);
  return r;
}

/** Pixel bytes a JPEG decodes to, from its SOF (a guess when it has none). */
function pixelBytes(jpeg: Buffer): number {
  for (let o = 2; o + 9 < jpeg.length && jpeg[o] === 0xff;) {
    const m = jpeg[o + 1]!;
    if (m >= 0xc0 && m <= 0xc2) return jpeg.readUInt16BE(o + 5) * jpeg.readUInt16BE(o + 7) * (jpeg[o + 9] === 1 ? 1 : 3);
    if (m === 0xda) break;
    o += 2 + jpeg.readUInt16BE(o + 2);
  }
  return 30 * jpeg.length;
}

/** pixels of one batch's results at most (they are all held until the batch is visited) */
const BATCH_PIXEL_BYTES = 48 * 1024 * 1024;
const BATCH_FRAMES = 100;

/**
 * Decodes every JPEG as decodeJpeg() does, calling `visit` with each result in order; frames
 * not decoded before go to djpeg in batches (one shell per batch). Results are not kept by
 * the caller unless it wants them, so memory stays bounded by one batch.
 */
export function decodeEach(jpegs: readonly Buffer[], visit: (r: DecodeResult, i: number) => void): void {
  if (!djpegAvailable()) {
    jpegs.forEach((j, i) => visit(decodeJpeg(j), i));
    return;
  }
  let i = 0;
  while (i < jpegs.length) {
    // the next batch: up to BATCH_FRAMES frames not in the cache, BATCH_PIXEL_BYTES of pixels
    const todo = new Map<string, Buffer>();
    let bytes = 0;
    let end = i;
    for (; end < jpegs.length; end++) {
      const k = keyOf(jpegs[end]!);
      if (cache.has(k) || todo.has(k)) continue;
      const b = pixelBytes(jpegs[end]!);
      if (todo.size > 0 && (todo.size >= BATCH_FRAMES || bytes + b > BATCH_PIXEL_BYTES)) break;
      todo.set(k, jpegs[end]!);
      bytes += b;
    }
    const fresh = decodeBatch(todo);
    for (; i < end; i++) {
      const k = keyOf(jpegs[i]!);
      visit(fresh.get(k) ?? cache.get(k) ?? decodeJpeg(jpegs[i]!), i);
    }
  }
}

/** SHA-1 of the decoded pixels of each JPEG (null when it does not decode). */
export function pixelHashes(jpegs: readonly Buffer[]): (string | null)[] {
  const out: (string | null)[] = [];
  decodeEach(jpegs, (d) => { out.push(d.ok && d.pixels ? createHash('sha1').update(d.pixels).digest('hex') : null); });
  return out;
}

/** djpeg over each JPEG of `todo` (by key), one shell for all; the results are also kept. */
function decodeBatch(todo: Map<string, Buffer>): Map<string, DecodeResult> {
  const out = new Map<string, DecodeResult>();
  if (todo.size === 0) return out;
  if (todo.size === 1) {
    const [[k, j]] = [...todo];
    out.set(k!, decodeJpeg(j!));
    return out;
  }
  const dir = mkdtempSync(join(tmpdir(), 'djpeg-'));
  try {
    const keys = [...todo.keys()];
    keys.forEach((k, n) => writeFileSync(join(dir, `${n}.jpg`), todo.get(k)!));
    const r = spawnSync('sh', ['-c', `n=0; while [ $n -lt ${keys.length} ]; do djpeg -pnm "$n.jpg" > "$n.pnm" 2> "$n.err"; echo $? > "$n.rc"; n=$((n+1)); done`],
      { cwd: dir, timeout: 120000 });
    if (r.error || r.status !== 0) throw new Error(`djpeg batch failed: ${r.error?.message ?? r.stderr?.toString()}`);
    keys.forEach((k, n) => {
      const status = Number(readFileSync(join(dir, `${n}.rc`), 'latin1').trim());
      const stderr = readFileSync(join(dir, `${n}.err`), 'latin1').trim();
      const pnmBytes = readFileSync(join(dir, `${n}.pnm`));
      const pnm = pnmBytes.length ? parsePnm(pnmBytes) : null;
      const res: DecodeResult = status !== 0 || stderr || !pnm ? { ok: false, error: stderr || `djpeg exit ${status}`, ...(pnm ?? {}) } : { ok: true, ...pnm };
      out.set(k, res);
      remember(k, res);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
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
