/**
 * A small generated JPEG that says in words why there is no picture ("connection refused,
 * retry in 30 s"), for the viewers of a camera that is failing: a browser showing the stream
 * in an <img> otherwise keeps the last frame, or nothing, and no one can tell why. Drawn
 * with the 5×7 bitmap font into YCbCr planes and encoded with the baseline encoder, at the
 * camera's own frame size so that a page's layout does not jump.
 */
import { JpegEncoder, type YCbCrPlanes } from '../jpeg/encoder';
import { CELL_WIDTH, LINE_HEIGHT, drawText, hasGlyph } from '../jpeg/bitmap-font';

export const DEFAULT_PICTURE_WIDTH = 640;
export const DEFAULT_PICTURE_HEIGHT = 360;
/** larger cameras get a picture of at most this size (the browser scales it like a frame) */
const MAX_SIDE = 4096;
const MIN_SIDE = 64;

const BACKGROUND_Y = 40;
const TEXT_Y = 235;
const DIM_Y = 150;
/** the red band at the top: BT.601 YCbCr of about rgb(200, 40, 40) */
const BAND = { y: 87, cb: 105, cr: 212 } as const;

/** Typographic characters the font lacks, written as their ASCII look-alikes. */
function plain(text: string): string {
  return text
    .replace(/[\u2013\u2014\u2212]/g, '-')
    .replace(/\u2026/g, '...')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/\s+/g, ' ')
    .split('')
    .map((c) => (c === ' ' || hasGlyph(c) ? c : '?'))
    .join('')
    .trim();
}

/** Breaks `text` into lines of at most `width` characters, at spaces where it can. */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(' ')) {
    while (word.length > width) {
      if (line) lines.push(line);
      line = '';
      lines.push(word.slice(0, width));
      word = word.slice(width);
    }
    if (!word) continue;
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

export interface StatusPictureText {
  /** the reason, large (wrapped as needed) */
  message: string;
  /** a smaller line above it, e.g. the camera's name */
  title?: string | undefined;
  /** a smaller line below it, e.g. the time the picture was made */
  footer?: string | undefined;
}

function clampSide(v: number | undefined, fallback: number): number {
  if (v === undefined || !Number.isFinite(v) || v < MIN_SIDE) return fallback;
  return Math.min(MAX_SIDE, Math.round(v));
}

/**
 * Makes status pictures of one size. Keeps its encoder, so a picture that changes only in a
 * line (the footer's clock) costs the DCT of the changed blocks alone.
 */
export class StatusPicture {
  readonly width: number;
  readonly height: number;
  private readonly encoder: JpegEncoder;
  private readonly planes: YCbCrPlanes;

  constructor(width?: number, height?: number) {
    this.width = clampSide(width, DEFAULT_PICTURE_WIDTH);
    this.height = clampSide(height, DEFAULT_PICTURE_HEIGHT);
    this.encoder = new JpegEncoder({ width: this.width, height: this.height, subsampling: '420', quality: 75 });
    this.planes = this.encoder.allocPlanes();
  }

  render(t: StatusPictureText): Buffer {
    const p = this.planes;
    p.y.fill(BACKGROUND_Y);
    p.cb.fill(128);
    p.cr.fill(128);
    const band = Math.max(2, Math.round(this.height / 40));
    p.y.fill(BAND.y, 0, band * p.yStride);
    const cband = Math.ceil(band / 2);
    p.cb.fill(BAND.cb, 0, cband * p.cStride);
    p.cr.fill(BAND.cr, 0, cband * p.cStride);

    const message = plain(t.message);
    const title = t.title ? plain(t.title) : '';
    const footer = t.footer ? plain(t.footer) : '';
    const margin = Math.max(4, Math.round(this.width / 32));
    const usable = this.width - 2 * margin;
    // the largest scale at which the message fits in at most 4 lines (and at least 16 columns)
    let scale = Math.max(1, Math.floor(usable / (CELL_WIDTH * 16)));
    let lines = wrapText(message, Math.max(1, Math.floor(usable / (CELL_WIDTH * scale))));
    const small = (s: number): number => Math.max(1, Math.floor(s / 2));
    const fits = (s: number, n: number): boolean =>
      n * LINE_HEIGHT * s + (title ? 2 : 0) * LINE_HEIGHT * small(s) + (footer ? 2 : 0) * LINE_HEIGHT * small(s) <= this.height - 2 * band;
    while (scale > 1 && (lines.length > 4 || !fits(scale, lines.length))) {
      scale--;
      lines = wrapText(message, Math.max(1, Math.floor(usable / (CELL_WIDTH * scale))));
    }
    const s2 = small(scale);
    const blockH = lines.length * LINE_HEIGHT * scale + (title ? 2 * LINE_HEIGHT * s2 : 0) + (footer ? 2 * LINE_HEIGHT * s2 : 0);
    let y = Math.max(band + 1, Math.floor((this.height - blockH) / 2));
    const luma = { data: p.y, stride: p.yStride, rows: p.yRows };
    const centred = (line: string, s: number): number => Math.max(margin, Math.floor((this.width - line.length * CELL_WIDTH * s) / 2));
    if (title) {
      const line = title.slice(0, Math.floor(usable / (CELL_WIDTH * s2)));
      drawText(luma, line, centred(line, s2), y, s2, DIM_Y);
      y += 2 * LINE_HEIGHT * s2;
    }
    for (const line of lines) {
      drawText(luma, line, centred(line, scale), y, scale, TEXT_Y);
      y += LINE_HEIGHT * scale;
    }
    if (footer) {
      y += LINE_HEIGHT * s2;
      const line = footer.slice(0, Math.floor(usable / (CELL_WIDTH * s2)));
      drawText(luma, line, centred(line, s2), y, s2, DIM_Y);
    }
    return this.encoder.encode(p);
  }
}
