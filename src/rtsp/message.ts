/**
 * RTSP/1.0 message framing (RFC 2326 §6 requests, §7 responses, §10.12 interleaved binary data).
 *
 * `RtspReader` is an incremental state machine over the bytes of one TCP connection. It splits
 * them into responses, server-sent requests and `$`-framed interleaved RTP/RTCP packets, however
 * the bytes are chunked. It never throws on input: a protocol violation or a size limit is
 * reported once through `onError`, and the reader then ignores input until `reset()`.
 *
 * Memory is bounded by the limits: a partial line is at most one header line, a body buffer is
 * allocated only once Content-Length has been checked, and a split interleaved frame needs at
 * most 64 KiB. Whole interleaved frames inside one chunk are handed out in place (no copy);
 * a frame split across chunks is copied once into its own exact-size Buffer (never reused).
 * Writing messages is serialize.ts.
 */
import { RtspProtocolError } from '../errors';
import { addHeaderLine, header, parseHeaderLine, type Headers } from './header-fields';

// A message's headers are read with these; they are part of what this module hands out.
export { header, type Headers };

export interface RtspResponse {
  version: string;
  statusCode: number;
  reason: string;
  headers: Headers;
  body: Buffer;
  /** CSeq as a number, or null when missing or not a number */
  cseq: number | null;
}

export interface RtspRequest {
  method: string;
  uri: string;
  version: string;
  headers: Headers;
  body: Buffer;
  cseq: number | null;
}

export interface RtspReaderLimits {
  /** longest response status line, bytes without line ending */
  statusLine: number;
  /** longest header line (and request line), bytes without line ending */
  headerLine: number;
  /** most header fields per message */
  headerCount: number;
  /** largest message head: start line, header lines, their line endings and the empty line */
  headerBlock: number;
  /** largest Content-Length accepted */
  body: number;
  /** largest interleaved frame including its 4-byte header; the 16-bit length caps it at 65539 */
  interleaved: number;
}

export const DEFAULT_READER_LIMITS: Readonly<RtspReaderLimits> = Object.freeze({
  statusLine: 255,
  headerLine: 8192,
  headerCount: 256,
  headerBlock: 65536,
  body: 131072,
  interleaved: 65535 + 4,
});

export interface RtspReaderHandlers {
  onResponse(res: RtspResponse): void;
  /** requests sent by the peer (a server's OPTIONS/ANNOUNCE/SET_PARAMETER, or a client's, for the demo server) */
  onRequest(req: RtspRequest): void;
  /**
   * The frame's payload is `data[start, end)`: for a frame inside one chunk, `data` IS the
   * chunk given to push() (no copy, not even a subarray object); it stays valid as long as the
   * caller does not overwrite that chunk. RtspConnection never reuses read memory, so the RTP
   * path may keep payloads until their frame is assembled (ARCHITECTURE "Hot path"); a caller
   * that reuses its read buffer must copy what it keeps. A frame split across chunks comes in
   * its own exact-size Buffer.
   */
  onInterleaved(channel: number, data: Buffer, start: number, end: number): void;
  /** after an error the reader ignores input until reset() */
  onError(err: RtspProtocolError): void;
}

/**
 * Bytes that may not start a message: anything else than a printable ASCII character. Such
 * bytes between messages are skipped (bounded), like gortsplib and go2rtc resynchronise on
 * the next `$` or start line instead of failing on the first stray byte.
 */
const RESYNC_LIMIT = 65536;

const enum State {
  Idle,
  StartLine,
  Headers,
  Body,
  FrameHeader,
  FramePayload,
  Failed,
}

const LF = 0x0a;
const CR = 0x0d;
const DOLLAR = 0x24;

const STATUS_LINE = /^(RTSP\/\d+\.\d+)[ \t]+(\d{3})(?:[ \t]+(.*))?$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]+(\S+)[ \t]+(RTSP\/\d+\.\d+)$/;
const DECIMAL = /^\d{1,15}$/;
const LONG_DECIMAL = /^\d+$/;

type StartLine =
  | { kind: 'response'; version: string; statusCode: number; reason: string }
  | { kind: 'request'; method: string; uri: string; version: string };

export class RtspReader {
  private readonly handlers: RtspReaderHandlers;
  private readonly limits: RtspReaderLimits;
  private state: State = State.Idle;
  /** bumped by reset(); a handler that resets the reader stops the current push() */
  private generation = 0;

  // current line (StartLine / Headers)
  private line: Buffer;
  private lineLen = 0;

  // message head
  private start: StartLine | null = null;
  private headers: Headers = new Map();
  private headerCount = 0;
  private headBytes = 0;
  private lastHeader: string | null = null;

  // body
  private body: Buffer = Buffer.alloc(0);
  private bodyFilled = 0;

  // interleaved frame split across chunks
  private frameHead = Buffer.alloc(4);
  private frameHeadLen = 0;
  private frame: Buffer = Buffer.alloc(0);
  private frameFilled = 0;
  private frameChannel = 0;

  private garbage = 0;

