/**
 * RTP sequencer (RFC 3550 A.1 + reorder buffer): a stream modelled on a real vector's packet
 * headers, with loss, reordering, duplicates, large jumps (encoder restarts), sequence
 * wrap-around, SSRC changes, clock stalls and occasional byte-mutated headers, pushed into
 * sequencers with random limits. One case = one push() or flush() call.
 *
 * Invariants: extended sequence numbers delivered strictly increasing (so no duplicates) and
 * congruent to the packet's 16-bit number; pendingCount never above maxReorderPackets + 2
 * (ring + probation + held stray); stats.delivered equals the callbacks, never above received.
 */
import assert from 'node:assert/strict';
import { parseRtpPacket, type RtpPacket } from '../../../src/rtp/packet';
import { RtpSequencer } from '../../../src/rtp/sequencer';
import { rtpSeeds } from '../corpus';
import type { FuzzTarget } from '../harness';
import { mutate, packRecords, unpackRecords, type Rng } from '../mutator';

/** Reproducer record layout: op(1: 0 push, 1 flush) nowMs(u32) [packet bytes] */
function opRecord(op: number, nowMs: number, pkt?: Buffer): Buffer {
  const r = Buffer.allocUnsafe(5 + (pkt ? pkt.length : 0));
  r[0] = op;
  r.writeUInt32BE(nowMs >>> 0, 1);
  if (pkt) pkt.copy(r, 5);
  return r;
}

class Checked {
  readonly seq: RtpSequencer;
  readonly cap: number;
  lastExt = -1;
  calls = 0;
  pushes = 0;

  constructor(cap: number, ms: number) {
    this.cap = cap;
    this.seq = new RtpSequencer((pkt: RtpPacket, ext: number) => {
      this.calls++;
      assert.ok(Number.isSafeInteger(ext) && ext >= 0, `bad extended seq ${ext}`);
      assert.ok(ext > this.lastExt, `delivered ext ${ext} after ${this.lastExt} (out of order or duplicate)`);
      assert.equal(ext % 65536, pkt.sequenceNumber, 'extended seq does not match the packet');
      this.lastExt = ext;
    }, { maxReorderPackets: cap, maxReorderMs: ms });
  }

  push(buf: Buffer, nowMs: number): void {
    const p = parseRtpPacket(buf);
    if (!p) return;
    this.pushes++;
    this.seq.push(p, nowMs);
    this.check();
  }

  flush(nowMs: number): void {
    this.seq.flush(nowMs);
    this.check();
  }

  check(): void {
    const s = this.seq;
    assert.ok(s.pendingCount <= this.cap + 2, `pendingCount ${s.pendingCount} > maxReorderPackets ${this.cap} + 2`);
    assert.equal(s.stats.delivered, this.calls, 'stats.delivered differs from deliver callbacks');
    assert.equal(s.stats.received, this.pushes);
    assert.ok(s.stats.delivered <= s.stats.received, 'delivered more than received');
  }
}

function replaySequence(records: Buffer[]): void {
  const opts = records[0];
  if (!opts || opts.length < 8) return;
  const c = new Checked(opts.readUInt32BE(0), opts.readUInt32BE(4));
  for (const r of records.slice(1)) {
    if (r.length < 5) continue;
    if (r[0] === 1) c.flush(r.readUInt32BE(1));
    else c.push(r.subarray(5), r.readUInt32BE(1));
  }
}

export function rtpSequencerTarget(): FuzzTarget {
  return {
    name: 'rtp-sequencer',
    unit: 'one push() or flush() on a sequencer fed a perturbed real stream (fresh sequencer every 20-600 calls)',
    start() {
      const seeds = rtpSeeds();
      let log: Buffer[] = [];
      let c: Checked | null = null;
      let left = 0;
      let now = 0;
      let seqNo = 0;
      let ts = 0;
      let ssrc = 0;
      let template = seeds[0]!;
      const history: Buffer[] = [];
      const fresh = (rng: Rng): void => {
        const cap = rng.chance(1, 4) ? 512 : rng.range(1, 80);
        const ms = rng.pick([0, 1, 20, 100, 1000]);
        c = new Checked(cap, ms);
        const o = Buffer.alloc(8);
        o.writeUInt32BE(cap, 0);
        o.writeUInt32BE(ms, 4);
        log = [o];
        left = rng.range(20, 600);
        now = rng.int(1000);
        template = rng.pick(seeds);
        seqNo = rng.chance(1, 4) ? 65535 - rng.int(40) : template.readUInt16BE(2);
        ts = template.readUInt32BE(4);
        ssrc = template.readUInt32BE(8);
        history.length = 0;
      };
      const packet = (rng: Rng): Buffer => {
        // Only the 12-byte header and a few payload bytes matter to the sequencer.
        const b = Buffer.from(template.subarray(0, 16));
        b[0] = 0x80;
        b.writeUInt16BE(seqNo & 0xffff, 2);
        b.writeUInt32BE(ts >>> 0, 4);
        b.writeUInt32BE(ssrc >>> 0, 8);
        if (rng.chance(1, 20)) return mutate(rng, b, { maxLength: 32 });
        return b;
      };
      return {
        step(rng: Rng) {
          if (!c || left-- <= 0) fresh(rng);
          const k = rng.int(100);
          now += rng.chance(1, 100) ? -rng.int(50) : rng.chance(1, 20) ? rng.int(400) : rng.int(15);
          if (now < 0) now = 0;
          if (k < 10) {
            log.push(opRecord(1, now));
            c!.flush(now);
            return;
          }
          let buf: Buffer;
          if (k < 20 && history.length) {
            buf = rng.pick(history); // duplicate or late (reordered) packet
          } else {
            if (k < 30) seqNo += rng.range(2, 12); // loss, or a packet sent ahead of its predecessors
            else if (k < 33) seqNo += rng.range(3000, 62000); // large jump
            else if (k < 35) seqNo = rng.int(65536);
            else if (k < 37) ssrc = rng.chance(1, 2) ? rng.u32() : ssrc ^ 1;
            else seqNo += 1;
            seqNo &= 0xffff;
            if (rng.chance(1, 4)) ts += 3600;
            buf = packet(rng);
            if (k >= 20 && k < 30 && rng.chance(1, 2)) {
              // Also send the skipped ones, late: genuine reordering.
              history.push(buf);
            }
            history.push(buf);
            if (history.length > 64) history.splice(0, 32);
          }
          log.push(opRecord(0, now, buf));
          c!.push(buf, now);
          if (left === 0) {
            // End of an episode: a late flush releases everything held for the time limit.
            log.push(opRecord(1, now + 10_000));
            c!.flush(now + 10_000);
          }
        },
        reproducer: () => packRecords(log),
      };
    },
    replay(input: Buffer) { replaySequence(unpackRecords(input)); },
  };
}
