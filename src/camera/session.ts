/**
 * CameraSession: one camera's lifecycle as a state machine, whatever the source. The session
 * runs one connection attempt after another (attempt.ts), watches the playing attempt for
 * stalls, fails it, reconnects with backoff (transient handshake failures quickly), replaces
 * an attempt at once when it asks (an RTSP 'auto' session switching from UDP to TCP), and
 * closes everything on close(). Every state change goes through transition(), checked
 * against TRANSITIONS; a change the table does not allow is a bug, logged as an error:
 *
 *   idle ──> connecting ──> playing ──> reconnecting ──> connecting ...
 *     │          │  ▲          │  (restart)  ▲               │
 *     │          │  └──────────┘             └── connecting ─┘ (failure)
 *     │          └─────────────┴──────────────────── closing ──> closed
 *     └──────────────────────────────────────────────────────────┘ (invalid URL)
 *
 * 'closing' (close() waits for the TEARDOWN) is the session's own: the state events and the
 * `state` property go from the last public state straight to 'closed'.
 *
 * The seam for other sources. An attempt is one try at the camera and the one owner of what
 * that try opens; the session only drives the ConnectionAttempt interface and listens on
 * AttemptHost, so each kind of source gets the backoff, reconnects, stall watchdog, stats,
 * states and events as they are: it implements AttemptSource and ConnectionAttempt (RTSP in
 * rtsp-attempt.ts; an http(s):// MJPEG stream or snapshot URL in http-attempt.ts), and the
 * constructor chooses the source by URL scheme. open() resolving means 'playing'; a
 * rejection is a failed try (the transient reasons of errors.ts isTransientHandshakeError are
 * retried quickly, others with backoff); host.fail() after that is a lost stream
 * ('reconnecting'); host.frame() delivers JPEGs, and a playing attempt without one for
 * stallTimeoutMs fails as 'stalled'; close(teardownWaitMs) must release everything at once.
 */
import { EventEmitter } from 'node:events';
import { CameraError, isTransientHandshakeError } from '../errors';
import { parseRtspUrl } from '../rtsp/url';
import { redactText } from '../rtsp/redact';
import { pickLogin } from '../rtsp/credentials';
import { DEFAULT_MAX_FRAME } from '../jpeg/depacketizer';
import { monotonicMs } from '../transport/clock';
import { Backoff } from './backoff';
import { RestartAttempt, type AttemptHost, type AttemptSource, type AttemptStats, type ConnectionAttempt, type LogLevel } from './attempt';
import { RtspSource } from './rtsp-attempt';
import { isHttpUrl, parseHttpUrl } from '../mjpeg/http-url';

// The HTTP source (its client, multipart reader and poller) loads with the first http(s):// camera:
// require() of the library stays as cheap for RTSP cameras as it was.
/* eslint-disable @typescript-eslint/no-require-imports */
const loadHttp = (): typeof import('./http-attempt') => require('./http-attempt') as typeof import('./http-attempt');
/* eslint-enable @typescript-eslint/no-require-imports */
import { RateWindow } from './rate-window';
import type { CameraOptions, CameraSessionEvents, CameraState, FrameInfo, StateChange, StatsReport, TrackInfo } from './types';

/** close(): how long the TEARDOWN (and a SETUP still in flight before it) may take, each. */
const TEARDOWN_WAIT_MS = 2000;
/** How long the TEARDOWN of a failed attempt may take; it runs in the background. */
const FAILED_TEARDOWN_WAIT_MS = 1000;
/** How long a restart waits for the old attempt's TEARDOWN reply before connecting again. */
const RESTART_TEARDOWN_WAIT_MS = 1000;
/**
 * Transient handshake failures (errors.ts isTransientHandshakeError) are retried this many
 * times in a row, after QUICK_RETRY_MS (±20 %) or what a 503's Retry-After asks, before the
 * backoff applies; the state stays 'connecting' meanwhile.
 */
export const QUICK_RETRIES = 3;
export const QUICK_RETRY_MS = 300;

/** The public states plus 'closing': close() called, the TEARDOWN not yet done. */
type Phase = CameraState | 'closing';

/** The allowed state changes; anything else is a bug, logged and refused. */
const TRANSITIONS: Readonly<Record<Phase, readonly Phase[]>> = {
  // 'closed' from 'idle': an invalid URL ends the session at start()
  idle: ['connecting', 'closing', 'closed'],
  connecting: ['playing', 'reconnecting', 'closing'],
  // 'connecting' from 'playing': an attempt that asked to be replaced (restart)
  playing: ['reconnecting', 'connecting', 'closing'],
  reconnecting: ['connecting', 'closing'],
  closing: ['closed'],
  closed: [],
};

