/**
 * Cost of the live view's per-frame boundary search (http/multipart BoundaryFamily.mayCollide:
 * one Buffer.indexOf of the source's boundary prefix, once per frame while someone watches)
 * against copying the same frame once, for 64 KiB and 256 KiB frames, measured side by side
 * in one run. Not part of `npm run bench`; run alone:
 *   node --import tsx bench/boundary-scan.ts
 */
import { randomBytes } from 'node:crypto';
import { BoundaryFamily } from '../src/http/multipart';

const ROUNDS = 20000;

function perFrameUs(fn: (b: Buffer) => void, frames: Buffer[]): number {
  for (let i = 0; i < 2000; i++) fn(frames[i % frames.length] as Buffer);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) fn(frames[i % frames.length] as Buffer);
  return Number(process.hrtime.bigint() - t0) / ROUNDS / 1000;
}

const family = new BoundaryFamily();
for (const size of [64 * 1024, 256 * 1024]) {
  const frames = Array.from({ length: 20 }, () => randomBytes(size));
  const out = Buffer.alloc(size);
  let hits = 0;
  const scan = perFrameUs((b) => { if (family.mayCollide(b)) hits++; }, frames);
  const copy = perFrameUs((b) => { b.copy(out); }, frames);
  process.stdout.write(`${JSON.stringify({ frameKiB: size / 1024, scanUs: +scan.toFixed(1), copyUs: +copy.toFixed(1), scanOverCopy: +(scan / copy).toFixed(2), hits })}\n`);
}
