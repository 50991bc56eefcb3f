/**
 * Fuzz: RTP fixed header parser (RFC 3550 §5.1). Bulk: CI_CASES mutated real packets
 * (heap bound in harness.ts). Structure-aware: fast-check builds packets from arbitrary
 * header fields, CSRC lists, extensions and padding and checks they parse back exactly.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRtpPacket } from '../../src/rtp/packet';
import { CI_SEED } from './harness';
import { bulkTest } from './bulk';
import { checkRtpParse, rtpHeaderTarget } from './targets/rtp-header';

describe('fuzz: RTP header', () => {
  bulkTest(rtpHeaderTarget, 'mutated real packets, no exception, views inside the input');

  test('fast-check: built packets parse back to their fields; arbitrary bytes never throw', () => {
    const packet = fc.record({
      marker: fc.boolean(), pt: fc.integer({ min: 0, max: 127 }), seq: fc.integer({ min: 0, max: 0xffff }),
      ts: fc.nat({ max: 0xffffffff }), ssrc: fc.nat({ max: 0xffffffff }),
      csrcs: fc.integer({ min: 0, max: 15 }),
      ext: fc.option(fc.record({ profile: fc.integer({ min: 0, max: 0xffff }), words: fc.integer({ min: 0, max: 8 }) })),
      payload: fc.uint8Array({ maxLength: 64 }), pad: fc.integer({ min: 0, max: 8 }),
    });
    fc.assert(fc.property(packet, (p) => {
      const extBytes = p.ext ? 4 + p.ext.words * 4 : 0;
      const buf = Buffer.alloc(12 + p.csrcs * 4 + extBytes + p.payload.length + p.pad);
      buf[0] = 0x80 | (p.pad ? 0x20 : 0) | (p.ext ? 0x10 : 0) | p.csrcs;
      buf[1] = (p.marker ? 0x80 : 0) | p.pt;
      buf.writeUInt16BE(p.seq, 2);
      buf.writeUInt32BE(p.ts, 4);
      buf.writeUInt32BE(p.ssrc, 8);
      let o = 12 + p.csrcs * 4;
      if (p.ext) { buf.writeUInt16BE(p.ext.profile, o); buf.writeUInt16BE(p.ext.words, o + 2); o += extBytes; }
      Buffer.from(p.payload).copy(buf, o);
      if (p.pad) buf[buf.length - 1] = p.pad;
      const r = parseRtpPacket(buf);
      assert.ok(r);
      assert.deepEqual([r.marker, r.payloadType, r.sequenceNumber, r.timestamp, r.ssrc], [p.marker, p.pt, p.seq, p.ts, p.ssrc]);
      assert.deepEqual(Buffer.from(r.payload), Buffer.from(p.payload));
      assert.equal(r.extensionProfile, p.ext ? p.ext.profile : -1);
      checkRtpParse(buf);
    }), { numRuns: 3000, seed: CI_SEED });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => { checkRtpParse(Buffer.from(bytes)); }), { numRuns: 3000, seed: CI_SEED });
  });
});
