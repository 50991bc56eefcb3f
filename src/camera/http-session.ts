/**
 * HttpCameraSession: the lifecycle of an http(s):// camera (an MJPEG stream or a snapshot
 * URL), with the same states, events, reasons, backoff, quick retries, stall watchdog and
 * statistics as the RTSP CameraSession, so that every node downstream works unchanged. Each
 * connection attempt is an HttpAttempt (http-attempt.ts); this class only drives attempts:
 *
 *   idle ──> connecting ──> playing ──> reconnecting ──> connecting ...
 *     │          │                          ▲               │
 *     │          └──────────────────────────┴── (failure) ──┘
 *     └──────────┴─────────────┴────────── closed (from any state, final)
 *
 * It mirrors session.ts rule for rule (Backoff, RateWindow, the transient-failure quick
 * retries, Retry-After as a minimum delay); once session.ts drives attempts through one
 * interface, this file becomes an attempt source for it and the copy goes.
 */
import { EventEmitter } from 'node:events';
import { CameraError, isTransientHandshakeError } from '../errors';
import { parseHttpUrl, type HttpUrl } from '../mjpeg/http-url';
import { redactText } from '../rtsp/redact';
import { monotonicMs } from '../transport/clock';
import { Backoff } from './backoff';
import { RateWindow } from './rate-window';
import { HttpAttempt, type HttpAttemptHost } from './http-attempt';
import type { CameraSession } from './session';
import type { CameraOptions, CameraSessionEvents, CameraState, FrameInfo, StateChange, StatsReport, TrackInfo } from './types';

/** Transient failures of the first request are retried this often, this soon, before the backoff (as session.ts does). */
const QUICK_RETRIES = 3;
const QUICK_RETRY_MS = 300;

const TRANSITIONS: Readonly<Record<CameraState, readonly CameraState[]>> = {
  idle: ['connecting', 'closed'],
  connecting: ['playing', 'reconnecting', 'closed'],
  playing: ['reconnecting', 'closed'],
  reconnecting: ['connecting', 'closed'],
  closed: [],
};

/**
 * The public surface of CameraSession besides the EventEmitter<CameraSessionEvents> both
 * extend, checked by the compiler: what openCamera's callers may use.
 */
type CameraSessionApi = Pick<CameraSession, Exclude<keyof CameraSession, keyof EventEmitter>>;

export class HttpCameraSession extends EventEmitter<CameraSessionEvents> implements CameraSessionApi {
  tracks: TrackInfo[] = [];
  latestFrame: { jpeg: Buffer; info: FrameInfo } | null = null;
  /** RTP over UDP only; always 0 here */
  udpRecvBufferSize = 0;

  private current: CameraState = 'idle';
  private readonly opts: CameraOptions;
  private readonly parsed: HttpUrl | null;
  private readonly secrets: string[];
  private readonly backoff: Backoff;
  private readonly host: HttpAttemptHost;
  private attempt: HttpAttempt | null = null;
  private attemptSeq = 0;
  private playing = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private quickRetries = 0;
  private tickTimer: NodeJS.Timeout | null = null;
  private closePromise: Promise<void> | null = null;
  private closing = false;

  private frameIndex = 0;
  private lastFrameAt = 0;
  private droppedBefore = 0;
  private bytesBefore = 0;
  private lastStatsAt = 0;
  private readonly rates = new RateWindow(2000);
  private lastWidth = 0;
  private lastHeight = 0;
  private lastTransport: StatsReport['transport'] = null;
  private lastError: CameraError | null = null;

  constructor(url: string, options: CameraOptions = {}) {
    super();
    this.parsed = parseHttpUrl(url);
    this.opts = {
      ...options,
      username: options.username ?? this.parsed?.username ?? undefined,
      password: options.password ?? this.parsed?.password ?? undefined,
    };
    this.secrets = [options.password, this.parsed?.password].filter((s): s is string => typeof s === 'string' && s.length > 0);
    this.backoff = new Backoff({ minMs: options.reconnectMinMs, maxMs: options.reconnectMaxMs });
    this.host = {
      log: (level, msg) => this.log(level, msg),
      tracks: (a, list) => {
        if (a !== this.attempt) return;
        this.tracks = list;
        this.safeEmit('tracks', list);
      },
      frame: (a, jpeg, width, height, rtpTimestamp, ssrc, receivedAt, capturedAt) => this.onFrame(a, jpeg, width, height, rtpTimestamp, ssrc, receivedAt, capturedAt),
      fail: (a, err) => this.fail(a, err),
    };
  }

