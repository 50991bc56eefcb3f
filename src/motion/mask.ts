/**
 * Exclude masks: rectangles in fractions of the picture (0..1), as the editor draws them, turned
 * into a per-block flag for a block grid. A block is excluded when the centre of its visible
 * part lies inside a rectangle, so a rectangle drawn along a block edge takes the blocks it
 * visibly covers.
 */

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Keeps the well-formed rectangles of `input` (any JSON value), clipped to the picture:
 * a mask typed by hand in a flow must not take the node down.
 */
export function normalizeRects(input: unknown): Rect[] {
  const list = typeof input === 'string' ? parseJson(input) : input;
  if (!Array.isArray(list)) return [];
  const out: Rect[] = [];
  for (const r of list.slice(0, 64)) {
    if (!r || typeof r !== 'object') continue;
    const o = r as Record<string, unknown>;
    const x = Number(o.x), y = Number(o.y), w = Number(o.w), h = Number(o.h);
    if (![x, y, w, h].every(Number.isFinite) || w <= 0 || h <= 0) continue;
    const x0 = Math.max(0, Math.min(1, x)), y0 = Math.max(0, Math.min(1, y));
    const x1 = Math.max(0, Math.min(1, x + w)), y1 = Math.max(0, Math.min(1, y + h));
    if (x1 > x0 && y1 > y0) out.push({ x: round4(x0), y: round4(y0), w: round4(x1 - x0), h: round4(y1 - y0) });
  }
  return out;
}

const round4 = (v: number): number => Math.round(v * 10000) / 10000;

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

/**
 * 1 for each excluded block of a cols × rows grid over a width × height picture (the last
 * column and row of blocks may reach past the picture's edge).
 */
export function blockMask(rects: readonly Rect[], cols: number, rows: number, width: number, height: number): Uint8Array {
  const mask = new Uint8Array(cols * rows);
  for (const r of rects) {
    for (let by = 0; by < rows; by++) {
      // the centre of the part of the block inside the picture
      const cy = (by * 8 + Math.min(height, by * 8 + 8)) / 2 / height;
      if (cy < r.y || cy >= r.y + r.h) continue;
      for (let bx = 0; bx < cols; bx++) {
        const cx = (bx * 8 + Math.min(width, bx * 8 + 8)) / 2 / width;
        if (cx >= r.x && cx < r.x + r.w) mask[by * cols + bx] = 1;
      }
    }
  }
  return mask;
}
