/**
 * The analysis rate: at most `rate` frames a second are analysed, on an even grid of frame
 * times, the rest skipped (never queued). A tenth of an interval of slack keeps a camera at
 * exactly a multiple of the rate from being decimated by jitter.
 */
export class RateGate {
  private intervalMs = 0;
  private next = -Infinity;
  passed = 0;
  skipped = 0;

  constructor(rate: number) {
    this.setRate(rate);
  }

  /** analyses per second; 0 or less: every frame */
  setRate(rate: number): void {
    this.intervalMs = Number.isFinite(rate) && rate > 0 ? 1000 / rate : 0;
    this.next = -Infinity;
  }

  admit(tMs: number): boolean {
    if (this.intervalMs > 0 && tMs + this.intervalMs / 10 < this.next) {
      this.skipped++;
      return false;
    }
    // behind by more than an interval (a pause in the stream): realign on this frame
    this.next = this.next + this.intervalMs <= tMs ? tMs + this.intervalMs : this.next + this.intervalMs;
    this.passed++;
    return true;
  }
}
