/**
 * CameraSession: one camera's whole lifecycle. It runs the RTSP handshake (OPTIONS, DESCRIBE,
 * SETUP, PLAY — RFC 2326 §10), wires the media transport (TCP interleaved, UDP, multicast) to
 * the per-track pipelines, watches for stalls, reconnects with backoff, and tears everything
 * down on close(). States: idle → connecting → playing → reconnecting → … → closed.
 */
import { EventEmitter } from 'node:events';
import { CameraError, rtspStatusError } from '../errors';
import { RtspConnection } from '../rtsp/session';
import { header, type RtspResponse } from '../rtsp/message';
import { parseRtspUrl, chooseBaseUrl, keepConnectionHost, type RtspUrl } from '../rtsp/url';
import { redactText } from '../rtsp/redact';
import { parseTransport, type TransportSpec } from '../rtsp/transport-header';
import { parseSdp, type SdpTrack } from '../sdp/media';
import { InterleavedTransport } from '../transport/interleaved';
import { UdpTrackTransport, openMulticastPair } from '../transport/udp';
import { allocateUdpPair, DEFAULT_UDP_PORT_RANGE, type UdpPair } from '../transport/port-allocator';
import { monotonicMs } from '../transport/clock';
import { MediaTrack } from './media-track';
import { Backoff } from './backoff';
import type {
  CameraOptions, CameraSessionEvents, CameraState, FrameInfo, StateChange, StatsReport, TrackInfo, TransportMode,
} from './types';

/** RTP must arrive this soon after PLAY over UDP in 'auto' mode, else fall back to TCP (notes §6). */
export const AUTO_UDP_TIMEOUT_MS = 3000;
const MAX_REDIRECTS = 3;
const TEARDOWN_WAIT_MS = 2000;
const FPS_WINDOW_MS = 2000;

type ActiveTransport = 'tcp' | 'udp' | 'multicast';

/** Thrown inside a handshake to switch an 'auto' session from UDP to TCP. */
class FallbackToTcp extends Error {}

interface Attempt {
  id: number;
  conn: RtspConnection | null;
  url: string;
  aggregate: string;
  tracks: MediaTrack[];
  video: MediaTrack | null;
  udp: UdpTrackTransport[];
  pairs: UdpPair[];
  interleaved: InterleavedTransport | null;
  transport: ActiveTransport | null;
  playing: boolean;
  playingSince: number;
  done: boolean;
  autoTimer: NodeJS.Timeout | null;
  /** interleaved: next channel pair to ask for, and each track's RTCP channel */
  nextChannel: number;
  rtcpChannels: number[];
}

function statusError(method: string, res: RtspResponse, url: string): CameraError {
  return rtspStatusError(method, res.statusCode, res.reason, url);
}

function toCameraError(err: unknown): CameraError {
  if (err instanceof CameraError) return err;
  return new CameraError('protocol error', err instanceof Error ? err.message : String(err));
}

/**
 * 32 random bits for our SSRC and CNAME. RFC 3550 §8.1 asks for a random SSRC so that two
 * receivers rarely collide; that needs no cryptographic strength, and Math.random (seeded by
 * V8 from OS entropy) spares loading node:crypto at start-up (issue 8).
 */
function random32(): number {
  return Math.floor(Math.random() * 0x100000000) >>> 0;
}

function trackInfo(t: SdpTrack): TrackInfo {
  return { kind: t.kind, encoding: t.encoding, payloadType: t.payloadType, clockRate: t.clockRate, control: t.control, width: t.width, height: t.height, fps: t.fps };
}

export class CameraSession extends EventEmitter<CameraSessionEvents> {
  state: CameraState = 'idle';
  tracks: TrackInfo[] = [];
  latestFrame: { jpeg: Buffer; info: FrameInfo } | null = null;

  private readonly opts: CameraOptions;
  private readonly startUrl: string;
  private readonly parsed: RtspUrl | null;
  private readonly username: string | undefined;
  private readonly password: string | undefined;
  private readonly secrets: string[];
  private readonly backoff: Backoff;
  private readonly ssrc = random32();
  private readonly cname = `rtsp-mjpeg-${random32().toString(16).padStart(8, '0')}`;
  private mode: TransportMode;
  private attempt: Attempt | null = null;
  private attemptSeq = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private closePromise: Promise<void> | null = null;
  private closing = false;
  private readonly lingering = new Set<RtspConnection>();