const NO_STATS: AttemptStats = Object.freeze({
  ssrc: null, packetsReceived: 0, packetsExpected: 0, packetsLost: 0, fractionLost: 0, jitterMs: 0,
  framesDropped: 0, senderReport: null, transport: null, width: 0, height: 0,
});

function toCameraError(err: unknown): CameraError {
  if (err instanceof CameraError) return err;
  return new CameraError('protocol error', err instanceof Error ? err.message : String(err));
}

export class CameraSession extends EventEmitter<CameraSessionEvents> {
  tracks: TrackInfo[] = [];
  latestFrame: { jpeg: Buffer; info: FrameInfo } | null = null;

  private phase: Phase = 'idle';
  /** what `state` and the events say: the phase, except that 'closing' is not shown */
  private shown: CameraState = 'idle';
  private readonly opts: CameraOptions;
  private readonly startUrl: string;
  /** null when the URL is not one the session can open */
  private readonly source: AttemptSource | null;
  private readonly secrets: string[];
  private readonly backoff: Backoff;
  /** what the attempts tell this session */
  private readonly host: AttemptHost;
  /** the attempt whose reports count; null once it ended (and while none runs) */
  private live: ConnectionAttempt | null = null;
  /** the attempt the stats come from: the live one, else the last one until the next starts */
  private last: ConnectionAttempt | null = null;
  /** attempts whose close (a TEARDOWN) still runs in the background; close() cuts it short */
  private readonly ending = new Set<ConnectionAttempt>();
  private attemptSeq = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  /** quick retries since the session last reached 'playing' */
  private quickRetries = 0;
  private tickTimer: NodeJS.Timeout | null = null;
  private closePromise: Promise<void> | null = null;

  private frameIndex = 0;
  private lastFrameAt = 0;
  /** frames dropped and bytes received by the attempts before `last` */
  private droppedBefore = 0;
  private bytesBefore = 0;
  private lastStatsAt = 0;
  private readonly rates = new RateWindow(2000);
  private lastWidth = 0;
  private lastHeight = 0;
  private lastError: CameraError | null = null;
  /** the attempt's count of frames over maxFrameBytes at its last complete frame: tells a
   * stall by frames over the cap from one by missing packets */
  private oversizeAtFrame: { from: ConnectionAttempt | null; count: number } = { from: null, count: 0 };

  constructor(url: string, options: CameraOptions = {}) {
    super();
    this.opts = options;
    // the source by URL scheme: http(s):// is an MJPEG stream or a snapshot URL, rtsp(s):// RTSP
    const http = isHttpUrl(url) ? parseHttpUrl(url) : null;
    const parsed = http ?? parseRtspUrl(url);
    const login = pickLogin(options, parsed);
    this.secrets = login.secrets;
    this.startUrl = parsed?.clean ?? '';
    this.source = http ? new (loadHttp().HttpSource)(http, options, login.username, login.password)
      : parsed ? new RtspSource(this.startUrl, options, login.username, login.password) : null;
    this.backoff = new Backoff({ minMs: options.reconnectMinMs, maxMs: options.reconnectMaxMs });
    this.host = {
      log: (level, msg) => this.log(level, msg),
      tracks: (a, list) => {
        if (a !== this.live) return;
        this.tracks = list;
        this.safeEmit('tracks', list);
      },
      frame: (a, jpeg, width, height, rtpTimestamp, ssrc, receivedAt, capturedAt) => {
        if (a === this.live) this.onFrame(a, jpeg, width, height, rtpTimestamp, ssrc, receivedAt, capturedAt);
      },
      fail: (a, err) => this.fail(a, err),
      restart: (a) => this.restart(a),
    };
  }

  /** The camera URL without credentials. */
  get url(): string {
    return this.startUrl;
  }

  get state(): CameraState {
    return this.shown;
  }

  /** the UDP receive buffer the OS granted, for diagnostics (0 before UDP) */
  get udpRecvBufferSize(): number {
    return this.source instanceof RtspSource ? this.source.udpRecvBufferSize : 0;
  }

  /** Starts connecting (openCamera calls it). Idempotent. */
  start(): void {
    if (this.phase !== 'idle') return;
    if (!this.source) {
      const err = new CameraError('invalid url', 'not an rtsp://, rtsps://, http:// or https:// URL');
      this.lastError = err;
      this.emitError(err);
      // an 'error' listener may have closed the session already
      if (this.phase === 'idle') this.transition('closed', 'invalid url');
      return;
    }
    const tick = Math.max(50, Math.min(500, this.opts.statsIntervalMs ?? 1000));
    this.tickTimer = setInterval(() => this.tick(), tick);
    this.tickTimer.unref();
    this.lastStatsAt = monotonicMs();
    this.rates.add({ t: this.lastStatsAt, frames: 0, bytes: 0 });
    // The state is 'connecting' at once; the event and the work wait one tick so that
    // listeners attached right after openCamera() see every change.
    this.transition('connecting', undefined, undefined, 'next tick');
    process.nextTick(() => {
      if (this.phase === 'connecting') void this.runAttempt();
    });
  }

