/**
 * Decoder of the HTTP/1.1 chunked transfer coding (RFC 9112 §7.1): `chunk-size [ ext ] CRLF
 * data CRLF`, …, `0 CRLF`, trailer fields, CRLF. ESP-IDF's httpd (the ESP32-CAM), motion
 * and FFmpeg's HTTP server send MJPEG this way.
 *
 * Incremental and pure: data is handed on as subarrays of the pushed reads (no copy), the
 * size line and the trailer section are bounded, bare LF is accepted for CRLF (§2.2), and
 * input never throws: a malformed size ends in the 'error' result.
 */

export type ChunkedResult =
  | { state: 'more' }
  /** the last chunk and the trailers are over; `rest`: index in the read where the next message starts */
  | { state: 'done'; rest: number }
  | { state: 'error'; message: string };

const enum S { Size, Ext, SizeLf, Data, DataCr, DataLf, Trailer, Done, Failed }

const MORE: ChunkedResult = Object.freeze({ state: 'more' });
/** hex digits in a chunk size: 2^52 bytes is more than any camera sends */
const MAX_SIZE_DIGITS = 13;
/** a chunk extension or trailer line longer than this is refused */
const MAX_LINE = 4096;
const MAX_TRAILER_BYTES = 16384;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

export class ChunkedDecoder {
  private state: S = S.Size;
  private size = 0;
  private digits = 0;
  private remaining = 0;
  private lineBytes = 0;
  private trailerBytes = 0;
  private trailerLineEmpty = true;
  private result: ChunkedResult = MORE;
  /** body bytes handed on so far */
  bodyBytes = 0;

  constructor(private readonly onData: (data: Buffer) => void) {}

  get done(): boolean {
    return this.state === S.Done;
  }

  push(b: Buffer): ChunkedResult {
    if (this.state === S.Done || this.state === S.Failed) return this.result;
    let i = 0;
    while (i < b.length) {
      switch (this.state) {
        case S.Data: {
          const n = Math.min(this.remaining, b.length - i);
          this.remaining -= n;
          this.bodyBytes += n;
          const data = b.subarray(i, i + n);
          i += n;
          if (this.remaining === 0) this.state = S.DataCr;
          this.onData(data);
          break;
        }
        case S.Size: {
          const c = b[i]!;
          const v = hexValue(c);
          if (v >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) return this.fail('chunk size too large');
            this.size = this.size * 16 + v;
            i++;
          } else if (this.digits === 0) {
            return this.fail(`chunk size expected, got byte 0x${c.toString(16).padStart(2, '0')}`);
          } else if (c === 0x3b || c === 0x20 || c === 0x09) {
            this.state = S.Ext; // chunk-ext (and BWS before it) is ignored
            this.lineBytes = 0;
          } else if (c === 0x0d) {
            this.state = S.SizeLf;
            i++;
          } else if (c === 0x0a) {
            i++;
            this.endSizeLine();
          } else {
            return this.fail(`bad byte 0x${c.toString(16).padStart(2, '0')} in a chunk size`);
          }
          break;
        }
        case S.Ext: {
          const lf = b.indexOf(0x0a, i);
          const end = lf < 0 ? b.length : lf;
          this.lineBytes += end - i;
          if (this.lineBytes > MAX_LINE) return this.fail('chunk extension too long');
          i = end;
          if (lf >= 0) { i++; this.endSizeLine(); }
          break;
        }
        case S.SizeLf:
          if (b[i] !== 0x0a) return this.fail('CR without LF after a chunk size');
          i++;
          this.endSizeLine();
          break;
        case S.DataCr:
          // CRLF after the data; a bare LF is accepted
          if (b[i] === 0x0d) { this.state = S.DataLf; i++; } else if (b[i] === 0x0a) { this.state = S.Size; i++; } else return this.fail('chunk data longer than its size');
          break;
        case S.DataLf:
          if (b[i] !== 0x0a) return this.fail('chunk data longer than its size');
          this.state = S.Size;
          i++;
          break;
        case S.Trailer: {
          const c = b[i++]!;
          if (++this.trailerBytes > MAX_TRAILER_BYTES) return this.fail('trailer section too long');
          if (c === 0x0a) {
            if (this.trailerLineEmpty) {
              this.state = S.Done;
              this.result = { state: 'done', rest: i };
              return this.result;
            }
            this.trailerLineEmpty = true;
          } else if (c !== 0x0d) {
            this.trailerLineEmpty = false;
          }
          break;
        }
        default:
          return this.result;
      }
    }
    return MORE;
  }

  private endSizeLine(): void {
    this.digits = 0;
    if (this.size === 0) {
      this.state = S.Trailer;
      this.trailerLineEmpty = true;
      return;
    }
    this.remaining = this.size;
    this.size = 0;
    this.state = S.Data;
  }

  private fail(message: string): ChunkedResult {
    this.state = S.Failed;
    this.result = { state: 'error', message };
    return this.result;
  }
}
