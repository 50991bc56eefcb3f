/**
 * The `maxFps` limit of `rtsp-mjpeg in`: keeps frames on an even grid of 1/maxFps seconds
 * and drops the rest. Time comes from the RTP timestamp (RFC 3550 §5.1: the sampling
 * instant, 90 kHz for JPEG per RFC 2435 §3) so network jitter does not make the pattern
 * ragged; the grid restarts when the timeline jumps (new SSRC, a step back, a long gap).
 * Pure: no timers, no Node-RED.
 */

export interface GateFrame {
  rtpTimestamp: number;
  ssrc: number;
  receivedAt: number;
}

const RTP_CLOCK_HZ = 90000;
/** a timeline jump larger than this restarts the grid */
const MAX_STEP_MS = 5000;

export class FrameRateGate {
  private readonly intervalMs: number;
  private lastSsrc: number | null = null;
  private lastRtp = 0;
  /** position on the local timeline, ms */
  private t = 0;
  private nextDueMs = 0;
  passed = 0;
  skipped = 0;

  /** maxFps ≤ 0 or not finite means unlimited */
  constructor(maxFps: number) {
    this.intervalMs = Number.isFinite(maxFps) && maxFps > 0 ? 1000 / maxFps : 0;
  }

  /** true: emit this frame; false: skip it */
  admit(f: GateFrame): boolean {
    if (this.intervalMs === 0) {
      this.passed++;
      return true;
    }
    let restart = this.lastSsrc !== f.ssrc;
    if (!restart) {
      // 32-bit modular difference of RTP timestamps (§5.1 wraps)
      const dTicks = (f.rtpTimestamp - this.lastRtp) >>> 0;
      const dMs = (dTicks * 1000) / RTP_CLOCK_HZ;
      if (dMs > MAX_STEP_MS) restart = true;
      else this.t += dMs;
    }
    this.lastSsrc = f.ssrc;
    this.lastRtp = f.rtpTimestamp >>> 0;
    if (restart) {
      this.t = 0;
      this.nextDueMs = 0;
    }
    // half a millisecond of slack so that a source at exactly maxFps is never decimated by
    // rounding of the 90 kHz → ms conversion
    if (this.t + 0.5 >= this.nextDueMs) {
      this.nextDueMs += this.intervalMs;
      // fell more than one interval behind (a gap in the stream): realign on this frame
      if (this.nextDueMs <= this.t) this.nextDueMs = this.t + this.intervalMs;
      this.passed++;
      return true;
    }
    this.skipped++;
    return false;
  }
}
