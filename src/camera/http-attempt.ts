/**
 * One connection attempt to an http(s):// camera URL. The first answer decides what it is
 * (mjpeg/media-type.ts): a multipart stream (`multipart/x-mixed-replace`, or FFmpeg's and
 * VLC's `application/octet-stream` whose body starts with a delimiter) is read part by part
 * (http-stream.ts); a JPEG picture makes it a snapshot URL, polled (http-snapshot.ts); an
 * HTML page, H.264 or any other video is 'not a JPEG source'.
 *
 * The attempt owns its HTTP client (the kept connection, the Digest state) and releases
 * everything in close(); CameraSession drives it through attempt.ts like an RTSP attempt, so
 * the states, reasons, backoff, watchdog and stats are the same. HTTP has no RTP: those
 * statistics are null, and a frame's rtpTimestamp comes from the part's X-Timestamp or the
 * arrival time (see onFrame).
 */
import { CameraError } from '../errors';
import type { AttemptHost, AttemptSource, AttemptStats, ConnectionAttempt, LogLevel } from './attempt';
import { kindFromContentType, sniffBody, SNIFF_BYTES } from '../mjpeg/media-type';
import { jpegSize } from '../mjpeg/jpeg-frame';
import type { HttpUrl } from '../mjpeg/http-url';
import { monotonicMs } from '../transport/clock';
import { HttpClient, httpStatusError } from '../transport/http-client';
import { BodyTap, readPicture } from './http-body';
import { MjpegStreamReceiver } from './http-stream';
import { SnapshotPoller } from './http-snapshot';
import type { CameraOptions } from './types';

/** The attempts of one http(s):// camera. */
export class HttpSource implements AttemptSource {
  private readonly opts: CameraOptions;

  constructor(private readonly url: HttpUrl, options: CameraOptions, username: string | undefined, password: string | undefined) {
    this.opts = { ...options, username, password };
  }

  newAttempt(id: number, host: AttemptHost): ConnectionAttempt {
    return new HttpAttempt(id, this.url, this.opts, host);
  }
}

/** What the stream receiver and the poller need of their attempt. */
export interface HttpMedia {
  readonly opts: CameraOptions;
  readonly url: HttpUrl;
  log(level: LogLevel, msg: string): void;
  frame(jpeg: Buffer, timestampMs: number | null): void;
  fail(err: CameraError): void;
  countBytes(n: number): void;
}

const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

export class HttpAttempt implements ConnectionAttempt {
  kind: 'stream' | 'snapshot' | null = null;
  bytesReceived = 0;
  private readonly client: HttpClient;
  private stream: MjpegStreamReceiver | null = null;
  private poller: SnapshotPoller | null = null;
  private done = false;
  private width = 0;
  private height = 0;
  private snapshotDrops = 0;
  private readonly media: HttpMedia;

  constructor(readonly id: number, readonly url: HttpUrl, private readonly opts: CameraOptions, private readonly host: AttemptHost) {
    this.client = new HttpClient(url, {
      username: opts.username, password: opts.password, requestTimeoutMs: opts.requestTimeoutMs,
      tlsFingerprint256: opts.tlsFingerprint256, tlsAllowSelfSigned: opts.tlsAllowSelfSigned,
      logger: (l, m) => host.log(l, m),
    });
    this.media = {
      opts, url,
      log: (l, m) => host.log(l, m),
      frame: (jpeg, ts) => this.onFrame(jpeg, ts),
      fail: (err) => { if (!this.done) host.fail(this, err); },
      countBytes: (n) => { this.bytesReceived += n; },
    };
  }

  private get timeoutMs(): number {
    return this.opts.requestTimeoutMs ?? 10000;
  }

