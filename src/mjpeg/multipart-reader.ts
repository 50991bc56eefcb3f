/**
 * Streaming reader of a multipart body (RFC 2046 §5.1.1) as IP cameras send Motion-JPEG over
 * HTTP (`multipart/x-mixed-replace`): one JPEG picture per part. Pure: bytes in, frames out,
 * no sockets, no timers.
 *
 * What real servers do, and this reader accepts:
 * - the boundary parameter with or without the `--` of the delimiter (`boundary=--myboundary`
 *   while the body has `--myboundary`), in another letter case than the body uses, or no
 *   boundary at all (FFmpeg and VLC send `application/octet-stream`): until the first
 *   delimiter line is seen it is looked for line by line, case-insensitively, and the
 *   server's own spelling is kept from then on;
 * - a preamble, and garbage between parts (§5.1.1: ignored); transport padding after the
 *   delimiter; CRLF or bare LF line ends; a delimiter split across reads;
 * - parts with a Content-Length (read without scanning) and without one (the part ends at
 *   the next delimiter, looked for with a native search per read), parts without headers;
 * - a Content-Length that does not match the picture: the JPEG's own SOI … EOI (T.81 B.1.1.3)
 *   is trusted then, whether the length was too short or ran into the next part;
 * - parts larger than `maxFrameBytes`: dropped and counted, holding no more than the cap.
 *
 * Every frame handed out is one complete JPEG (SOI … EOI) in its own exact-size Buffer. A part
 * with a Content-Length is copied straight from the reads into a Buffer of that size, the
 * frame itself: one allocation, one copy. A part without one is held as subarrays of the
 * reads (pieces.ts) and copied once into the frame when its delimiter arrives; a caller that
 * rewrites its read buffer (`reusedChunks`) has those pieces copied as they arrive instead,
 * so such parts cost two copies there. Memory besides the frame being assembled is bounded by
 * the header cap and a look-behind of the delimiter's length. Never throws on input.
 */
import { jpegBounds } from './jpeg-frame';
import { boundaryToken } from './media-type';
import { Pieces } from './pieces';

export interface PartInfo {
  /** the part's X-Timestamp (ESP32, mjpg-streamer: `seconds.microseconds`) in ms, or null */
  timestampMs: number | null;
}

export interface MultipartReaderOptions {
  /** from the Content-Type (with or without leading dashes), or null to learn it from the body */
  boundary: string | null;
  /** larger parts are dropped and counted (default 16 MiB) */
  maxFrameBytes?: number;
  /** largest part header block (default 8 KiB); a larger one is garbage */
  maxHeaderBytes?: number;
  /** the caller rewrites a chunk once push() returned: whatever is kept is copied first */
  reusedChunks?: boolean;
  onFrame(jpeg: Buffer, part: PartInfo): void;
}

export interface MultipartStats {
  /** parts seen (a delimiter followed by headers) */
  parts: number;
  frames: number;
  /** parts over maxFrameBytes, dropped */
  oversized: number;
  /** picture parts that held no complete JPEG, dropped */
  corrupt: number;
  /** parts of another type (text, XML), skipped */
  ignored: number;
  /** parts whose Content-Length did not match the JPEG (the JPEG's own SOI … EOI was used) */
  lengthMismatches: number;
  /** a part cut short by the end of the body */
  truncated: number;
  /** bytes outside any part: preamble, garbage between parts, epilogue */
  garbageBytes: number;
  /** bytes of dropped or skipped parts */
  droppedBytes: number;
  /** the close delimiter arrived (the server ended the stream) */
  closed: boolean;
}

const enum S { Learn, Seek, AfterDelimiter, Headers, BodyLength, BodyScan, Skip, End }

const LF = 0x0a;
const CR = 0x0d;
/** a delimiter line (dashes, boundary, padding) is never longer */
const MAX_DELIMITER_LINE = 1024;
/** while learning the boundary, only this much of each line is kept */
const LEARN_LINE = 256;
/** a part's SOI is looked for this far in (servers that put a CRLF or junk first) */
const SOI_WINDOW = 1024;
const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

