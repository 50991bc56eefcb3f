/**
 * Global brightness changes: lights switched on, a cloud, the camera's exposure or its IR
 * switch change every block at once. Modelled per frame as current ≈ gain · background +
 * offset, fitted by least squares on the blocks that fit it (a first fit on all blocks, then
 * a refit without the blocks it leaves far off: a moving object is a minority of blocks and
 * must not bend the fit). The detector compares each block with the fitted prediction, so a
 * change of the whole picture leaves nothing to report.
 */

export interface BrightnessFit {
  gain: number;
  offset: number;
}

const IDENTITY: BrightnessFit = { gain: 1, offset: 0 };

/**
 * Least squares of cur on bg over the blocks not excluded and, when `prev` is given, within
 * `outlier[i]` of its prediction. Loops written out: this runs three times per frame over
 * every block.
 */
function fit(cur: Float32Array, bg: Float32Array, excluded: Uint8Array, prev: BrightnessFit | null, outlier: Float32Array): BrightnessFit | null {
  let n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  const g = prev ? prev.gain : 1, o = prev ? prev.offset : 0;
  for (let i = 0; i < cur.length; i++) {
    if (excluded[i] !== 0) continue;
    const x = bg[i]!, y = cur[i]!;
    if (prev) {
      const r = y - (g * x + o);
      if (r > outlier[i]! || r < -outlier[i]!) continue;
    }
    n++;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  if (n < 4) return null;
  const mx = sx / n, my = sy / n;
  const vx = sxx / n - mx * mx;
  // a picture of nearly one brightness cannot tell a gain from an offset: offset only
  if (vx < 25) return { gain: 1, offset: my - mx };
  const gain = (sxy / n - mx * my) / vx;
  // beyond these the "change" is not lighting (or the fit is lost in saturation): no gain
  if (!(gain > 0.25 && gain < 4)) return { gain: 1, offset: my - mx };
  return { gain, offset: my - gain * mx };
}

/**
 * The fit over the blocks not excluded (`excluded[i]` = 1), then refitted twice without the
 * blocks the previous fit leaves more than `outlier[i]` grey levels off.
 */
export function fitBrightness(cur: Float32Array, bg: Float32Array, excluded: Uint8Array, outlier: Float32Array): BrightnessFit {
  const first = fit(cur, bg, excluded, null, outlier);
  if (!first) return IDENTITY;
  const second = fit(cur, bg, excluded, first, outlier) ?? first;
  return fit(cur, bg, excluded, second, outlier) ?? second;
}
