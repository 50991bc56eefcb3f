/**
 * Fan-out of one JPEG source to HTTP viewers, as `multipart/x-mixed-replace` (RFC 2046
 * §5.1.1 multipart syntax; the "x-mixed-replace" subtype is the one browsers render as a
 * moving picture in a plain <img>), plus single-frame snapshots.
 *
 * Every viewer gets the newest frame, never a queue: a part is written only while the
 * viewer's socket takes data (write() returned true, or 'drain' came since). While it does
 * not, frames are skipped for that viewer; when it drains, it gets the newest frame it missed.
 * So a slow viewer holds at most the one frame already handed to its socket, and never slows
 * the others: frames are shared Buffers, written without copying. A viewer whose connection
 * takes nothing for `writeTimeoutMs` is closed.
 *
 * What a client gets is never older than it looks: a snapshot is a frame at most
 * `maxFrameAgeMs` old (else the next one, else 503 with the reason), and it carries
 * Last-Modified and X-Timestamp (capture time); every stream part carries X-Timestamp. While
 * the source is down (setDown), viewers see a generated picture saying why, sent again every
 * `statusRefreshMs`, and snapshots answer 503 naming the reason.
 *
 * Memory stays bounded whatever the clients do: viewers are capped (`maxViewers`), unfinished
 * snapshot responses may hold at most `maxSnapshotFrames` distinct frames (503 beyond), and a
 * snapshot not delivered within `writeTimeoutMs` is cut. Slots are tied to the client's
 * connection, not only to the response (see ./client-gone). One viewer's rules are in
 * ./viewer, the snapshots' in ./snapshots, the framing in ./multipart.
 *
 * Free of Node-RED: works on any Node http request/response pair.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientGone, watchClient, whenCurrent } from './client-gone';
import { BoundaryFamily } from './multipart';
import { NO_CACHE, unavailable, type Picture } from './responses';
import { Snapshots } from './snapshots';
import { StatusPicture } from './status-picture';
import { Viewer, type ViewerCounters } from './viewer';
import { RateGate } from '../camera/rate-gate';
import { RateWindow } from '../camera/rate-window';

export type { ViewerCounters } from './viewer';

export interface MjpegViewersOptions {
  /** at most this many streaming viewers; the next gets 503 */
  maxViewers: number;
  /** frames per second each viewer gets at most; 0 = every frame */
  maxFps: number;
  /** how long a snapshot waits for a (fresh) frame before 503 */
  snapshotTimeoutMs: number;
  /** a snapshot never carries a frame that arrived longer ago than this (default 2000 ms) */
  maxFrameAgeMs?: number;
  /** distinct frames that unfinished snapshot responses may hold at once (default 4) */
  maxSnapshotFrames?: number;
  /** a snapshot not delivered, or a viewer's connection that took nothing, for this long is
   * closed (default 30000 ms) */
  writeTimeoutMs?: number;
  /** how often the status picture is sent again while the source is down (default 2000 ms) */
  statusRefreshMs?: number;
  /** the Retry-After (seconds) sent with a 503 */
  retryAfterS?: number;
  /** monotonic milliseconds (injectable for tests) */
  now?: () => number;
  /** wall-clock milliseconds since the epoch (injectable for tests) */
  clock?: () => number;
  /** called when frames become needed (a viewer or a pending snapshot) or no longer are */
  onDemand?: (wanted: boolean) => void;
  /** called when the number of viewers changes */
  onViewers?: (count: number) => void;
}

/** What the source knows about a frame. */
export interface FrameMeta {
  /** capture time, ms since the epoch (default: now) */
  capturedAt?: number | null | undefined;
  width?: number | undefined;
  height?: number | undefined;
}

export class MjpegViewers {
  private readonly viewers = new Set<Viewer>();
  private readonly snapshots: Snapshots;
  private readonly boundaries = new BoundaryFamily();
  private latest: Picture | null = null;
  private down: { text: string; picture: Picture | null } | null = null;
  private painter: StatusPicture | null = null;
  private size = { width: 0, height: 0 };
  private seq = 0;
  private wanted = false;
  private closed = false;
  private refreshTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly clock: () => number;
  private readonly maxAge: number;
  private readonly writeTimeout: number;
  /** frames and bytes in, sampled per frame over the last second, for the status line */
  private readonly rate = new RateWindow(1000);
  private framesIn = 0;
  private bytesIn = 0;
  /** counters of viewers that have left, so totals survive them */
  private gone: ViewerCounters = { framesSent: 0, framesSkippedSlow: 0, framesDroppedBoundary: 0 };

