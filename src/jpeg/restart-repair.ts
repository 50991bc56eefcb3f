/**
 * Repair for senders that put RSTn markers in the scan but send type 0/1 without the
 * RFC 2435 §3.1.7 restart header (so receivers write no DRI and decoders lose DC
 * prediction at the first RST). FFmpeg's `-f rtp` does this with its slice-threaded MJPEG
 * encoder and with `-c:v copy` of UVC webcam JPEGs (test/fixtures/vectors has a capture).
 *
 * Not part of RFC 2435: a documented quirk heuristic. The interval is derived from the
 * number of markers and the MCU count of the frame; intervals that are whole MCU rows are
 * preferred because that is what FFmpeg and `cjpeg -restart N` (rows) produce.
 *
 * Cost control: searching a scan for RST0 reads every byte of the frame a second time (as
 * much CPU as the copy itself). Whether an encoder writes restart markers is a property of
 * its configuration, so RestartRepair checks every frame until RST_CLEAN_FRAMES consecutive
 * frames of one configuration (SSRC, size, type, Q) had none, then one frame in
 * RST_SAMPLE_EVERY (any RSTn found: back to every frame).
 */
import { jpegHeaderLength, writeJpegHeader, type JpegHeaderParams } from './header';

const RST_CLEAN_FRAMES = 16;
const RST_SAMPLE_EVERY = 32;

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

/** The sampling and the repair, for one stream of frames. */
export class RestartRepair {
  /** configuration of the last checked frame and its clean-frame run */
  private config = { ssrc: -1, width: 0, height: 0, type: -1, q: -1 };
  private cleanFrames = 0;
  private sinceCheck = 0;

  /** Whether this frame's scan is to be searched for RSTn (see the sampling above). */
  due(ssrc: number, hp: JpegHeaderParams, q: number): boolean {
    const c = this.config;
    if (ssrc !== c.ssrc || hp.width !== c.width || hp.height !== c.height || hp.type !== c.type || q !== c.q) {
      // New source or encoder reconfiguration: check every frame again.
      this.config = { ssrc, width: hp.width, height: hp.height, type: hp.type, q };
      this.cleanFrames = 0;
    }
    if (this.cleanFrames < RST_CLEAN_FRAMES) return true;
    if (++this.sinceCheck < RST_SAMPLE_EVERY) return false;
    this.sinceCheck = 0;
    return true;
  }

  /**
   * A type 0/1 frame (`jpeg`, its header `headerLen` bytes, written from `hp` without DRI):
   * when its scan holds RSTn markers, returns it rewrapped with a DRI (and sets
   * `hp.restartInterval`), else null. The scan is searched in the assembled frame (one
   * contiguous native search when there is no RST0, i.e. nearly always); only frames that
   * need the repair pay a second copy.
   */
  repair(jpeg: Buffer, headerLen: number, hp: JpegHeaderParams): Buffer | null {
    const markers = countRestartMarkers(jpeg, headerLen);
    if (markers === 0) { this.cleanFrames++; return null; }
    this.cleanFrames = 0;
    const dri = guessRestartInterval(hp.width, hp.height, hp.type, markers);
    if (dri === 0) return null;
    hp.restartInterval = dri;
    const fixedHeaderLen = jpegHeaderLength(hp);
    const fixed = Buffer.allocUnsafeSlow(fixedHeaderLen + jpeg.length - headerLen);
    writeJpegHeader(hp, fixed, 0);
    jpeg.copy(fixed, fixedHeaderLen, headerLen);
    return fixed;
  }
}
