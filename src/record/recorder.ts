/**
 * Event clips with pre-roll, usable without Node-RED: frames go in (with their times), a
 * trigger starts a clip, and the clip holds the last `preRoll` seconds before the trigger and
 * everything after it until `postRoll` seconds after the trigger ended, at most `maxLength`
 * seconds in all. A trigger that comes while the clip is still open (also during post-roll)
 * extends it. A clip that reaches maxLength (or the AVI size limit) closes and its trigger is
 * spent: the next trigger starts a new clip. Every closed clip is reported, then the folder's retention runs.
 *
 * A frame goes into at most one clip, in time order: pre-roll never reaches back past the
 * last frame the previous clip took.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { jpegSize } from '../jpeg/dc-reader';
import { ClipWriter, type ClipSummary } from './clip-writer';
import { FrameRing } from './frame-ring';
import { applyRetention } from './retention';
import { slotMs } from './timeline';

export interface RecorderOptions {
  folder: string;
  /** seconds kept before a trigger */
  preRoll: number;
  /** seconds recorded after the trigger ended */
  postRoll: number;
  /** longest clip, seconds */
  maxLength: number;
  /** retention: clips older than this many days are deleted (0 = keep) */
  maxAgeDays: number;
  /** retention: the folder's clips are kept under this many MB, oldest deleted first (0 = no limit) */
  maxSizeMB: number;
  /** most bytes the pre-roll holds (default 64 MiB) */
  preRollMaxBytes?: number;
  /** the clock for triggers (ms); frames bring their own times. Default Date.now */
  now?: () => number;
}

export interface ClipInfo {
  file: string;
  /** ms of the first and last frame */
  start: number;
  end: number;
  frames: number;
  /** the file's size */
  bytes: number;
  /** frames from before the trigger */
  preRollFrames: number;
}

export type RecorderState = 'idle' | 'recording' | 'post-roll';

export interface RecorderEvents {
  clip?(info: ClipInfo): void;
  error?(err: Error): void;
  state?(state: RecorderState): void;
}

const p2 = (n: number): string => String(n).padStart(2, '0');
/** clip-YYYYMMDD-HHMMSS, local time of the first frame */
export function clipBaseName(t: number): string {
  const d = new Date(t);
  return `clip-${d.getFullYear()}${p2(d.getMonth() + 1)}${p2(d.getDate())}-${p2(d.getHours())}${p2(d.getMinutes())}${p2(d.getSeconds())}`;
}

export class Recorder {
  private readonly ring: FrameRing;
  private o: RecorderOptions;
  private writer: ClipWriter | null = null;
  /** a clip is wanted and waits for a frame, or its file is being created */
  private pending: 'frame' | 'opening' | null = null;
  private triggered = false;
  private triggerAt = 0;
  private postDeadline = Infinity;
  private lastWritten = -Infinity;
  private preRollFrames = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly finishing = new Set<Promise<void>>();
  private stopped = false;
  private stateNow: RecorderState = 'idle';

  constructor(opts: RecorderOptions, private readonly on: RecorderEvents = {}) {
    this.o = { ...opts };
    this.ring = new FrameRing(this.o.preRoll * 1000, opts.preRollMaxBytes ?? 64 * 1024 * 1024);
  }

  get state(): RecorderState {
    return this.stateNow;
  }

  /** seconds of frames the pre-roll holds now */
  get bufferedFrames(): number {
    return this.ring.length;
  }

  /** the clip being written (its file), or null */
  get currentFile(): string | null {
    return this.writer?.file ?? null;
  }

  /** ms the current clip covers so far */
  get currentDuration(): number {
    const w = this.writer;
    return w && w.frames > 0 ? w.lastTime - w.timeline.t0 : 0;
  }

  /** Retention once at start (clips may have aged while Node-RED was down). */
  async start(): Promise<void> {
    await this.retention();
  }

  /** A frame taken at `t` (ms). */
  push(jpeg: Buffer, t: number): void {
    if (this.stopped) return;
    this.ring.push(jpeg, t);
    if (this.writer) this.feed(jpeg, t);
    else if (this.pending === 'frame') void this.open();
  }

  /** A trigger started (true) or ended (false), at the recorder's clock. */
  trigger(on: boolean): void {
    if (this.stopped) return;
    const now = (this.o.now ?? Date.now)();
    if (on) {
      this.triggered = true;
      this.postDeadline = Infinity;
      if (!this.writer && !this.pending) {
        this.triggerAt = now;
        this.pending = 'frame';
        if (this.ring.since(this.lastWritten, now - this.o.preRoll * 1000).length > 0) void this.open();
      }
      this.setState('recording');
      this.schedule();
      return;
    }
    if (!this.triggered) return;
    this.triggered = false;
    if (this.writer || this.pending) {
      this.postDeadline = now + this.o.postRoll * 1000;
      this.setState('post-roll');
      this.schedule();
    }
  }