  constructor(private readonly opts: MjpegViewersOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.clock = opts.clock ?? Date.now;
    this.maxAge = opts.maxFrameAgeMs ?? 2000;
    this.writeTimeout = opts.writeTimeoutMs ?? 30000;
    this.snapshots = new Snapshots({
      timeoutMs: opts.snapshotTimeoutMs,
      maxFrames: opts.maxSnapshotFrames ?? 4,
      retryAfterS: opts.retryAfterS ?? 5,
      now: this.now,
      onWaiting: () => this.updateDemand(),
      onWrites: () => this.updateSweep(),
    });
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** snapshots waiting for a frame or still being written */
  get pendingSnapshots(): number {
    return this.snapshots.waiting + this.snapshots.writing;
  }

  /** distinct frames unfinished snapshot responses hold */
  get pinnedFrames(): number {
    return this.snapshots.pinnedFrames;
  }

  /** snapshots refused because unfinished ones held too many frames */
  get snapshotsRefused(): number {
    return this.snapshots.refused;
  }

  get hasFrame(): boolean {
    return this.latest !== null;
  }

  /** frames a second arriving, rounded; 0 when none came during the last second */
  fps(): number {
    const last = this.rate.latest;
    if (!last || this.now() - last.t >= 1000) return 0;
    return Math.round(this.rate.rates(last).fps);
  }

  /** sums over present and past viewers */
  counters(): ViewerCounters {
    const c = { ...this.gone };
    for (const v of this.viewers) {
      c.framesSent += v.framesSent;
      c.framesSkippedSlow += v.framesSkippedSlow;
      c.framesDroppedBoundary += v.framesDroppedBoundary;
    }
    return c;
  }

  /** A new frame: becomes the latest, answers waiting snapshots, goes to every viewer that
   * can take it. The Buffer is shared, so the caller must not change it afterwards. */
  push(jpeg: Buffer, meta: FrameMeta = {}): void {
    if (this.closed) return;
    const t = this.now();
    this.setDown(null);
    if (meta.width && meta.height) this.size = { width: meta.width, height: meta.height };
    const p = this.picture(jpeg, t, meta.capturedAt ?? this.clock());
    this.latest = p;
    this.rate.add({ t, frames: ++this.framesIn, bytes: (this.bytesIn += jpeg.length) });
    this.snapshots.answerAll(p);
    for (const v of this.viewers) {
      if (!v.gate.admit(t)) continue;
      if (v.blocked) {
        v.framesSkippedSlow++;
        v.owed = true;
        continue;
      }
      v.write(p, t);
    }
    this.updateDemand();
  }

  /** Forgets the latest frame (the source went idle or is reconnecting: it would be stale). */
  clearLatest(): void {
    this.latest = null;
  }

  /**
   * The source is down (`text` says why, e.g. "connection refused, retry in 30 s"), or back
   * (null). While down, viewers get a picture of the text, snapshots 503 with it. `title`
   * names the source in the picture.
   */
  setDown(text: string | null, title?: string): void {
    if (text === null) {
      if (!this.down) return;
      this.down = null;
      if (this.refreshTimer) clearInterval(this.refreshTimer);
      this.refreshTimer = null;
      return;
    }
    if (this.closed || this.down?.text === text) return;
    this.latest = null;
    this.down = { text, picture: this.paint(text, title) };
    this.snapshots.failAll(`camera: ${text}`);
    this.updateDemand();
    this.showStatus();
    if (!this.refreshTimer) {
      this.refreshTimer = setInterval(() => this.showStatus(), this.opts.statusRefreshMs ?? 2000);
      this.refreshTimer.unref();
    }
  }

  /** GET of the stream. `fps` is the viewer's own limit (0 or NaN = none). */
  stream(req: IncomingMessage, res: ServerResponse, fps = 0): void {
    // a request pipelined behind another response on its connection takes no place until
    // its turn comes (which, behind a stream, is never)
    whenCurrent(req, res, () => this.startViewer(req, res, fps), () => undefined);
  }

  /** GET of a snapshot: a fresh frame at once, else the next one within the timeout, else 503. */
  snapshot(req: IncomingMessage, res: ServerResponse): void {
    whenCurrent(req, res, () => this.startSnapshot(req, res), () => undefined);
  }

  /** Ends every viewer and pending snapshot; later requests get 503. */
  close(): void {
    this.setDown(null);
    this.closed = true;
    this.snapshots.failAll('stream closed');
    const vs = [...this.viewers];
    for (const v of vs) {
      // a multipart stream has no natural end: close the connection
      v.res.end();
      v.res.destroy();
    }
    this.viewers.clear();
    this.latest = null;
    if (vs.length) this.opts.onViewers?.(0);
    this.updateDemand();
    this.updateSweep();
  }

  private startViewer(req: IncomingMessage, res: ServerResponse, fps: number): void {
    if (clientGone(req, res)) return;
    if (this.closed || this.viewers.size >= this.opts.maxViewers) {
      unavailable(res, this.closed ? 'stream closed' : `at most ${this.opts.maxViewers} viewers`, this.opts.retryAfterS ?? 5);
      return;
    }
    const boundary = this.boundaries.next();
    res.writeHead(200, {
      'Content-Type': boundary.contentType,
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
    const v = new Viewer(res, new RateGate(limits.length ? Math.min(...limits) : 0), boundary);
    const onDrain = (): void => {
      v.blocked = false;
      const p = this.down?.picture ?? this.latest;
      if (v.owed && p && p.seq !== v.lastSeq) v.write(p, this.now());
    };
    const stop = watchClient(req, res, () => {
      res.removeListener('drain', onDrain);
      if (!this.viewers.delete(v)) return;
      this.gone.framesSent += v.framesSent;
      this.gone.framesSkippedSlow += v.framesSkippedSlow;
      this.gone.framesDroppedBoundary += v.framesDroppedBoundary;
      this.opts.onViewers?.(this.viewers.size);
      this.updateDemand();
      this.updateSweep();
    });
    if (!stop) return;
    this.viewers.add(v);
    res.on('drain', onDrain);
    this.opts.onViewers?.(this.viewers.size);
    // a browser shows a picture at once instead of after the next frame
    const t = this.now();
    if (this.down?.picture) v.write(this.down.picture, t);
    else if (this.latest && v.gate.admit(t)) v.write(this.latest, t);
    this.updateDemand();
    this.updateSweep();
  }

  private startSnapshot(req: IncomingMessage, res: ServerResponse): void {
    if (clientGone(req, res)) return;
    if (this.closed) {
      unavailable(res, 'stream closed', this.opts.retryAfterS ?? 5);
      return;
    }
    if (this.down) {
      unavailable(res, `camera: ${this.down.text}`, this.opts.retryAfterS ?? 5);
      return;
    }
    const t = this.now();
    const latest = this.latest;
    if (latest && t - latest.arrivedAt <= this.maxAge) {
      this.snapshots.send(req, res, latest);
      return;
    }
    this.snapshots.wait(req, res, () => {
      const secs = (ms: number): string => `${Math.round(ms / 100) / 10} s`;
      const last = this.latest ? ` (the last one is ${secs(this.now() - this.latest.arrivedAt)} old)` : '';
      return `no frame within ${secs(this.opts.snapshotTimeoutMs)}${last}`;
    });
  }

  private picture(jpeg: Buffer, t: number, capturedAt: number): Picture {
    // the one search per frame (some µs per 64 KiB, bench/boundary-scan.ts) only while someone watches;
    // a viewer who comes later checks that frame against its own boundary instead
    const risky = this.viewers.size > 0 ? this.boundaries.mayCollide(jpeg) : true;
    return { jpeg, seq: ++this.seq, arrivedAt: t, capturedAt, risky };
  }

  /** the status picture for `text`, at the source's frame size; null if it cannot be made */
  private paint(text: string, title: string | undefined): Picture | null {
    try {
      const { width, height } = this.size;
      if (!this.painter || (width && height && (this.painter.width !== width || this.painter.height !== height))) {
        this.painter = new StatusPicture(width || undefined, height || undefined);
      }
      const at = this.clock();
      const d = new Date(at);
      const hms = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
      return this.picture(this.painter.render({ title, message: text, footer: `since ${hms}` }), this.now(), at);
    } catch {
      return null;
    }
  }

  /** sends the status picture to every viewer that can take it now */
  private showStatus(): void {
    const p = this.down?.picture;
    if (!p || this.closed) return;
    const t = this.now();
    for (const v of this.viewers) {
      if (v.blocked) v.owed = true;
      else v.write(p, t);
    }
  }

  /** Closes viewers whose connection took nothing, and snapshots not delivered, for
   * `writeTimeoutMs`: each holds a frame that a client that does not read would pin forever. */
  private sweep(): void {
    const limit = this.now() - this.writeTimeout;
    for (const v of this.viewers) if (v.blocked && v.blockedSince <= limit) v.res.destroy();
    this.snapshots.expire(limit);
  }

  private updateSweep(): void {
    const needed = this.viewers.size > 0 || this.snapshots.writing > 0;
    if (needed && !this.sweepTimer) {
      this.sweepTimer = setInterval(() => this.sweep(), Math.max(10, Math.min(1000, this.writeTimeout / 2)));
      this.sweepTimer.unref();
    } else if (!needed && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = null;
    }
  }

  private updateDemand(): void {
    const wanted = !this.closed && (this.viewers.size > 0 || this.snapshots.waiting > 0);
    if (wanted === this.wanted) return;
    this.wanted = wanted;
    this.opts.onDemand?.(wanted);
  }
}
