/**
 * A snapshot URL (one JPEG per GET: ESP32 `/capture`, Hikvision ISAPI `…/picture`, Dahua
 * `snapshot.cgi`, ONVIF GetSnapshotUri) polled as a camera: at most one request in flight,
 * the next one started `1/snapshotFps` after the previous one STARTED (a slow answer delays
 * the next poll, it does not queue more), over the kept connection (http-client.ts). A 503 or
 * 429 is honoured: no poll before its Retry-After (RFC 9110 §10.2.3), else one interval.
 *
 * A poll that fails for a passing reason (timeout, a lost connection, 5xx) is counted and
 * the polling goes on; the session's watchdog ends the attempt when no picture came for
 * several intervals, naming that reason. Wrong credentials, a path not found or an answer
 * that is no JPEG end the attempt at once.
 */
import { CameraError, type CameraErrorReason } from '../errors';
import { kindFromContentType } from '../mjpeg/media-type';
import { monotonicMs } from '../transport/clock';
import { httpStatusError, type HttpClient } from '../transport/http-client';
import { BodyTap, readPicture } from './http-body';
import type { HttpMedia } from './http-attempt';

/** failures no further poll can cure */
const PERMANENT: ReadonlySet<CameraErrorReason> = new Set<CameraErrorReason>(['auth failed', 'not found', 'not a JPEG source', 'redirect refused', 'tls error', 'invalid url']);

export const DEFAULT_SNAPSHOT_FPS = 1;

export class SnapshotPoller {
  /** why the last poll failed, null after a good one */
  lastError: CameraError | null = null;
  readonly intervalMs: number;
  polls = 0;
  failedPolls = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private lastStart: number;
  private notBefore = 0;

  /** `firstStart`: when the request that found the URL started (monotonic ms) */
  constructor(private readonly media: HttpMedia, private readonly client: HttpClient, private readonly onDrop: () => void, firstStart: number) {
    const fps = media.opts.snapshotFps;
    const rate = typeof fps === 'number' && Number.isFinite(fps) && fps > 0 ? Math.min(fps, 30) : DEFAULT_SNAPSHOT_FPS;
    this.intervalMs = 1000 / rate;
    this.lastStart = firstStart;
  }

  start(): void {
    this.schedule();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.closed) return;
    const now = monotonicMs();
    const due = Math.max(this.lastStart + this.intervalMs, this.notBefore, now);
    this.timer = setTimeout(() => { this.timer = null; void this.poll(); }, Math.max(0, Math.round(due - now)));
  }

  private async poll(): Promise<void> {
    if (this.closed) return;
    this.lastStart = monotonicMs();
    this.polls++;
    try {
      const err = await this.once();
      if (err) this.failed(err);
    } catch (e) {
      this.failed(e instanceof CameraError ? e : new CameraError('protocol error', e instanceof Error ? e.message : String(e)));
    }
    this.schedule();
  }

  /** One GET; null when a picture came, else why not. */
  private async once(): Promise<CameraError | null> {
    const m = this.media;
    const r = await this.client.get();
    if (this.closed) { r.conn.close(); return null; }
    const s = r.res.head.statusCode;
    if (s < 200 || s >= 300) {
      r.conn.close();
      const err = httpStatusError(r.res, r.url);
      if (s === 503 || s === 429) this.notBefore = monotonicMs() + (err.retryAfterMs ?? this.intervalMs);
      return err;
    }
    const kind = kindFromContentType(r.res.head.headers.get('content-type')?.[0]);
    if (kind.kind === 'rejected' || kind.kind === 'stream') {
      r.conn.close();
      return new CameraError('not a JPEG source', `GET ${r.url.clean}: the snapshot URL now answers with ${kind.kind === 'stream' ? 'a multipart stream' : kind.what}`);
    }
    const tap = new BodyTap(r, m.countBytes);
    const pic = await readPicture(tap, r, m.opts.maxFrameBytes ?? 16 * 1024 * 1024, m.opts.requestTimeoutMs ?? 10000);
    if (this.closed) { r.conn.close(); return null; }
    if (!pic.ok) {
      r.conn.close();
      if (pic.err.reason === 'frame too large') this.onDrop();
      return pic.err;
    }
    this.client.release(r.conn, r.url);
    this.lastError = null;
    m.frame(pic.jpeg, null);
    return null;
  }

  private failed(err: CameraError): void {
    if (this.closed) return;
    this.failedPolls++;
    this.lastError = err;
    if (PERMANENT.has(err.reason)) {
      this.close();
      this.media.fail(err);
      return;
    }
    this.media.log('debug', `snapshot poll failed: ${err.message}`);
  }
}