  /**
   * The one place the state changes. A change missing from TRANSITIONS is refused and logged;
   * `announce: 'next tick'` delays the 'state' event (not the change) by one tick.
   */
  private transition(to: Phase, reason?: StateChange['reason'], retryInMs?: number, announce: 'now' | 'next tick' = 'now'): void {
    const from = this.phase;
    if (!TRANSITIONS[from].includes(to)) {
      this.log('error', `refused state change ${from} → ${to}`);
      return;
    }
    this.phase = to;
    if (to === 'closing') return;
    this.shown = to;
    const change: StateChange = retryInMs !== undefined ? { state: to, reason, retryInMs } : { state: to, reason };
    if (announce === 'now') this.safeEmit('state', change);
    else process.nextTick(() => { if (!this.isClosing()) this.safeEmit('state', change); });
  }

  private isClosing(): boolean {
    return this.phase === 'closing' || this.phase === 'closed';
  }

  private log(level: LogLevel, msg: string): void {
    this.opts.logger?.(level, redactText(msg, this.secrets));
  }

  private safeEmit<K extends keyof CameraSessionEvents>(event: K, ...args: CameraSessionEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: CameraSessionEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      // A throwing listener must not kill the socket handler that called us.
      this.log('error', `a '${String(event)}' listener threw: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private emitError(err: CameraError): void {
    if (this.listenerCount('error') > 0) this.safeEmit('error', err);
  }

  // ---------------------------------------------------------------- attempts

  private async runAttempt(): Promise<void> {
    this.retryTimer = null;
    if (this.isClosing() || this.source === null) return;
    const prev = this.last;
    if (prev !== null) {
      this.bytesBefore += prev.bytesReceived;
      this.droppedBefore += prev.stats().framesDropped;
    }
    const a = this.source.newAttempt(++this.attemptSeq, this.host);
    this.live = a;
    this.last = a;
    if (this.phase !== 'connecting') this.transition('connecting', this.lastError?.reason);
    try {
      await a.open();
    } catch (err) {
      if (err instanceof RestartAttempt) this.restart(a);
      else this.fail(a, toCameraError(err));
      return;
    }
    // failed or closed while its last reply was on the way: that has been dealt with
    if (a !== this.live) return;
    const now = monotonicMs();
    this.lastFrameAt = now;
    this.backoff.onPlaying(now);
    this.lastError = null;
    this.quickRetries = 0;
    this.transition('playing');
  }

  /** Closes an attempt that ended; a TEARDOWN runs on in the background, cut short by close(). */
  private endAttempt(a: ConnectionAttempt, teardownWaitMs?: number): Promise<void> {
    if (this.live === a) this.live = null;
    this.ending.add(a);
    const closed = a.close(teardownWaitMs);
    void closed.then(() => this.ending.delete(a));
    return closed;
  }

  /**
   * Replaces attempt `a` by a new one at once, without backoff. Its session is torn down first
   * (the reply awaited, bounded): cameras that serve one client at a time refuse the new one
   * while the old session lives.
   */
  private restart(a: ConnectionAttempt): void {
    if (a !== this.live) return;
    const torn = this.endAttempt(a, RESTART_TEARDOWN_WAIT_MS);
    if (this.phase === 'playing') this.transition('connecting', undefined);
    void torn.then(() => {
      if (this.phase === 'connecting' && this.last === a && this.retryTimer === null) void this.runAttempt();
    });
  }

  // ---------------------------------------------------------------- media

  private onFrame(a: ConnectionAttempt, jpeg: Buffer, width: number, height: number, rtpTimestamp: number, ssrc: number, receivedAt: number, capturedAt: number | null): void {
    this.lastFrameAt = monotonicMs();
    this.lastWidth = width;
    this.lastHeight = height;
    this.oversizeAtFrame = { from: a, count: a.oversizeFrames };
    const info: FrameInfo = { index: ++this.frameIndex, width, height, rtpTimestamp, ssrc, receivedAt, capturedAt };
    this.latestFrame = { jpeg, info };
    this.safeEmit('frame', jpeg, info);
  }

  /** One coalesced timer per session: stall watchdog, reorder flush, stats. */
  private tick(): void {
    const now = monotonicMs();
    const a = this.live;
    if (a !== null && this.phase === 'playing') {
      a.flush();
      const configured = this.opts.stallTimeoutMs ?? 10000;
      const stall = a.stallTimeoutMs?.(configured) ?? configured;
      if (now - this.lastFrameAt > stall) {
        const secs = Math.round((now - this.lastFrameAt) / 1000);
        const big = a.oversizeFrames - (this.oversizeAtFrame.from === a ? this.oversizeAtFrame.count : 0);
        const limit = `${Math.round(((this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME) / 1048576) * 100) / 100} MB`;
        this.fail(a, big > 0
          ? new CameraError('frame too large', `${big} frame${big === 1 ? '' : 's'} over the ${limit} limit dropped, no complete JPEG frame for ${secs} s`)
          : a.stallError?.(secs) ?? new CameraError('stalled', `no complete JPEG frame for ${secs} s`));
      }
    }
    this.rates.add({ t: now, frames: this.frameIndex, bytes: this.currentBytes() });
    if (now - this.lastStatsAt >= (this.opts.statsIntervalMs ?? 1000) - 1 && this.phase !== 'closed') {
      this.lastStatsAt = now;
      this.safeEmit('stats', this.getStats());
    }
  }

  private currentBytes(): number {
    return this.bytesBefore + (this.last?.bytesReceived ?? 0);
  }

  getStats(): StatsReport {
    const m = this.last?.stats() ?? NO_STATS;
    const { fps, bitrateKbps } = this.rates.rates({ t: monotonicMs(), frames: this.frameIndex, bytes: this.currentBytes() });
    return {
      ssrc: m.ssrc,
      packetsReceived: m.packetsReceived,
      packetsExpected: m.packetsExpected,
      packetsLost: m.packetsLost,
      fractionLost: m.fractionLost,
      jitterMs: m.jitterMs,
      framesEmitted: this.frameIndex,
      framesDropped: this.droppedBefore + m.framesDropped,
      fps,
      bitrateKbps,
      senderReport: m.senderReport,
      transport: m.transport,
      state: this.shown,
      bytesReceived: this.currentBytes(),
      width: this.lastWidth || m.width,
      height: this.lastHeight || m.height,
    };
  }

  // ---------------------------------------------------------------- failure, close

  /** Ends the attempt and schedules the next one (or does nothing when already handled). */
  private fail(a: ConnectionAttempt, err: CameraError): void {
    if (a !== this.live) return;
    if (this.phase !== 'playing' && this.quickRetry(a, err)) return;
    void this.endAttempt(a, err.reason === 'stalled' || err.reason === 'frame too large' || err.reason === 'end of stream' ? FAILED_TEARDOWN_WAIT_MS : undefined);
    this.lastError = err;
    this.log('warn', err.message);
    this.emitError(new CameraError(err.reason, redactText(err.message, this.secrets), err.statusCode, err.retryAfterMs));
    if (this.isClosing()) return; // an 'error' listener closed the session
    // A server that said when to come back is not asked sooner.
    const delay = Math.max(this.backoff.next(err.reason, monotonicMs()), err.retryAfterMs ?? 0);
    // Timer first: a listener may call close() from inside the state event, and close() must find it.
    this.retryTimer = setTimeout(() => void this.runAttempt(), delay);
    this.transition('reconnecting', err.reason, delay);
  }

  /**
   * A transient handshake failure: the attempt ends quietly (state still 'connecting', no
   * 'error') and the next one starts soon. False when the failure is not transient or the
   * quick retries are used up; the backoff then applies.
   */
  private quickRetry(a: ConnectionAttempt, err: CameraError): boolean {
    if (!isTransientHandshakeError(err) || this.quickRetries >= QUICK_RETRIES) return false;
    this.quickRetries++;
    // Retry-After is a minimum: jitter only upwards (10 %), so that clients told the same
    // time do not come back in lock-step.
    const delay = err.retryAfterMs !== undefined
      ? Math.round(err.retryAfterMs * (1 + 0.1 * Math.random()))
      : Math.round(QUICK_RETRY_MS * (0.8 + 0.4 * Math.random()));
    void this.endAttempt(a, FAILED_TEARDOWN_WAIT_MS);
    this.lastError = err;
    this.log('info', `${err.message}; retrying in ${delay} ms (${this.quickRetries} of ${QUICK_RETRIES})`);
    this.retryTimer = setTimeout(() => void this.runAttempt(), delay);
    return true;
  }

  /**
   * TEARDOWN (after a SETUP in flight, each waiting at most 2 s), then every socket, timer and
   * port released. Resolves in bounded time even when the camera is gone.
   */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    if (this.phase === 'closed') return (this.closePromise = Promise.resolve());
    this.transition('closing');
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = null;
    const a = this.live;
    this.live = null;
    if (a === null) {
      this.finishClose();
      return (this.closePromise = Promise.resolve());
    }
    // Called now, not after an await: the attempt stops reporting from this moment.
    this.closePromise = a.close(TEARDOWN_WAIT_MS).then(() => this.finishClose());
    return this.closePromise;
  }

  private finishClose(): void {
    for (const e of this.ending) void e.close();
    this.ending.clear();
    this.transition('closed', 'closed');
  }
}
