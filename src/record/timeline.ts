/**
 * Real frame timing on AVI's constant-rate grid: each frame goes to the slot nearest its
 * capture time, after the previous frame's slot (never two frames in one slot, never out of
 * order), and the slots skipped on the way become empty chunks. A camera that sends its
 * nominal rate fills every slot; a dropped frame or a stall leaves empty slots, so the clip
 * keeps the real duration instead of playing faster.
 */

/** The slot length for frames that arrived at these times (ms): their median spacing. */
export function slotMs(times: readonly number[], fallbackMs = 100): number {
  const d: number[] = [];
  for (let i = 1; i < times.length; i++) {
    const x = times[i]! - times[i - 1]!;
    if (x > 0) d.push(x);
  }
  if (d.length === 0) return fallbackMs;
  d.sort((a, b) => a - b);
  const m = d[d.length >> 1]!;
  // 1..1000 fps is what a camera sends; anything else is not a frame rate
  return Math.max(1, Math.min(1000, m));
}

export class Timeline {
  private last = -1;

  constructor(readonly slotMs: number, readonly t0: number) {}

  /** slots used so far */
  get slots(): number {
    return this.last + 1;
  }

  /** Where a frame taken at `tMs` would go: its slot and the empty slots before it. */
  peek(tMs: number): { slot: number; empties: number } {
    const ideal = Math.round((tMs - this.t0) / this.slotMs);
    const slot = Math.max(this.last + 1, ideal);
    return { slot, empties: slot - this.last - 1 };
  }

  /** Places a frame taken at `tMs`. */
  place(tMs: number): { slot: number; empties: number } {
    const p = this.peek(tMs);
    this.last = p.slot;
    return p;
  }

  /** ms of a slot from the first */
  timeOf(slot: number): number {
    return this.t0 + slot * this.slotMs;
  }
}