export class MultipartReader {
  readonly stats: MultipartStats = {
    parts: 0, frames: 0, oversized: 0, corrupt: 0, ignored: 0, lengthMismatches: 0, truncated: 0, garbageBytes: 0, droppedBytes: 0, closed: false,
  };
  private readonly maxFrame: number;
  private readonly maxHeader: number;
  private readonly onFrame: (jpeg: Buffer, part: PartInfo) => void;
  /** expected token (no dashes) until confirmed, then null */
  private expected: string | null;
  /** the delimiter as the server writes it (`--` + token), once seen */
  private delim: Buffer | null = null;
  /** LF + delimiter: how a part without Content-Length ends */
  private delimLf: Buffer | null = null;
  private state: S = S.Learn;
  private readonly body = new Pieces();
  /** look-behind for a delimiter split across reads (copied, < delimiter length) */
  private tail: Buffer = Buffer.alloc(0);
  private line: Buffer;
  private lineLen = 0;
  private lineOverflow = false;
  /** start of the current header line in `line` */
  private hdrLineStart = 0;
  private padding = 0;
  private dashes = 0;
  private need = 0;
  private partIsImage = true;
  private partLength: number | null = null;
  private partTimestamp: number | null = null;
  /** a part with a Content-Length: its frame, filled as the bytes arrive */
  private frame: Buffer | null = null;
  private filled = 0;
  private readonly reused: boolean;
  private readonly queue: Buffer[] = [];
  private requeue: Buffer[] | null = null;
  private draining = false;

  constructor(o: MultipartReaderOptions) {
    this.maxFrame = Math.max(4, o.maxFrameBytes ?? DEFAULT_MAX_FRAME);
    this.maxHeader = Math.max(64, o.maxHeaderBytes ?? 8192);
    this.onFrame = o.onFrame;
    this.reused = o.reusedChunks === true;
    this.expected = boundaryToken(o.boundary ?? undefined);
    this.line = Buffer.alloc(Math.max(LEARN_LINE, this.maxHeader));
  }

  /** The boundary token in use (learned or given), without dashes. */
  get boundary(): string | null {
    return this.delim ? this.delim.toString('latin1').replace(/^-+/, '') : this.expected;
  }

  /** Bytes held for the part being read (for diagnostics and memory checks). */
  get pendingBytes(): number {
    return this.body.length + (this.frame ? this.filled : 0);
  }

