/**
 * RFC 2435 depacketizer: whole real frames (packet sequences of every vector) pushed in
 * order with perturbations — packets mutated (mostly in the RTP + JPEG + restart +
 * quantization-table headers), dropped, duplicated, swapped, or replaced by a packet of
 * another frame or vector. One case = one push() call; a fresh depacketizer (random
 * maxFrameBytes, sometimes SDP dimensions) every 1-8 frames.
 *
 * Invariants: every emitted JPEG starts with SOI (FF D8) and ends with EOI (FF D9), is at
 * most maxFrameBytes long, has a size in 1..65535; stats.framesEmitted equals the frames
 * returned, stats.packets the pushes, and neither emitted + dropped frames nor invalid
 * packets exceed the packets pushed.
 */
import assert from 'node:assert/strict';
import { JpegDepacketizer, type JpegFrame } from '../../../src/jpeg/depacketizer';
import { frameSequences, type FrameSequence } from '../corpus';
import type { FuzzTarget } from '../harness';
import { mutate, packRecords, unpackRecords, type Rng } from '../mutator';

export function checkFrame(f: JpegFrame, maxFrameBytes: number): void {
  const j = f.jpeg;
  assert.ok(j.length >= 4, `JPEG of ${j.length} bytes`);
  assert.ok(j[0] === 0xff && j[1] === 0xd8, 'JPEG does not start with SOI');
  assert.ok(j[j.length - 2] === 0xff && j[j.length - 1] === 0xd9, 'JPEG does not end with EOI');
  assert.ok(j.length <= maxFrameBytes, `JPEG of ${j.length} bytes > maxFrameBytes ${maxFrameBytes}`);
  assert.ok(Number.isInteger(f.width) && f.width >= 1 && f.width <= 0xffff, `width ${f.width}`);
  assert.ok(Number.isInteger(f.height) && f.height >= 1 && f.height <= 0xffff, `height ${f.height}`);
}

class Checked {
  readonly d: JpegDepacketizer;
  emitted = 0;
  pushes = 0;
  lastLength = 0;
  constructor(readonly maxFrameBytes: number, w: number, h: number) {
    this.d = new JpegDepacketizer({ maxFrameBytes });
    if (w || h) this.d.setDimensions(w, h);
  }

  push(buf: Buffer): void {
    this.pushes++;
    const f = this.d.push(buf);
    if (f) { this.emitted++; this.lastLength = f.jpeg.length; checkFrame(f, this.maxFrameBytes); }
    const s = this.d.stats;
    assert.equal(s.packets, this.pushes, 'stats.packets differs from push() calls');
    assert.equal(s.framesEmitted, this.emitted, 'stats.framesEmitted differs from frames returned');
    // Frames inferred lost whole (framesMissing) had no packet here; every other frame did.
    assert.ok(s.framesMissing >= 0 && s.framesMissing <= s.framesDropped, `missing ${s.framesMissing} > dropped ${s.framesDropped}`);
    assert.ok(s.framesEmitted + s.framesDropped - s.framesMissing <= s.packets, `emitted ${s.framesEmitted} + dropped ${s.framesDropped} - missing ${s.framesMissing} > packets ${s.packets}`);
    assert.ok(s.invalidPackets <= s.packets);
  }
}

const MAX_FRAME_CHOICES = [600, 3000, 12_000, 40_000, 16 * 1024 * 1024];

function optsRecord(max: number, w: number, h: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(max, 0);
  b.writeUInt16BE(w, 4);
  b.writeUInt16BE(h, 6);
  return b;
}

/** A mutated copy focused on the headers: RTP 12 + main 8 + restart 4 + table header 4 + tables. */
function mutatePacket(rng: Rng, p: Buffer, other: Buffer): Buffer {
  if (rng.chance(1, 4)) return mutate(rng, p, { maxLength: 2000, other });
  const cut = Math.min(p.length, 12 + rng.int(160));
  const head = mutate(rng, p.subarray(0, cut), { maxLength: 400, other: other.subarray(0, 160) });
  return Buffer.concat([head, p.subarray(cut)]);
}

export function jpegDepacketizerTarget(): FuzzTarget {
  return {
    name: 'jpeg-depacketizer',
    unit: 'one push() of a real or perturbed RTP/JPEG packet within real frame sequences (fresh depacketizer every 1-8 frames)',
    start() {
      const frames = frameSequences();
      let log: Buffer[] = [];
      let c: Checked | null = null;
      let emitted = 0;
      let maxJpeg = 0;
      let framesLeft = 0;
      let queue: Buffer[] = [];
      const byVector = new Map<string, FrameSequence[]>();
      for (const f of frames) {
        const l = byVector.get(f.vector) ?? [];
        l.push(f);
        byVector.set(f.vector, l);
      }
      const vectors = [...byVector.values()];
      let current: FrameSequence[] = vectors[0]!;
      const fresh = (rng: Rng): void => {
        const max = rng.pick(MAX_FRAME_CHOICES);
        const dims = rng.chance(1, 4) ? [rng.int(3000), rng.int(3000)] as const : [0, 0] as const;
        c = new Checked(max, dims[0], dims[1]);
        log = [optsRecord(max, dims[0], dims[1])];
        framesLeft = rng.range(1, 8);
        current = rng.pick(vectors);
      };
      const nextFrame = (rng: Rng): void => {
        const src = rng.pick(current).packets;
        // Perturbation rate per frame: clean, light (mostly one bad packet), heavy.
        const rate = rng.pick([0, 0, 4, 15, 50]);
        const out: Buffer[] = [];
        for (let i = 0; i < src.length; i++) {
          const p = src[i]!;
          if (rate === 0 || rng.int(100) >= rate) { out.push(p); continue; }
          const k = rng.int(50);
          if (k < 8) continue; // lost
          if (k < 14) { out.push(p, p); continue; } // duplicated
          if (k < 20 && i + 1 < src.length) { out.push(src[i + 1]!, p); i++; continue; } // swapped
          if (k < 24) { out.push(rng.pick(rng.pick(frames).packets)); continue; } // foreign packet
          out.push(mutatePacket(rng, p, rng.pick(src)));
        }
        queue = out;
      };
      return {
        step(rng: Rng) {
          while (queue.length === 0) {
            if (!c || framesLeft-- <= 0) fresh(rng);
            nextFrame(rng);
          }
          const p = queue.shift()!;
          log.push(p);
          const before = c!.emitted;
          c!.push(p);
          if (c!.emitted > before) { emitted++; maxJpeg = Math.max(maxJpeg, c!.lastLength); }
        },
        reproducer: () => packRecords(log),
        summary: () => `${emitted} JPEGs emitted (largest ${maxJpeg} bytes), all SOI…EOI`,
      };
    },
    replay(input: Buffer) {
      const [o, ...pkts] = unpackRecords(input);
      if (!o || o.length < 8) return;
      const c = new Checked(o.readUInt32BE(0), o.readUInt16BE(4), o.readUInt16BE(6));
      for (const p of pkts) c.push(p);
    },
  };
}
