/**
 * Thinning frames to at most `fps` a second, the one rule behind every frame-rate limit: a
 * `rtsp-mjpeg in` node's maxFps, a live viewer's maxFps and ?fps=, the motion analysis rate.
 * Frames are kept on an even grid of 1/fps seconds and the rest skipped (never queued). The
 * grid advances by whole intervals, so the average rate is exact whatever the source's; a
 * frame a little early still counts as on time (the slack), so that a source at exactly the
 * limit, or a multiple of it, is not decimated by arrival jitter or by the rounding of its
 * timestamps; after a gap of more than an interval the grid realigns on the next frame.
 */

/** How early a frame may come and still be on time: a quarter interval, at most 10 ms, so
 * it stays below any real source's frame spacing. */
export function gateSlackMs(intervalMs: number): number {
  return Math.min(intervalMs / 4, 10);
}

export class RateGate {
  private intervalMs = 0;
  private slackMs = 0;
  private nextDue = -Infinity;
  passed = 0;
  skipped = 0;

  /** `fps` ≤ 0 or not finite: every frame passes */
  constructor(fps: number) {
    this.setRate(fps);
  }

  setRate(fps: number): void {
    this.intervalMs = Number.isFinite(fps) && fps > 0 ? 1000 / fps : 0;
    this.slackMs = gateSlackMs(this.intervalMs);
    this.restart();
  }

  /** the next frame starts a new grid (a new timeline) */
  restart(): void {
    this.nextDue = -Infinity;
  }

  /** `t`: the frame's time in ms (any clock, as long as it is one clock); true: keep it */
  admit(t: number): boolean {
    if (this.intervalMs > 0 && t + this.slackMs < this.nextDue) {
      this.skipped++;
      return false;
    }
    this.nextDue += this.intervalMs;
    // the first frame, or more than an interval behind (a gap in the source): realign here
    if (this.nextDue <= t) this.nextDue = t + this.intervalMs;
    this.passed++;
    return true;
  }
}
