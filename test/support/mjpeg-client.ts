/**
 * A plain HTTP client for multipart/x-mixed-replace MJPEG streams, strict about the framing:
 * every part must be `--boundary`, headers with Content-Type image/jpeg and Content-Length,
 * a blank line, exactly that many bytes, CRLF. Optionally throttled to N bytes/s (it then
 * reads from a paused response, so TCP pushes back on the server as a slow browser would).
 */
import { get, type IncomingMessage } from 'node:http';

export interface MjpegClient {
  status: number;
  headers: IncomingMessage['headers'];
  /** parts received so far */
  count: number;
  /** the parts kept (the first `keep`, then every `keepEvery`-th) */
  kept: Buffer[];
  /** receive time (ms) of each part */
  times: number[];
  bytes: number;
  /** framing errors; empty when every part was well formed */
  errors: string[];
  ended: boolean;
  close(): void;
}

export interface MjpegClientOptions {
  headers?: Record<string, string>;
  /** bytes per second; unlimited by default */
  throttle?: number;
  keep?: number;
  keepEvery?: number;
}

class PartParser {
  private buf: Buffer = Buffer.alloc(0);
  private readonly delimiter: Buffer;
  constructor(
    boundary: string,
    private readonly onPart: (jpeg: Buffer) => void,
    private readonly onError: (e: string) => void,
  ) {
    this.delimiter = Buffer.from(`--${boundary}\r\n`);
  }

  feed(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.buf.length < this.delimiter.length) return;
      if (!this.buf.subarray(0, this.delimiter.length).equals(this.delimiter)) {
        this.onError(`expected the boundary, got ${JSON.stringify(this.buf.subarray(0, 40).toString('latin1'))}`);
        this.buf = Buffer.alloc(0);
        return;
      }
      const end = this.buf.indexOf('\r\n\r\n', this.delimiter.length);
      if (end < 0) return;
      const head = this.buf.subarray(this.delimiter.length, end).toString('latin1');
      const type = /^content-type:\s*(\S+)/im.exec(head)?.[1];
      const len = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1]);
      if (type !== 'image/jpeg' || !Number.isInteger(len)) {
        this.onError(`bad part headers ${JSON.stringify(head)}`);
        this.buf = Buffer.alloc(0);
        return;
      }
      const start = end + 4;
      if (this.buf.length < start + len + 2) return;
      const jpeg = Buffer.from(this.buf.subarray(start, start + len));
      if (this.buf[start + len] !== 0x0d || this.buf[start + len + 1] !== 0x0a) this.onError('part not followed by CRLF');
      this.buf = this.buf.subarray(start + len + 2);
      this.onPart(jpeg);
    }
  }
}

export function openMjpeg(url: string, o: MjpegClientOptions = {}): Promise<MjpegClient> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: o.headers ?? {} }, (res) => {
      let timer: NodeJS.Timeout | null = null;
      const c: MjpegClient = {
        status: res.statusCode ?? 0, headers: res.headers, count: 0, kept: [], times: [], bytes: 0, errors: [], ended: false,
        close: () => {
          if (timer) clearInterval(timer);
          req.destroy();
        },
      };
      const boundary = /boundary=([^;\s]+)/.exec(String(res.headers['content-type'] ?? ''))?.[1];
      if (c.status !== 200 || !boundary) {
        res.resume();
        res.on('end', () => (c.ended = true));
        resolve(c);
        return;
      }
      const keep = o.keep ?? 5;
      const parser = new PartParser(boundary, (jpeg) => {
        c.count++;
        c.times.push(Date.now());
        if (c.kept.length < keep || (o.keepEvery && c.count % o.keepEvery === 0)) c.kept.push(jpeg);
      }, (e) => c.errors.push(e));
      const take = (chunk: Buffer): void => {
        c.bytes += chunk.length;
        parser.feed(chunk);
      };
      res.on('end', () => (c.ended = true));
      res.on('close', () => (c.ended = true));
      res.on('error', () => (c.ended = true));
      if (o.throttle) {
        // paused mode: only what we read leaves the socket buffers
        const tickMs = 50;
        const perTick = Math.max(1, Math.round((o.throttle * tickMs) / 1000));
        timer = setInterval(() => {
          const n = Math.min(perTick, res.readableLength);
          if (n === 0) {
            res.read(0); // asks the stream to refill its buffer from the socket
            return;
          }
          const chunk = res.read(n) as Buffer | null;
          if (chunk) take(chunk);
        }, tickMs);
      } else {
        res.on('data', take);
      }
      resolve(c);
    });
    req.on('error', reject);
  });
}

/** GET that collects the whole body. */
export function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.setTimeout(20000, () => req.destroy(new Error(`GET ${url}: no answer in 20 s`)));
    req.on('error', reject);
  });
}

/** Polls until `cond` holds; false after `timeoutMs`. */
export async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
