/**
 * CameraSession: one camera's lifecycle as a state machine. Each connection attempt runs the
 * RTSP handshake (handshake.ts); the session watches the playing attempt for stalls, fails
 * it, reconnects with backoff, switches an 'auto' session from UDP to TCP, and tears
 * everything down on close(). Every state change goes through transition(), checked against
 * TRANSITIONS:
 *
 *   idle ──> connecting ──> playing ──> reconnecting ──> connecting ...
 *     │          │  ▲          │  (UDP→TCP)  ▲               │
 *     │          │  └──────────┘             └── connecting ─┘ (failure)
 *     └──────────┴─────────────┴────────── closed (from any state, final)
 */
import { EventEmitter } from 'node:events';
import { CameraError, isTransientHandshakeError } from '../errors';
import { parseRtspUrl, type RtspUrl } from '../rtsp/url';
import { redactText } from '../rtsp/redact';
import { DEFAULT_MAX_FRAME } from '../jpeg/depacketizer';
import type { SdpTrack } from '../sdp/media';
import type { RtspConnection } from '../transport/rtsp-connection';
import { monotonicMs } from '../transport/clock';
import { MediaTrack } from './media-track';
import { Backoff } from './backoff';
import { handshake, newAttempt, trackInfo, FallbackToTcp, type Attempt, type HandshakeHost } from './handshake';
import { RateWindow } from './rate-window';
import type {
  CameraOptions, CameraSessionEvents, CameraState, FrameInfo, StateChange, StatsReport, TrackInfo, TransportMode,
} from './types';

/** RTP must arrive this soon after PLAY over UDP in 'auto' mode, else the session switches to TCP. */
export const AUTO_UDP_TIMEOUT_MS = 3000;
const TEARDOWN_WAIT_MS = 2000;
/** How long a switch to TCP waits for the old session's TEARDOWN reply before connecting again. */
const SWITCH_TEARDOWN_WAIT_MS = 1000;
/**
 * Transient handshake failures (errors.ts isTransientHandshakeError) are retried this many
 * times in a row, after QUICK_RETRY_MS (±20 %) or what a 503's Retry-After asks, before the
 * backoff applies; the state stays 'connecting' meanwhile.
 */
export const QUICK_RETRIES = 3;
export const QUICK_RETRY_MS = 300;

/** The allowed state changes; anything else is a bug, logged and refused. */
const TRANSITIONS: Readonly<Record<CameraState, readonly CameraState[]>> = {
  idle: ['connecting', 'closed'],
  connecting: ['playing', 'reconnecting', 'closed'],
  // 'connecting' from 'playing': an 'auto' session that got no RTP over UDP starts over on TCP
  playing: ['reconnecting', 'connecting', 'closed'],
  reconnecting: ['connecting', 'closed'],
  closed: [],
};

function toCameraError(err: unknown): CameraError {
  if (err instanceof CameraError) return err;
  return new CameraError('protocol error', err instanceof Error ? err.message : String(err));
}

/**
 * 32 random bits for our SSRC and CNAME. RFC 3550 §8.1 asks for a random SSRC so that two
 * receivers rarely collide; that needs no cryptographic strength, and Math.random (seeded by
 * V8 from OS entropy) spares loading node:crypto at start-up, which every process pays for.
 */
function random32(): number {
  return Math.floor(Math.random() * 0x100000000) >>> 0;
}

export class CameraSession extends EventEmitter<CameraSessionEvents> {
  tracks: TrackInfo[] = [];
  latestFrame: { jpeg: Buffer; info: FrameInfo } | null = null;
  /** the UDP receive buffer the OS granted, for diagnostics (0 before UDP) */
  udpRecvBufferSize = 0;

  private current: CameraState = 'idle';
  private readonly opts: CameraOptions;
  private readonly username: string | undefined;
  private readonly password: string | undefined;
  private readonly ssrc = random32();
  /** what the handshake may ask of this session */
  private readonly host: HandshakeHost;
  private readonly startUrl: string;
  private readonly parsed: RtspUrl | null;
  private readonly secrets: string[];
  private readonly backoff: Backoff;
  private readonly cname = `rtsp-mjpeg-${random32().toString(16).padStart(8, '0')}`;
  private transportMode: TransportMode;
  private attempt: Attempt | null = null;
  private attemptSeq = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  /** quick retries since the session last reached 'playing' */
  private quickRetries = 0;
  private tickTimer: NodeJS.Timeout | null = null;
  private closePromise: Promise<void> | null = null;
  private closing = false;
  private readonly lingering = new Set<RtspConnection>();

