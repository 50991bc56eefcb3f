/**
 * RTCP compound parser (RFC 3550 §6): the servers' real compounds (SR + SDES, BYE) mutated,
 * spliced and concatenated (compounds of several packets with one broken in the middle).
 * One case = one parseRtcpCompound call.
 *
 * Invariants: never throws; returns { packets[], error: string | null }; what it reports fits
 * in the datagram (report blocks ≤ length/24, SDES items and BYE SSRCs ≤ length/4, APP data
 * ≤ length); 32-bit fields are unsigned 32-bit integers.
 */
import assert from 'node:assert/strict';
import { parseRtcpCompound } from '../../../src/rtcp/packet';
import { rtcpSeeds } from '../corpus';
import type { FuzzTarget } from '../harness';
import { mutate, type Rng } from '../mutator';

const u32 = (v: number, what: string): void => assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, `${what} = ${v}`);

/** Parses and checks; returns the result for statistics. */
export function checkRtcpParse(buf: Buffer): ReturnType<typeof parseRtcpCompound> {
  const r = parseRtcpCompound(buf);
  assert.ok(Array.isArray(r.packets));
  assert.ok(r.error === null || (typeof r.error === 'string' && r.error.length > 0));
  let blocks = 0;
  let words = 0;
  for (const p of r.packets) {
    switch (p.type) {
      case 'SR':
        u32(p.ssrc, 'SR ssrc'); u32(p.ntpSeconds, 'ntpSeconds'); u32(p.ntpFraction, 'ntpFraction');
        u32(p.rtpTimestamp, 'rtpTimestamp'); u32(p.packetCount, 'packetCount'); u32(p.octetCount, 'octetCount');
        blocks += p.reports.length;
        for (const b of p.reports) { u32(b.ssrc, 'block ssrc'); assert.ok(b.fractionLost >= 0 && b.fractionLost <= 255); }
        break;
      case 'RR':
        u32(p.ssrc, 'RR ssrc');
        blocks += p.reports.length;
        for (const b of p.reports) {
          u32(b.ssrc, 'block ssrc'); u32(b.extendedHighestSeq, 'ext seq'); u32(b.jitter, 'jitter');
          assert.ok(b.cumulativeLost >= -0x800000 && b.cumulativeLost <= 0x7fffff, `cumulativeLost ${b.cumulativeLost}`);
        }
        break;
      case 'SDES':
        for (const c of p.chunks) { u32(c.ssrc, 'SDES ssrc'); words += 1 + c.items.length; for (const it of c.items) assert.equal(typeof it.value, 'string'); }
        break;
      case 'BYE':
        words += p.ssrcs.length;
        p.ssrcs.forEach((s) => u32(s, 'BYE ssrc'));
        assert.ok(p.reason === null || typeof p.reason === 'string');
        break;
      case 'APP':
        assert.ok(p.data.length <= buf.length);
        assert.equal(p.name.length, 4);
        break;
      default:
        assert.equal(p.type, 'unknown');
    }
  }
  assert.ok(blocks * 24 <= buf.length, `${blocks} report blocks from ${buf.length} bytes`);
  assert.ok(words * 4 <= buf.length + 4 * r.packets.length, `${words} SDES/BYE items from ${buf.length} bytes`);
  return r;
}

export function rtcpCompoundTarget(): FuzzTarget {
  return {
    name: 'rtcp-compound',
    unit: 'one parseRtcpCompound call on a mutated/spliced real compound',
    start() {
      const seeds = rtcpSeeds();
      let input: Buffer = Buffer.alloc(0);
      let packets = 0;
      let errors = 0;
      return {
        step(rng: Rng) {
          let seed = rng.pick(seeds);
          if (rng.chance(1, 4)) seed = Buffer.concat([seed, rng.pick(seeds), ...(rng.chance(1, 2) ? [rng.pick(seeds)] : [])]);
          input = mutate(rng, seed, { maxLength: 1500, other: rng.pick(seeds) });
          const r = checkRtcpParse(input);
          packets += r.packets.length;
          if (r.error) errors++;
        },
        reproducer: () => input,
        summary: () => `${packets} packets parsed, ${errors} compounds with an error`,
      };
    },
    replay(input: Buffer) { checkRtcpParse(input); },
  };
}
