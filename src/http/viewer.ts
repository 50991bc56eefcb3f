/**
 * One viewer of a multipart/x-mixed-replace stream: its rate limit, its boundary, and the
 * rule that a part is written only while its connection takes data (a viewer that cannot
 * keep up skips frames and is owed the newest one when it drains).
 */
import type { ServerResponse } from 'node:http';
import type { Boundary } from './multipart';
import type { Picture } from './responses';

export interface ViewerCounters {
  framesSent: number;
  /** frames skipped because the socket had not drained */
  framesSkippedSlow: number;
  /** frames not sent because they held the viewer's multipart boundary */
  framesDroppedBoundary: number;
}

const CRLF = Buffer.from('\r\n');

/** Keeps a viewer's frames on an even grid of 1/fps seconds, skipping the rest. */
export class RateGate {
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

export class Viewer implements ViewerCounters {
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
