/**
 * Writes one Motion-JPEG AVI clip (avi.ts) to a file, frame by frame, without blocking the
 * event loop: writes are queued and run one after another (positional writes), each frame's
 * chunk first, then the header block rewritten with the counts that include it. So the file
 * on disk is at every moment a playable AVI of the frames written so far: a process killed
 * mid-clip leaves a clip that ends at its last whole frame. close() appends the index.
 *
 * The queue is bounded in bytes: when the disk cannot keep up, new frames are dropped (and
 * counted), never buffered without end.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { aviHeader, chunkBytes, chunkHeader, HEADER_BYTES, idx1, MAX_AVI_BYTES, MOVI_FOURCC_AT, type IndexEntry } from './avi';
import { Timeline } from './timeline';

export interface ClipWriterOptions {
  width: number;
  height: number;
  /** slot length (ms): the stream's frame interval */
  slotMs: number;
  /** time (ms) of slot 0: the first frame's time */
  t0: number;
  /** most bytes waiting to be written (default 32 MiB) */
  maxQueueBytes?: number;
}

export interface ClipSummary {
  file: string;
  /** ms of the first and last frame written */
  start: number;
  end: number;
  frames: number;
  /** file size */
  bytes: number;
  /** frames dropped because the disk fell behind or the clip reached the AVI size limit */
  dropped: number;
}

const EMPTY = Buffer.alloc(0);
const PAD = Buffer.alloc(1);

export class ClipWriter {
  readonly timeline: Timeline;
  private readonly index: IndexEntry[] = [];
  private readonly maxQueueBytes: number;
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  private moviBytes = 0;
  private maxChunk = 0;
  private failed: Error | null = null;
  private closing: Promise<ClipSummary> | null = null;
  private first = NaN;
  private last = NaN;
  private lastJpeg: Buffer | null = null;
  frames = 0;
  dropped = 0;

  private constructor(readonly file: string, private readonly fh: FileHandle, private readonly o: ClipWriterOptions) {
    this.timeline = new Timeline(o.slotMs, o.t0);
    this.maxQueueBytes = o.maxQueueBytes ?? 32 * 1024 * 1024;
  }

  /** Creates the file (never overwriting one) with an empty clip's header. */
  static async create(file: string, o: ClipWriterOptions): Promise<ClipWriter> {
    const fh = await open(file, 'wx');
    const w = new ClipWriter(file, fh, o);
    try {
      await fh.write(w.header(false), 0, HEADER_BYTES, 0);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
    return w;
  }

  /** the first write error, if any (the clip then takes no more frames) */
  get error(): Error | null {
    return this.failed;
  }

  /** bytes the file will have once the queue is written (without the index) */
  get plannedBytes(): number {
    return HEADER_BYTES + this.moviBytes;
  }

  /** ms of the last frame taken (NaN before the first) */
  get lastTime(): number {
    return this.last;
  }

  /**
   * Queues a frame taken at `tMs`. False when it was not taken: older than the last frame or
   * the same frame again (a clip never holds a frame twice or out of order), the queue is
   * full, the clip failed or is closing, or the clip would pass the AVI size limit
   * (`full` then says so).
   */
  add(jpeg: Buffer, tMs: number): boolean {
    if (this.failed || this.closing) return false;
    if (tMs < this.last || (tMs === this.last && this.lastJpeg !== null && (jpeg === this.lastJpeg || jpeg.equals(this.lastJpeg)))) return false;
    const { empties } = this.timeline.peek(tMs);
    const bytes = empties * 8 + chunkBytes(jpeg.length);
    if (this.queued + bytes > this.maxQueueBytes || this.full(bytes)) {
      this.dropped++;
      return false;
    }
    this.timeline.place(tMs);
    const parts: Buffer[] = [];
    const at = HEADER_BYTES + this.moviBytes;
    for (let i = 0; i < empties; i++) {
      this.index.push({ offset: HEADER_BYTES + this.moviBytes - MOVI_FOURCC_AT, size: 0 });
      parts.push(chunkHeader(0).header);
      this.moviBytes += 8;
    }
    const { header, pad } = chunkHeader(jpeg.length);
    this.index.push({ offset: HEADER_BYTES + this.moviBytes - MOVI_FOURCC_AT, size: jpeg.length });
    parts.push(header, jpeg, pad ? PAD : EMPTY);
    this.moviBytes += chunkBytes(jpeg.length);
    this.maxChunk = Math.max(this.maxChunk, jpeg.length);
    this.frames++;
    if (Number.isNaN(this.first)) this.first = tMs;
    this.last = tMs;
    this.lastJpeg = jpeg;
    this.queued += bytes;
    const headerNow = this.header(false);
    this.enqueue(async () => {
      await this.fh.writev(parts, at);
      await this.fh.write(headerNow, 0, HEADER_BYTES, 0);
      this.queued -= bytes;
    });
    return true;
  }

  /** whether `more` bytes would take the file past the AVI size limit */
  full(more = 0): boolean {
    return HEADER_BYTES + this.moviBytes + more + 8 + 16 * (this.index.length + 64) > MAX_AVI_BYTES;
  }

  /** resolves once everything queued so far is on disk (or failed) */
  async flush(): Promise<void> {
    await this.chain;
  }

  /** Writes the index and the final header, closes the file. */
  close(): Promise<ClipSummary> {
    this.closing ??= (async () => {
      const trailer = idx1(this.index);
      const at = HEADER_BYTES + this.moviBytes;
      this.enqueue(async () => {
        await this.fh.write(trailer, 0, trailer.length, at);
        await this.fh.write(this.header(true, trailer.length), 0, HEADER_BYTES, 0);
        await this.fh.datasync();
      });
      await this.chain;
      await this.fh.close().catch(() => undefined);
      if (this.failed) throw this.failed;
      return {
        file: this.file,
        start: this.first,
        end: this.last,
        frames: this.frames,
        bytes: at + trailer.length,
        dropped: this.dropped,
      };
    })();
    return this.closing;
  }

  private header(indexed: boolean, trailerBytes = 0): Buffer {
    return aviHeader({
      width: this.o.width,
      height: this.o.height,
      usPerFrame: this.o.slotMs * 1000,
      slots: this.timeline.slots,
      moviBytes: this.moviBytes,
      maxChunk: this.maxChunk,
      trailerBytes,
      indexed,
    });
  }

  private enqueue(op: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.failed) return;
      try {
        await op();
      } catch (e) {
        this.failed = e instanceof Error ? e : new Error(String(e));
      }
    });
  }
}
