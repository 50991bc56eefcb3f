/**
 * The last few seconds of frames, for a clip's pre-roll: bounded by age (the newest frame's
 * time minus `maxMs`) and by bytes (oldest dropped first), so a camera sending huge frames
 * cannot make it hold more than `maxBytes`.
 */

export interface RingFrame {
  jpeg: Buffer;
  /** ms, the frame's time */
  t: number;
}

export class FrameRing {
  private frames: RingFrame[] = [];
  private head = 0;
  private bytes = 0;
  /** times of the recent frames, kept even when maxMs is 0, to tell the frame rate */
  private readonly recent: number[] = [];

  /** frames at or after this time (ms) are kept whatever their age (a clip is about to take them) */
  private holdFrom = Infinity;

  constructor(private maxMs: number, private maxBytes: number) {}

  /** keeps frames from `t` on regardless of maxMs, until release() */
  hold(t: number): void {
    this.holdFrom = t;
  }

  release(): void {
    this.holdFrom = Infinity;
    this.trim();
  }

  setLimits(maxMs: number, maxBytes: number): void {
    this.maxMs = Math.max(0, maxMs);
    this.maxBytes = Math.max(0, maxBytes);
    this.trim();
  }

  get length(): number {
    return this.frames.length - this.head;
  }

  get byteLength(): number {
    return this.bytes;
  }

  push(jpeg: Buffer, t: number): void {
    this.recent.push(t);
    if (this.recent.length > 32) this.recent.shift();
    this.frames.push({ jpeg, t });
    this.bytes += jpeg.length;
    this.trim();
  }

  /** frames newer than `after` and not older than `from` (ms), oldest first */
  since(after: number, from: number): RingFrame[] {
    const out: RingFrame[] = [];
    for (let i = this.head; i < this.frames.length; i++) {
      const f = this.frames[i]!;
      if (f.t > after && f.t >= from) out.push(f);
    }
    return out;
  }

  /** times of up to 32 recent frames, oldest first */
  recentTimes(): readonly number[] {
    return this.recent;
  }

  clear(): void {
    this.frames = [];
    this.head = 0;
    this.bytes = 0;
  }

  private trim(): void {
    const newest = this.frames.length > this.head ? this.frames[this.frames.length - 1]!.t : 0;
    while (this.head < this.frames.length) {
      const f = this.frames[this.head]!;
      if ((f.t >= newest - this.maxMs || f.t >= this.holdFrom) && this.bytes <= this.maxBytes) break;
      this.bytes -= f.jpeg.length;
      this.frames[this.head] = undefined as unknown as RingFrame;
      this.head++;
    }
    // compact now and then, so the array does not grow with the stream
    if (this.head > 64 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }
}