  private frameIndex = 0;
  private lastFrameAt = 0;
  private droppedBefore = 0;
  private bytesTotal = 0;
  private lastStatsAt = 0;
  private readonly rates = new RateWindow(2000);
  private lastWidth = 0;
  private lastHeight = 0;
  private lastError: CameraError | null = null;
  /** the video depacketizer's oversize count at the last complete frame: tells a stall by
   * frames over maxFrameBytes from one by missing packets */
  private oversizeAtFrame: { from: unknown; count: number } = { from: null, count: 0 };

  constructor(url: string, options: CameraOptions = {}) {
    super();
    this.opts = options;
    this.parsed = parseRtspUrl(url);
    this.username = options.username ?? this.parsed?.username ?? undefined;
    this.password = options.password ?? this.parsed?.password ?? undefined;
    this.secrets = [this.password, this.parsed?.password].filter((s): s is string => typeof s === 'string' && s.length > 0);
    this.startUrl = this.parsed?.clean ?? '';
    this.transportMode = options.transport ?? 'tcp';
    this.backoff = new Backoff({ minMs: options.reconnectMinMs, maxMs: options.reconnectMaxMs });
    const mode = (): TransportMode => this.transportMode;
    this.host = {
      opts: options, username: this.username, password: this.password, ssrc: this.ssrc,
      get mode(): TransportMode { return mode(); },
      log: (level, msg) => this.log(level, msg),
      isLive: (a) => !a.done && !this.closing,
      onConnectionFailure: (a, err) => this.fail(a, err),
      onTracks: (tracks) => {
        this.tracks = tracks;
        this.safeEmit('tracks', tracks);
      },
      makeTrack: (a, t, video) => this.makeTrack(a, t, video),
      onUdpBuffer: (bytes) => { this.udpRecvBufferSize = bytes; },
      onTcpChosen: (why) => {
        // Later reconnects go straight to TCP: a camera that refused UDP once refuses it again.
        this.transportMode = 'tcp';
        this.log('info', `transport tcp (auto): ${why}`);
      },
    };
  }

  /** The camera URL without credentials. */
  get url(): string {
    return this.startUrl;
  }

  get state(): CameraState {
    return this.current;
  }

