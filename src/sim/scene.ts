/**
 * A scripted scene for the demo camera, so motion detection has something to find and
 * something to ignore, at known times: on top of the test pattern's colour bars, an object
 * (a figure in black and white, which contrasts with every bar) walks across the picture
 * twice a minute, the lights go on and off in between (a brightness step of the whole
 * picture), and every frame carries sensor noise. The clock text of the test pattern keeps
 * changing in its band at the bottom; a detector should be given a mask for it.
 *
 * The script repeats every SCENE_PERIOD_SEC seconds from the moment the scene starts
 * (plus `offsetSec`), and `sceneAt()` tells what is in the picture at any time, so tests can
 * compare a detector's output with the truth frame by frame.
 */
import type { YCbCrPlanes } from '../jpeg/encoder';

export interface SceneOptions {
  /** seconds into the script at the start (a test can start just before an event); default 0 */
  offsetSec?: number;
  /** sensor noise: standard deviation per pixel in grey levels (default 3) */
  noise?: number;
  /** noise only: no object, no lights switching */
  noiseOnly?: boolean;
  /** noise generator seed (default 1) */
  seed?: number;
}

export const SCENE_PERIOD_SEC = 60;

/** One walk of the object across the picture: from x0 to x1 (left edges, fractions) in [start, end) s. */
export interface Walk {
  start: number;
  end: number;
  x0: number;
  x1: number;
  /** top edge, fraction of the picture height */
  y: number;
}

/** Object size in fractions of the picture. */
export const OBJECT_W = 0.12;
export const OBJECT_H = 0.22;

/** The script, in seconds of each period. Lights on at LIGHTS_ON, off at LIGHTS_OFF. */
export const WALKS: readonly Walk[] = [
  { start: 8, end: 14, x0: -OBJECT_W, x1: 1, y: 0.1 },
  { start: 30, end: 36, x0: 1, x1: -OBJECT_W, y: 0.36 },
];
export const LIGHTS_ON = 22;
export const LIGHTS_OFF = 44;
/** the lights: luma' = luma × gain + offset */
export const LIGHTS_GAIN = 1.25;
export const LIGHTS_OFFSET = 10;

export interface SceneState {
  /** the object's rectangle in fractions of the picture, clipped to it; null when not in view */
  object: { x: number; y: number; w: number; h: number } | null;
  /** the object is in view and moving */
  moving: boolean;
  lightsOn: boolean;
  /** seconds since the lights last switched (on or off) */
  sinceSwitch: number;
}

/** What the picture shows `t` seconds after the scene started. */
export function sceneAt(t: number, opts: SceneOptions = {}): SceneState {
  const s = ((((t + (opts.offsetSec ?? 0)) % SCENE_PERIOD_SEC) + SCENE_PERIOD_SEC) % SCENE_PERIOD_SEC);
  const lightsOn = !opts.noiseOnly && s >= LIGHTS_ON && s < LIGHTS_OFF;
  const sinceSwitch = s >= LIGHTS_OFF ? s - LIGHTS_OFF : s >= LIGHTS_ON ? s - LIGHTS_ON : s + SCENE_PERIOD_SEC - LIGHTS_OFF;
  if (opts.noiseOnly) return { object: null, moving: false, lightsOn: false, sinceSwitch: Infinity };
  for (const w of WALKS) {
    if (s < w.start || s >= w.end) continue;
    const x = w.x0 + ((w.x1 - w.x0) * (s - w.start)) / (w.end - w.start);
    const left = Math.max(0, x);
    const right = Math.min(1, x + OBJECT_W);
    if (right <= left) break;
    return { object: { x: left, y: w.y, w: right - left, h: OBJECT_H }, moving: true, lightsOn, sinceSwitch };
  }
  return { object: null, moving: false, lightsOn, sinceSwitch };
}

/** Draws the scene into the test pattern's planes (see TestPattern.render). */
export class Scene {
  private readonly startMs: number | null;
  private firstMs: number | null = null;
  private readonly noiseTable: Int8Array;
  private rng: number;

