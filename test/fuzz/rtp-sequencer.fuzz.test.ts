/**
 * Fuzz: RTP sequencer (RFC 3550 A.1 + bounded reorder buffer). Bulk: CI_CASES push/flush calls
 * on perturbed real streams. Structure-aware: fast-check permutes/duplicates/drops windows of
 * a sequential run and checks delivery order, uniqueness and the pending bound.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RtpSequencer } from '../../src/rtp/sequencer';
import type { RtpPacket } from '../../src/rtp/packet';
import { CI_SEED } from './harness';
import { bulkTest } from './bulk';
import { rtpSequencerTarget } from './targets/rtp-sequencer';

function pkt(seq: number, ssrc = 1): RtpPacket {
  return { marker: false, payloadType: 26, sequenceNumber: seq & 0xffff, timestamp: 0, ssrc, payload: Buffer.alloc(0), extensionProfile: -1, extension: null };
}

describe('fuzz: RTP sequencer', () => {
  bulkTest(rtpSequencerTarget, 'push/flush calls on perturbed real streams');

  test('fast-check: any arrival order of a run delivers increasing, unique numbers within the bound', () => {
    const arrival = fc.record({
      start: fc.integer({ min: 0, max: 0xffff }),
      order: fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 300 }),
      cap: fc.integer({ min: 1, max: 64 }),
      gaps: fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 300 }),
    });
    fc.assert(fc.property(arrival, ({ start, order, cap, gaps }) => {
      const got: number[] = [];
      const s = new RtpSequencer((p, ext) => { got.push(ext); assert.equal(ext % 65536, p.sequenceNumber); }, { maxReorderPackets: cap, maxReorderMs: 50 });
      let now = 0;
      order.forEach((off, i) => {
        now += gaps[i] ?? 1;
        s.push(pkt(start + off), now);
        assert.ok(s.pendingCount <= cap + 2);
      });
      s.flush(now + 1000);
      for (let i = 1; i < got.length; i++) assert.ok(got[i]! > got[i - 1]!, `not increasing: ${got.join(',')}`);
      assert.equal(s.stats.delivered, got.length);
    }), { numRuns: 3000, seed: CI_SEED });
  });
});