  private frameIndex = 0;
  private lastFrameAt = 0;
  private droppedBefore = 0;
  private bytesTotal = 0;
  private lastStatsAt = 0;
  private readonly samples: { t: number; frames: number; bytes: number }[] = [];
  private lastWidth = 0;
  private lastHeight = 0;
  private lastError: CameraError | null = null;
  /** the UDP receive buffer the OS granted, for diagnostics (0 before UDP) */
  udpRecvBufferSize = 0;

  constructor(url: string, options: CameraOptions = {}) {
    super();
    this.opts = options;
    this.parsed = parseRtspUrl(url);
    this.username = options.username ?? this.parsed?.username ?? undefined;
    this.password = options.password ?? this.parsed?.password ?? undefined;
    this.secrets = [this.password, this.parsed?.password].filter((s): s is string => typeof s === 'string' && s.length > 0);
    this.startUrl = this.parsed?.clean ?? '';
    this.mode = options.transport ?? 'tcp';
    this.backoff = new Backoff({ minMs: options.reconnectMinMs, maxMs: options.reconnectMaxMs });
  }

  /** The camera URL without credentials. */
  get url(): string {
    return this.startUrl;
  }

  /** Starts connecting (openCamera calls it). Idempotent. */
  start(): void {
    if (this.state !== 'idle' || this.closing) return;
    if (!this.parsed) {
      const err = new CameraError('invalid url', 'not an rtsp:// or rtsps:// URL');
      this.lastError = err;
      this.emitError(err);
      this.setState({ state: 'closed', reason: 'invalid url' });
      return;
    }
    const tick = Math.max(50, Math.min(500, this.opts.statsIntervalMs ?? 1000));
    this.tickTimer = setInterval(() => this.tick(), tick);
    this.tickTimer.unref();
    this.lastStatsAt = monotonicMs();
    this.samples.push({ t: this.lastStatsAt, frames: 0, bytes: 0 });
    // The state is 'connecting' at once; the event and the work wait one tick so that
    // listeners attached right after openCamera() see every change.
    this.state = 'connecting';
    process.nextTick(() => {
      if (this.closing) return;
      this.setState({ state: 'connecting' });
      void this.runAttempt();
    });
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void {
    this.opts.logger?.(level, redactText(msg, this.secrets));
  }

  private setState(change: StateChange): void {
    this.state = change.state;
    this.safeEmit('state', change);
  }

  private safeEmit<K extends keyof CameraSessionEvents>(event: K, ...args: CameraSessionEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: CameraSessionEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      // A throwing listener must not kill the socket handler that called us (notes §4.9).
      this.log('error', `a '${String(event)}' listener threw: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private emitError(err: CameraError): void {
    if (this.listenerCount('error') > 0) this.safeEmit('error', err);
  }

  // ---------------------------------------------------------------- handshake

  private newAttempt(): Attempt {
    const a: Attempt = {
      id: ++this.attemptSeq, conn: null, url: this.startUrl, aggregate: this.startUrl, tracks: [], video: null, udp: [], pairs: [],
      interleaved: null, transport: null, playing: false, playingSince: 0, done: false, autoTimer: null, nextChannel: 0, rtcpChannels: [],
    };
    this.attempt = a;
    return a;
  }

  private async runAttempt(): Promise<void> {
    this.retryTimer = null;
    if (this.closing) return;
    const a = this.newAttempt();
    if (this.state !== 'connecting') this.setState({ state: 'connecting', reason: this.lastError?.reason });
    try {
      await this.handshake(a);
    } catch (err) {
      if (err instanceof FallbackToTcp) {
        this.log('info', 'no UDP media; switching to TCP');
        this.mode = 'tcp';
        this.cleanupAttempt(a, true);
        void this.runAttempt();
        return;
      }
      this.fail(a, toCameraError(err));
    }
  }

  private checkAlive(a: Attempt): void {
    if (a.done || this.closing) throw new CameraError('closed', 'session closed');
  }

  private async open(a: Attempt, u: RtspUrl): Promise<RtspConnection> {
    const conn = await RtspConnection.connect({
      host: u.host, port: u.port, secure: u.secure, username: this.username, password: this.password,
      requestTimeoutMs: this.opts.requestTimeoutMs, tlsFingerprint256: this.opts.tlsFingerprint256,
      tlsAllowSelfSigned: this.opts.tlsAllowSelfSigned, logger: this.opts.logger ? (l, m) => this.log(l, m) : undefined,
      onInterleaved: (ch, data, start, end) => a.interleaved?.dispatch(ch, data, start, end),
      onClose: (err) => this.fail(a, err),
      onKeepAliveFailure: (err) => this.fail(a, err),
    });
    if (a.done || this.closing) {
      conn.close();
      throw new CameraError('closed', 'session closed');
    }
    a.conn = conn;
    return conn;
  }

  private async handshake(a: Attempt): Promise<void> {
    let url = this.startUrl;
    let conn: RtspConnection;
    let described: RtspResponse;
    for (let hops = 0; ; hops++) {
      const u = parseRtspUrl(url);
      if (!u) throw new CameraError('invalid url', 'invalid redirect target');
      conn = await this.open(a, u);
      // OPTIONS failing (404/501 on some cameras) only means "no Public header" (pitfall 21).
      const opt = await conn.request('OPTIONS', url, [], { noSession: true });
      this.checkAlive(a);
      if (opt.statusCode >= 300) this.log('debug', `OPTIONS answered ${opt.statusCode}; continuing`);
      described = await conn.request('DESCRIBE', url, [['Accept', 'application/sdp']]);
      this.checkAlive(a);
      const s = described.statusCode;
      if (s === 301 || s === 302 || s === 303 || s === 307) {
        const target = this.redirectTarget(url, u, header(described.headers, 'Location'), hops);
        conn.close();
        a.conn = null;
        url = target;
        continue;
      }
      if (s < 200 || s >= 300) throw statusError('DESCRIBE', described, url);
      break;
    }
    a.url = url;
    const base = chooseBaseUrl({ contentBase: header(described.headers, 'Content-Base'), contentLocation: header(described.headers, 'Content-Location'), requestUrl: url });
    const desc = parseSdp(described.body.toString('utf8'), base);
    if (!desc) throw new CameraError('protocol error', 'DESCRIBE: the SDP could not be parsed');
    for (const t of desc.tracks) t.control = keepConnectionHost(t.control, url);
    this.tracks = desc.tracks.map(trackInfo);
    this.safeEmit('tracks', this.tracks);
    const video = desc.tracks.find((t) => t.kind === 'video' && t.encoding === 'JPEG');
    if (!video) {
      const v = desc.tracks.find((t) => t.kind === 'video');
      throw new CameraError('unsupported codec', v ? `the video track is ${v.encoding || `payload type ${v.payloadType}`}, not Motion-JPEG` : 'the camera offers no video track');
    }
    a.aggregate = keepConnectionHost(desc.sessionControl || base, url);
    const audio = desc.tracks.find((t) => t.kind === 'audio' && t.clockRate > 0) ?? null;

    const transport: ActiveTransport = this.mode === 'tcp' ? 'tcp' : this.mode === 'multicast' ? 'multicast' : 'udp';
    a.transport = transport;
    if (transport === 'tcp') a.interleaved = new InterleavedTransport(conn);
    await this.setupTrack(a, conn, video, true);
    if (audio && this.opts.setupAudio) await this.setupTrack(a, conn, audio, false);

    let play = await this.play(a, conn);
    if ((play.statusCode < 200 || play.statusCode >= 300) && play.statusCode !== 454 && audio && !this.opts.setupAudio && a.tracks.length === 1) {
      // Some cameras refuse PLAY until every track is set up.
      this.log('info', `PLAY answered ${play.statusCode}; setting up the audio track too`);
      await this.setupTrack(a, conn, audio, false);
      play = await this.play(a, conn);
    }
    if (play.statusCode < 200 || play.statusCode >= 300) throw statusError('PLAY', play, a.aggregate);

    a.playing = true;
    a.playingSince = monotonicMs();
    this.lastFrameAt = a.playingSince;
    this.backoff.onPlaying(a.playingSince);
    this.lastError = null;
    conn.startKeepAlive(a.aggregate);
    for (let i = 0; i < a.tracks.length; i++) {
      const t = a.tracks[i]!;
      const u = a.udp[i];
      if (u) t.startRtcp((p) => u.sendRtcp(p));
      else if (a.interleaved && a.rtcpChannels[i] !== undefined) t.startRtcp(a.interleaved.rtcpSender(a.rtcpChannels[i]!));
    }
    if (this.mode === 'auto' && transport === 'udp') {
      a.autoTimer = setTimeout(() => {
        a.autoTimer = null;
        if (a.done || a.tracks.some((t) => t.packets > 0)) return;
        this.log('info', `no RTP over UDP within ${AUTO_UDP_TIMEOUT_MS} ms; switching to TCP`);
        this.mode = 'tcp';
        this.cleanupAttempt(a, true);
        void this.runAttempt();
      }, AUTO_UDP_TIMEOUT_MS);
    }
    this.setState({ state: 'playing' });
  }

  private redirectTarget(current: string, cur: RtspUrl, location: string | undefined, hops: number): string {
    if (hops >= MAX_REDIRECTS) throw new CameraError('redirect refused', `more than ${MAX_REDIRECTS} redirects`);
    if (!location) throw new CameraError('protocol error', 'redirect without a Location header');
    const abs = location.startsWith('/') ? keepConnectionHost(`${cur.secure ? 'rtsps' : 'rtsp'}://${cur.host}${location}`, current) : location.trim();
    const t = parseRtspUrl(abs);
    if (!t) throw new CameraError('redirect refused', 'redirect to a non-RTSP location');
    // Same host only, so the credentials never travel elsewhere; never downgrade TLS (notes §4.6).
    if (t.host.toLowerCase() !== cur.host.toLowerCase()) throw new CameraError('redirect refused', `redirect to another host (${t.host}) refused`);
    if (cur.secure && !t.secure) throw new CameraError('redirect refused', 'redirect from rtsps to rtsp refused');
    this.log('info', `redirected to ${t.clean}`);
    return t.clean;
  }

  private async play(a: Attempt, conn: RtspConnection): Promise<RtspResponse> {
    // Accept media from now on; earlier `$` data is ignored (pitfall 27).
    if (a.interleaved) a.interleaved.enabled = true;
    for (let i = 0; i < a.udp.length; i++) a.udp[i]!.punch(this.ssrc);
    const res = await conn.request('PLAY', a.aggregate, [['Range', 'npt=0.000-']]);
    this.checkAlive(a);
    return res;
  }

  private makeTrack(a: Attempt, t: SdpTrack, video: boolean): MediaTrack {
    return new MediaTrack({
      info: trackInfo(t), video, width: this.opts.width, height: this.opts.height, maxFrameBytes: this.opts.maxFrameBytes,
      ssrc: this.ssrc, cname: this.cname, now: monotonicMs,
      onFrame: video ? (f, receivedAt, capturedAt) => this.onFrame(a, f.jpeg, f.width, f.height, f.rtpTimestamp, f.ssrc, receivedAt, capturedAt) : undefined,
      onBye: () => this.fail(a, new CameraError('end of stream', 'the camera ended the stream (RTCP BYE)')),
    });
  }

  private async setupTrack(a: Attempt, conn: RtspConnection, t: SdpTrack, video: boolean): Promise<void> {
    const track = this.makeTrack(a, t, video);
    const idx = a.tracks.length;
    if (a.transport === 'tcp') {
      const ch = a.nextChannel;
      const res = await conn.request('SETUP', t.control, [['Transport', `RTP/AVP/TCP;unicast;interleaved=${ch}-${ch + 1}`]]);
      this.checkAlive(a);
      if (res.statusCode < 200 || res.statusCode >= 300) throw statusError('SETUP', res, t.control);
      const spec = this.replyTransport(res);
      // Use the channels the server chose (scenario 26).
      const [rtpCh, rtcpCh] = spec?.interleaved ?? [ch, ch + 1];
      a.interleaved!.bind(rtpCh, rtcpCh, track);
      a.rtcpChannels[idx] = rtcpCh;
      a.nextChannel = Math.max(rtpCh, rtcpCh) + 1;
      a.tracks.push(track);
      if (video) a.video = track;
      return;
    }
    let pair: UdpPair;
    let transportValue: string;
    if (a.transport === 'multicast') {
      transportValue = 'RTP/AVP;multicast';
      pair = null as unknown as UdpPair;
    } else {
      pair = await allocateUdpPair({
        range: this.opts.udpPortRange ?? DEFAULT_UDP_PORT_RANGE,
        family: conn.remoteAddress.includes(':') ? 'udp6' : 'udp4',
      });
      a.pairs.push(pair);
      this.udpRecvBufferSize = pair.recvBufferSize;
      this.checkAlive(a);
      transportValue = `RTP/AVP;unicast;client_port=${pair.rtpPort}-${pair.rtcpPort}`;
    }
    const res = await conn.request('SETUP', t.control, [['Transport', transportValue]]);
    this.checkAlive(a);
    if (res.statusCode === 461 && this.mode === 'auto') throw new FallbackToTcp();
    if (res.statusCode < 200 || res.statusCode >= 300) throw statusError('SETUP', res, t.control);
    const spec = this.replyTransport(res);
    if (spec && (spec.interleaved !== undefined || spec.protocol.endsWith('/TCP'))) {
      // The server insists on TCP: switch on a fresh connection (pitfall 24).
      if (this.mode === 'auto') throw new FallbackToTcp();
      throw new CameraError('unsupported transport', 'the camera answered a UDP SETUP with TCP');
    }
    const server = conn.remoteAddress;
    if (spec?.source && spec.source.replace(/^::ffff:/, '') !== server) {
      this.log('warn', 'Transport source differs from the RTSP server address; only the server address is accepted');
    }
    if (a.transport === 'multicast') {
      const group = spec?.destination ?? t.multicast?.address;
      const ports = spec?.port ?? (t.multicast ? [t.multicast.port, t.multicast.port + 1] as [number, number] : undefined);
      if (!group || !ports) throw new CameraError('unsupported transport', 'the camera offered no multicast group');
      pair = await openMulticastPair(group, ports[0], ports[1]);
      a.pairs.push(pair);
      if (a.done || this.closing) throw new CameraError('closed', 'session closed');
      a.udp[idx] = new UdpTrackTransport({ pair, serverAddress: server, serverRtpPort: null, serverRtcpPort: ports[1], sink: track, multicastGroup: group });
    } else {
      const sp = spec?.serverPort;
      a.udp[idx] = new UdpTrackTransport({
        pair, serverAddress: server,
        serverRtpPort: sp && sp[0] > 0 ? sp[0] : null,
        serverRtcpPort: sp && sp[1] > 0 ? sp[1] : sp && sp[0] > 0 ? sp[0] + 1 : null,
        sink: track,
      });
    }
    a.tracks.push(track);
    if (video) a.video = track;
  }

  private replyTransport(res: RtspResponse): TransportSpec | null {
    const v = header(res.headers, 'Transport');
    if (!v) return null;
    return parseTransport(v)[0] ?? null;
  }

  // ---------------------------------------------------------------- media

  private onFrame(a: Attempt, jpeg: Buffer, width: number, height: number, rtpTimestamp: number, ssrc: number, receivedAt: number, capturedAt: number | null): void {
    if (a.done) return;
    this.lastFrameAt = monotonicMs();
    this.lastWidth = width;
    this.lastHeight = height;
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
        this.fail(a, new CameraError('stalled', `no complete JPEG frame for ${Math.round((now - this.lastFrameAt) / 1000)} s`));
      }
    }
    const frames = this.frameIndex;
    const bytes = this.currentBytes();
    this.samples.push({ t: now, frames, bytes });
    while (this.samples.length > 2 && now - this.samples[1]!.t >= FPS_WINDOW_MS) this.samples.shift();
    if (now - this.lastStatsAt >= (this.opts.statsIntervalMs ?? 1000) - 1 && this.state !== 'closed') {
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
    let fps = 0;
    let kbps = 0;
    const first = this.samples[0];
    // the window ends now, so a short grab still gets a rate
    const last = { t: monotonicMs(), frames: this.frameIndex, bytes: this.currentBytes() };
    if (first && last.t - first.t >= 200) {
      const dt = (last.t - first.t) / 1000;
      fps = Math.round(((last.frames - first.frames) / dt) * 100) / 100;
      kbps = Math.round((((last.bytes - first.bytes) * 8) / 1000 / dt) * 10) / 10;
    }
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
      bitrateKbps: kbps,
      senderReport: v?.senderReport ?? null,
      transport: a?.transport ?? null,
      state: this.state,
      bytesReceived: this.currentBytes(),
      width: this.lastWidth || v?.info.width || 0,
      height: this.lastHeight || v?.info.height || 0,
    };
  }

