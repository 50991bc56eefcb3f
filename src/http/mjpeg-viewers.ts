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
 * connection, not only to the response (see ./client-gone).
 *
 * Free of Node-RED: works on any Node http request/response pair.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientGone, watchClient, whenCurrent } from './client-gone';
import { BoundaryFamily, type Boundary } from './multipart';
import { StatusPicture } from './status-picture';

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

export interface ViewerCounters {
  framesSent: number;
  /** frames skipped because the socket had not drained */
  framesSkippedSlow: number;
  /** frames not sent because they held the viewer's multipart boundary */
  framesDroppedBoundary: number;
}

const NO_CACHE = 'no-store, no-cache, must-revalidate, max-age=0';
const CRLF = Buffer.from('\r\n');

/** One picture as viewers get it: a live frame or the status picture. */
interface Picture {
  jpeg: Buffer;
  seq: number;
  /** monotonic ms it arrived here */
  arrivedAt: number;
  /** ms since the epoch it was captured */
  capturedAt: number;
  /** holds this source's boundary prefix: check each viewer's boundary */
  risky: boolean;
}

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

class Viewer implements ViewerCounters {
  framesSent = 0;
  framesSkippedSlow = 0;
  framesDroppedBoundary = 0;
  /** write() returned false: wait for 'drain' */
  blocked = false;
  /** monotonic ms the connection stopped taking data */
  blockedSince = 0;
  /** a picture was skipped while blocked: send the newest one on 'drain' */
  owed = false;
  lastSeq = -1;

  constructor(
    readonly res: ServerResponse,
    readonly gate: RateGate,
    readonly boundary: Boundary,
  ) {}

  write(p: Picture, t: number): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    this.lastSeq = p.seq;
    this.owed = false;
    if (p.risky && this.boundary.collides(p.jpeg)) {
      this.framesDroppedBoundary++;
      return;
    }
    // one writev for the part instead of three small sends
    res.cork();
    res.write(this.boundary.partHead(p.jpeg.length, p.capturedAt));
    res.write(p.jpeg);
    const ok = res.write(CRLF);
    process.nextTick(() => res.uncork());
    this.framesSent++;
    if (!ok) {
      this.blocked = true;
      this.blockedSince = t;
    }
  }
}

interface SnapshotWaiter {
  req: IncomingMessage;
  res: ServerResponse;
  timer: NodeJS.Timeout;
  stop: () => void;
}

interface SnapshotWrite {
  res: ServerResponse;
  jpeg: Buffer;
  startedAt: number;
}

export class MjpegViewers {
  private readonly viewers = new Set<Viewer>();
  private readonly waiters = new Set<SnapshotWaiter>();
  /** snapshot responses handed to their sockets and not yet finished */
  private readonly writes = new Set<SnapshotWrite>();
  /** frames held by `writes`, with how many hold each */
  private readonly pinned = new Map<Buffer, number>();
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
  /** arrival times of the frames of the last second, for the status line */
  private readonly recent: number[] = [];
  /** counters of viewers that have left, so totals survive them */
  private gone: ViewerCounters = { framesSent: 0, framesSkippedSlow: 0, framesDroppedBoundary: 0 };
  /** snapshots refused because too many unfinished ones held frames */
  snapshotsRefused = 0;

