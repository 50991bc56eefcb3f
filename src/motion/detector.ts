/**
 * Motion detection on DC maps (one mean per 8×8 block, jpeg/dc-reader.ts), frame by frame:
 *
 * - a background model per block: a running average of the brightness and of the squared
 *   difference (its noise), learnt with a time constant in seconds, so the analysis rate does
 *   not change how fast it adapts;
 * - a block has changed when it differs from the background, after the global brightness fit
 *   (brightness.ts), by more than the threshold and by more than 4 × its own noise: a block
 *   of leaves or of a flickering screen needs more to count than a wall;
 * - changed blocks without a changed neighbour are dropped, the rest make the changed area
 *   (a fraction of the blocks not masked) and the boxes (boxes.ts);
 * - a frame whose whole picture shifted by more than the threshold (lights switched, an IR
 *   switch) is a global change: nothing is reported for it and the background restarts from
 *   it; a slow change (clouds, dusk) is followed by the fit and the background;
 * - blocks that changed still join the background, slowly (`absorbSeconds`), so something
 *   that arrived and stays (a parked car) stops being motion.
 *
 * The first LEARN_FRAMES frames after a start (or a change of picture size) only learn.
 */
import type { DcMap } from '../jpeg/dc-reader';
import { fitBrightness } from './brightness';
import { despeckle, mergeClose, regions, toRects } from './boxes';
import { blockMask, type Rect } from './mask';

export interface MotionOptions {
  /** grey levels (0..255) a block must differ from the background to count (default 12) */
  threshold?: number;
  /** fraction of the picture, masked parts left out, that must change (default 0.005) */
  minArea?: number;
  /** rectangles (fractions of the picture) left out of the analysis */
  mask?: readonly Rect[];
  /** seconds the background takes to follow a change of the scene (default 4) */
  learnSeconds?: number;
  /** seconds after which something that stopped moving is background (default 60) */
  absorbSeconds?: number;
  /** most boxes reported (default 10) */
  maxBoxes?: number;
}

export interface MotionFrame {
  /** the changed area is at least minArea */
  motion: boolean;
  /** mean difference of the changed blocks from the background, grey levels */
  score: number;
  /** changed fraction of the picture's analysed (not masked) area, 0..1 */
  area: number;
  /** boxes around the changed regions, fractions of the picture, largest first */
  boxes: Rect[];
  /** the whole picture changed at once (lighting): not reported, the background restarted */
  globalChange: boolean;
  /** still learning the background: nothing is reported */
  learning: boolean;
}

export const LEARN_FRAMES = 8;
/** more than this fraction of the picture changed at once is a global change */
const GLOBAL_AREA = 0.6;
/** a block's own noise counts this many standard deviations */
const NOISE_SIGMAS = 4;

const still = (learning: boolean, globalChange: boolean): MotionFrame => ({ motion: false, score: 0, area: 0, boxes: [], globalChange, learning });

export class MotionDetector {
  private threshold = 12;
  private minArea = 0.005;
  private learnSeconds = 4;
  private absorbSeconds = 60;
  private maxBoxes = 10;
  private rects: readonly Rect[] = [];
  private width = 0;
  private height = 0;
  private cols = 0;
  private rows = 0;
  private bg: Float32Array | null = null;
  private noise = new Float32Array(0);
  private limit = new Float32Array(0);
  private excluded: Uint8Array = new Uint8Array(0);
  private changed = new Uint8Array(0);
  private scratch = new Uint8Array(0);
  private learnMask = new Uint8Array(0);
  /** difference of each block from the fitted background, this frame */
  private resid = new Float32Array(0);
  private analysable = 0;
  private frames = 0;
  private lastMs = 0;

  constructor(opts: MotionOptions = {}) {
    this.configure(opts);
  }

  /** changes options; a new mask applies from the next frame, the background is kept */
  configure(opts: MotionOptions): void {
    if (opts.threshold !== undefined && Number.isFinite(opts.threshold)) this.threshold = Math.max(1, Math.min(255, opts.threshold));
    if (opts.minArea !== undefined && Number.isFinite(opts.minArea)) this.minArea = Math.max(0, Math.min(1, opts.minArea));
    if (opts.learnSeconds !== undefined && opts.learnSeconds > 0) this.learnSeconds = opts.learnSeconds;
    if (opts.absorbSeconds !== undefined && opts.absorbSeconds > 0) this.absorbSeconds = opts.absorbSeconds;
    if (opts.maxBoxes !== undefined && opts.maxBoxes >= 0) this.maxBoxes = Math.floor(opts.maxBoxes);
    if (opts.mask !== undefined) {
      this.rects = opts.mask.slice();
      if (this.bg) this.buildMask();
    }
  }

  /** forget the background (the next frame starts learning again) */
  reset(): void {
    this.bg = null;
  }

