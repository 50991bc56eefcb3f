/**
 * Paced ticks for the demo camera's media clocks: tick n is due at start + n·period. A tick
 * taken more than one period late (slow machine, debugger) jumps to the current one, so a
 * delayed sender resumes at the live edge instead of bursting the frames it missed.
 * Pure: the caller passes the wall clock and owns the timer.
 */
export class Pacer {
  private start = 0;
  private tick = 0;

  constructor(readonly periodMs: number) {}

  /** Tick 0 is due at `nowMs`. */
  restart(nowMs: number): void {
    this.start = nowMs;
    this.tick = 0;
  }

  /** When the next tick is due, in the caller's clock. */
  get nextDueMs(): number {
    return this.start + this.tick * this.periodMs;
  }

  /** ms until the next tick is due, never negative. */
  delayMs(nowMs: number): number {
    return Math.max(0, this.nextDueMs - nowMs);
  }

  /** Takes the tick due at `nowMs` (skipping ticks more than a period late); returns its due time. */
  take(nowMs: number): number {
    if (nowMs - this.nextDueMs > this.periodMs) this.tick = Math.floor((nowMs - this.start) / this.periodMs);
    const due = this.nextDueMs;
    this.tick++;
    return due;
  }
}