  /** Whether a dropped part is being skipped (oversized without a delimiter in sight). */
  get skipping(): boolean {
    return this.state === S.Skip;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.draining) {
      // pushed from inside onFrame: read after the current chunk, so kept until then
      this.queue.push(this.reused ? Buffer.from(chunk) : chunk);
      return;
    }
    this.queue.push(chunk);
    this.draining = true;
    try {
      while (this.queue.length > 0) this.run(this.queue.shift()!);
    } finally {
      this.draining = false;
    }
  }

  /**
   * The body ended (connection closed). A last part without a closing delimiter is handed
   * out when it is a complete JPEG; anything shorter is counted as truncated.
   */
  end(): void {
    if (this.state === S.BodyScan) {
      if (!this.emitScanned(this.body.length)) this.stats.truncated++;
    } else if (this.state === S.BodyLength && this.filled > 0) {
      this.stats.truncated++;
      this.stats.droppedBytes += this.filled;
    }
    this.frame = null;
    this.body.clear();
    this.state = S.End;
  }

  private run(b: Buffer): void {
    let pos = 0;
    while (pos < b.length) {
      pos = this.step(b, pos);
      if (this.requeue) {
        const r = this.requeue;
        this.requeue = null;
        this.queue.unshift(...r, b.subarray(pos));
        return;
      }
    }
  }

  private step(b: Buffer, pos: number): number {
    switch (this.state) {
      case S.Learn: return this.learn(b, pos);
      case S.Seek: return this.seek(b, pos);
      case S.AfterDelimiter: return this.afterDelimiter(b, pos);
      case S.Headers: return this.headers(b, pos);
      case S.BodyLength: return this.bodyLength(b, pos);
      case S.BodyScan: case S.Skip: return this.scan(b, pos);
      case S.End:
        this.stats.garbageBytes += b.length - pos;
        return b.length;
    }
  }

  // ------------------------------------------------------------ finding delimiters

  /** Before the first delimiter: line by line, for `--token` (the expected one, in any case). */
  private learn(b: Buffer, pos: number): number {
    const lf = b.indexOf(LF, pos);
    const end = lf < 0 ? b.length : lf;
    const n = Math.min(LEARN_LINE - this.lineLen, end - pos);
    if (n > 0) {
      b.copy(this.line, this.lineLen, pos, pos + n);
      this.lineLen += n;
    }
    if (end - pos > n) this.lineOverflow = true;
    if (lf < 0) {
      this.stats.garbageBytes += b.length - pos;
      return b.length;
    }
    const text = this.lineOverflow ? '' : this.line.toString('latin1', 0, this.lineLen).trim();
    this.lineLen = 0;
    this.lineOverflow = false;
    // dashes, a token that does not start with one, and "--" when it is the close delimiter
    const m = /^(-{2,})([\x21-\x2c\x2e-\x7e][\x21-\x7e]{0,199}?)(--)?$/.exec(text);
    if (m) {
      const token = m[2]!;
      const ok = this.expected === null ? token.length <= 100 : token.toLowerCase() === this.expected.toLowerCase();
      if (ok) {
        this.expected = null;
        this.delim = Buffer.from(`${m[1]}${token}`, 'latin1');
        this.delimLf = Buffer.concat([Buffer.from([LF]), this.delim]);
        if (m[3]) this.close();
        else this.startPart();
        return lf + 1;
      }
    }
    this.stats.garbageBytes += lf + 1 - pos;
    return lf + 1;
  }

  /**
   * Where `pat` starts, as [index in b, pattern bytes already in the look-behind]: -1 when
   * not in this read (the look-behind is then updated to end at b's end).
   */
  private find(pat: Buffer, b: Buffer, pos: number): [number, number] {
    if (this.tail.length > 0) {
      const j = Buffer.concat([this.tail, b.subarray(pos, pos + pat.length - 1)]);
      const k = j.indexOf(pat);
      if (k >= 0 && k < this.tail.length) return [pos, this.tail.length - k];
    }
    const k = b.indexOf(pat, pos);
    if (k >= 0) return [k, 0];
    const keep = pat.length - 1;
    const avail = b.length - pos;
    this.tail = avail >= keep ? Buffer.from(b.subarray(b.length - keep)) : Buffer.concat([this.tail, b.subarray(pos)]).subarray(-keep);
    return [-1, 0];
  }

  /** Between parts: the next delimiter, anywhere (garbage before it is skipped). */
  private seek(b: Buffer, pos: number): number {
    const delim = this.delim!;
    const [at, inTail] = this.find(delim, b, pos);
    if (at < 0) {
      this.stats.garbageBytes += b.length - pos;
      return b.length;
    }
    this.tail = Buffer.alloc(0);
    const after = at + delim.length - inTail;
    this.stats.garbageBytes += Math.max(0, at - pos);
    this.state = S.AfterDelimiter;
    this.padding = 0;
    this.dashes = 0;
    return after;
  }

  /** After `--token`: `--` closes the body; else padding up to the line end, then a part. */
  private afterDelimiter(b: Buffer, pos: number): number {
    let i = pos;
    while (i < b.length) {
      const c = b[i]!;
      if (this.padding === 0 && c === 0x2d) {
        if (++this.dashes === 2) { this.close(); return i + 1; }
        i++;
        continue;
      }
      // "--token-x" or "--tokenX": the token was only the start of something else
      if (this.dashes > 0 || (c !== 0x20 && c !== 0x09 && c !== CR && c !== LF)) {
        this.state = S.Seek;
        return i;
      }
      if (c === LF) { this.startPart(); return i + 1; }
      if (++this.padding > MAX_DELIMITER_LINE) {
        // a delimiter line that never ends: not a delimiter
        this.stats.garbageBytes += i + 1 - pos;
        this.state = S.Seek;
        return i + 1;
      }
      i++;
    }
    return b.length;
  }

  private close(): void {
    this.stats.closed = true;
    this.state = S.End;
  }

  // ------------------------------------------------------------ part headers

  private startPart(): void {
    this.stats.parts++;
    this.state = S.Headers;
    this.lineLen = 0;
    this.hdrLineStart = 0;
    this.partIsImage = true;
    this.partLength = null;
    this.partTimestamp = null;
    this.body.clear();
    this.tail = Buffer.alloc(0);
  }

  private headers(b: Buffer, pos: number): number {
    // at a line start, 0xFF can only be a picture: a part without headers or without the empty line
    if (this.hdrLineStart === this.lineLen && b[pos] === 0xff) {
      this.parseHeaders(this.lineLen);
      return this.beginBody(pos);
    }
    const lf = b.indexOf(LF, pos);
    const end = lf < 0 ? b.length : lf + 1;
    if (this.lineLen + (end - pos) > this.maxHeader) {
      // a header block this long is not one: drop the part and look for the next delimiter
      // from where the cap was reached (the next part may begin on this very line)
      const fit = Math.max(0, this.maxHeader - this.lineLen);
      this.stats.corrupt++;
      this.stats.droppedBytes += this.lineLen + fit;
      this.lineLen = 0;
      this.state = S.Seek;
      return pos + fit;
    }
    b.copy(this.line, this.lineLen, pos, end);
    this.lineLen += end - pos;
    if (lf < 0) return end;
    const ls = this.hdrLineStart;
    let le = this.lineLen - 1;
    if (le > ls && this.line[le - 1] === CR) le--;
    this.hdrLineStart = this.lineLen;
    if (le === ls) {
      this.parseHeaders(ls);
      return this.beginBody(end);
    }
    const d = this.delim!;
    if (ls === 0 && le >= d.length && this.line.subarray(0, d.length).equals(d)) {
      // the next delimiter where headers were expected: the part was empty
      const rest = this.line.toString('latin1', d.length, le).trim();
      if (rest === '' || rest.startsWith('--')) {
        this.stats.ignored++;
        if (rest === '') this.startPart();
        else this.close();
      }
    }
    return end;
  }

  /** Content-Length, Content-Type and X-Timestamp of the header block in `line[0, upTo)`. */
  private parseHeaders(upTo: number): void {
    // byte by byte, no strings: this runs once per frame
    const l = this.line;
    let i = 0;
    while (i < upTo) {
      let eol = l.indexOf(LF, i);
      if (eol < 0 || eol > upTo) eol = upTo;
      let colon = i;
      while (colon < eol && l[colon] !== 0x3a) colon++;
      if (colon < eol) {
        let ns = i;
        let ne = colon;
        while (ns < ne && isPad(l[ns]!)) ns++;
        while (ne > ns && isPad(l[ne - 1]!)) ne--;
        let vs = colon + 1;
        let ve = eol;
        while (vs < ve && isPad(l[vs]!)) vs++;
        while (ve > vs && isPad(l[ve - 1]!)) ve--;
        if (nameIs(l, ns, ne, CONTENT_LENGTH)) {
          const n = decimal(l, vs, ve, 15);
          if (n !== null) this.partLength = n;
        } else if (nameIs(l, ns, ne, CONTENT_TYPE)) {
          let es = ve;
          for (let k = vs; k < ve; k++) if (l[k] === 0x3b) { es = k; break; }
          while (es > vs && isPad(l[es - 1]!)) es--;
          this.partIsImage = es === vs || startsWithCi(l, vs, es, IMAGE_SLASH) || (es - vs === OCTET_STREAM.length && startsWithCi(l, vs, es, OCTET_STREAM));
        } else if (nameIs(l, ns, ne, X_TIMESTAMP)) {
          // seconds[.fraction] of a capture clock (ESP32, mjpg-streamer: %d.%06d)
          let dot = ve;
          for (let k = vs; k < ve; k++) if (l[k] === 0x2e) { dot = k; break; }
          const sec = decimal(l, vs, dot, 12);
          const frac = dot < ve ? decimal(l, dot + 1, ve, 9) : 0;
          if (sec !== null && frac !== null) this.partTimestamp = sec * 1000 + (dot < ve ? (frac * 1000) / 10 ** (ve - dot - 1) : 0);
        }
      }
      i = eol + 1;
    }
    this.lineLen = 0;
  }

  // ------------------------------------------------------------ part bodies

  private beginBody(pos: number): number {
    this.lineLen = 0;
    this.body.clear();
    this.tail = Buffer.alloc(0);
    const n = this.partLength;
    if (n !== null && n > 0 && n <= this.maxFrame) {
      this.state = S.BodyLength;
      this.need = n;
      // pictures are copied into their frame as they arrive; other parts are only counted
      this.frame = this.partIsImage ? Buffer.allocUnsafeSlow(n) : null;
      this.filled = 0;
    } else if (n === 0) {
      if (this.partIsImage) this.stats.corrupt++;
      else this.stats.ignored++;
      this.state = S.Seek;
    } else {
      // no length, or one past the cap (perhaps a lie): the delimiter ends the part
      this.state = this.partIsImage ? S.BodyScan : S.Skip;
      if (!this.partIsImage) this.stats.ignored++;
    }
    return pos;
  }

  private bodyLength(b: Buffer, pos: number): number {
    const take = Math.min(this.need, b.length - pos);
    if (this.frame) b.copy(this.frame, this.filled, pos, pos + take);
    this.filled += take;
    this.need -= take;
    if (this.need > 0) return b.length;
    const end = pos + take;
    const frame = this.frame;
    this.frame = null;
    if (!frame) {
      this.stats.ignored++;
      this.stats.droppedBytes += this.filled;
      this.state = S.Seek;
      return end;
    }
    this.state = S.Seek;
    const exact = jpegBounds(frame);
    if (exact) {
      // the Content-Length was right: the Buffer the bytes went into is the frame (only padding
      // inside the length costs another, exact-size copy)
      this.stats.frames++;
      this.onFrame(exact.start === 0 && exact.end === frame.length ? frame : ownCopy(frame, exact.start, exact.end), { timestampMs: this.partTimestamp });
      return end;
    }
    this.body.clear();
    this.body.add(frame);
    // The Content-Length was wrong. Too long: the next delimiter is inside what was read;
    // the picture ends before it and the rest goes through the reader again.
    const d = this.body.indexOf(this.delimLf!, 0);
    if (d >= 0) {
      this.stats.lengthMismatches++;
      const rest = this.body.from(d + 1);
      if (!this.emitScanned(d)) this.dropCorrupt(d);
      this.requeue = rest;
      this.body.clear();
      this.state = S.Seek;
      return end;
    }
    // Too short (or a picture with junk after it): read on to the delimiter.
    this.stats.lengthMismatches++;
    this.tail = this.body.tail(this.delimLf!.length - 1);
    this.state = S.BodyScan;
    return end;
  }

  /** A part without a usable Content-Length, or one being skipped: up to LF + delimiter. */
  private scan(b: Buffer, pos: number): number {
    const pat = this.delimLf!;
    const [at, inTail] = this.find(pat, b, pos);
    const skipping = this.state === S.Skip;
    if (at < 0) {
      if (skipping) {
        this.stats.droppedBytes += b.length - pos;
        return b.length;
      }
      this.keep(b.subarray(pos));
      // the last bytes may yet turn out to be the start of the delimiter: drop only when the
      // part is past the cap whatever follows
      if (this.body.length > this.maxFrame + pat.length - 1) {
        // past the cap: drop what is held, skip the rest of the part
        this.stats.oversized++;
        this.stats.droppedBytes += this.body.length;
        this.body.clear();
        this.state = S.Skip;
      }
      return b.length;
    }
    this.tail = Buffer.alloc(0);
    if (skipping) {
      this.stats.droppedBytes += at - pos;
    } else {
      this.keep(b.subarray(pos, at));
      // the LF (and perhaps more) of the delimiter arrived at the end of the previous read
      if (inTail > 0) this.body.truncate(this.body.length - inTail);
      if (this.body.length > this.maxFrame) {
        this.stats.oversized++;
        this.stats.droppedBytes += this.body.length;
      } else if (!this.emitScanned(this.body.length)) {
        this.dropCorrupt(this.body.length);
      }
      this.body.clear();
    }
    // continue at the delimiter itself (after its LF)
    this.state = S.Seek;
    if (inTail > 0) {
      // the LF was in the look-behind: the delimiter starts in this read at `at - ...`
      const dashesInTail = inTail - 1;
      this.tail = dashesInTail > 0 ? this.delim!.subarray(0, dashesInTail) : Buffer.alloc(0);
      return at;
    }
    return at + 1;
  }

  /** Holds part of a read for the part being scanned (a copy when the reads are rewritten). */
  private keep(sub: Buffer): void {
    if (sub.length > 0) this.body.add(this.reused ? Buffer.from(sub) : sub);
  }

  /**
   * SOI … EOI of the body bytes [0, before): SOI near the start, EOI the last one.
   * `trusted`: the bytes are exactly the picture plus padding (the Content-Length was right).
   */
  private boundsOf(from: number, before: number): { start: number; end: number; trusted: boolean } | null {
    const body = this.body;
    // common case: the whole part is the picture
    if (before - from >= 4) {
      let s = from;
      while (s < before && isPad(body.byteAt(s))) s++;
      let e = before;
      while (e > s && isPad(body.byteAt(e - 1))) e--;
      if (e - s >= 4 && body.byteAt(s) === 0xff && body.byteAt(s + 1) === 0xd8 && body.byteAt(s + 2) === 0xff
        && body.byteAt(e - 2) === 0xff && body.byteAt(e - 1) === 0xd9) return { start: s, end: e, trusted: true };
    }
    const s = body.indexOf2(0xff, 0xd8, from, Math.min(before, from + SOI_WINDOW));
    if (s < 0 || body.byteAt(s + 2) !== 0xff) return null;
    const e = body.lastIndexOf2(0xff, 0xd9, s + 2, before);
    if (e < 0) return null;
    return { start: s, end: e + 2, trusted: false };
  }

  /** Emits the picture in body [0, before) if there is one; false when there is none. */
  private emitScanned(before: number): boolean {
    const bounds = this.boundsOf(0, before);
    if (!bounds) return false;
    this.emit(bounds.start, bounds.end);
    return true;
  }

  private dropCorrupt(bytes: number): void {
    this.stats.corrupt++;
    this.stats.droppedBytes += bytes;
  }

  private emit(start: number, end: number): void {
    if (end - start > this.maxFrame) {
      // only a part read to its end by the last read or end() gets here past the cap
      this.stats.oversized++;
      this.stats.droppedBytes += this.body.length;
      this.body.clear();
      return;
    }
    const jpeg = this.body.copy(start, end);
    this.body.clear();
    this.stats.frames++;
    this.onFrame(jpeg, { timestampMs: this.partTimestamp });
  }
}

