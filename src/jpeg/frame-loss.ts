/**
 * Frames lost whole. A frame whose every packet was lost leaves no trace in the payload, yet
 * a user counting dropped frames must see it. When the sequence numbers jumped (RFC 3550
 * §5.1: loss) between two frames, the RTP timestamp step tells how many frames were in
 * between: the nominal step is the smallest positive timestamp difference between an emitted
 * frame and the next frame with no loss between them (so a mid-frame timestamp change, which
 * never emits, cannot shrink it). Without a gap nothing is inferred, so variable-rate senders
 * are not charged. Duplicates are dropped by the sequencer upstream; with packets in arrival
 * order a late packet only looks like a backwards step and is ignored here.
 */

/** a gap of more frames than this is a resync or a sender pause, not a loss: not counted */
const MAX_INFERRED_MISSING = 250;

export class FrameLossCounter {
  private ssrc = -1;
  private seq = -1;
  /** RTP timestamp of the current frame (the latest seen) */
  private ts = 0;
  private tsValid = false;
  /** packets missing (by sequence number) since the current frame began */
  private gapPackets = 0;
  /** whether the current frame was emitted whole */
  private emitted = false;
  /** packets seen of the current frame */
  private framePackets = 0;
  /** nominal timestamp step between frames, 0 until known */
  private frameStep = 0;
  /** fewest packets a whole frame has taken, 0 until known */
  private minFramePackets = 0;

  /** Each packet in arrival order; returns the number of frames inferred lost whole just before it. */
  onPacket(ssrc: number, sequenceNumber: number, timestamp: number): number {
    const ts = timestamp >>> 0;
    if (ssrc !== this.ssrc) {
      this.ssrc = ssrc;
      this.tsValid = false;
      this.emitted = false;
      this.frameStep = 0;
      this.minFramePackets = 0;
      this.gapPackets = 0;
    } else {
      const jump = (sequenceNumber - this.seq - 1) & 0xffff;
      // a backwards step (late duplicate) is not a loss; forward jumps are packets lost
      if (jump !== 0 && jump < 0x8000) this.gapPackets += jump;
    }
    this.seq = sequenceNumber;
    if (!this.tsValid) { this.ts = ts; this.tsValid = true; this.framePackets = 1; return 0; }
    if (ts === this.ts) { this.framePackets++; return 0; }
    let lost = 0;
    const delta = (ts - this.ts) | 0; // signed 32-bit difference (wrap-safe)
    if (delta > 0) {
      if (this.gapPackets === 0) {
        if (this.emitted && (this.frameStep === 0 || delta < this.frameStep)) this.frameStep = delta;
      } else if (this.frameStep > 0 && this.minFramePackets > 0) {
        // Bounded twice: by the timestamp step, and by the packets actually missing (a frame
        // lost whole took at least minFramePackets with it), so a sender pause next to a
        // lost packet is not charged as frames.
        const byTime = Math.round(delta / this.frameStep) - 1;
        const byPackets = Math.floor(this.gapPackets / this.minFramePackets);
        const missing = Math.min(byTime, byPackets);
        if (missing > 0 && byTime <= MAX_INFERRED_MISSING) lost = missing;
      }
    }
    this.ts = ts;
    this.gapPackets = 0;
    this.emitted = false;
    this.framePackets = 1;
    return lost;
  }

  /** A frame with this RTP timestamp was emitted whole. */
  onFrameEmitted(timestamp: number): void {
    if (timestamp !== this.ts) return;
    this.emitted = true;
    if (this.gapPackets === 0 && (this.minFramePackets === 0 || this.framePackets < this.minFramePackets)) this.minFramePackets = this.framePackets;
  }
}
