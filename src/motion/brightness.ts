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

function fit(cur: Float32Array, bg: Float32Array, use: (i: number) => boolean): BrightnessFit | null {
  let n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let i = 0; i < cur.length; i++) {
    if (!use(i)) continue;
    const x = bg[i]!, y = cur[i]!;
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
 * The fit over the blocks not excluded (`excluded[i]` = 1), ignoring in the refit blocks off
 * by more than `outlier[i]` grey levels.
 */
export function fitBrightness(cur: Float32Array, bg: Float32Array, excluded: Uint8Array, outlier: Float32Array): BrightnessFit {
  const first = fit(cur, bg, (i) => excluded[i] === 0);
  if (!first) return IDENTITY;
  const second = fit(cur, bg, (i) => excluded[i] === 0 && Math.abs(cur[i]! - (first.gain * bg[i]! + first.offset)) <= outlier[i]!);
  const f = second ?? first;
  const third = fit(cur, bg, (i) => excluded[i] === 0 && Math.abs(cur[i]! - (f.gain * bg[i]! + f.offset)) <= outlier[i]!);
  return third ?? f;
}
