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
    this.anchors.set(ssrc >>> 0, { wallMs: ntpToMs(ntpSeconds, ntpFraction), rtpTimestamp: rtpTimestamp >>> 0 });
  }

  /** Capture instant of rtpTimestamp in ms since the epoch, or null until an SR of ssrc arrived. */
  toWallClockMs(ssrc: number, rtpTimestamp: number): number | null {
    const a = this.anchors.get(ssrc >>> 0);
    if (!a) return null;
    const delta = ((rtpTimestamp >>> 0) - a.rtpTimestamp) | 0;
    return a.wallMs + (delta * 1000) / this.clockRate;
  }
}
