/**
 * From per-frame motion to events: an event starts with the first frame with motion and ends
 * once `gap` seconds have passed without one (checked on every analysed frame, and by `tick`
 * when frames stop coming). The caller owns the clock: times are ms, and only move forward.
 */
import type { MotionFrame } from './detector';

export interface MotionEvent {
  /** counts events since the tracker was made, from 1 */
  id: number;
  /** ms of the first frame with motion */
  start: number;
  /** ms of the last frame with motion (so far) */
  lastMotion: number;
  /** frames with motion in the event */
  frames: number;
  /** largest area and score seen in the event */
  peakArea: number;
  peakScore: number;
}

export type EventChange = { kind: 'start'; event: MotionEvent } | { kind: 'end'; event: MotionEvent } | null;

export class EventTracker {
  private current: MotionEvent | null = null;
  private count = 0;

  constructor(private gapMs: number) {}

  get active(): MotionEvent | null {
    return this.current;
  }

  setGap(seconds: number): void {
    this.gapMs = Math.max(0, seconds * 1000);
  }

  /** one analysed frame at `tMs`; returns the event that started or ended with it */
  frame(f: MotionFrame, tMs: number): EventChange {
    const ev = this.current;
    if (f.motion) {
      if (!ev) {
        this.current = { id: ++this.count, start: tMs, lastMotion: tMs, frames: 1, peakArea: f.area, peakScore: f.score };
        return { kind: 'start', event: { ...this.current } };
      }
      ev.lastMotion = tMs;
      ev.frames++;
      ev.peakArea = Math.max(ev.peakArea, f.area);
      ev.peakScore = Math.max(ev.peakScore, f.score);
      return null;
    }
    return this.tick(tMs);
  }

  /** ends the event when `gap` has passed since its last motion */
  tick(nowMs: number): EventChange {
    const ev = this.current;
    if (!ev || nowMs - ev.lastMotion < this.gapMs) return null;
    this.current = null;
    return { kind: 'end', event: { ...ev } };
  }

  /** ms until the current event would end without new motion, or null */
  msUntilEnd(nowMs: number): number | null {
    return this.current ? Math.max(0, this.current.lastMotion + this.gapMs - nowMs) : null;
  }
}