  /** The camera URL without credentials. */
  get url(): string {
    return this.parsed?.clean ?? '';
  }

  get state(): CameraState {
    return this.current;
  }

  /** Starts connecting (openCamera calls it). Idempotent. */
  start(): void {
    if (this.current !== 'idle' || this.closing) return;
    if (!this.parsed) {
      const err = new CameraError('invalid url', 'not an http:// or https:// URL');
      this.lastError = err;
      this.emitError(err);
      this.transition('closed', 'invalid url');
      return;
    }
    const tick = Math.max(50, Math.min(500, this.opts.statsIntervalMs ?? 1000));
    this.tickTimer = setInterval(() => this.tick(), tick);
    this.tickTimer.unref();
    this.lastStatsAt = monotonicMs();
    this.rates.add({ t: this.lastStatsAt, frames: 0, bytes: 0 });
    // state now, event and work one tick later: listeners attached after openCamera() see it all
    this.transition('connecting', undefined, undefined, 'next tick');
    process.nextTick(() => {
      if (!this.closing) void this.runAttempt();
    });
  }

  private transition(to: CameraState, reason?: StateChange['reason'], retryInMs?: number, announce: 'now' | 'next tick' = 'now'): void {
    const from = this.current;
    if (!TRANSITIONS[from].includes(to)) {
      this.log('error', `refused state change ${from} → ${to}`);
      return;
    }
    this.current = to;
    const change: StateChange = retryInMs !== undefined ? { state: to, reason, retryInMs } : { state: to, reason };
    if (announce === 'now') this.safeEmit('state', change);
    else process.nextTick(() => { if (!this.closing) this.safeEmit('state', change); });
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void {
    this.opts.logger?.(level, redactText(msg, this.secrets));
  }

  private safeEmit<K extends keyof CameraSessionEvents>(event: K, ...args: CameraSessionEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: CameraSessionEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      // a throwing listener must not kill the socket handler that called us
      this.log('error', `a '${String(event)}' listener threw: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private emitError(err: CameraError): void {
    if (this.listenerCount('error') > 0) this.safeEmit('error', err);
  }

  // ---------------------------------------------------------------- attempts

  private async runAttempt(): Promise<void> {
    this.retryTimer = null;
    if (this.closing || !this.parsed) return;
    const a = new HttpAttempt(++this.attemptSeq, this.parsed, this.opts, this.host);
    this.attempt = a;
    this.playing = false;
    if (this.current !== 'connecting') this.transition('connecting', this.lastError?.reason);
    try {
      await a.open();
    } catch (err) {
      this.fail(a, err instanceof CameraError ? err : new CameraError('protocol error', err instanceof Error ? err.message : String(err)));
      return;
    }
    if (this.attempt !== a || this.closing) return;
    this.playing = true;
    const now = monotonicMs();
    if (this.lastFrameAt < now - 1) this.lastFrameAt = now;
    this.backoff.onPlaying(now);
    this.lastError = null;
    this.quickRetries = 0;
    this.log('info', `${this.parsed.clean}: ${a.kind === 'stream' ? 'MJPEG stream (multipart)' : 'snapshot URL, polled'}`);
    this.transition('playing');
  }

  private onFrame(a: HttpAttempt, jpeg: Buffer, width: number, height: number, rtpTimestamp: number, ssrc: number, receivedAt: number, capturedAt: number | null): void {
    if (a !== this.attempt || this.closing) return;
    this.lastFrameAt = monotonicMs();
    if (width > 0) this.lastWidth = width;
    if (height > 0) this.lastHeight = height;
    const info: FrameInfo = { index: ++this.frameIndex, width, height, rtpTimestamp, ssrc, receivedAt, capturedAt };
    this.latestFrame = { jpeg, info };
    this.safeEmit('frame', jpeg, info);
  }

  /** One coalesced timer: stall watchdog and stats. */
  private tick(): void {
    const now = monotonicMs();
    const a = this.attempt;
    if (a && this.playing) {
      const stall = a.stallTimeoutMs(this.opts.stallTimeoutMs ?? 10000);
      if (now - this.lastFrameAt > stall) {
        const secs = Math.round((now - this.lastFrameAt) / 1000);
        const poll = a.lastPollError;
        const hint = a.stallHint;
        this.fail(a, poll
          ? new CameraError(poll.reason, `no picture for ${secs} s; the last poll: ${poll.message}`, poll.statusCode, poll.retryAfterMs)
          : new CameraError('stalled', `no complete JPEG frame for ${secs} s${hint ? ` (${hint})` : ''}`));
      }
    }
    this.rates.add({ t: now, frames: this.frameIndex, bytes: this.currentBytes() });
    if (now - this.lastStatsAt >= (this.opts.statsIntervalMs ?? 1000) - 1 && this.current !== 'closed') {
      this.lastStatsAt = now;
      this.safeEmit('stats', this.getStats());
    }
  }

  private currentBytes(): number {
    return this.bytesBefore + (this.attempt?.bytesReceived ?? 0);
  }

  getStats(): StatsReport {
    const a = this.attempt;
    const s = a?.stats() ?? null;
    const { fps, bitrateKbps } = this.rates.rates({ t: monotonicMs(), frames: this.frameIndex, bytes: this.currentBytes() });
    return {
      ssrc: null, packetsReceived: null, packetsExpected: null, packetsLost: null, fractionLost: null, jitterMs: null,
      framesEmitted: this.frameIndex,
      framesDropped: this.droppedBefore + (s?.framesDropped ?? 0),
      fps, bitrateKbps,
      senderReport: null,
      transport: s?.transport ?? this.lastTransport,
      state: this.current,
      bytesReceived: this.currentBytes(),
      width: this.lastWidth || s?.width || 0,
      height: this.lastHeight || s?.height || 0,
    };
  }

  // ---------------------------------------------------------------- failure, cleanup

  private fail(a: HttpAttempt, err: CameraError): void {
    if (a !== this.attempt || this.closing) return;
    const wasPlaying = this.playing;
    this.release(a);
    if (!wasPlaying && this.quickRetry(err)) return;
    this.lastError = err;
    this.log('warn', err.message);
    this.emitError(new CameraError(err.reason, redactText(err.message, this.secrets), err.statusCode, err.retryAfterMs));
    if (this.closing) return; // an 'error' listener closed the session
    const delay = Math.max(this.backoff.next(err.reason, monotonicMs()), err.retryAfterMs ?? 0);
    this.retryTimer = setTimeout(() => void this.runAttempt(), delay);
    this.transition('reconnecting', err.reason, delay);
  }

  /** A transient failure before playing: retried soon and quietly (state stays 'connecting'). */
  private quickRetry(err: CameraError): boolean {
    if (!isTransientHandshakeError(err) || this.quickRetries >= QUICK_RETRIES) return false;
    this.quickRetries++;
    const delay = err.retryAfterMs !== undefined
      ? Math.round(err.retryAfterMs * (1 + 0.1 * Math.random()))
      : Math.round(QUICK_RETRY_MS * (0.8 + 0.4 * Math.random()));
    this.lastError = err;
    this.log('info', `${err.message}; retrying in ${delay} ms (${this.quickRetries} of ${QUICK_RETRIES})`);
    this.retryTimer = setTimeout(() => void this.runAttempt(), delay);
    return true;
  }

  /** Ends attempt `a`, keeping its counters. */
  private release(a: HttpAttempt): void {
    const s = a.stats();
    this.droppedBefore += s.framesDropped;
    this.bytesBefore += a.bytesReceived;
    if (s.transport) this.lastTransport = s.transport;
    this.playing = false;
    this.attempt = null;
    void a.close();
  }

  /** Releases every socket and timer; resolves in bounded time (HTTP has no teardown to wait for). */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = null;
    const a = this.attempt;
    if (a) this.release(a);
    if (this.current !== 'closed') this.transition('closed', 'closed');
    this.closePromise = Promise.resolve();
    return this.closePromise;
  }
}
