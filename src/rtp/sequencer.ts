/**
 * RTP sequence-number tracking (RFC 3550 Appendix A.1) plus a bounded reorder buffer.
 *
 * - Extended sequence numbers (cycles × 65536 + seq), monotone for the life of the
 *   sequencer (also across resyncs, so they can key per-packet state).
 * - Probation (A.1 MIN_SEQUENTIAL = 2): a new source is accepted after two packets in
 *   sequence. Unlike A.1 the first packet is queued, not discarded (as GStreamer does), so the
 *   first frame survives; a lone first packet is released by `flush` after `maxReorderMs`.
 * - Large jumps (beyond MAX_DROPOUT ahead / MAX_MISORDER behind): the packet is held and the
 *   sequence is re-synchronised only when the next packet follows it (A.1 `bad_seq`), which
 *   covers encoder restarts with the same SSRC; a single stray packet is dropped.
 * - Reorder buffer: packets ahead of the next expected one wait for the gap to fill, at most
 *   `maxReorderPackets` (default 512: more than one 1080p MJPEG frame of 1400-byte packets)
 *   and `maxReorderMs` (default 100 ms, like live555 and FFmpeg's UDP max_delay). Then the gap
 *   is skipped and counted. Late packets (behind the delivery point) are dropped, duplicates too.
 * - SSRC change: packets still held for the old source are delivered (gaps skipped), then the
 *   state restarts with probation for the new one; the old source's packets still in
 *   probation or held as a possible resync are discarded (counted in `discarded`).
 * - Accounting: received = delivered + duplicates + lateDropped + discarded + pendingCount.
 *
 * In-order arrival (TCP, loopback) is a fast path: no buffering, no allocation.
 * Held packets reference the caller's Buffers (the caller must not reuse them); a packet
 * object the caller re-fills (RtpPacketView.parse) is retained (its fields copied) when held.
 */
import type { RtpPacket } from './packet';

/** The packet as it is now, for keeping: see RtpPacket.retain. */
function kept(pkt: RtpPacket): RtpPacket {
  return pkt.retain === undefined ? pkt : pkt.retain();
}

export interface SequencerOptions {
  /** packets held while waiting for a missing one (default 512, minimum 1) */
  maxReorderPackets?: number;
  /** longest wait for a missing packet in ms (default 100) */
  maxReorderMs?: number;
}

export interface SequencerStats {
  /** packets pushed */
  received: number;
  /** packets handed to the deliver callback */
  delivered: number;
  duplicates: number;
  /** packets that filled a hole (arrived after a later packet) */
  reordered: number;
  /** packets that arrived after their slot was given up, or strays beyond the window */
  lateDropped: number;
  /** gaps given up on (runs of missing sequence numbers skipped) */
  gaps: number;
  /** sequence numbers skipped in those gaps */
  lostPackets: number;
  /** re-synchronisations after a large sequence jump */
  resyncs: number;
  ssrcChanges: number;
  /**
   * packets thrown away unvalidated by an SSRC change or `reset()`: the old source's
   * probation packets and a held large-jump packet (the reorder buffer is delivered instead)
   */
  discarded: number;
}

const MAX_DROPOUT = 3000; // RFC 3550 A.1
const MAX_MISORDER = 100; // RFC 3550 A.1
const MIN_SEQUENTIAL = 2; // RFC 3550 A.1

export class RtpSequencer {
  readonly stats: SequencerStats = {
    received: 0, delivered: 0, duplicates: 0, reordered: 0, lateDropped: 0, gaps: 0,
    lostPackets: 0, resyncs: 0, ssrcChanges: 0, discarded: 0,
  };

  private readonly deliver: (pkt: RtpPacket, extendedSeq: number) => void;
  private readonly cap: number;
  private readonly maxMs: number;
  private readonly misorder: number;

  private ssrc = -1;
  /** 0 = no source, 1 = in probation, 2 = valid */
  private state = 0;
  private probation: RtpPacket[] = [];
  private probationSince = 0;
  private probationTarget = MIN_SEQUENTIAL;

  /** highest extended sequence number seen (valid source) */
  private maxExt = 0;
  /** next extended sequence number to deliver */
  private nextExt = 0;
  /** A.1 bad_seq: (seq + 1) of the last large-jump packet, or -1 */
  private badSeq = -1;
  private badPkt: RtpPacket | null = null;

  // Reorder ring indexed by ext % cap; holds only exts in (nextExt, nextExt + cap).
  private readonly slots: (RtpPacket | null)[];
  private readonly slotExt: Float64Array;
  private readonly slotAt: Float64Array;
  private pending = 0;
  /** arrival time of the oldest held packet (valid when pending > 0) */
  private oldestAt = 0;
  /** ext of each recently delivered packet, to tell duplicates from late packets */
  private readonly deliveredExt: Float64Array;

