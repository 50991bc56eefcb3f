/**
 * Fan-out of one JPEG source to HTTP viewers, as `multipart/x-mixed-replace` (RFC 2046
 * §5.1.1 multipart syntax; the "x-mixed-replace" subtype is the one browsers render as a
 * moving picture in a plain <img>), plus single-frame snapshots.
 *
 * Every viewer gets the newest frame, never a queue: a part is written only while the
 * viewer's socket takes data (write() returned true, or 'drain' came since). While it does
 * not, frames are skipped for that viewer; when it drains, it gets the newest frame it missed.
 * So a slow viewer holds at most the one frame already handed to its socket, and never slows
 * the others: frames are shared Buffers, written without copying.
 *
 * Free of Node-RED: works on any Node http request/response pair.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const BOUNDARY = 'mjpegframe';

export interface MjpegViewersOptions {
  /** at most this many streaming viewers; the next gets 503 */
  maxViewers: number;
  /** frames per second each viewer gets at most; 0 = every frame */
  maxFps: number;
  /** how long a snapshot waits for a first frame before 503 */
  snapshotTimeoutMs: number;
  /** the Retry-After (seconds) sent with a 503 */
  retryAfterS?: number;
  /** monotonic milliseconds (injectable for tests) */
  now?: () => number;
  /** called when frames become needed (a viewer or a pending snapshot) or no longer are */
  onDemand?: (wanted: boolean) => void;
  /** called when the number of viewers changes */
  onViewers?: (count: number) => void;
}

const NO_CACHE = 'no-store, no-cache, must-revalidate, max-age=0';
const CRLF = Buffer.from('\r\n');

/** Keeps a viewer's frames on an even grid of 1/fps seconds, skipping the rest. */
class RateGate {
  private nextDue = -Infinity;
  constructor(private readonly intervalMs: number) {}

  admit(t: number): boolean {
    if (this.intervalMs <= 0) return true;
    // some slack, below any source's frame spacing: arrival jitter must not turn 25 → 5 fps
    // into 4, and the grid (nextDue advances by whole intervals) keeps the average exact
    if (t + Math.min(this.intervalMs / 4, 10) < this.nextDue) return false;
    this.nextDue += this.intervalMs;
    // the first frame, or more than an interval behind (a gap in the source): realign here
    if (this.nextDue <= t) this.nextDue = t + this.intervalMs;
    return true;
  }
}

export interface ViewerCounters {
  framesSent: number;
  /** frames skipped because the socket had not drained */
  framesSkippedSlow: number;
}

class Viewer implements ViewerCounters {
  framesSent = 0;
  framesSkippedSlow = 0;
  /** write() returned false: wait for 'drain' */
  blocked = false;
  /** an admitted frame was skipped while blocked: send the newest one on 'drain' */
  owed = false;
  lastSeq = -1;

  constructor(
    readonly res: ServerResponse,
    readonly gate: RateGate,
  ) {}

  write(jpeg: Buffer, seq: number): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    this.lastSeq = seq;
    this.owed = false;
    const head = `--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`;
    // one writev for the part instead of three small sends
    res.cork();
    res.write(head);
    res.write(jpeg);
    const ok = res.write(CRLF);
    process.nextTick(() => res.uncork());
    this.framesSent++;
    if (!ok) this.blocked = true;
  }
}

interface SnapshotWaiter {
  res: ServerResponse;
  head: boolean;
  timer: NodeJS.Timeout;
}

export class MjpegViewers {
  private readonly viewers = new Set<Viewer>();
  private readonly waiters = new Set<SnapshotWaiter>();
  private latest: Buffer | null = null;
  private seq = 0;
  private wanted = false;
  private closed = false;
  private readonly now: () => number;
  /** arrival times of the frames of the last second, for the status line */
  private readonly recent: number[] = [];
  /** counters of viewers that have left, so totals survive them */
  private gone: ViewerCounters = { framesSent: 0, framesSkippedSlow: 0 };

