/**
 * DC-only JPEG reader: real frames (the 160×120 vector, the JPEG fixtures, small frames of
 * the project encoder with and without restart markers, 4:2:0 and 4:2:2) mutated, mostly in
 * the marker segments before the scan, and cut short. One case = one readDcMap call.
 *
 * Invariants: the reader returns a map or throws a JpegDcError, nothing else; a map has one
 * finite mean in 0..255 per block, at least one block, and no more blocks than the input
 * has pairs of bits (every block costs two bits or more), so the work done follows the
 * input's size however large a picture its header claims.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDcMap, JpegDcError } from '../../../src/jpeg/dc-reader';
import { JpegEncoder } from '../../../src/jpeg/encoder';
import type { FuzzTarget } from '../harness';
import { mutate, type Rng } from '../mutator';

const FIX = join(__dirname, '..', '..', 'fixtures');

let seedCache: Buffer[] | null = null;
function seeds(): Buffer[] {
  if (seedCache) return seedCache;
  const out: Buffer[] = [];
  const small = join(FIX, 'vectors', 'reference', 'gst-udp-rtcp-160x120-25s');
  for (const f of readdirSync(small).filter((x) => x.endsWith('.jpg')).slice(0, 12)) out.push(readFileSync(join(small, f)));
  for (const f of ['q50-420.jpg', 'type64-422-dri.jpg', 'dc-grey-rst2.jpg', 'dc-444-rst1b-q95.jpg', 'progressive.jpg', 'dc-arithmetic.jpg']) out.push(readFileSync(join(FIX, 'jpeg', f)));
  for (const [w, h, sub, ri] of [[32, 32, '420', 0], [48, 24, '422', 1], [40, 40, '420', 2], [64, 16, '422', 0]] as const) {
    const enc = new JpegEncoder({ width: w, height: h, subsampling: sub, quality: 70, restartInterval: ri });
    const p = enc.allocPlanes();
    for (let i = 0; i < p.y.length; i++) p.y[i] = (i * 37) & 0xff;
    p.cb.fill(100);
    p.cr.fill(160);
    out.push(enc.encode(p));
  }
  seedCache = out;
  return out;
}

export function checkDcRead(input: Buffer): void {
  let map;
  try {
    map = readDcMap(input);
  } catch (e) {
    assert.ok(e instanceof JpegDcError, `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    return;
  }
  assert.ok(map.cols >= 1 && map.rows >= 1, 'empty map');
  assert.equal(map.means.length, map.cols * map.rows);
  assert.ok(map.width >= 1 && map.height >= 1);
  assert.ok(map.means.length <= input.length * 4 + 64, `${map.means.length} blocks from ${input.length} bytes`);
  for (const m of map.means) assert.ok(m >= 0 && m <= 255, `mean ${m}`);
}

/** position of the scan data (after the SOS segment), or the length when there is none */
function scanStart(b: Buffer): number {
  const i = b.indexOf(Buffer.from([0xff, 0xda]));
  return i < 0 || i + 4 > b.length ? b.length : Math.min(b.length, i + 2 + b.readUInt16BE(i + 2));
}

export function jpegDcReaderTarget(): FuzzTarget {
  return {
    name: 'jpeg-dc-reader',
    unit: 'one readDcMap call on one mutated JPEG',
    start() {
      const all = seeds();
      let input: Buffer = Buffer.alloc(0);
      let maps = 0;
      let slowestMs = 0;
      return {
        step(rng: Rng) {
          const seed = rng.pick(all);
          const head = scanStart(seed);
          if (rng.chance(1, 2)) {
            // the marker segments decide the layout: mutate there, keep the scan
            input = Buffer.concat([mutate(rng, seed.subarray(0, head), { maxLength: 4096 }), seed.subarray(head)]);
          } else {
            input = mutate(rng, seed, { maxLength: 70_000, other: rng.pick(all) });
          }
          if (rng.chance(1, 8)) input = input.subarray(0, rng.int(input.length + 1));
          const t0 = performance.now();
          try {
            readDcMap(input);
            maps++;
          } catch { /* checked below */ }
          slowestMs = Math.max(slowestMs, performance.now() - t0);
          checkDcRead(input);
        },
        reproducer: () => input,
        summary: () => `${maps} maps read, slowest case ${slowestMs.toFixed(1)} ms`,
      };
    },
    replay(input: Buffer) { checkDcRead(input); },
  };
}