  /** Analyses one frame's DC map taken at `tMs` (ms, any clock that only moves forward). */
  analyse(map: DcMap, tMs: number): MotionFrame {
    const cur = map.means;
    if (!this.bg || map.cols !== this.cols || map.rows !== this.rows || map.width !== this.width || map.height !== this.height) {
      this.start(map, tMs);
      return still(true, false);
    }
    const bg = this.bg;
    const dt = Math.max(0.001, Math.min(10, (tMs - this.lastMs) / 1000));
    this.lastMs = tMs;
    this.frames++;
    const learning = this.frames <= LEARN_FRAMES;
    const noise = this.noise, limit = this.limit, excluded = this.excluded, changed = this.changed, resid = this.resid;
    const n = cur.length;
    const threshold = this.threshold;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const l = NOISE_SIGMAS * Math.sqrt(noise[i]!);
      limit[i] = l > threshold ? l : threshold;
      sum += bg[i]!;
    }
    const fit = fitBrightness(cur, bg, excluded, limit);
    const gain = fit.gain, offset = fit.offset;
    // how far the whole picture moved: the fit at the background's mean brightness
    const mean = sum / Math.max(1, n);
    if (Math.abs(gain * mean + offset - mean) > threshold) {
      // lighting changed (or the camera was moved): the picture is a new background
      bg.set(cur);
      return still(learning, true);
    }
    let raw = 0;
    for (let i = 0; i < n; i++) {
      const r = cur[i]! - (gain * bg[i]! + offset);
      resid[i] = r;
      const c = excluded[i] === 0 && (r > limit[i]! || r < -limit[i]!) ? 1 : 0;
      changed[i] = c;
      raw += c;
    }
    if (raw > GLOBAL_AREA * this.analysable) {
      // most of the picture changed in a way no brightness fit explains (an IR switch turns
      // colours to grey, the camera moved): a new background, not an intruder
      bg.set(cur);
      return still(learning, true);
    }
    // the background learns from what is below the threshold, single flickering blocks included
    if (raw > 0) this.learnMask.set(changed);
    else this.learnMask.fill(0);
    const kept = raw > 0 ? despeckle(changed, this.cols, this.rows, this.scratch) : 0;
    let diffSum = 0;
    if (kept > 0) for (let i = 0; i < n; i++) if (changed[i] !== 0) diffSum += Math.abs(resid[i]!);
    this.learn(gain, offset, dt, learning);
    if (learning) return still(true, false);
    const area = this.analysable > 0 ? kept / this.analysable : 0;
    const motion = kept > 0 && area >= this.minArea;
    const boxes = kept > 0 && this.maxBoxes > 0 ? toRects(mergeClose(regions(changed, this.cols, this.rows), 2), this.width, this.height, this.maxBoxes) : [];
    return {
      motion,
      score: kept > 0 ? Math.round((diffSum / kept) * 10) / 10 : 0,
      area: Math.round(area * 10000) / 10000,
      boxes,
      globalChange: false,
      learning: false,
    };
  }

  private start(map: DcMap, tMs: number): void {
    this.width = map.width;
    this.height = map.height;
    this.cols = map.cols;
    this.rows = map.rows;
    const n = map.means.length;
    this.bg = Float32Array.from(map.means);
    this.noise = new Float32Array(n);
    this.limit = new Float32Array(n);
    this.changed = new Uint8Array(n);
    this.scratch = new Uint8Array(n);
    this.learnMask = new Uint8Array(n);
    this.resid = new Float32Array(n);
    this.frames = 1;
    this.lastMs = tMs;
    this.buildMask();
  }

  private buildMask(): void {
    this.excluded = blockMask(this.rects, this.cols, this.rows, this.width, this.height);
    let a = 0;
    for (const e of this.excluded) if (e === 0) a++;
    this.analysable = a;
  }

  /**
   * Background and noise follow the frame, the background along the brightness fit; blocks
   * that changed join only at the slow absorb rate, and leave the noise estimate alone.
   */
  private learn(gain: number, offset: number, dt: number, learning: boolean): void {
    const bg = this.bg!, noise = this.noise, resid = this.resid, mask = this.learnMask;
    let a = 1 - Math.exp(-dt / this.learnSeconds);
    if (learning) a = Math.max(a, 1 / this.frames);
    const slow = 1 - Math.exp(-dt / this.absorbSeconds);
    for (let i = 0; i < bg.length; i++) {
      const r = resid[i]!;
      const pred = gain * bg[i]! + offset;
      if (mask[i] !== 0 && !learning) {
        bg[i] = pred + slow * r;
      } else {
        bg[i] = pred + a * r;
        noise[i] = noise[i]! + a * (r * r - noise[i]!);
      }
    }
  }

}
