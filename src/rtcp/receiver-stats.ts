/**
 * Reception statistics for one media source, as RFC 3550 A.3 (loss) and A.8 (jitter) define
 * them, producing the report block of our RR (§6.4.1). No timers: every time is passed in,
 * from a monotonic clock in ms (performance.now style), so the numbers do not jump when the
 * wall clock is adjusted.
 *
 * Sequence validation and wrap handling (A.1) are the sequencer's job: `onRtp` receives the
 * already extended sequence number (cycles · 65536 + seq). Duplicates count as received, as in
 * A.3, which is why cumulative loss can be negative.
 */
import type { ReportBlock, SenderReportPacket } from './packet';
import { ntpMiddle32 } from './ntp';

export interface ReceptionSnapshot {
  ssrc: number;
  packetsReceived: number;
  packetsExpected: number;
  /** expected − received, unclamped; negative when duplicates outnumber losses */
  packetsLost: number;
  /** 0..1, fraction lost over the last completed report interval */
  fractionLost: number;
  /** interarrival jitter in RTP timestamp units (A.8) */
  jitter: number;
  jitterMs: number;
  extendedHighestSeq: number;
}

const TWO_32 = 4294967296;

export class ReceiverStats {
  readonly ssrc: number;
  private readonly clockRate: number;

  private baseSeq = -1;
  private maxSeq = -1;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  /** raw 8-bit fraction of the last completed interval */
  private lastFraction = 0;

  private havePrev = false;
  private prevArrivalTs = 0;
  private prevRtpTs = 0;
  /** A.8 estimator, floating point, in timestamp units */
  private jitterTs = 0;

  private lastSrMiddle = 0;
  private lastSrArrivalMs: number | null = null;

  constructor(ssrc: number, clockRate: number) {
    this.ssrc = ssrc >>> 0;
    this.clockRate = clockRate > 0 ? clockRate : 90000;
  }

  /** Every accepted RTP packet (after validity checks); arrival from a monotonic clock in ms. */
  onRtp(extendedSeq: number, rtpTimestamp: number, arrivalMonoMs: number): void {
    if (this.baseSeq < 0) {
      this.baseSeq = extendedSeq;
      this.maxSeq = extendedSeq;
    } else if (extendedSeq > this.maxSeq) {
      this.maxSeq = extendedSeq;
    } else if (extendedSeq < this.baseSeq) {
      // A packet reordered ahead of the first one we saw: it belongs to the session, so
      // widen the expected range instead of counting it as a "negative loss".
      this.baseSeq = extendedSeq;
    }
    this.received++;
    this.updateJitter(rtpTimestamp >>> 0, arrivalMonoMs);
  }

  /**
   * A.8: D(i−1, i) = (R_i − R_{i−1}) − (S_i − S_{i−1}) with arrival R in timestamp units,
   * J += (|D| − J) / 16. Writing D as arrival delta minus the signed 32-bit timestamp delta
   * is the transit difference of A.8 without its modulo-2^32 hazards. The first packet only
   * sets the reference. Packets of one video frame share a timestamp; A.8 still counts them.
   */
  private updateJitter(ts: number, arrivalMonoMs: number): void {
    const arrivalTs = (arrivalMonoMs * this.clockRate) / 1000;
    if (this.havePrev) {
      const tsDelta = (ts - this.prevRtpTs) | 0;
      const d = Math.abs(arrivalTs - this.prevArrivalTs - tsDelta);
      if (Number.isFinite(d)) this.jitterTs += (d - this.jitterTs) / 16;
    }
    this.havePrev = true;
    this.prevArrivalTs = arrivalTs;
    this.prevRtpTs = ts;
  }

  /** An SR from this source arrived (other SSRCs are ignored). */
  onSenderReport(sr: SenderReportPacket, arrivalMonoMs: number): void {
    if (sr.ssrc >>> 0 !== this.ssrc) return;
    this.lastSrMiddle = ntpMiddle32(sr.ntpSeconds, sr.ntpFraction);
    this.lastSrArrivalMs = arrivalMonoMs;
  }

  private expected(): number {
    return this.baseSeq < 0 ? 0 : this.maxSeq - this.baseSeq + 1;
  }

  /**
   * The report block for our next RR. Closes the current fraction-lost interval (A.3:
   * expected_prior / received_prior are advanced), so call it once per report sent.
   */
  reportBlock(nowMonoMs: number): ReportBlock {
    const expected = this.expected();
    const lost = expected - this.received;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    this.lastFraction = expectedInterval === 0 || lostInterval <= 0
      ? 0
      : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    let dlsr = 0;
    if (this.lastSrArrivalMs !== null) {
      // §6.4.1: DLSR in units of 1/65536 s.
      dlsr = Math.round(((nowMonoMs - this.lastSrArrivalMs) / 1000) * 65536);
      dlsr = Math.min(0xffffffff, Math.max(0, Number.isFinite(dlsr) ? dlsr : 0));
    }
    return {
      ssrc: this.ssrc,
      fractionLost: this.lastFraction,
      cumulativeLost: Math.max(-0x800000, Math.min(0x7fffff, lost)),
      extendedHighestSeq: this.baseSeq < 0 ? 0 : this.maxSeq % TWO_32,
      jitter: Math.floor(this.jitterTs),
      lastSr: this.lastSrArrivalMs === null ? 0 : this.lastSrMiddle,
      delaySinceLastSr: dlsr,
    };
  }

  /** Current numbers; does not advance the interval (fractionLost is the last completed one). */
  snapshot(): ReceptionSnapshot {
    const expected = this.expected();
    return {
      ssrc: this.ssrc,
      packetsReceived: this.received,
      packetsExpected: expected,
      packetsLost: expected - this.received,
      fractionLost: this.lastFraction / 256,
      jitter: Math.floor(this.jitterTs),
      jitterMs: (this.jitterTs * 1000) / this.clockRate,
      extendedHighestSeq: this.baseSeq < 0 ? 0 : this.maxSeq % TWO_32,
    };
  }
}
