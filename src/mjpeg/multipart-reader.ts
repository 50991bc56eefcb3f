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
import { jpegBounds, ownCopy } from './jpeg-frame';
import { boundaryToken } from './media-type';
import { Pieces } from './pieces';
import { DelimiterLearner, SplitSearch } from './delimiter';
import { parsePartHeaders } from './part-headers';
import type { MultipartReaderOptions, MultipartStats, PartInfo } from './multipart-types';

export type { MultipartReaderOptions, MultipartStats, PartInfo } from './multipart-types';

const enum S { Learn, Seek, AfterDelimiter, Headers, BodyLength, BodyScan, Skip, End }

const LF = 0x0a;
const CR = 0x0d;
/** a delimiter line (dashes, boundary, padding) is never longer */
const MAX_DELIMITER_LINE = 1024;
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
  /** the delimiter search across reads (its look-behind is copied, shorter than the delimiter) */
  private readonly search = new SplitSearch();
  private readonly learner: DelimiterLearner;
  /** the header block of the part being read */
  private readonly line: Buffer;
  private lineLen = 0;
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
    this.learner = new DelimiterLearner(this.expected);
    this.line = Buffer.alloc(this.maxHeader);
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
    const { next, found } = this.learner.push(b, pos);
    if (!found) {
      this.stats.garbageBytes += next - pos;
      return next;
    }
    this.expected = null;
    this.delim = Buffer.from(found.delimiter, 'latin1');
    this.delimLf = Buffer.concat([Buffer.from([LF]), this.delim]);
    if (found.close) this.close();
    else this.startPart();
    return next;
  }

  /** Between parts: the next delimiter, anywhere (garbage before it is skipped). */
  private seek(b: Buffer, pos: number): number {
    const delim = this.delim!;
    const [at, inTail] = this.search.find(delim, b, pos);
    if (at < 0) {
      this.stats.garbageBytes += b.length - pos;
      return b.length;
    }
    this.search.reset();
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
    this.search.reset();
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
    const h = parsePartHeaders(this.line, upTo);
    this.partLength = h.length;
    this.partIsImage = h.isImage;
    this.partTimestamp = h.timestampMs;
    this.lineLen = 0;
  }

  // ------------------------------------------------------------ part bodies

  private beginBody(pos: number): number {
    this.lineLen = 0;
    this.body.clear();
    this.search.reset();
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
    this.search.reset(this.body.tail(this.delimLf!.length - 1));
    this.state = S.BodyScan;
    return end;
  }

  /** A part without a usable Content-Length, or one being skipped: up to LF + delimiter. */
  private scan(b: Buffer, pos: number): number {
    const pat = this.delimLf!;
    const [at, inTail] = this.search.find(pat, b, pos);
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
    this.search.reset();
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
      this.search.reset(dashesInTail > 0 ? this.delim!.subarray(0, dashesInTail) : undefined);
      return at;
    }
    return at + 1;
  }

  /** Holds part of a read for the part being scanned (a copy when the reads are rewritten). */
  private keep(sub: Buffer): void {
    if (sub.length > 0) this.body.add(this.reused ? Buffer.from(sub) : sub);
  }

  /** Emits the picture in body [0, before) if there is one; false when there is none. */
  private emitScanned(before: number): boolean {
    const bounds = this.body.jpegSpan(before, SOI_WINDOW);
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
