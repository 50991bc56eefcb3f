/**
 * From changed blocks to what a user wants to see: isolated changed blocks dropped (a single
 * block flickering is noise, a moving thing covers neighbours), the rest grouped into
 * connected regions (8-neighbourhood) and their bounding boxes, boxes that nearly touch
 * merged, largest first.
 */
import type { Rect } from './mask';

/** Clears changed blocks (1) that have no changed neighbour; returns how many are left. */
export function despeckle(changed: Uint8Array, cols: number, rows: number, scratch: Uint8Array): number {
  scratch.set(changed);
  let kept = 0;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      const i = y * cols + x;
      if (scratch[i] === 0) continue;
      let neighbour = false;
      for (let dy = -1; dy <= 1 && !neighbour; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= rows) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if ((dx !== 0 || dy !== 0) && xx >= 0 && xx < cols && scratch[yy * cols + xx] !== 0) {
            neighbour = true;
            break;
          }
        }
      }
      if (neighbour) kept++;
      else changed[i] = 0;
    }
  }
  return kept;
}

interface BlockBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  blocks: number;
}

/** Bounding boxes (in blocks, inclusive) of the 8-connected regions of changed blocks. */
export function regions(changed: Uint8Array, cols: number, rows: number): BlockBox[] {
  const seen = new Uint8Array(changed.length);
  const stack: number[] = [];
  const out: BlockBox[] = [];
  for (let start = 0; start < changed.length; start++) {
    if (changed[start] === 0 || seen[start] !== 0) continue;
    const b: BlockBox = { x0: cols, y0: rows, x1: -1, y1: -1, blocks: 0 };
    seen[start] = 1;
    stack.push(start);
    while (stack.length > 0) {
      const i = stack.pop()!;
      const x = i % cols, y = (i - x) / cols;
      b.blocks++;
      if (x < b.x0) b.x0 = x;
      if (x > b.x1) b.x1 = x;
      if (y < b.y0) b.y0 = y;
      if (y > b.y1) b.y1 = y;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= rows) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= cols) continue;
          const j = yy * cols + xx;
          if (changed[j] !== 0 && seen[j] === 0) {
            seen[j] = 1;
            stack.push(j);
          }
        }
      }
    }
    out.push(b);
  }
  return out;
}

/** Merges boxes closer than `gapBlocks` to each other, until none are. */
export function mergeClose(boxes: BlockBox[], gapBlocks: number): BlockBox[] {
  const list = boxes.slice();
  for (let merged = true; merged;) {
    merged = false;
    outer: for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i]!, b = list[j]!;
        if (a.x0 - gapBlocks > b.x1 || b.x0 - gapBlocks > a.x1 || a.y0 - gapBlocks > b.y1 || b.y0 - gapBlocks > a.y1) continue;
        list[i] = { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1), blocks: a.blocks + b.blocks };
        list.splice(j, 1);
        merged = true;
        break outer;
      }
    }
  }
  return list;
}

const round4 = (v: number): number => Math.round(v * 10000) / 10000;

/** Block boxes → rectangles in fractions of a width × height picture, largest first, at most `max`. */
export function toRects(boxes: BlockBox[], width: number, height: number, max: number): Rect[] {
  return boxes
    .sort((a, b) => b.blocks - a.blocks)
    .slice(0, max)
    .map((b) => {
      const x = (b.x0 * 8) / width, y = (b.y0 * 8) / height;
      const x1 = Math.min(1, ((b.x1 + 1) * 8) / width), y1 = Math.min(1, ((b.y1 + 1) * 8) / height);
      return { x: round4(x), y: round4(y), w: round4(x1 - x), h: round4(y1 - y) };
    });
}
