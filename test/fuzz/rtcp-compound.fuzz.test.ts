/**
 * Fuzz: RTCP compound parser (RFC 3550 §6). Bulk: CI_CASES mutated/spliced real compounds.
 * Structure-aware: fast-check builds compounds from packets with arbitrary version, padding,
 * count, type and length fields over arbitrary bodies.
 */
import { test, describe } from 'node:test';
import fc from 'fast-check';
import { CI_SEED } from './harness';
import { bulkTest } from './bulk';
import { checkRtcpParse, rtcpCompoundTarget } from './targets/rtcp-compound';

describe('fuzz: RTCP compound', () => {
  bulkTest(rtcpCompoundTarget, 'mutated real compounds');

  test('fast-check: packets with arbitrary header fields over arbitrary bodies', () => {
    const pkt = fc.record({
      v: fc.constantFrom(2, 2, 2, 0, 1, 3), p: fc.boolean(), count: fc.integer({ min: 0, max: 31 }),
      pt: fc.oneof(fc.integer({ min: 200, max: 204 }), fc.integer({ min: 0, max: 255 })),
      body: fc.uint8Array({ maxLength: 200 }), lengthDelta: fc.constantFrom(0, 0, 0, -1, 1, 1000),
    });
    fc.assert(fc.property(fc.array(pkt, { minLength: 1, maxLength: 5 }), (ps) => {
      const parts = ps.map((p) => {
        const body = Buffer.from(p.body.subarray(0, p.body.length - (p.body.length % 4)));
        const h = Buffer.alloc(4);
        h[0] = (p.v << 6) | (p.p ? 0x20 : 0) | p.count;
        h[1] = p.pt;
        h.writeUInt16BE(Math.max(0, Math.min(0xffff, body.length / 4 + p.lengthDelta)), 2);
        if (p.p && body.length) body[body.length - 1] = body.length;
        return Buffer.concat([h, body]);
      });
      checkRtcpParse(Buffer.concat(parts));
    }), { numRuns: 4000, seed: CI_SEED });
  });
});
