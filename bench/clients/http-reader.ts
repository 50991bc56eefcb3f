/**
 * Our library as an HTTP MJPEG client: one openCamera() session on an http:// URL, counting
 * frames. Usage: node http-reader.cjs <distDir> <url>
 * Runs from the compiled library (no TypeScript loader in the measured process). Prints
 * `frames N` once a second (as ffmpeg's -stats line does, so the bench reads both the same
 * way) and on SIGTERM one JSON line: frames, bytes, frames dropped, errors.
 */
import { join } from 'node:path';
import type { CameraSession } from '../../src/index';

const [distDir, url] = process.argv.slice(2) as [string, string];
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = require(join(distDir, 'index.js')) as { openCamera: (u: string, o: object) => CameraSession };
let frames = 0;
let bytes = 0;
let errors = 0;
let dropped = 0;
const s = lib.openCamera(url, { statsIntervalMs: 1000 });
s.on('frame', (jpeg: Buffer) => { frames++; bytes += jpeg.length; });
s.on('stats', (r: { framesDropped: number }) => { dropped = r.framesDropped; });
s.on('error', () => { errors++; });
setInterval(() => process.stdout.write(`frames ${frames}\n`), 1000);
process.on('SIGTERM', () => {
  process.stdout.write(JSON.stringify({ frames, bytes, dropped, errors }) + '\n');
  process.exit(0);
});
