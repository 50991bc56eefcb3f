/**
 * Fuzz: the DC-only JPEG reader (ITU T.81 markers, Huffman-coded scans). Bulk: CI_CASES
 * mutated real frames (heap bound in harness.ts). Structure-aware: fast-check writes frame
 * headers with arbitrary sizes, sampling factors, table ids and restart intervals in front of
 * arbitrary scan bytes; the reader answers each with a map or a JpegDcError.
 */
import { test, describe } from 'node:test';
import fc from 'fast-check';
import { CI_SEED } from './harness';
import { bulkTest } from './bulk';
import { checkDcRead, jpegDcReaderTarget } from './targets/jpeg-dc-reader';
import { STD_HUFFMAN } from '../../src/jpeg/tables';

function seg(marker: number, body: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = 0xff;
  h[1] = marker;
  h.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([h, body]);
}

describe('fuzz: JPEG DC reader', () => {
  bulkTest(jpegDcReaderTarget, 'mutated real frames, a map or a JpegDcError, work bounded by the input');

  test('fast-check: arbitrary headers and scan bytes never throw anything but JpegDcError', () => {
    const dht = Buffer.concat([
      Buffer.from([0x00]), Buffer.from(STD_HUFFMAN.dcLuma.bits), Buffer.from(STD_HUFFMAN.dcLuma.values),
      Buffer.from([0x10]), Buffer.from(STD_HUFFMAN.acLuma.bits), Buffer.from(STD_HUFFMAN.acLuma.values),
    ]);
    const comp = fc.record({ h: fc.integer({ min: 0, max: 5 }), v: fc.integer({ min: 0, max: 5 }), tq: fc.integer({ min: 0, max: 4 }), td: fc.integer({ min: 0, max: 4 }) });
    const frame = fc.record({
      sof: fc.constantFrom(0xc0, 0xc1, 0xc2, 0xc3, 0xc9),
      precision: fc.constantFrom(8, 12, 16),
      width: fc.integer({ min: 0, max: 70000 }),
      height: fc.integer({ min: 0, max: 70000 }),
      comps: fc.array(comp, { minLength: 1, maxLength: 4 }),
      dri: fc.option(fc.integer({ min: 0, max: 0xffff })),
      withDht: fc.boolean(),
      scan: fc.uint8Array({ maxLength: 400 }),
      rst: fc.boolean(),
    });
    fc.assert(fc.property(frame, (f) => {
      const sof = Buffer.alloc(6 + 3 * f.comps.length);
      sof[0] = f.precision;
      sof.writeUInt16BE(Math.min(0xffff, f.height), 1);
      sof.writeUInt16BE(Math.min(0xffff, f.width), 3);
      sof[5] = f.comps.length;
      const sos = Buffer.alloc(4 + 2 * f.comps.length);
      sos[0] = f.comps.length;
      f.comps.forEach((c, i) => {
        sof[6 + 3 * i] = i + 1;
        sof[7 + 3 * i] = ((c.h & 15) << 4) | (c.v & 15);
        sof[8 + 3 * i] = c.tq;
        sos[1 + 2 * i] = i + 1;
        sos[2 + 2 * i] = ((c.td & 15) << 4) | (c.td & 15);
      });
      sos[sos.length - 2] = 63;
      const scan = Buffer.from(f.scan);
      if (f.rst && scan.length > 4) { scan[2] = 0xff; scan[3] = 0xd0; }
      const jpeg = Buffer.concat([
        Buffer.from([0xff, 0xd8]),
        seg(0xdb, Buffer.concat([Buffer.from([0]), Buffer.alloc(64, 4)])),
        f.withDht ? seg(0xc4, dht) : Buffer.alloc(0),
        f.dri === null ? Buffer.alloc(0) : seg(0xdd, Buffer.from([f.dri >> 8, f.dri & 0xff])),
        seg(f.sof, sof), seg(0xda, sos), scan, Buffer.from([0xff, 0xd9]),
      ]);
      checkDcRead(jpeg);
    }), { numRuns: 3000, seed: CI_SEED });
  });
});
