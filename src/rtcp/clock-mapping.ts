/**
 * RTP timestamp → wall clock through the sender's SR (RFC 3550 §6.4.1): an SR pairs an NTP
 * wall-clock instant with the RTP timestamp of that same instant, so
 *   wall(ts) = NTP(SR) + int32(ts − rtpTs(SR)) / clockRate.
 * The anchor is re-taken on every SR (the sender's clocks drift) and kept per SSRC: RTP
 * timestamps of one source say nothing about another. The signed 32-bit difference makes a
 * timestamp wrap between the SR and the frame harmless (valid within ±2^31 ticks, ≈6.6 h at
 * 90 kHz).
 */
import { ntpToMs } from './ntp';

export { ntpToMs, msToNtp, ntpMiddle32 } from './ntp';

/**
 * SSRCs remembered at most. SR SSRCs come from the network, so the table must not grow with
 * whatever a broken or hostile sender invents; a camera has one source per track, and a
 * restarted encoder a new one, so a few suffice. The least recently updated is forgotten.
 */
export const MAX_CLOCK_ANCHORS = 16;

interface Anchor {
  wallMs: number;
  rtpTimestamp: number;
}

export class ClockMapping {
  private readonly clockRate: number;
  private readonly anchors = new Map<number, Anchor>();

  constructor(clockRate: number) {
    this.clockRate = clockRate > 0 ? clockRate : 90000;
  }

  onSenderReport(ssrc: number, ntpSeconds: number, ntpFraction: number, rtpTimestamp: number): void {
    const key = ssrc >>> 0;
    // delete + set moves the SSRC to the end: Map order is then least → most recently updated.
    this.anchors.delete(key);
    this.anchors.set(key, { wallMs: ntpToMs(ntpSeconds, ntpFraction), rtpTimestamp: rtpTimestamp >>> 0 });
    if (this.anchors.size > MAX_CLOCK_ANCHORS) this.anchors.delete(this.anchors.keys().next().value!);
  }

  /** SSRCs with an anchor (at most MAX_CLOCK_ANCHORS). */
  get size(): number {
    return this.anchors.size;
  }

  /** Capture instant of rtpTimestamp in ms since the epoch, or null until an SR of ssrc arrived. */
  toWallClockMs(ssrc: number, rtpTimestamp: number): number | null {
    const a = this.anchors.get(ssrc >>> 0);
    if (!a) return null;
    const delta = ((rtpTimestamp >>> 0) - a.rtpTimestamp) | 0;
    return a.wallMs + (delta * 1000) / this.clockRate;
  }
}