  /** Resolves once frames flow (a stream's head, or the first snapshot); rejects with a CameraError. */
  async open(): Promise<void> {
    const started = monotonicMs();
    const r = await this.client.get();
    if (this.done) { r.conn.close(); throw new CameraError('closed', 'closed'); }
    const s = r.res.head.statusCode;
    if (s < 200 || s >= 300) {
      r.conn.close();
      throw httpStatusError(r.res, r.url);
    }
    const contentType = r.res.head.headers.get('content-type')?.[0];
    let kind = kindFromContentType(contentType);
    const tap = new BodyTap(r, this.media.countBytes);
    if (kind.kind === 'sniff') {
      // FFmpeg's and VLC's HTTP outputs say application/octet-stream: the body tells
      let first: Buffer;
      try {
        first = await tap.first(SNIFF_BYTES, this.timeoutMs, (held) => sniffBody(held, false).kind !== 'more');
      } catch (err) {
        r.conn.close();
        throw err instanceof CameraError && err.reason === 'timeout' ? new CameraError('timeout', `GET ${r.url.clean}: ${err.message}`) : err;
      }
      const sniffed = sniffBody(first, true);
      kind = sniffed.kind === 'more' ? { kind: 'rejected', what: 'an empty body' } : sniffed;
      this.host.log('debug', `${r.url.clean}: ${contentType ?? 'no Content-Type'}, the body is ${kind.kind === 'rejected' ? kind.what : kind.kind === 'stream' ? 'a multipart stream' : 'a JPEG picture'}`);
    }
    if (this.done) { r.conn.close(); throw new CameraError('closed', 'closed'); }
    if (kind.kind === 'rejected' || kind.kind === 'sniff') {
      r.conn.close();
      throw new CameraError('not a JPEG source', `${r.url.clean} serves ${kind.kind === 'rejected' ? kind.what : 'no picture'}`);
    }
    if (kind.kind === 'stream') {
      this.kind = 'stream';
      this.announce();
      this.stream = new MjpegStreamReceiver(this.media, kind.boundary);
      this.stream.start(tap);
      return;
    }
    this.kind = 'snapshot';
    const pic = await readPicture(tap, r, this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME, this.timeoutMs);
    if (this.done) { r.conn.close(); throw new CameraError('closed', 'closed'); }
    if (!pic.ok) { r.conn.close(); throw pic.err; }
    this.client.release(r.conn, r.url);
    // the poller exists before the first frame goes out: a listener may close the attempt from there
    this.poller = new SnapshotPoller(this.media, this.client, () => { this.snapshotDrops++; }, started);
    this.poller.start();
    this.announce();
    this.onFrame(pic.jpeg, null);
  }

  /** A snapshot URL waits several poll intervals (and a request's timeout) before it is stalled. */
  stallTimeoutMs(configured: number): number {
    return this.poller ? Math.max(configured, this.poller.intervalMs * 3 + this.timeoutMs) : configured;
  }

  /**
   * Why no frame came: a snapshot URL names its last failed poll (a 503, a timeout); a stream
   * whose parts grow past the frame cap without a boundary, or that shows none at all, says so.
   */
  stallError(secs: number): CameraError | null {
    const poll = this.poller?.lastError ?? null;
    if (poll) return new CameraError(poll.reason, `no picture for ${secs} s; the last poll: ${poll.message}`, poll.statusCode, poll.retryAfterMs);
    const hint = this.stream?.stallHint ?? null;
    return hint ? new CameraError('stalled', `no complete JPEG frame for ${secs} s (${hint})`) : null;
  }

  /** pictures dropped for being larger than maxFrameBytes */
  get oversizeFrames(): number {
    return (this.stream?.oversized ?? 0) + this.snapshotDrops;
  }

  flush(): void {
    // nothing held for reordering: HTTP delivers in order
  }

  stats(): AttemptStats {
    return {
      ssrc: null, packetsReceived: null, packetsExpected: null, packetsLost: null, fractionLost: null, jitterMs: null,
      framesDropped: (this.stream?.dropped ?? 0) + this.snapshotDrops,
      senderReport: null,
      transport: this.kind === 'stream' ? 'http-mjpeg' : this.kind === 'snapshot' ? 'http-snapshot' : null,
      width: this.width, height: this.height,
    };
  }

  /** Releases the connection, the timers and the reader at once (HTTP has nothing to tear down). Idempotent. */
  close(_teardownWaitMs?: number): Promise<void> {
    if (this.done) return Promise.resolve();
    this.done = true;
    this.stream?.close();
    this.poller?.close();
    this.client.close();
    return Promise.resolve();
  }

  private announce(): void {
    // not RTP: no payload type and no clock; the control is the URL itself
    this.host.tracks(this, [{ kind: 'video', encoding: 'JPEG', payloadType: -1, clockRate: 0, control: this.url.clean }]);
  }

  private onFrame(jpeg: Buffer, timestampMs: number | null): void {
    if (this.done) return;
    const size = jpegSize(jpeg);
    if (size) { this.width = size.width; this.height = size.height; }
    const receivedAt = Date.now();
    // HTTP carries no RTP clock: the part's X-Timestamp (the camera's capture clock) when it
    // has one, else the arrival time, on the 90 kHz scale of msg.frame.rtpTimestamp
    const rtpTimestamp = Math.round((timestampMs ?? receivedAt) * 90) % 0x100000000;
    this.host.frame(this, jpeg, this.width, this.height, rtpTimestamp, 0, receivedAt, null);
  }
}