  constructor(deliver: (pkt: RtpPacket, extendedSeq: number) => void, opts: SequencerOptions = {}) {
    this.deliver = deliver;
    const cap = Math.floor(opts.maxReorderPackets ?? 512);
    this.cap = Number.isFinite(cap) && cap >= 1 ? Math.min(cap, 30000) : 512;
    const ms = opts.maxReorderMs ?? 100;
    this.maxMs = Number.isFinite(ms) && ms >= 0 ? ms : 100;
    // Packets this far behind are "late", not a new sequence: at least A.1's 100.
    this.misorder = Math.max(MAX_MISORDER, this.cap);
    this.slots = new Array<RtpPacket | null>(this.cap).fill(null);
    this.slotExt = new Float64Array(this.cap).fill(-1);
    this.slotAt = new Float64Array(this.cap);
    this.deliveredExt = new Float64Array(this.cap).fill(-1);
  }

  get pendingCount(): number {
    return this.pending + this.probation.length + (this.badPkt ? 1 : 0);
  }

  /** Forgets everything (source, sequence state, held packets: counted as discarded). Stats are kept. */
  reset(): void {
    this.stats.discarded += this.pendingCount;
    this.ssrc = -1;
    this.state = 0;
    this.probation = [];
    this.badSeq = -1;
    this.badPkt = null;
    this.clearRing();
  }

  push(pkt: RtpPacket, nowMs: number): void {
    this.stats.received++;
    if (pkt.ssrc !== this.ssrc) {
      if (this.state !== 0) {
        this.stats.ssrcChanges++;
        this.drainAll();
        this.reset();
      }
      this.ssrc = pkt.ssrc;
    }
    if (this.state !== 2) { this.probe(pkt, nowMs); return; }

    const seq = pkt.sequenceNumber;
    const maxSeq = this.maxExt % 65536;
    const udelta = (seq - maxSeq) & 0xffff;
    let ext: number;
    if (udelta < MAX_DROPOUT) {
      // In order, possibly with a gap; wraps into the next cycle when seq < max.
      ext = this.maxExt + udelta;
      if (udelta === 1 && ext === this.nextExt && this.pending === 0 && this.badPkt === null) {
        // Fast path: the expected packet, nothing held.
        this.maxExt = ext;
        this.badSeq = -1;
        this.emit(pkt, ext);
        this.nextExt = ext + 1;
        return;
      }
      this.maxExt = ext;
      this.dropStray();
    } else if (udelta <= 65536 - this.misorder) {
      // Large jump: accept only when the next packet follows it (A.1 bad_seq).
      if (this.badSeq === seq && this.badPkt) {
        this.resync(this.badPkt, pkt);
      } else {
        if (this.badPkt) this.stats.lateDropped++;
        this.badPkt = kept(pkt);
        this.badSeq = (seq + 1) & 0xffff;
      }
      return;
    } else {
      // Behind the highest seen: duplicate or reordered (ext may fall into the previous cycle).
      ext = this.maxExt - ((maxSeq - seq) & 0xffff);
      this.dropStray();
    }
    this.place(pkt, ext, nowMs);
    if (this.pending > 0 && nowMs - this.oldestAt >= this.maxMs) this.expire(nowMs);
  }

  /** Releases packets that waited longer than maxReorderMs for a missing one (skipping the gap). */
  flush(nowMs: number): void {
    if (this.state === 1 && this.probation.length && nowMs - this.probationSince >= this.maxMs) {
      // A lone source never followed by a second packet: accept what we have.
      const held = this.probation;
      this.probation = [];
      this.accept(held[0]!);
      for (let i = 1; i < held.length; i++) this.place(held[i]!, this.extFor(held[i]!.sequenceNumber), nowMs);
    }
    if (this.pending > 0 && nowMs - this.oldestAt >= this.maxMs) this.expire(nowMs);
  }

  // ---- internals

  private probe(pkt: RtpPacket, nowMs: number): void {
    const held = this.probation;
    const last = held[held.length - 1];
    if (last && pkt.sequenceNumber === ((last.sequenceNumber + 1) & 0xffff)) {
      held.push(kept(pkt));
    } else {
      // First packet of a source, or not in sequence: (re)start probation with this one.
      this.probation = [kept(pkt)];
      this.probationSince = nowMs;
      this.state = 1;
      if (held.length) this.stats.lateDropped += held.length;
    }
    if (this.probation.length >= this.probationTarget) {
      const run = this.probation;
      this.probation = [];
      this.accept(run[0]!);
      for (let i = 1; i < run.length; i++) this.place(run[i]!, this.maxExt + 1, nowMs);
    }
  }

  /** A.1 init_seq for a validated source: delivers its first packet. */
  private accept(first: RtpPacket): void {
    this.state = 2;
    // Keep extended numbers monotone across resyncs/changes: start in a fresh cycle.
    const base = this.stats.delivered === 0 && this.maxExt === 0 ? 0 : (Math.floor(this.maxExt / 65536) + 1) * 65536;
    const ext = base + first.sequenceNumber;
    this.maxExt = ext;
    this.badSeq = -1;
    this.badPkt = null;
    this.emit(first, ext);
    this.nextExt = ext + 1;
  }