  // ---------------------------------------------------------------- failure, cleanup

  /** Ends the attempt and schedules the next one (or does nothing when already handled). */
  private fail(a: Attempt, err: CameraError): void {
    if (a.done || this.closing || this.attempt !== a) return;
    this.cleanupAttempt(a, err.reason === 'stalled' || err.reason === 'end of stream');
    this.lastError = err;
    this.log('warn', err.message);
    this.emitError(new CameraError(err.reason, redactText(err.message, this.secrets), err.statusCode));
    if (this.closing) return; // an 'error' listener closed the session
    const delay = this.backoff.next(err.reason, monotonicMs());
    // Timer first: a listener may call close() from inside the state event, and close() must find it.
    this.retryTimer = setTimeout(() => void this.runAttempt(), delay);
    this.setState({ state: 'reconnecting', reason: err.reason, retryInMs: delay });
  }

  /** Releases everything of one attempt; optionally sends TEARDOWN first (bounded, in the background). */
  private cleanupAttempt(a: Attempt, teardown: boolean): void {
    if (a.done) return;
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
        void conn.teardown(a.aggregate, 1000).finally(() => { conn.close(); this.lingering.delete(conn); });
      } else {
        conn.close();
      }
    }
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
        this.cleanupAttempt(a, false);
      }
      for (const c of this.lingering) c.close();
      this.lingering.clear();
      if (this.state !== 'closed') this.setState({ state: 'closed', reason: 'closed' });
    })();
    return this.closePromise;
  }
}
