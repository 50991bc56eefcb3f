/**
 * An HTTP multipart MJPEG stream (`multipart/x-mixed-replace`) read into frames by
 * mjpeg/multipart-reader.ts, and how it ends: the camera closing the body ('end of stream'),
 * the connection lost in the middle of a picture, a stream that carries no JPEG at all
 * ('not a JPEG source'), or parts that grow past the frame cap without a boundary (named
 * when the session's watchdog finds no frame).
 */
import { CameraError } from '../errors';
import { MultipartReader } from '../mjpeg/multipart-reader';
import type { BodyTap } from './http-body';
import type { HttpMedia } from './http-attempt';

/** This many parts without one picture: the stream carries something else */
const NON_JPEG_PARTS = 5;

export class MjpegStreamReceiver {
  private readonly reader: MultipartReader;
  private closed = false;

  constructor(private readonly media: HttpMedia, boundary: string | null) {
    this.reader = new MultipartReader({
      boundary,
      maxFrameBytes: media.opts.maxFrameBytes,
      // the connection reuses one read buffer for a stream (no allocation per read)
      reusedChunks: true,
      onFrame: (jpeg, part) => media.frame(jpeg, part.timestampMs),
    });
  }

  /** Frames dropped so far (over the cap, no complete JPEG, cut short). */
  get dropped(): number {
    const s = this.reader.stats;
    return s.oversized + s.corrupt + s.truncated;
  }

  /** Parts dropped for being larger than the frame cap. */
  get oversized(): number {
    return this.reader.stats.oversized;
  }

  /** What the watchdog should add when no frame came for long. */
  get stallHint(): string | null {
    const s = this.reader.stats;
    const cap = this.media.opts.maxFrameBytes ?? 16 * 1024 * 1024;
    if (this.reader.skipping) return `a part grew past the frame cap (${cap} bytes) without a boundary`;
    if (this.reader.boundary === null) return 'no multipart boundary found in the body';
    if (s.parts === 0) return `no part with boundary "${this.reader.boundary}" (${s.garbageBytes} bytes of other data)`;
    return null;
  }

  start(tap: BodyTap): void {
    const url = this.media.url.clean;
    tap.pipe({
      onData: (d) => {
        if (this.closed) return;
        this.reader.push(d);
        const s = this.reader.stats;
        if (s.frames === 0 && s.ignored + s.corrupt >= NON_JPEG_PARTS) {
          this.media.fail(new CameraError('not a JPEG source', `${url}: ${s.ignored + s.corrupt} parts of the multipart stream and no JPEG picture among them`));
        }
      },
      onEnd: () => {
        if (this.closed) return;
        const mid = this.endReader();
        this.media.fail(mid
          ? new CameraError('connection lost', `${url}: the camera closed the stream in the middle of a picture`)
          : new CameraError('end of stream', `${url}: the camera ended the stream${this.reader.stats.closed ? ' (closing boundary)' : ''}`));
      },
      onError: (err) => {
        if (this.closed) return;
        const mid = this.endReader();
        this.media.fail(mid && err.reason === 'connection lost'
          ? new CameraError('connection lost', `${url}: the connection was lost in the middle of a picture`)
          : err);
      },
    }, true);
  }

  /** Ends the reader; true when a picture was cut short (a last complete one is still handed out). */
  private endReader(): boolean {
    const before = this.reader.stats.truncated;
    this.reader.end();
    return this.reader.stats.truncated > before;
  }

  close(): void {
    this.closed = true;
  }
}
