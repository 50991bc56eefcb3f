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

/** FF D0: RST0. Restart markers count 0..7 from the first interval (T.81 B.2.1), so a scan with any RSTn has RST0. */
const RST0 = Buffer.from([0xff, 0xd0]);

/**
 * Counts RSTn markers (FF D0..FF D7) in `buf[start, end)`, an entropy-coded scan where every
 * data FF is stuffed (FF 00) or fill (FF FF). Scans without RST0 — nearly every frame of a
 * sender that behaves — cost one native search; the byte walk runs only when RST0 is present.
 */
export function countRestartMarkers(buf: Uint8Array, start = 0, end = buf.length): number {
  const view = Buffer.from(buf.buffer, buf.byteOffset + start, Math.max(0, end - start));
  if (view.indexOf(RST0) < 0) return 0;
  let count = 0;
  let i = view.indexOf(0xff);
  while (i >= 0 && i + 1 < view.length) {
    const b = view[i + 1]!;
    if (b >= 0xd0 && b <= 0xd7) count++;
    // FF FF is fill; the second FF may start a marker, so advance by one only then.
    i = view.indexOf(0xff, b === 0xff ? i + 1 : i + 2);
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
