/**
 * Repair for senders that put RSTn markers in the scan but send type 0/1 without the
 * RFC 2435 §3.1.7 restart header (so receivers write no DRI and decoders lose DC
 * prediction at the first RST). Measured with FFmpeg `-f rtp` (slice-threaded MJPEG
 * encoder, or `-c:v copy` of UVC webcam JPEGs): notes/rfc2435-rtcp.md §1.7.
 *
 * Not part of RFC 2435: a documented quirk heuristic. The interval is derived from the
 * number of markers and the MCU count of the frame; intervals that are whole MCU rows are
 * preferred because that is what FFmpeg and `cjpeg -restart N` (rows) produce.
 */

/** Counts RSTn markers (FF D0..FF D7) in the scan fragments, including pairs split across fragments. */
export function countRestartMarkers(fragments: readonly Buffer[]): number {
  let count = 0;
  let prevFF = false;
  for (const f of fragments) {
    if (f.length === 0) continue;
    if (prevFF && f[0]! >= 0xd0 && f[0]! <= 0xd7) count++;
    let i = f.indexOf(0xff);
    while (i >= 0 && i + 1 < f.length) {
      const b = f[i + 1]!;
      if (b >= 0xd0 && b <= 0xd7) count++;
      // FF FF is fill; the second FF may start a marker, so advance by one only then.
      i = f.indexOf(0xff, b === 0xff ? i + 1 : i + 2);
    }
    prevFF = f[f.length - 1] === 0xff;
  }
  return count;
}

/**
 * Restart interval (MCUs) that yields exactly `markers` RST markers for a frame of this
 * size, or 0 if none fits. MCU is 16×8 for type 0 (4:2:2) and 16×16 for type 1 (4:2:0).
 */
export function guessRestartInterval(width: number, height: number, type: 0 | 1, markers: number): number {
  if (markers <= 0 || width <= 0 || height <= 0) return 0;
  const perRow = Math.ceil(width / 16);
  const rows = Math.ceil(height / (type === 1 ? 16 : 8));
  const total = perRow * rows;
  const intervals = markers + 1;
  if (intervals > total) return 0;
  // Intervals k with ceil(total / k) === intervals lie in [ceil(total/intervals), floor((total-1)/markers)].
  const lo = Math.ceil(total / intervals);
  const hi = Math.floor((total - 1) / markers);
  if (lo > hi) return 0;
  for (let k = lo; k <= hi; k++) if (k % perRow === 0 && k <= 0xffff) return k;
  return lo <= 0xffff ? lo : 0;
}
