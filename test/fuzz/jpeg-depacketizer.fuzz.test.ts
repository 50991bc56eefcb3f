/**
 * Fuzz: RFC 2435 depacketizer. Bulk: CI_CASES pushes of real frame sequences with mutated,
 * lost, duplicated, swapped and foreign packets; every emitted JPEG is SOI…EOI and within
 * maxFrameBytes. Structure-aware: fast-check builds RFC 2435 packets from arbitrary main,
 * restart and quantization-table headers and fragment splits of a real frame's scan.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JpegDepacketizer } from '../../src/jpeg/depacketizer';
import { CI_SEED } from './harness';
import { bulkTest } from './bulk';
import { checkFrame, jpegDepacketizerTarget } from './targets/jpeg-depacketizer';
import { frameSequences } from './corpus';

describe('fuzz: RFC 2435 depacketizer', () => {
  bulkTest(jpegDepacketizerTarget, 'pushes of perturbed real frame sequences');

  test('fast-check: arbitrary RFC 2435 headers over a real scan, any fragmentation', () => {
    const seq = frameSequences().find((f) => f.vector === 'gst-udp-320x240')!;
    // The real scan bytes of one frame: fragments after their RFC 2435 headers.
    const first = seq.packets[0]!;
    const scan = Buffer.concat(seq.packets.map((p, i) => p.subarray(12 + 8 + (i === 0 ? 4 + first.readUInt16BE(12 + 8 + 2) : 0))));
    const hdr = fc.record({
      type: fc.oneof(fc.constantFrom(0, 1, 64, 65), fc.integer({ min: 0, max: 255 })),
      q: fc.oneof(fc.constantFrom(1, 50, 99, 128, 200, 255), fc.integer({ min: 0, max: 255 })),
      w: fc.integer({ min: 0, max: 255 }), h: fc.integer({ min: 0, max: 255 }),
      dri: fc.integer({ min: 0, max: 0xffff }),
      precision: fc.integer({ min: 0, max: 255 }), tableLen: fc.oneof(fc.constantFrom(0, 64, 128, 256), fc.integer({ min: 0, max: 300 })),
      sizes: fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 12 }),
      scanLen: fc.integer({ min: 0, max: scan.length }),
      max: fc.constantFrom(500, 5000, 1 << 24),
    });
    fc.assert(fc.property(hdr, (h) => {
      const d = new JpegDepacketizer({ maxFrameBytes: h.max });
      const body = scan.subarray(0, h.scanLen);
      let off = 0;
      let k = 0;
      let emitted = 0;
      do {
        const size = h.sizes[k++ % h.sizes.length]!;
        const frag = body.subarray(off, off + size);
        const extra: Buffer[] = [];
        if (h.type & 0x40) { const r = Buffer.alloc(4); r.writeUInt16BE(h.dri, 0); r.writeUInt16BE(0xffff, 2); extra.push(r); }
        if (off === 0 && h.q >= 128) {
          const t = Buffer.alloc(4 + Math.min(h.tableLen, 256), 7);
          t[0] = 0; t[1] = h.precision; t.writeUInt16BE(h.tableLen, 2);
          extra.push(t);
        }
        const rtp = Buffer.alloc(12);
        rtp[0] = 0x80; rtp[1] = 26 | (off + frag.length >= body.length ? 0x80 : 0);
        rtp.writeUInt32BE(1234, 4); rtp.writeUInt32BE(5678, 8);
        const main = Buffer.from([0, (off >> 16) & 255, (off >> 8) & 255, off & 255, h.type, h.q, h.w, h.h]);
        const f = d.push(Buffer.concat([rtp, main, ...extra, frag]));
        if (f) { emitted++; checkFrame(f, h.max); }
        off += frag.length;
      } while (off < body.length);
      assert.equal(d.stats.framesEmitted, emitted);
      assert.ok(emitted <= 1);
    }), { numRuns: 2000, seed: CI_SEED });
  });
});
