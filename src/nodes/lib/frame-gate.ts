/**
 * The `maxFps` limit of `rtsp-mjpeg in`: camera/rate-gate's grid over the frames' RTP
 * timestamps (RFC 3550 §5.1: the sampling instant, 90 kHz for JPEG per RFC 2435 §3), so that
 * network jitter does not make the pattern ragged; the grid restarts when the timeline jumps
 * (new SSRC, a step back, a long gap). Pure: no timers, no Node-RED.
 */
import { RateGate } from '../../camera/rate-gate';

export interface GateFrame {
  rtpTimestamp: number;
  ssrc: number;
  receivedAt: number;
}

const RTP_CLOCK_HZ = 90000;
/** a timeline jump larger than this restarts the grid */
const MAX_STEP_MS = 5000;

export class FrameRateGate {
  private readonly gate: RateGate;
  private lastSsrc: number | null = null;
  private lastRtp = 0;
  /** position on the local timeline, ms */
  private t = 0;

  /** maxFps ≤ 0 or not finite means unlimited */
  constructor(maxFps: number) {
    this.gate = new RateGate(maxFps);
  }

  get passed(): number {
    return this.gate.passed;
  }

  get skipped(): number {
    return this.gate.skipped;
  }

  /** true: emit this frame; false: skip it */
  admit(f: GateFrame): boolean {
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
      this.gate.restart();
    }
    return this.gate.admit(this.t);
  }
}
