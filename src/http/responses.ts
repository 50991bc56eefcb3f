/**
 * The small responses the live view sends besides pictures, and the picture record both the
 * stream and the snapshots hand out.
 */
import type { ServerResponse } from 'node:http';

export const NO_CACHE = 'no-store, no-cache, must-revalidate, max-age=0';

/** One picture as clients get it: a live frame or the status picture. */
export interface Picture {
  jpeg: Buffer;
  seq: number;
  /** monotonic ms it arrived here */
  arrivedAt: number;
  /** ms since the epoch it was captured */
  capturedAt: number;
  /** holds this source's boundary prefix: check each viewer's boundary */
  risky: boolean;
}

/** 503 with Retry-After and `why` as the body (RFC 9110 §15.6.4); nothing once headers went. */
export function unavailable(res: ServerResponse, why: string, retryAfterS: number): void {
  if (res.destroyed || res.writableEnded || res.headersSent) return;
  const body = `${why}\n`;
  res.writeHead(503, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Retry-After': String(retryAfterS),
    'Cache-Control': NO_CACHE,
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}