const CONTENT_LENGTH = Buffer.from('content-length');
const CONTENT_TYPE = Buffer.from('content-type');
const X_TIMESTAMP = Buffer.from('x-timestamp');
const IMAGE_SLASH = Buffer.from('image/');
const OCTET_STREAM = Buffer.from('application/octet-stream');

/** ASCII lower-case of a byte. */
function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** Whether `b[s, e)` starts with `lc` (lower-case ASCII), case-insensitively. */
function startsWithCi(b: Uint8Array, s: number, e: number, lc: Uint8Array): boolean {
  if (e - s < lc.length) return false;
  for (let k = 0; k < lc.length; k++) if (lower(b[s + k]!) !== lc[k]) return false;
  return true;
}

/** Whether `b[s, e)` is the header name `lc`, case-insensitively (RFC 9110 §5.1). */
function nameIs(b: Uint8Array, s: number, e: number, lc: Uint8Array): boolean {
  return e - s === lc.length && startsWithCi(b, s, e, lc);
}

/** `b[s, e)` as a decimal number of 1..maxDigits digits, or null. */
function decimal(b: Uint8Array, s: number, e: number, maxDigits: number): number | null {
  if (e <= s || e - s > maxDigits) return null;
  let n = 0;
  for (let k = s; k < e; k++) {
    const d = b[k]! - 0x30;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return n;
}

/** `b[start, end)` in a Buffer of its own (Buffer.from would slice the shared pool for small sizes). */
function ownCopy(b: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafeSlow(end - start);
  b.copy(out, 0, start, end);
  return out;
}

function isPad(c: number): boolean {
  return c === CR || c === LF || c === 0x20 || c === 0x09;
}