  private extFor(seq: number): number {
    const maxSeq = this.maxExt % 65536;
    const udelta = (seq - maxSeq) & 0xffff;
    return udelta < 32768 ? this.maxExt + udelta : this.maxExt - ((maxSeq - seq) & 0xffff);
  }

  private resync(first: RtpPacket, second: RtpPacket): void {
    this.stats.resyncs++;
    this.drainAll();
    // Continue in the same cycle when the jump was forward, else start the next one.
    const maxSeq = this.maxExt % 65536;
    const cycle = Math.floor(this.maxExt / 65536) * 65536;
    const ext = first.sequenceNumber > maxSeq ? cycle + first.sequenceNumber : cycle + 65536 + first.sequenceNumber;
    this.badSeq = -1;
    this.badPkt = null;
    this.maxExt = ext + 1;
    this.emit(first, ext);
    this.emit(second, ext + 1);
    this.nextExt = ext + 2;
  }

  private place(pkt: RtpPacket, ext: number, nowMs: number): void {
    if (ext > this.maxExt) this.maxExt = ext;
    if (ext < this.nextExt) {
      if (this.deliveredExt[ext % this.cap] === ext) this.stats.duplicates++;
      else this.stats.lateDropped++;
      return;
    }
    if (ext === this.nextExt) {
      if (this.pending > 0) this.stats.reordered++;
      this.emit(pkt, ext);
      this.nextExt = ext + 1;
      if (this.pending > 0) this.drainReady();
      return;
    }
    // Ahead of a gap. Make room if it is beyond the window: give up on the oldest gap(s).
    if (ext - this.nextExt >= this.cap) this.skipTo(ext - this.cap + 1);
    if (ext === this.nextExt) { this.place(pkt, ext, nowMs); return; }
    const i = ext % this.cap;
    if (this.slotExt[i] === ext) { this.stats.duplicates++; return; }
    this.slots[i] = kept(pkt);
    this.slotExt[i] = ext;
    this.slotAt[i] = nowMs;
    if (this.pending === 0 || nowMs < this.oldestAt) this.oldestAt = nowMs;
    this.pending++;
  }

  /** Delivers held packets that are now in order. */
  private drainReady(): void {
    for (;;) {
      const i = this.nextExt % this.cap;
      if (this.slotExt[i] !== this.nextExt) return;
      const pkt = this.slots[i]!;
      this.slots[i] = null;
      this.slotExt[i] = -1;
      this.pending--;
      this.emit(pkt, this.nextExt);
      this.nextExt++;
      if (this.pending === 0) return;
    }
  }

  /** Advances the delivery point to `target`, delivering held packets and counting holes. */
  private skipTo(target: number): void {
    let inGap = false;
    while (this.nextExt < target) {
      const i = this.nextExt % this.cap;
      if (this.slotExt[i] === this.nextExt) {
        const pkt = this.slots[i]!;
        this.slots[i] = null;
        this.slotExt[i] = -1;
        this.pending--;
        this.emit(pkt, this.nextExt);
        inGap = false;
      } else {
        if (!inGap) this.stats.gaps++;
        this.stats.lostPackets++;
        inGap = true;
      }
      this.nextExt++;
      if (this.pending === 0 && target - this.nextExt > this.cap) {
        // Nothing held: count the rest of the hole without walking it.
        if (!inGap) this.stats.gaps++;
        this.stats.lostPackets += target - this.nextExt;
        this.nextExt = target;
      }
    }
    if (this.pending > 0) this.drainReady();
  }

  /** Skips the gap in front of the oldest held packets while they are too old. */
  private expire(nowMs: number): void {
    while (this.pending > 0) {
      // Lowest held ext and the oldest arrival among held packets.
      let lowest = -1;
      let oldest = Infinity;
      for (let k = 1; k < this.cap; k++) {
        const e = this.nextExt + k;
        const i = e % this.cap;
        if (this.slotExt[i] === e) {
          if (lowest < 0) lowest = e;
          if (this.slotAt[i]! < oldest) oldest = this.slotAt[i]!;
        }
      }
      this.oldestAt = oldest;
      if (lowest < 0 || nowMs - oldest < this.maxMs) return;
      this.skipTo(lowest);
    }
  }

  /** The held large-jump packet was not followed by its successor: a stray, drop it. */
  private dropStray(): void {
    if (this.badPkt) {
      this.badPkt = null;
      this.stats.lateDropped++;
    }
    this.badSeq = -1;
  }

  private drainAll(): void {
    if (this.pending > 0) {
      let highest = this.nextExt;
      for (let i = 0; i < this.cap; i++) if (this.slotExt[i]! > highest) highest = this.slotExt[i]!;
      this.skipTo(highest + 1);
    }
  }

  private clearRing(): void {
    if (this.pending > 0) {
      this.slots.fill(null);
      this.slotExt.fill(-1);
      this.pending = 0;
    }
  }

  private emit(pkt: RtpPacket, ext: number): void {
    this.deliveredExt[ext % this.cap] = ext;
    this.stats.delivered++;
    this.deliver(pkt, ext);
  }
}