  /** Starts connecting (openCamera calls it). Idempotent. */
  start(): void {
    if (this.current !== 'idle' || this.closing) return;
    if (!this.parsed) {
      const err = new CameraError('invalid url', 'not an rtsp:// or rtsps:// URL');
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
    // The state is 'connecting' at once; the event and the work wait one tick so that
    // listeners attached right after openCamera() see every change.
    this.transition('connecting', undefined, undefined, 'next tick');
    process.nextTick(() => {
      if (this.closing) return;
      void this.runAttempt();
    });
  }

  /**
   * The one place the state changes. A change missing from TRANSITIONS is refused and logged;
   * `announce: 'next tick'` delays the 'state' event (not the change) by one tick.
   */
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

  /**
   * Ends attempt `a` and starts a new one over TCP on a new connection. The old session is
   * torn down first (its reply awaited, bounded): cameras that serve one client at a time
   * refuse the new one while the old session lives.
   */
  private switchToTcp(a: Attempt, why: string): void {
    if (a.done || this.closing || this.attempt !== a) return;
    this.log('info', `transport tcp (auto): ${why}; switching to TCP on a new connection`);
    this.transportMode = 'tcp';
    const torn = this.cleanupAttempt(a, true, SWITCH_TEARDOWN_WAIT_MS);
    if (this.current === 'playing') this.transition('connecting', undefined);
    void torn.then(() => {
      if (!this.closing && this.attempt === a && this.retryTimer === null) void this.runAttempt();
    });
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void {
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
    if (this.closing) return;
    const a = newAttempt(++this.attemptSeq, this.startUrl);
    this.attempt = a;
    if (this.current !== 'connecting') this.transition('connecting', this.lastError?.reason);
    try {
      await handshake(this.host, a);
    } catch (err) {
      if (err instanceof FallbackToTcp) this.switchToTcp(a, err.message);
      else this.fail(a, toCameraError(err));
      return;
    }
    a.playing = true;
    a.playingSince = monotonicMs();
    this.lastFrameAt = a.playingSince;
    this.backoff.onPlaying(a.playingSince);
    this.lastError = null;
    this.quickRetries = 0;
    if (this.transportMode === 'auto' && a.transport === 'udp') {
      this.log('info', `transport udp (auto): the camera accepted UDP; TCP if no RTP arrives within ${AUTO_UDP_TIMEOUT_MS} ms`);
      a.autoTimer = setTimeout(() => {
        a.autoTimer = null;
        if (a.done || a.tracks.some((t) => t.packets > 0)) return;
        this.switchToTcp(a, `no RTP over UDP within ${AUTO_UDP_TIMEOUT_MS} ms`);
      }, AUTO_UDP_TIMEOUT_MS);
    }
    this.transition('playing');
  }

  private makeTrack(a: Attempt, t: SdpTrack, video: boolean): MediaTrack {
    return new MediaTrack({
      info: trackInfo(t), video, width: this.opts.width, height: this.opts.height, maxFrameBytes: this.opts.maxFrameBytes,
      ssrc: this.ssrc, cname: this.cname, now: monotonicMs,
      onFrame: video ? (f, receivedAt, capturedAt) => this.onFrame(a, f.jpeg, f.width, f.height, f.rtpTimestamp, f.ssrc, receivedAt, capturedAt) : undefined,
      onBye: () => this.fail(a, new CameraError('end of stream', 'the camera ended the stream (RTCP BYE)')),
    });
  }

  // ---------------------------------------------------------------- media

  private onFrame(a: Attempt, jpeg: Buffer, width: number, height: number, rtpTimestamp: number, ssrc: number, receivedAt: number, capturedAt: number | null): void {
    if (a.done) return;
    this.lastFrameAt = monotonicMs();
    this.lastWidth = width;
    this.lastHeight = height;
    this.oversizeAtFrame = { from: a.video?.depacketizer, count: a.video?.depacketizer?.stats.oversize ?? 0 };
    const info: FrameInfo = { index: ++this.frameIndex, width, height, rtpTimestamp, ssrc, receivedAt, capturedAt };
    this.latestFrame = { jpeg, info };
    this.safeEmit('frame', jpeg, info);
  }

  /** One coalesced timer per session: stall watchdog, reorder flush, stats. */
  private tick(): void {
    const now = monotonicMs();
    const a = this.attempt;
    if (a && a.playing && !a.done) {
      for (const t of a.tracks) t.flush();
      const stall = this.opts.stallTimeoutMs ?? 10000;
      if (now - this.lastFrameAt > stall) {
        const secs = Math.round((now - this.lastFrameAt) / 1000);
        const dp = a.video?.depacketizer;
        const big = (dp?.stats.oversize ?? 0) - (this.oversizeAtFrame.from === dp ? this.oversizeAtFrame.count : 0);
        const limit = `${Math.round(((this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME) / 1048576) * 100) / 100} MB`;
        this.fail(a, big > 0
          ? new CameraError('frame too large', `${big} frame${big === 1 ? '' : 's'} over the ${limit} limit dropped, no complete JPEG frame for ${secs} s`)
          : new CameraError('stalled', `no complete JPEG frame for ${secs} s`));
      }
    }
    this.rates.add({ t: now, frames: this.frameIndex, bytes: this.currentBytes() });
    if (now - this.lastStatsAt >= (this.opts.statsIntervalMs ?? 1000) - 1 && this.current !== 'closed') {
      this.lastStatsAt = now;
      this.safeEmit('stats', this.getStats());
    }
  }

  private currentBytes(): number {
    const a = this.attempt;
    let b = this.bytesTotal;
    if (a) for (const t of a.tracks) b += t.bytes;
    return b;
  }

  getStats(): StatsReport {
    const a = this.attempt;
    const v = a?.video ?? null;
    const rec = v?.reception() ?? null;
    const { fps, bitrateKbps } = this.rates.rates({ t: monotonicMs(), frames: this.frameIndex, bytes: this.currentBytes() });
    const d = v?.depacketizer?.stats;
    return {
      ssrc: rec?.ssrc ?? null,
      packetsReceived: rec?.packetsReceived ?? 0,
      packetsExpected: rec?.packetsExpected ?? 0,
      packetsLost: rec?.packetsLost ?? 0,
      fractionLost: rec?.fractionLost ?? 0,
      jitterMs: rec ? Math.round(rec.jitterMs * 1000) / 1000 : 0,
      framesEmitted: this.frameIndex,
      framesDropped: this.droppedBefore + (d?.framesDropped ?? 0),
      fps,
      bitrateKbps,
      senderReport: v?.senderReport ?? null,
      // 'http' is interleaved TCP inside the tunnel; only a user's choice selects it
      transport: a?.transport === 'tcp' && this.transportMode === 'http' ? 'http' : a?.transport ?? null,
      state: this.current,
      bytesReceived: this.currentBytes(),
      width: this.lastWidth || v?.info.width || 0,
      height: this.lastHeight || v?.info.height || 0,
    };
  }

  // ---------------------------------------------------------------- failure, cleanup

  /** Ends the attempt and schedules the next one (or does nothing when already handled). */
  private fail(a: Attempt, err: CameraError): void {
    if (a.done || this.closing || this.attempt !== a) return;
    if (!a.playing && this.quickRetry(a, err)) return;
    void this.cleanupAttempt(a, err.reason === 'stalled' || err.reason === 'frame too large' || err.reason === 'end of stream');
    this.lastError = err;
    this.log('warn', err.message);
    this.emitError(new CameraError(err.reason, redactText(err.message, this.secrets), err.statusCode, err.retryAfterMs));
    if (this.closing) return; // an 'error' listener closed the session
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
  private quickRetry(a: Attempt, err: CameraError): boolean {
    if (!isTransientHandshakeError(err) || this.quickRetries >= QUICK_RETRIES) return false;
    this.quickRetries++;
    // Retry-After is a minimum: jitter only upwards (10 %), so that clients told the same
    // time do not come back in lock-step.
    const delay = err.retryAfterMs !== undefined
      ? Math.round(err.retryAfterMs * (1 + 0.1 * Math.random()))
      : Math.round(QUICK_RETRY_MS * (0.8 + 0.4 * Math.random()));
    void this.cleanupAttempt(a, true);
    this.lastError = err;
    this.log('info', `${err.message}; retrying in ${delay} ms (${this.quickRetries} of ${QUICK_RETRIES})`);
    this.retryTimer = setTimeout(() => void this.runAttempt(), delay);
    return true;
  }

  /**
   * Releases everything of one attempt; optionally sends TEARDOWN first (in the background,
   * bounded by teardownWaitMs). Resolves when the TEARDOWN is answered or given up.
   */
  private cleanupAttempt(a: Attempt, teardown: boolean, teardownWaitMs = 1000): Promise<void> {
    if (a.done) return Promise.resolve();
    a.done = true;
    a.playing = false;
    if (a.autoTimer) clearTimeout(a.autoTimer);
    a.autoTimer = null;
    for (const t of a.tracks) {
      this.bytesTotal += t.bytes;
      this.droppedBefore += t.depacketizer?.stats.framesDropped ?? 0;
      t.close();
    }
    a.tracks = [];
    for (const u of a.udp) u?.close();
    for (const p of a.pairs) p.close();
    a.udp = [];
    a.pairs = [];
    const conn = a.conn;
    a.conn = null;
    if (conn && !conn.isClosed) {
      if (teardown && conn.sessionId !== null) {
        this.lingering.add(conn);
        return conn.teardown(a.aggregate, teardownWaitMs).finally(() => { conn.close(); this.lingering.delete(conn); });
      }
      conn.close();
    }
    return Promise.resolve();
  }

  /**
   * TEARDOWN (waiting at most 2 s), then every socket, timer and port released. Resolves in
   * bounded time even when the camera is gone.
   */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    this.closePromise = (async (): Promise<void> => {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      if (this.tickTimer) clearInterval(this.tickTimer);
      this.tickTimer = null;
      const a = this.attempt;
      if (a && !a.done) {
        const conn = a.conn;
        if (conn && !conn.isClosed && conn.sessionId === null) await conn.whenAnswered('SETUP', TEARDOWN_WAIT_MS);
        if (conn && !conn.isClosed && conn.sessionId !== null) await conn.teardown(a.aggregate, TEARDOWN_WAIT_MS);
        void this.cleanupAttempt(a, false);
      }
      for (const c of this.lingering) c.close();
      this.lingering.clear();
      if (this.current !== 'closed') this.transition('closed', 'closed');
    })();
    return this.closePromise;
  }
}
