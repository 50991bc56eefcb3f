/**
 * Taking an HTTP response body for the camera layer: a tap that can hold the first bytes
 * while the source decides what the URL serves (then hands them, and all that follows, to
 * the reader that takes over), and the read of one whole JPEG picture for a snapshot URL,
 * bounded in size and time, copied once into a Buffer of its own.
 */
import { CameraError } from '../errors';
import { jpegBounds } from '../mjpeg/jpeg-frame';
import { Pieces } from '../mjpeg/pieces';
import type { BodySink } from '../transport/http-connection';
import type { HttpGetResult } from '../transport/http-client';

/** The body of one response, attached at once; bytes wait here until pipe(). */
export class BodyTap {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private ended = false;
  private error: CameraError | null = null;
  private sink: BodySink | null = null;
  private waiter: (() => void) | null = null;

  constructor(private readonly r: HttpGetResult, private readonly countBytes: (n: number) => void) {
    r.conn.body({
      onData: (d) => {
        this.countBytes(d.length);
        if (this.sink) { this.sink.onData(d); return; }
        this.held.push(d);
        this.heldBytes += d.length;
        this.waiter?.();
      },
      onEnd: () => {
        if (this.sink) { this.sink.onEnd(); return; }
        this.ended = true;
        this.waiter?.();
      },
      onError: (err) => {
        if (this.sink) { this.sink.onError(err); return; }
        this.error = err;
        this.waiter?.();
      },
    });
  }

  /**
   * The bytes held once at least `n` arrived, or the body ended; rejects on the connection's
   * failure or after `timeoutMs`. `enough` may decide earlier from what is held.
   */
  first(n: number, timeoutMs: number, enough: (held: Buffer) => boolean): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.error) { finish(); reject(this.error); return; }
        const held = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held);
        if (this.ended || this.heldBytes >= n || enough(held)) { finish(); resolve(held); }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new CameraError('timeout', `no body within ${Math.round(timeoutMs / 100) / 10} s`));
      }, timeoutMs);
      const finish = (): void => { clearTimeout(timer); this.waiter = null; };
      this.waiter = check;
      check();
    });
  }

  /**
   * From now on the body goes to `sink`, starting with what is held. `copies`: the sink copies
   * whatever it keeps before onData returns, so the connection may reuse one read buffer.
   */
  pipe(sink: BodySink, copies = false): void {
    this.sink = sink;
    if (copies) this.r.conn.reuseReadBuffer();
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const d of held) sink.onData(d);
    if (this.error) sink.onError(this.error);
    else if (this.ended) sink.onEnd();
  }
}

export type PictureResult = { ok: true; jpeg: Buffer } | { ok: false; err: CameraError };

/**
 * Reads the whole body of a snapshot answer: one JPEG (SOI … EOI, padding around it
 * allowed), at most `maxBytes`, within `timeoutMs`. A body that is no JPEG is 'not a JPEG
 * source'; one past the cap is 'frame too large'.
 */
export function readPicture(tap: BodyTap, r: HttpGetResult, maxBytes: number, timeoutMs: number): Promise<PictureResult> {
  return new Promise((resolve) => {
    const body = new Pieces();
    let settled = false;
    const settle = (v: PictureResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(v);
    };
    const timer = setTimeout(() => {
      r.conn.close();
      settle({ ok: false, err: new CameraError('timeout', `GET ${r.url.clean}: the picture did not arrive within ${Math.round(timeoutMs / 100) / 10} s`) });
    }, timeoutMs);
    if (r.res.length !== null && r.res.length > maxBytes) {
      r.conn.close();
      settle({ ok: false, err: new CameraError('frame too large', `GET ${r.url.clean}: a picture of ${r.res.length} bytes is larger than the frame cap (${maxBytes} bytes)`) });
      return;
    }
    tap.pipe({
      onData: (d) => {
        if (settled) return;
        body.add(d);
        if (body.length > maxBytes) {
          r.conn.close();
          settle({ ok: false, err: new CameraError('frame too large', `GET ${r.url.clean}: the picture is larger than the frame cap (${maxBytes} bytes)`) });
        }
      },
      onEnd: () => {
        // bounds over the held pieces: SOI at the start, EOI at the end (padding allowed)
        const whole = body.length <= 64 ? body.copy(0, body.length) : null;
        const b = whole ? jpegBounds(whole) : edgesBounds(body);
        if (!b) {
          settle({ ok: false, err: new CameraError('not a JPEG source', `GET ${r.url.clean}: the answer (${body.length} bytes) is not a JPEG picture`) });
          return;
        }
        settle({ ok: true, jpeg: body.copy(b.start, b.end) });
      },
      onError: (err) => settle({ ok: false, err }),
    });
  });
}

/** jpegBounds over pieces without joining them: only the first and last bytes are looked at. */
function edgesBounds(p: Pieces): { start: number; end: number } | null {
  const head = p.copy(0, Math.min(32, p.length));
  const tail = p.copy(Math.max(0, p.length - 32), p.length);
  let s = 0;
  while (s < head.length && isPad(head[s]!)) s++;
  let e = tail.length;
  while (e > 0 && isPad(tail[e - 1]!)) e--;
  const start = s;
  const end = p.length - (tail.length - e);
  if (end - start < 4 || head[s] !== 0xff || head[s + 1] !== 0xd8 || tail[e - 2] !== 0xff || tail[e - 1] !== 0xd9) return null;
  return { start, end };
}

function isPad(c: number): boolean {
  return c === 0x0d || c === 0x0a || c === 0x20 || c === 0x09;
}
