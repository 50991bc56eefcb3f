/**
 * RTP fixed header (RFC 3550 §5.1): parseRtpPacket on mutated real packets. Mutations focus
 * on the first bytes (V/P/X/CC, extension header, padding count in the last byte), where the
 * parser's decisions are.
 */
import assert from 'node:assert/strict';
import { parseRtpPacket } from '../../../src/rtp/packet';
import { rtpSeeds } from '../corpus';
import type { FuzzTarget } from '../harness';
import { mutate, type Rng } from '../mutator';

/** Invariants of a parse result against the bytes it came from (independent of the parser's code path). */
export function checkRtpParse(buf: Buffer): void {
  const p = parseRtpPacket(buf);
  if (p === null) return;
  assert.ok(buf.length >= 12 && buf[0]! >> 6 === 2, 'accepted a packet without a 12-byte v2 header');
  assert.equal(p.payloadType, buf[1]! & 0x7f);
  assert.equal(p.marker, (buf[1]! & 0x80) !== 0);
  assert.equal(p.sequenceNumber, buf.readUInt16BE(2));
  assert.equal(p.timestamp, buf.readUInt32BE(4));
  assert.equal(p.ssrc, buf.readUInt32BE(8));
  const start = p.payload.byteOffset - buf.byteOffset;
  assert.equal(p.payload.buffer, buf.buffer, 'payload is not a view of the input');
  assert.ok(start >= 12 + (buf[0]! & 15) * 4, 'payload overlaps the header/CSRC list');
  assert.ok(start + p.payload.length <= buf.length, 'payload beyond the packet');
  if (buf[0]! & 0x20) assert.equal(start + p.payload.length, buf.length - buf[buf.length - 1]!, 'padding not removed');
  else assert.equal(start + p.payload.length, buf.length);
  if (buf[0]! & 0x10) {
    assert.ok(p.extension !== null && p.extensionProfile >= 0 && p.extensionProfile <= 0xffff);
    assert.equal(p.extension.length % 4, 0);
  } else {
    assert.equal(p.extension, null);
    assert.equal(p.extensionProfile, -1);
  }
}

export function rtpHeaderTarget(): FuzzTarget {
  return {
    name: 'rtp-header',
    unit: 'one parseRtpPacket call on one mutated packet',
    start() {
      const seeds = rtpSeeds();
      let input: Buffer = Buffer.alloc(0);
      return {
        step(rng: Rng) {
          let seed = rng.pick(seeds);
          // Mostly short packets: the header decisions are in the first bytes and the last one.
          if (rng.chance(3, 4)) seed = seed.subarray(0, 12 + rng.int(48));
          input = mutate(rng, seed, { maxLength: 1600, other: rng.pick(seeds) });
          if (input.length && rng.chance(1, 3)) input[0] = 0x80 | rng.int(64); // V=2, random P/X/CC
          if (input.length && rng.chance(1, 6)) input[input.length - 1] = rng.int(256); // padding count
          checkRtpParse(input);
        },
        reproducer: () => input,
      };
    },
    replay(input: Buffer) { checkRtpParse(input); },
  };
}
