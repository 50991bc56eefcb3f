/**
 * One viewer of a multipart/x-mixed-replace stream: its rate limit (camera/rate-gate), its
 * boundary, and the rule that a part is written only while its connection takes data (a
 * viewer that cannot keep up skips frames and is owed the newest one when it drains).
 */
import type { ServerResponse } from 'node:http';
import type { Boundary } from './multipart';
import type { Picture } from './responses';
import type { RateGate } from '../camera/rate-gate';

export interface ViewerCounters {
  framesSent: number;
  /** frames skipped because the socket had not drained */
  framesSkippedSlow: number;
  /** frames not sent because they held the viewer's multipart boundary */
  framesDroppedBoundary: number;
}

const CRLF = Buffer.from('\r\n');

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