  constructor(private readonly opts: MjpegViewersOptions) {
    this.now = opts.now ?? (() => performance.now());
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  get hasFrame(): boolean {
    return this.latest !== null;
  }

  /** frames that arrived during the last second */
  fps(): number {
    this.trimRecent(this.now());
    return this.recent.length;
  }

  /** sums over present and past viewers */
  counters(): ViewerCounters {
    const c = { ...this.gone };
    for (const v of this.viewers) {
      c.framesSent += v.framesSent;
      c.framesSkippedSlow += v.framesSkippedSlow;
    }
    return c;
  }

  /** A new frame: becomes the latest, answers waiting snapshots, goes to every viewer that
   * can take it. The Buffer is shared, so the caller must not change it afterwards. */
  push(jpeg: Buffer): void {
    if (this.closed) return;
    const t = this.now();
    this.latest = jpeg;
    const seq = ++this.seq;
    this.recent.push(t);
    this.trimRecent(t);
    for (const w of this.waiters) this.answerSnapshot(w, jpeg);
    this.waiters.clear();
    for (const v of this.viewers) {
      if (!v.gate.admit(t)) continue;
      if (v.blocked) {
        v.framesSkippedSlow++;
        v.owed = true;
        continue;
      }
      v.write(jpeg, seq);
    }
    this.updateDemand();
  }

  /** Forgets the latest frame (the source went idle: it would be stale). */
  clearLatest(): void {
    this.latest = null;
  }

  /** GET of the stream. `fps` is the viewer's own limit (0 or NaN = none). */
  stream(req: IncomingMessage, res: ServerResponse, fps = 0): void {
    if (this.closed || this.viewers.size >= this.opts.maxViewers) {
      this.unavailable(res, this.closed ? 'stream closed' : `at most ${this.opts.maxViewers} viewers`);
      return;
    }
    res.writeHead(200, {
      'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
      'Cache-Control': NO_CACHE,
      Pragma: 'no-cache',
      Expires: '0',
      Connection: 'close',
      'X-Content-Type-Options': 'nosniff',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // the browser (and any client) learns at once that the stream is open, before a frame
    res.flushHeaders();
    const limits = [this.opts.maxFps, fps].filter((f) => Number.isFinite(f) && f > 0);
    const interval = limits.length ? 1000 / Math.min(...limits) : 0;
    const v = new Viewer(res, new RateGate(interval));
    this.viewers.add(v);
    const onDrain = (): void => {
      v.blocked = false;
      if (v.owed && this.latest && this.seq !== v.lastSeq) v.write(this.latest, this.seq);
    };
    const onGone = (): void => {
      res.removeListener('drain', onDrain);
      if (!this.viewers.delete(v)) return;
      this.gone.framesSent += v.framesSent;
      this.gone.framesSkippedSlow += v.framesSkippedSlow;
      this.opts.onViewers?.(this.viewers.size);
      this.updateDemand();
    };
    res.on('drain', onDrain);
    res.once('close', onGone);
    res.once('error', onGone);
    this.opts.onViewers?.(this.viewers.size);
    // a browser shows a picture at once instead of after the next frame
    if (this.latest && v.gate.admit(this.now())) v.write(this.latest, this.seq);
    this.updateDemand();
  }

  /** GET of a snapshot: the latest frame, or the next one within the timeout, else 503. */
  snapshot(req: IncomingMessage, res: ServerResponse): void {
    if (this.closed) {
      this.unavailable(res, 'stream closed');
      return;
    }
    const head = req.method === 'HEAD';
    if (this.latest) {
      this.sendJpeg(res, this.latest, head);
      return;
    }
    const w: SnapshotWaiter = {
      res,
      head,
      timer: setTimeout(() => {
        this.waiters.delete(w);
        this.unavailable(res, `no frame within ${Math.round(this.opts.snapshotTimeoutMs / 100) / 10} s`);
        this.updateDemand();
      }, this.opts.snapshotTimeoutMs),
    };
    this.waiters.add(w);
    res.once('close', () => {
      clearTimeout(w.timer);
      if (this.waiters.delete(w)) this.updateDemand();
    });
    this.updateDemand();
  }

  /** Ends every viewer and pending snapshot; later requests get 503. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      this.unavailable(w.res, 'stream closed');
    }
    this.waiters.clear();
    const vs = [...this.viewers];
    this.viewers.clear();
    for (const v of vs) {
      // a multipart stream has no natural end: close the connection
      v.res.end();
      v.res.destroy();
    }
    this.latest = null;
    if (vs.length) this.opts.onViewers?.(0);
    this.updateDemand();
  }

  private answerSnapshot(w: SnapshotWaiter, jpeg: Buffer): void {
    clearTimeout(w.timer);
    this.sendJpeg(w.res, jpeg, w.head);
  }

  private sendJpeg(res: ServerResponse, jpeg: Buffer, head: boolean): void {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(200, {
      'Content-Type': 'image/jpeg',
      'Content-Length': String(jpeg.length),
      'Cache-Control': NO_CACHE,
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(head ? undefined : jpeg);
  }

  private unavailable(res: ServerResponse, why: string): void {
    if (res.destroyed || res.writableEnded || res.headersSent) return;
    const body = `${why}\n`;
    res.writeHead(503, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      'Retry-After': String(this.opts.retryAfterS ?? 5),
      'Cache-Control': NO_CACHE,
    });
    res.end(body);
  }

  private trimRecent(t: number): void {
    while (this.recent.length > 0 && (this.recent[0] as number) <= t - 1000) this.recent.shift();
  }

  private updateDemand(): void {
    const wanted = !this.closed && (this.viewers.size > 0 || this.waiters.size > 0);
    if (wanted === this.wanted) return;
    this.wanted = wanted;
    this.opts.onDemand?.(wanted);
  }
}
