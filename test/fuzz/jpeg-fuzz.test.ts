/** fast-check: the depacketizer never throws and only emits well-formed, size-bounded JPEGs. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { join } from 'node:path';
import { JpegDepacketizer, type JpegFrame } from '../../src/jpeg/depacketizer';
import { RtpSequencer } from '../../src/rtp/sequencer';
import { parseRtpPacket } from '../../src/rtp/packet';
import { vectorPackets } from '../support/pcap';

function wellFormed(f: JpegFrame, max: number): void {
  assert.equal(f.jpeg[0], 0xff); assert.equal(f.jpeg[1], 0xd8);
  assert.equal(f.jpeg[f.jpeg.length - 2], 0xff); assert.equal(f.jpeg[f.jpeg.length - 1], 0xd9);
  assert.ok(f.jpeg.length <= max);
  assert.ok(f.width > 0 && f.height > 0);
}

/** Plausible RTP/JPEG packets with random header fields, so the interesting paths are reached. */
const rtpJpegArb = fc.record({
  marker: fc.boolean(), seq: fc.integer({ min: 0, max: 20 }), ts: fc.integer({ min: 0, max: 3 }), ssrc: fc.constantFrom(1, 2),
  flags: fc.integer({ min: 0, max: 0x3f }),
  offset: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 0xffffff })),
  type: fc.oneof(fc.constantFrom(0, 1, 64, 65), fc.integer({ min: 0, max: 255 })),
  q: fc.oneof(fc.constantFrom(50, 128, 200, 255), fc.integer({ min: 0, max: 255 })),
  w: fc.integer({ min: 0, max: 255 }), h: fc.integer({ min: 0, max: 255 }),
  rest: fc.uint8Array({ maxLength: 400 }),
}).map((r) => {
  const b = Buffer.alloc(20 + r.rest.length);
  b[0] = 0x80 | (r.flags & 0x3f);
  b[1] = (r.marker ? 0x80 : 0) | 26;
  b.writeUInt16BE(r.seq, 2); b.writeUInt32BE(r.ts * 3600, 4); b.writeUInt32BE(r.ssrc, 8);
  b[12] = 0; b[13] = r.offset >> 16; b[14] = (r.offset >> 8) & 255; b[15] = r.offset & 255;
  b[16] = r.type; b[17] = r.q; b[18] = r.w; b[19] = r.h;
  Buffer.from(r.rest).copy(b, 20);
  return b;
});

describe('fuzz', () => {
  test('random bytes into JpegDepacketizer.push never throw', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 30 }), (pkts) => {
      const d = new JpegDepacketizer();
      for (const p of pkts) {
        const f = d.push(Buffer.from(p));
        if (f) wellFormed(f, 16 * 1024 * 1024);
      }
      assert.equal(d.stats.packets, pkts.length);
    }), { numRuns: 2000 });
  });

  test('plausible RTP/JPEG packets: never throw, frames well-formed and within maxFrameBytes', () => {
    fc.assert(fc.property(fc.array(rtpJpegArb, { maxLength: 40 }), fc.integer({ min: 700, max: 5000 }), (pkts, max) => {
      const d = new JpegDepacketizer({ maxFrameBytes: max });
      for (const p of pkts) {
        const f = d.push(p);
        if (f) wellFormed(f, max);
      }
    }), { numRuns: 3000 });
  });

  test('real stream with random loss, duplication, reordering and bit flips (through the sequencer)', () => {
    const { rtp } = vectorPackets(join(__dirname, '..', 'fixtures', 'vectors', 'gst-dri-udp.pcap'), 26);
    const src = rtp.slice(0, 120).map((p) => p.packet);
    fc.assert(fc.property(
      fc.array(fc.record({ op: fc.constantFrom('keep', 'keep', 'keep', 'drop', 'dup', 'swap', 'flip', 'cut'), at: fc.nat(), bit: fc.nat() }), { minLength: src.length, maxLength: src.length }),
      fc.boolean(),
      (ops, useSeq) => {
        const pkts: Buffer[] = [];
        src.forEach((p, i) => {
          const o = ops[i]!;
          if (o.op === 'drop') return;
          let b = Buffer.from(p);
          if (o.op === 'flip') { const k = o.at % b.length; b[k] = b[k]! ^ (1 << (o.bit % 8)); }
          if (o.op === 'cut') b = b.subarray(0, o.at % b.length);
          pkts.push(b);
          if (o.op === 'dup') pkts.push(b);
          if (o.op === 'swap' && pkts.length >= 2) { const t = pkts[pkts.length - 1]!; pkts[pkts.length - 1] = pkts[pkts.length - 2]!; pkts[pkts.length - 2] = t; }
        });
        const max = 1 << 20;
        const d = new JpegDepacketizer({ maxFrameBytes: max });
        const frames: JpegFrame[] = [];
        if (useSeq) {
          const s = new RtpSequencer((p) => { const f = d.pushPacket(p); if (f) frames.push(f); }, { maxReorderPackets: 64, maxReorderMs: 50 });
          let now = 0;
          for (const b of pkts) { const p = parseRtpPacket(b); if (p) s.push(p, now); now += 1; }
          s.flush(now + 1000);
        } else {
          for (const b of pkts) { const f = d.push(b); if (f) frames.push(f); }
        }
        for (const f of frames) wellFormed(f, max);
        assert.ok(frames.length <= 16);
      },
    ), { numRuns: 300 });
  });

  test('clean stream through the sequencer with reordering inside frames still yields every frame', () => {
    const { rtp } = vectorPackets(join(__dirname, '..', 'fixtures', 'vectors', 'gst-dri-udp.pcap'), 26);
    const src = rtp.map((p) => p.packet);
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: src.length, maxLength: src.length }), (jit) => {
      // each packet displaced by up to 5 positions, except the first two: they pass probation
      // and fix the delivery point (a packet older than that is late by definition)
      const order = src.map((_, i) => ({ i, k: i < 2 ? i : i + jit[i]! })).sort((a, b) => a.k - b.k || a.i - b.i).map((x) => src[x.i]!);
      const d = new JpegDepacketizer();
      let n = 0;
      const s = new RtpSequencer((p) => { if (d.pushPacket(p)) n++; });
      for (const b of order) s.push(parseRtpPacket(b)!, 0);
      assert.equal(n, 51);
      assert.equal(s.stats.gaps, 0);
    }), { numRuns: 30 });
  });
});
