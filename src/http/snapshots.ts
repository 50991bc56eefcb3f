/**
 * Single-frame snapshots of the live view: requests waiting for a fresh frame, and answers on
 * their way to clients. An answer holds its frame until the client has taken it all, so a
 * client that never reads pins that frame: unfinished answers may hold at most `maxFrames`
 * distinct frames (a frame already held costs nothing more; beyond, 503), and an answer not
 * delivered within the write timeout is cut (expire). Both are tied to the client's
 * connection (./client-gone), not only to the response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientGone, watchClient } from './client-gone';
import { NO_CACHE, unavailable, type Picture } from './responses';

export interface SnapshotsOptions {
  /** how long a request waits for a frame */
  timeoutMs: number;
  /** distinct frames unfinished answers may hold */
  maxFrames: number;
  retryAfterS: number;
  /** monotonic ms */
  now: () => number;
  /** the number of waiting requests changed (frames are wanted while some wait) */
  onWaiting: () => void;
  /** an answer started or finished (something may need its write timeout watched) */
  onWrites: () => void;
}

interface Waiter {
  req: IncomingMessage;
  res: ServerResponse;
  timer: NodeJS.Timeout;
  stop: () => void;
}

interface Write {
  res: ServerResponse;
  jpeg: Buffer;
  startedAt: number;
}

export class Snapshots {
  private readonly waiters = new Set<Waiter>();
  private readonly writes = new Set<Write>();
  /** frames held by `writes`, with how many hold each */
  private readonly pinned = new Map<Buffer, number>();
  /** requests refused because unfinished answers held too many frames */
  refused = 0;

  constructor(private readonly opts: SnapshotsOptions) {}

  get waiting(): number {
    return this.waiters.size;
  }

  get writing(): number {
    return this.writes.size;
  }

  get pinnedFrames(): number {
    return this.pinned.size;
  }

  /** Waits for the next picture (answerAll); on timeout 503 with what `why()` says then. */
  wait(req: IncomingMessage, res: ServerResponse, why: () => string): void {
    const w: Waiter = {
      req,
      res,
      stop: () => undefined,
      timer: setTimeout(() => {
        this.endWait(w);
        unavailable(res, why(), this.opts.retryAfterS);
        this.opts.onWaiting();
      }, this.opts.timeoutMs),
    };
    const stop = watchClient(req, res, () => {
      clearTimeout(w.timer);
      if (this.waiters.delete(w)) this.opts.onWaiting();
    });
    if (!stop) {
      clearTimeout(w.timer);
      return;
    }
    w.stop = stop;
    this.waiters.add(w);
    this.opts.onWaiting();
  }

  /** Answers every waiting request with `p`. */
  answerAll(p: Picture): void {
    for (const w of [...this.waiters]) {
      this.endWait(w);
      this.send(w.req, w.res, p);
    }
  }

  /** Answers every waiting request with 503 and `why`. */
  failAll(why: string): void {
    for (const w of [...this.waiters]) {
      this.endWait(w);
      unavailable(w.res, why, this.opts.retryAfterS);
    }
  }

  /** Sends `p` as image/jpeg with its capture time, unless too many frames are held already. */
  send(req: IncomingMessage, res: ServerResponse, p: Picture): void {
    if (clientGone(req, res)) return;
    const holders = this.pinned.get(p.jpeg);
    if (holders === undefined && this.pinned.size >= this.opts.maxFrames) {
      this.refused++;
      unavailable(res, 'too many snapshots in progress', this.opts.retryAfterS);
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'image/jpeg',
      'Content-Length': String(p.jpeg.length),
      'Cache-Control': NO_CACHE,
      // RFC 9110 §8.8.2 (second resolution) and the exact time for clients that want it
      'Last-Modified': new Date(p.capturedAt).toUTCString(),
      'X-Timestamp': (p.capturedAt / 1000).toFixed(3),
      'X-Content-Type-Options': 'nosniff',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const write: Write = { res, jpeg: p.jpeg, startedAt: this.opts.now() };
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
      this.opts.onWrites();
    };
    stop = watchClient(req, res, release);
    res.once('finish', release);
    res.end(p.jpeg);
    this.opts.onWrites();
  }

  /** Cuts answers started at or before `limit` (monotonic ms) that have not been delivered. */
  expire(limit: number): void {
    for (const w of this.writes) if (w.startedAt <= limit) w.res.destroy();
  }

  private endWait(w: Waiter): void {
    clearTimeout(w.timer);
    w.stop();
    this.waiters.delete(w);
  }
}
