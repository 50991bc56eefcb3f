/**
 * Moving test pattern for the demo camera, drawn straight into YCbCr planes (no colour
 * conversion per frame): 75 % colour bars, a box that bounces left/right, and a text band
 * with the frame counter and the wall-clock time (HH:MM:SS.mmm, local time) in the 5×7
 * bitmap font of ../jpeg/bitmap-font, so a viewer sees the stream is live and can measure
 * latency.
 *
 * The static background is computed once; each frame copies it and draws the box and text,
 * which keeps the changed 8×8 blocks few (the encoder reuses the others).
 */
import type { YCbCrPlanes } from '../jpeg/encoder';
import { drawText } from '../jpeg/bitmap-font';

/** What the scripted scene (scene.ts) draws in place of the bouncing box, and over everything. */
export interface PatternScene {
  drawObject(out: YCbCrPlanes, nowMs: number): void;
  finish(out: YCbCrPlanes, nowMs: number): void;
}

/** 75 % colour bars (ITU-R BT.801 order): white, yellow, cyan, green, magenta, red, blue. */
const BARS_RGB: readonly (readonly [number, number, number])[] = [
  [191, 191, 191], [191, 191, 0], [0, 191, 191], [0, 191, 0], [191, 0, 191], [191, 0, 0], [0, 0, 191],
];

/** JFIF full-range BT.601 RGB → YCbCr. */
export function rgbToYCbCr(r: number, g: number, b: number): [number, number, number] {
  const c = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
  return [
    c(0.299 * r + 0.587 * g + 0.114 * b),
    c(-0.168736 * r - 0.331264 * g + 0.5 * b + 128),
    c(0.5 * r - 0.418688 * g - 0.081312 * b + 128),
  ];
}

/** "HH:MM:SS.mmm" in local time. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

export class TestPattern {
  readonly width: number;
  readonly height: number;
  private readonly bg: YCbCrPlanes;
  private readonly hs = 2;
  private readonly vs: number;
  /** glyph pixel size */
  private readonly scale: number;
  private readonly barsBottom: number;

  /** `template` gives the plane geometry (from JpegEncoder.allocPlanes()); it is not modified. */
  constructor(width: number, height: number, template: YCbCrPlanes, private readonly scene?: PatternScene) {
    this.width = width;
    this.height = height;
    this.vs = template.cRows * 2 === template.yRows ? 2 : 1;
    this.scale = Math.max(1, Math.floor(Math.min(width / 26 / 6, height / 6 / 9)));
    this.barsBottom = Math.floor((height * 2) / 3);
    this.bg = {
      ...template,
      y: new Uint8Array(template.y.length),
      cb: new Uint8Array(template.cb.length),
      cr: new Uint8Array(template.cr.length),
    };
    this.drawBackground();
  }

  /** Draw frame `index` at wall-clock `nowMs` into `out` (same geometry as the template). */
  render(out: YCbCrPlanes, index: number, nowMs: number): void {
    out.y.set(this.bg.y);
    out.cb.set(this.bg.cb);
    out.cr.set(this.bg.cr);
    if (this.scene) this.scene.drawObject(out, nowMs);
    else this.drawBox(out, index);
    // Text band: frame counter and clock.
    const s = this.scale;
    const lineH = 9 * s;
    const top = this.barsBottom + Math.max(2, Math.floor((this.height - this.barsBottom - 2 * lineH) / 2));
    this.drawText(out, `FRAME ${String(index).padStart(6, '0')}`, 2 * s, top, 235);
    this.drawText(out, formatClock(nowMs), 2 * s, top + lineH, 235);
    this.scene?.finish(out, nowMs);
  }

  /** Box bouncing horizontally across the bars (triangle wave, period 4 s at 25 fps-ish). */
  private drawBox(out: YCbCrPlanes, index: number): void {
    const size = Math.max(8, Math.floor(this.height / 6));
    const span = Math.max(1, this.width - size);
    const period = 2 * span;
    const t = (index * Math.max(2, Math.floor(this.width / 100))) % period;
    const x = t < span ? t : period - t;
    const y = Math.floor((this.barsBottom - size) / 2);
    this.fillRect(out, x, y, size, size, rgbToYCbCr(255, 140, 0));
    this.fillRect(out, x + (size >> 2), y + (size >> 2), size >> 1, size >> 1, rgbToYCbCr(16, 16, 16));
  }

  private drawBackground(): void {
    const { y, cb, cr, yStride, yRows, cStride } = this.bg;
    const w = this.width;
    for (let row = 0; row < yRows; row++) {
      for (let col = 0; col < yStride; col++) {
        const sx = col < w ? col : w - 1;
        let ycc: [number, number, number];
        if (row < this.barsBottom) {
          ycc = rgbToYCbCr(...BARS_RGB[Math.min(6, Math.floor((sx * 7) / w))]!);
        } else {
          ycc = [24, 128, 128];
        }
        y[row * yStride + col] = ycc[0];
        if (row % this.vs === 0 && col % this.hs === 0) {
          const ci = (row / this.vs) * cStride + col / this.hs;
          cb[ci] = ycc[1];
          cr[ci] = ycc[2];
        }
      }
    }
    this.drawText(this.bg, 'RTSP MJPEG DEMO', this.width - 16 * 6 * this.scale, this.height - 9 * this.scale, 160);
  }

  private fillRect(p: YCbCrPlanes, x0: number, y0: number, w: number, h: number, ycc: [number, number, number]): void {
    const x1 = Math.min(p.yStride, x0 + w), y1 = Math.min(p.yRows, y0 + h);
    for (let r = Math.max(0, y0); r < y1; r++) p.y.fill(ycc[0], r * p.yStride + Math.max(0, x0), r * p.yStride + x1);
    const cx0 = Math.max(0, Math.ceil(x0 / this.hs)), cx1 = Math.min(p.cStride, Math.floor(x1 / this.hs));
    const cy0 = Math.max(0, Math.ceil(y0 / this.vs)), cy1 = Math.min(p.cRows, Math.floor(y1 / this.vs));
    for (let r = cy0; r < cy1; r++) {
      p.cb.fill(ycc[1], r * p.cStride + cx0, r * p.cStride + cx1);
      p.cr.fill(ycc[2], r * p.cStride + cx0, r * p.cStride + cx1);
    }
  }

  /** Luma-only text (the band behind it is neutral grey, so chroma stays 128). */
  private drawText(p: YCbCrPlanes, text: string, x: number, y: number, luma: number): void {
    drawText({ data: p.y, stride: p.yStride, rows: p.yRows }, text, x, y, this.scale, luma);
  }
}