  constructor(handlers: RtspReaderHandlers, limits?: Partial<RtspReaderLimits>) {
    this.handlers = handlers;
    this.limits = { ...DEFAULT_READER_LIMITS, ...(limits ?? {}) };
    // +1 leaves room for the CR of a line that is exactly at the limit
    this.line = Buffer.alloc(Math.max(this.limits.headerLine, this.limits.statusLine) + 1);
  }

  /** Forget any partial message and leave the failed state. */
  reset(): void {
    this.generation++;
    this.state = State.Idle;
    this.lineLen = 0;
    this.resetHead();
    this.body = Buffer.alloc(0);
    this.bodyFilled = 0;
    this.frameHeadLen = 0;
    this.frame = Buffer.alloc(0);
    this.frameFilled = 0;
    this.garbage = 0;
  }

  /** Feed the next bytes of the connection. Never throws because of the input. */
  push(chunk: Buffer): void {
    const gen = this.generation;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.generation !== gen || this.state === State.Failed) return;
      switch (this.state) {
        case State.Idle: {
          const b = chunk[i]!;
          if (b === DOLLAR) {
            // Fast path: the whole frame is in this chunk → hand out a subarray.
            if (i + 4 <= n) {
              const len = chunk.readUInt16BE(i + 2);
              if (!this.frameLengthOk(len)) return;
              if (i + 4 + len <= n) {
                const channel = chunk[i + 1]!;
                const start = i + 4;
                i = start + len;
                this.garbage = 0;
                this.handlers.onInterleaved(channel, chunk, start, i);
                continue;
              }
            }
            this.state = State.FrameHeader;
            this.frameHeadLen = 0;
            continue;
          }
          if (b === CR || b === LF) { i++; continue; } // empty lines between messages (RFC 2326 §15 robustness)
          if (b < 0x21 || b > 0x7e) {
            i++;
            if (!this.countGarbage(1)) return;
            continue;
          }
          this.state = State.StartLine;
          this.lineLen = 0;
          this.resetHead();
          continue;
        }
        case State.FrameHeader: {
          while (i < n && this.frameHeadLen < 4) this.frameHead[this.frameHeadLen++] = chunk[i++]!;
          if (this.frameHeadLen < 4) return;
          const len = this.frameHead.readUInt16BE(2);
          if (!this.frameLengthOk(len)) return;
          this.frameChannel = this.frameHead[1]!;
          // One copy for frames split across reads: into an exact-size buffer.
          this.frame = Buffer.allocUnsafe(len);
          this.frameFilled = 0;
          this.state = State.FramePayload;
          if (len === 0) this.finishFrame();
          continue;
        }
        case State.FramePayload: {
          const take = Math.min(n - i, this.frame.length - this.frameFilled);
          chunk.copy(this.frame, this.frameFilled, i, i + take);
          this.frameFilled += take;
          i += take;
          if (this.frameFilled === this.frame.length) this.finishFrame();
          continue;
        }
        case State.StartLine:
        case State.Headers: {
          const lf = chunk.indexOf(LF, i);
          const end = lf < 0 ? n : lf;
          if (!this.appendLine(chunk, i, end)) return;
          if (lf < 0) return;
          i = lf + 1;
          this.headBytes += 1;
          if (!this.completeLine()) return;
          continue;
        }
        case State.Body: {
          const take = Math.min(n - i, this.body.length - this.bodyFilled);
          chunk.copy(this.body, this.bodyFilled, i, i + take);
          this.bodyFilled += take;
          i += take;
          if (this.bodyFilled === this.body.length) this.dispatch();
          continue;
        }
        default:
          return;
      }
    }
  }

  private resetHead(): void {
    this.start = null;
    this.headers = new Map();
    this.headerCount = 0;
    this.headBytes = 0;
    this.lastHeader = null;
  }

  private fail(message: string): false {
    this.state = State.Failed;
    this.handlers.onError(new RtspProtocolError(message));
    return false;
  }

  private countGarbage(bytes: number): boolean {
    this.garbage += bytes;
    if (this.garbage > RESYNC_LIMIT) {
      return this.fail(`RTSP stream out of sync: more than ${RESYNC_LIMIT} bytes that are neither an RTSP message nor an interleaved frame`);
    }
    return true;
  }

  private frameLengthOk(len: number): boolean {
    if (len + 4 > this.limits.interleaved) {
      return this.fail(`RTSP interleaved frame of ${len + 4} bytes exceeds the limit of ${this.limits.interleaved} bytes`);
    }
    return true;
  }

  private finishFrame(): void {
    const payload = this.frame;
    const channel = this.frameChannel;
    this.frame = Buffer.alloc(0);
    this.frameFilled = 0;
    this.state = State.Idle;
    this.garbage = 0;
    this.handlers.onInterleaved(channel, payload, 0, payload.length);
  }

  /** Append chunk[from, to) to the current line, enforcing the line and head limits. */
  private appendLine(chunk: Buffer, from: number, to: number): boolean {
    const add = to - from;
    const newLen = this.lineLen + add;
    const isStatus = this.state === State.StartLine && this.looksLikeStatus(chunk, from, to);
    const lineLimit = isStatus ? this.limits.statusLine : this.limits.headerLine;
    // A partial line may hold one extra byte: the CR of a CRLF whose LF has not arrived yet.
    if (newLen > lineLimit + 1 || (newLen === lineLimit + 1 && (add > 0 ? chunk[to - 1] : this.line[this.lineLen - 1]) !== CR)) {
      return this.fail(isStatus
        ? `RTSP status line longer than ${lineLimit} bytes`
        : this.state === State.StartLine
          ? `RTSP request line longer than ${lineLimit} bytes`
          : `RTSP header line longer than ${lineLimit} bytes`);
    }
    if (this.headBytes + newLen > this.limits.headerBlock) {
      return this.fail(`RTSP message head longer than ${this.limits.headerBlock} bytes`);
    }
    chunk.copy(this.line, this.lineLen, from, to);
    this.lineLen = newLen;
    return true;
  }

  /** Whether the start line being read begins with "RTSP/" (a response status line). */
  private looksLikeStatus(chunk: Buffer, from: number, to: number): boolean {
    const prefix = 'RTSP/';
    for (let k = 0; k < prefix.length; k++) {
      const pos = k - this.lineLen;
      const b = k < this.lineLen ? this.line[k] : from + pos < to ? chunk[from + pos] : undefined;
      if (b === undefined) return true; // too short to tell: the smaller limit is not yet reachable
      if (b !== prefix.charCodeAt(k)) return false;
    }
    return true;
  }

  /** A whole line (without LF) is in `line`. */
  private completeLine(): boolean {
    let len = this.lineLen;
    this.headBytes += len;
    if (this.headBytes > this.limits.headerBlock) {
      return this.fail(`RTSP message head longer than ${this.limits.headerBlock} bytes`);
    }
    if (len > 0 && this.line[len - 1] === CR) len--;
    const text = this.line.toString('latin1', 0, len);
    this.lineLen = 0;
    if (this.state === State.StartLine) return this.startLine(text);
    if (text.length === 0) return this.endOfHead();
    return this.headerLine(text);
  }

  private startLine(text: string): boolean {
    const trimmed = text.trim();
    const s = STATUS_LINE.exec(trimmed);
    if (s) {
      this.start = { kind: 'response', version: s[1]!, statusCode: Number(s[2]), reason: (s[3] ?? '').trim() };
    } else {
      const r = REQUEST_LINE.exec(trimmed);
      if (!r) {
        // Not a message: skip the line (bounded), as a resync.
        this.state = State.Idle;
        return this.countGarbage(this.headBytes);
      }
      this.start = { kind: 'request', method: r[1]!, uri: r[2]!, version: r[3]! };
    }
    this.state = State.Headers;
    return true;
  }

  private headerLine(text: string): boolean {
    const line = parseHeaderLine(text);
    if (line === null) return true; // not a header field: tolerated and ignored
    if (line.name !== null && ++this.headerCount > this.limits.headerCount) {
      return this.fail(`RTSP message with more than ${this.limits.headerCount} header fields`);
    }
    this.lastHeader = addHeaderLine(this.headers, line, this.lastHeader);
    return true;
  }

  private endOfHead(): boolean {
    const cl = this.headers.get('content-length');
    let length = 0;
    if (cl !== undefined) {
      let seen: number | null = null;
      for (const raw of cl) {
        const v = raw.trim();
        // Digits only: rejects negative, fractional, hex and empty values (another client's parser crashed on -1).
        if (!LONG_DECIMAL.test(v)) return this.fail(`RTSP Content-Length is not a valid number: "${v.slice(0, 40)}"`);
        const num = Number(v);
        if (num > this.limits.body) {
          return this.fail(`RTSP Content-Length ${v.length > 20 ? `${v.slice(0, 20)}...` : v} exceeds the body limit of ${this.limits.body} bytes`);
        }
        if (seen !== null && num !== seen) return this.fail('RTSP message with conflicting Content-Length values');
        seen = num;
      }
      length = seen ?? 0;
    }
    this.body = length === 0 ? Buffer.alloc(0) : Buffer.alloc(length);
    this.bodyFilled = 0;
    if (length === 0) this.dispatch();
    else this.state = State.Body;
    return true;
  }

  private dispatch(): void {
    const start = this.start!;
    const headers = this.headers;
    const body = this.body;
    const cseqRaw = header(headers, 'cseq');
    const cseqText = cseqRaw?.trim();
    const cseq = cseqText !== undefined && DECIMAL.test(cseqText) ? Number(cseqText) : null;
    this.resetHead();
    this.body = Buffer.alloc(0);
    this.bodyFilled = 0;
    this.state = State.Idle;
    this.garbage = 0;
    if (start.kind === 'response') {
      this.handlers.onResponse({ version: start.version, statusCode: start.statusCode, reason: start.reason, headers, body, cseq });
    } else {
      this.handlers.onRequest({ method: start.method, uri: start.uri, version: start.version, headers, body, cseq });
    }
  }
}