  /** Closes the clip being written (its index written, reported) and stops taking frames. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    this.triggered = false;
    if (this.writer) this.finish();
    while (this.pending === 'opening' || this.finishing.size > 0) {
      await Promise.all([...this.finishing]);
      if (this.pending === 'opening') await new Promise((r) => setTimeout(r, 10));
      if (this.writer) this.finish();
    }
    this.pending = null;
    this.ring.clear();
  }

  private async open(): Promise<void> {
    if (this.pending !== 'frame') return;
    const from = this.triggerAt - this.o.preRoll * 1000;
    const first = this.ring.since(this.lastWritten, from)[0];
    if (!first) return;
    this.pending = 'opening';
    this.ring.hold(from);
    const size = jpegSize(first.jpeg) ?? { width: 0, height: 0 };
    let writer: ClipWriter | null = null;
    try {
      await mkdir(this.o.folder, { recursive: true });
      const base = clipBaseName(first.t);
      for (let n = 0; !writer; n++) {
        try {
          writer = await ClipWriter.create(join(this.o.folder, `${n === 0 ? base : `${base}-${n}`}.avi`), {
            width: size.width,
            height: size.height,
            slotMs: slotMs(this.ring.recentTimes()),
            t0: first.t,
          });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 100) throw e;
        }
      }
    } catch (e) {
      this.ring.release();
      this.pending = null;
      this.triggered = false;
      this.setState('idle');
      this.on.error?.(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    this.pending = null;
    this.writer = writer;
    this.preRollFrames = 0;
    // the pre-roll, and whatever arrived while the file was being created
    for (const f of this.ring.since(this.lastWritten, from)) {
      if (!this.writer) break;
      if (f.t < this.triggerAt) this.preRollFrames++;
      this.feed(f.jpeg, f.t);
    }
    this.ring.release();
    if (this.stopped) this.finish();
    else this.schedule();
  }

  private feed(jpeg: Buffer, t: number): void {
    const w = this.writer!;
    const maxEnd = (w.frames > 0 ? w.timeline.t0 : t) + this.o.maxLength * 1000;
    if (t > this.postDeadline || t > maxEnd || w.full(jpeg.length + 64)) {
      // past the post-roll, or the clip is as long (or as large) as a clip may be
      this.finish();
      return;
    }
    if (w.add(jpeg, t)) this.lastWritten = t;
  }

  /** the timer that closes the clip when frames stop coming: post-roll end or maxLength */
  private schedule(): void {
    this.clearTimer();
    if (this.stopped) return;
    const w = this.writer;
    const now = (this.o.now ?? Date.now)();
    let at = this.postDeadline;
    // the clip's frames may run on another clock than ours: what is left of maxLength, from now
    if (w && w.frames > 0) at = Math.min(at, now + (w.timeline.t0 + this.o.maxLength * 1000 - w.lastTime));
    if (!Number.isFinite(at)) return;
    // frames bring their own times; the timer is only the fallback when they stop
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.writer) this.finish();
      else if (this.pending === 'frame') {
        this.pending = null;
        this.setState('idle');
      }
    }, Math.min(0x7fffffff, Math.max(0, at - now) + 250));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private finish(): void {
    const w = this.writer;
    if (!w) return;
    this.writer = null;
    this.clearTimer();
    const preRollFrames = this.preRollFrames;
    // whatever closed the clip (post-roll over, maxLength, the size limit) spends the trigger
    this.triggered = false;
    this.postDeadline = Infinity;
    this.setState('idle');
    const done = (async () => {
      let summary: ClipSummary;
      try {
        summary = await w.close();
      } catch (e) {
        this.on.error?.(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      try {
        await this.retention();
      } catch (e) {
        this.on.error?.(e instanceof Error ? e : new Error(String(e)));
      }
      this.on.clip?.({ file: summary.file, start: summary.start, end: summary.end, frames: summary.frames, bytes: summary.bytes, preRollFrames });
    })();
    this.finishing.add(done);
    void done.finally(() => this.finishing.delete(done));
  }

  private async retention(): Promise<void> {
    if (this.o.maxAgeDays <= 0 && this.o.maxSizeMB <= 0) return;
    const keep = new Set<string>();
    if (this.writer) keep.add(this.writer.file);
    await applyRetention(this.o.folder, { maxAgeDays: this.o.maxAgeDays, maxSizeMB: this.o.maxSizeMB, keep });
  }

  private setState(s: RecorderState): void {
    if (s === this.stateNow) return;
    this.stateNow = s;
    this.on.state?.(s);
  }
}
