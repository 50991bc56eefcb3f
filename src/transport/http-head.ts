/**
 * Incremental reader of one HTTP/1.x response head (RFC 7230 §3: status-line, header fields,
 * empty line): the replies of an RTSP-over-HTTP tunnel (tunnel/), and of any other HTTP request
 * a camera source makes. It stops at the empty line and says where in the chunk the body
 * begins, so the bytes after the head (already RTSP on a tunnel GET) are handed on without a
 * copy. Header lines are read as the RTSP reader reads them (rtsp/header-fields.ts).
 *
 * Memory is bounded by `limits.block`: the head is collected into one buffer of that size
 * and nothing else is kept. It never throws on input; a malformed or oversized head ends in
 * the 'error' result with a message that quotes no more than 40 bytes of the input.
 */
import { addHeaderLine, parseHeaderLine, type Headers } from '../rtsp/header-fields';

export interface HttpHeadLimits {
  /** longest status or header line, bytes without its line ending */
  line: number;
  /** most header fields */
  count: number;
  /** largest head: every line with its line ending, and the empty line */
  block: number;
}

export const DEFAULT_HTTP_HEAD_LIMITS: Readonly<HttpHeadLimits> = Object.freeze({ line: 8192, count: 100, block: 16384 });

export interface HttpResponseHead {
  /** "HTTP/1.0" or "HTTP/1.1" as received */
  version: string;
  statusCode: number;
  reason: string;
  /** by lower-case name; values in the order received */
  headers: Headers;
}

export type HttpHeadResult =
  | { state: 'more' }
  /** `rest`: index in the chunk just pushed where the body starts (may equal its length) */
  | { state: 'done'; head: HttpResponseHead; rest: number }
  | { state: 'error'; message: string };

const LF = 0x0a;
const CR = 0x0d;
const STATUS_LINE = /^(HTTP\/\d\.\d)[ \t]+(\d{3})(?:[ \t]+(.*))?$/;
const MORE: HttpHeadResult = Object.freeze({ state: 'more' });

/** Printable preview of untrusted text for an error message. */
function preview(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\x00-\x1f\x7f-\xff]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}...` : clean;
}

export class HttpHeadReader {
  private readonly limits: HttpHeadLimits;
  private readonly buf: Buffer;
  private len = 0;
  private lineStart = 0;
  private result: HttpHeadResult = MORE;
  private statusLine: string | null = null;
  private readonly headers: Headers = new Map();
  private count = 0;
  private lastName: string | null = null;

  constructor(limits?: Partial<HttpHeadLimits>) {
    this.limits = { ...DEFAULT_HTTP_HEAD_LIMITS, ...(limits ?? {}) };
    this.buf = Buffer.allocUnsafe(this.limits.block);
  }

  /**
   * Feed the next bytes. Returns 'more' until the head is complete; then 'done' once (later
   * calls return the same result with `rest` 0: the head is over, every byte is body).
   */
  push(chunk: Buffer): HttpHeadResult {
    if (this.result.state === 'done') return { ...this.result, rest: 0 };
    if (this.result.state === 'error') return this.result;
    for (let i = 0; i < chunk.length; i++) {
      if (this.len >= this.limits.block) return this.fail(`HTTP response head longer than ${this.limits.block} bytes`);
      const b = chunk[i]!;
      this.buf[this.len++] = b;
      if (b !== LF) {
        if (this.len - this.lineStart > this.limits.line + 1) return this.fail(`HTTP response line longer than ${this.limits.line} bytes`);
        continue;
      }
      const start = this.lineStart;
      let end = this.len - 1;
      if (end > start && this.buf[end - 1] === CR) end--;
      if (end - start > this.limits.line) return this.fail(`HTTP response line longer than ${this.limits.line} bytes`);
      const text = this.buf.toString('latin1', start, end);
      this.lineStart = this.len;
      const r = this.line(text);
      if (r !== null) {
        if (r.state === 'done') return (this.result = { state: 'done', head: r.head, rest: i + 1 });
        return r;
      }
    }
    return MORE;
  }

  private fail(message: string): HttpHeadResult {
    this.result = { state: 'error', message };
    return this.result;
  }

  /** One complete line (without its ending): null to go on, or the final result. */
  private line(text: string): HttpHeadResult | null {
    if (this.statusLine === null) {
      // RFC 7230 §3.5: an empty line before the start line may be ignored.
      if (text.length === 0) return null;
      const m = STATUS_LINE.exec(text.trim());
      if (!m) return this.fail(`not an HTTP response: "${preview(text)}"`);
      this.statusLine = text;
      return null;
    }
    if (text.length === 0) {
      const m = STATUS_LINE.exec(this.statusLine.trim())!;
      return { state: 'done', head: { version: m[1]!, statusCode: Number(m[2]), reason: (m[3] ?? '').trim(), headers: this.headers }, rest: 0 };
    }
    const line = parseHeaderLine(text);
    if (line === null) return null; // not a header field: ignored
    if (line.name !== null && ++this.count > this.limits.count) return this.fail(`HTTP response with more than ${this.limits.count} header fields`);
    this.lastName = addHeaderLine(this.headers, line, this.lastName);
    return null;
  }
}