  constructor(private readonly width: number, private readonly height: number, private readonly opts: SceneOptions = {}, startMs?: number) {
    this.startMs = startMs ?? null;
    this.rng = (opts.seed ?? 1) >>> 0 || 1;
    // Gaussian noise, precomputed: each frame reads it from a random offset with a random odd
    // stride, which decorrelates frames without drawing a random number per pixel
    const sigma = Math.max(0, opts.noise ?? 3);
    this.noiseTable = new Int8Array(1 << 16);
    for (let i = 0; i < this.noiseTable.length; i += 2) {
      const u1 = (this.next() + 1) / 4294967297;
      const u2 = this.next() / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u1)) * sigma;
      this.noiseTable[i] = Math.max(-127, Math.min(127, Math.round(r * Math.cos(2 * Math.PI * u2))));
      this.noiseTable[i + 1] = Math.max(-127, Math.min(127, Math.round(r * Math.sin(2 * Math.PI * u2))));
    }
  }

  /** seconds of script time at wall time `nowMs` (the first frame is time 0 unless a start was given) */
  timeAt(nowMs: number): number {
    this.firstMs ??= this.startMs ?? nowMs;
    return (nowMs - this.firstMs) / 1000;
  }

  /** the object, drawn before the text (it walks behind nothing) */
  drawObject(out: YCbCrPlanes, nowMs: number): void {
    const st = sceneAt(this.timeAt(nowMs), this.opts);
    if (!st.object) return;
    const o = st.object;
    const x0 = Math.round(o.x * this.width);
    const x1 = Math.round((o.x + o.w) * this.width);
    const y0 = Math.round(o.y * this.height);
    const y1 = Math.round((o.y + o.h) * this.height);
    const midY = (y0 + y1) >> 1;
    // a white top and black bottom, split left/right by the opposite: every bar contrasts
    const fullX0 = Math.round(this.walkLeft(nowMs) * this.width);
    const midX = fullX0 + Math.round((OBJECT_W * this.width) / 2);
    for (let y = Math.max(0, y0); y < Math.min(out.yRows, y1); y++) {
      const row = y * out.yStride;
      for (let x = Math.max(0, x0); x < Math.min(this.width, x1); x++) {
        const white = (y < midY) !== (x < midX);
        out.y[row + x] = white ? 235 : 16;
      }
    }
    const hs = out.yStride / out.cStride;
    const vs = out.yRows / out.cRows;
    for (let cy = Math.ceil(Math.max(0, y0) / vs); cy < Math.min(out.cRows, Math.floor(y1 / vs)); cy++) {
      out.cb.fill(128, cy * out.cStride + Math.ceil(Math.max(0, x0) / hs), cy * out.cStride + Math.floor(Math.min(this.width, x1) / hs));
      out.cr.fill(128, cy * out.cStride + Math.ceil(Math.max(0, x0) / hs), cy * out.cStride + Math.floor(Math.min(this.width, x1) / hs));
    }
  }

  /** the lights and the sensor noise, over everything */
  finish(out: YCbCrPlanes, nowMs: number): void {
    const st = sceneAt(this.timeAt(nowMs), this.opts);
    const y = out.y;
    if (st.lightsOn) {
      for (let i = 0; i < y.length; i++) {
        const v = y[i]! * LIGHTS_GAIN + LIGHTS_OFFSET;
        y[i] = v > 255 ? 255 : v;
      }
    }
    const table = this.noiseTable;
    if ((this.opts.noise ?? 3) <= 0) return;
    const mask = table.length - 1;
    let k = this.next() & mask;
    const stride = (this.next() & 0x3ffe) | 1;
    for (let i = 0; i < y.length; i++) {
      const v = y[i]! + table[k]!;
      y[i] = v < 0 ? 0 : v > 255 ? 255 : v;
      k = (k + stride) & mask;
    }
  }

  /** the unclipped left edge of the walking object (for its two-tone split) */
  private walkLeft(nowMs: number): number {
    const s = ((((this.timeAt(nowMs) + (this.opts.offsetSec ?? 0)) % SCENE_PERIOD_SEC) + SCENE_PERIOD_SEC) % SCENE_PERIOD_SEC);
    const w = WALKS.find((x) => s >= x.start && s < x.end);
    return w ? w.x0 + ((w.x1 - w.x0) * (s - w.start)) / (w.end - w.start) : 0;
  }

  /** xorshift32 */
  private next(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng;
  }
}
