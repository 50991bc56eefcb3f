/**
 * Multipart MJPEG bodies as real servers frame them, for the reader's unit, property and fuzz
 * tests: where each puts the delimiter, which headers a part carries, the line ends. The
 * framings follow the servers' own source or documentation (cited in test/peers/ where each
 * server is emulated); here they are only byte layouts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const FIXTURES = join(__dirname, '..', 'fixtures', 'jpeg');

/** Small real JPEGs (libjpeg-turbo's cjpeg), each a complete SOI … EOI picture. */
export function fixtureJpegs(): Buffer[] {
  return ['q50-420.jpg', 'q30-422.jpg', 'type65-420-dri.jpg', 'gray.jpg', 'sample444.jpg', 'progressive.jpg']
    .map((f) => readFileSync(join(FIXTURES, f)));
}

export type Framing =
  /** ESP32 CameraWebServer: CRLF + delimiter BEFORE each part, Content-Length, X-Timestamp */
  | 'esp32'
  /** mjpg-streamer: delimiter right after the head, then after every picture */
  | 'mjpg-streamer'
  /** Axis VAPIX: `--myboundary` then headers; Content-Length optional */
  | 'axis'
  /** FFmpeg mpjpeg: `--ffmpeg`, lower-case `Content-length`, CRLF after the picture */
  | 'ffmpeg'
  /** motion: padded `Content-Length:     N` */
  | 'motion'
  /** no Content-Length at all, bare LF line ends */
  | 'no-length-lf';

export interface FramingOptions {
  boundary: string;
  /** omit Content-Length (where the framing has one) */
  noLength?: boolean;
}

/** The body a server of that kind sends for these pictures (no HTTP head). */
export function multipartBody(framing: Framing, frames: Buffer[], o: FramingOptions): Buffer {
  const b = o.boundary;
  const out: Buffer[] = [];
  const text = (s: string): void => { out.push(Buffer.from(s, 'latin1')); };
  const len = (n: number, name = 'Content-Length', pad = ''): string => (o.noLength ? '' : `${name}:${pad} ${n}\r\n`);
  frames.forEach((f, i) => {
    switch (framing) {
      case 'esp32':
        text(`\r\n--${b}\r\nContent-Type: image/jpeg\r\n${len(f.length)}X-Timestamp: ${1000 + i}.${String(i * 1000).padStart(6, '0')}\r\n\r\n`);
        out.push(f);
        break;
      case 'mjpg-streamer':
        if (i === 0) text(`--${b}\r\n`);
        text(`Content-Type: image/jpeg\r\n${len(f.length)}X-Timestamp: ${2000 + i}.000500\r\n\r\n`);
        out.push(f);
        text(`\r\n--${b}\r\n`);
        break;
      case 'axis':
        text(`--${b}\r\nContent-Type: image/jpeg\r\n${len(f.length)}\r\n`);
        out.push(f);
        text('\r\n');
        break;
      case 'ffmpeg':
        text(`--${b}\r\nContent-type: image/jpeg\r\n${len(f.length, 'Content-length')}\r\n`);
        out.push(f);
        text('\r\n');
        break;
      case 'motion':
        text(`--${b}\r\nContent-type: image/jpeg\r\n${len(f.length, 'Content-Length', '    ')}\r\n`);
        out.push(f);
        text('\r\n');
        break;
      case 'no-length-lf':
        text(`--${b}\nContent-Type: image/jpeg\n\n`);
        out.push(f);
        text('\n');
        break;
    }
  });
  // a part is only known to be over when the next delimiter (or the end) arrives
  if (framing === 'axis' || framing === 'ffmpeg' || framing === 'motion') text(`--${b}\r\n`);
  if (framing === 'no-length-lf') text(`--${b}\n`);
  return Buffer.concat(out);
}

/** Splits `buf` into reads of the given sizes (cycled); sizes ≥ 1. */
export function chunked(buf: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  let k = 0;
  while (off < buf.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]!);
    out.push(buf.subarray(off, off + n));
    off += n;
  }
  return out;
}