  constructor(private readonly opts: MjpegViewersOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.clock = opts.clock ?? Date.now;
    this.maxAge = opts.maxFrameAgeMs ?? 2000;
    this.writeTimeout = opts.writeTimeoutMs ?? 30000;
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** snapshots waiting for a frame or still being written */
  get pendingSnapshots(): number {
    return this.waiters.size + this.writes.size;
  }

  /** distinct frames unfinished snapshot responses hold */
  get pinnedFrames(): number {
    return this.pinned.size;
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
    this.recent.push(t);
    this.trimRecent(t);
    for (const w of [...this.waiters]) {
      this.endWait(w);
      this.sendSnapshot(w.req, w.res, p);
    }
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
    for (const w of [...this.waiters]) {
      this.endWait(w);
      this.unavailable(w.res, `camera: ${text}`);
    }
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
    for (const w of [...this.waiters]) {
      this.endWait(w);
      this.unavailable(w.res, 'stream closed');
    }
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
      this.unavailable(res, this.closed ? 'stream closed' : `at most ${this.opts.maxViewers} viewers`);
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
    const v = new Viewer(res, new RateGate(limits.length ? 1000 / Math.min(...limits) : 0), boundary);
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
      this.unavailable(res, 'stream closed');
      return;
    }
    if (this.down) {
      this.unavailable(res, `camera: ${this.down.text}`);
      return;
    }
    const t = this.now();
    const latest = this.latest;
    if (latest && t - latest.arrivedAt <= this.maxAge) {
      this.sendSnapshot(req, res, latest);
      return;
    }
    const w: SnapshotWaiter = {
      req,
      res,
      stop: () => undefined,
      timer: setTimeout(() => {
        this.endWait(w);
        const secs = (ms: number): string => `${Math.round(ms / 100) / 10} s`;
        const last = this.latest ? ` (the last one is ${secs(this.now() - this.latest.arrivedAt)} old)` : '';
        this.unavailable(res, `no frame within ${secs(this.opts.snapshotTimeoutMs)}${last}`);
        this.updateDemand();
      }, this.opts.snapshotTimeoutMs),
    };
    const stop = watchClient(req, res, () => {
      clearTimeout(w.timer);
      if (this.waiters.delete(w)) this.updateDemand();
    });
    if (!stop) {
      clearTimeout(w.timer);
      return;
    }
    w.stop = stop;
    this.waiters.add(w);
    this.updateDemand();
  }

  private endWait(w: SnapshotWaiter): void {
    clearTimeout(w.timer);
    w.stop();
    this.waiters.delete(w);
  }

  private sendSnapshot(req: IncomingMessage, res: ServerResponse, p: Picture): void {
    if (clientGone(req, res)) return;
    const holders = this.pinned.get(p.jpeg);
    if (holders === undefined && this.pinned.size >= (this.opts.maxSnapshotFrames ?? 4)) {
      this.snapshotsRefused++;
      this.unavailable(res, 'too many snapshots in progress');
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'image/jpeg',
      'Content-Length': String(p.jpeg.length),
      'Cache-Control': NO_CACHE,
      'Last-Modified': new Date(p.capturedAt).toUTCString(),
      'X-Timestamp': (p.capturedAt / 1000).toFixed(3),
      'X-Content-Type-Options': 'nosniff',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const write: SnapshotWrite = { res, jpeg: p.jpeg, startedAt: this.now() };
    this.pinned.set(p.jpeg, (holders ?? 0) + 1);
    this.writes.add(write);
    let stop: (() => void) | null = null;
    const release = (): void => {
      stop?.();
      res.removeListener('finish', release);
      if (!this.writes.delete(write)) return;
      const n = (this.pinned.get(p.jpeg) ?? 1) - 1;
      if (n > 0) this.pinned.set(p.jpeg, n);
      else this.pinned.delete(p.jpeg);
      this.updateSweep();
    };
    stop = watchClient(req, res, release);
    res.once('finish', release);
    res.end(p.jpeg);
    this.updateSweep();
  }

  private unavailable(res: ServerResponse, why: string): void {
    if (res.destroyed || res.writableEnded || res.headersSent) return;
    const body = `${why}\n`;
    res.writeHead(503, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      'Retry-After': String(this.opts.retryAfterS ?? 5),
      'Cache-Control': NO_CACHE,
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(body);
  }

  private picture(jpeg: Buffer, t: number, capturedAt: number): Picture {
    return { jpeg, seq: ++this.seq, arrivedAt: t, capturedAt, risky: this.boundaries.mayCollide(jpeg) };
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
    for (const w of this.writes) if (w.startedAt <= limit) w.res.destroy();
  }

  private updateSweep(): void {
    const needed = this.viewers.size > 0 || this.writes.size > 0;
    if (needed && !this.sweepTimer) {
      this.sweepTimer = setInterval(() => this.sweep(), Math.max(10, Math.min(1000, this.writeTimeout / 2)));
      this.sweepTimer.unref();
    } else if (!needed && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = null;
    }
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
