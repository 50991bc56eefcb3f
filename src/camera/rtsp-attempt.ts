/**
 * RTSP as a camera source (attempt.ts). An RtspAttempt is the one owner of everything one try
 * at an RTSP camera creates: the RTSP connection, the interleaved channels or the UDP port
 * pairs and their transports, the tracks, and the timer of 'auto' waiting for RTP over UDP.
 * The handshake (handshake.ts) decides what to set up and asks the attempt to create it;
 * close() releases all of it, whichever step the handshake reached.
 *
 * RtspSource makes the attempts of one camera and keeps what outlives them: our RTCP SSRC and
 * CNAME (RFC 3550 §8.1: one per session, kept across reconnects), and the transport, since
 * 'auto' stays on TCP for good once the camera refused UDP (it would refuse it again).
 */
import { CameraError } from '../errors';
import { RtspConnection } from '../transport/rtsp-connection';
import { httpTunnelTarget } from '../transport/tunnel/target';
import { InterleavedTransport } from '../transport/interleaved';
import { UdpTrackTransport, openMulticastPair, type UdpTrackOptions } from '../transport/udp';
import { allocateUdpPair, type UdpPair } from '../transport/port-allocator';
import { DEFAULT_UDP_PORT_RANGE } from '../rtp/port-range';
import { monotonicMs } from '../transport/clock';
import type { RtspUrl } from '../rtsp/url';
import type { SdpTrack } from '../sdp/media';
import { MediaTrack } from './media-track';
import { handshake, trackInfo, FallbackToTcp, type ActiveTransport, type HandshakeAttempt, type HandshakeHost } from './handshake';
import { RestartAttempt, type AttemptHost, type AttemptSource, type AttemptStats, type ConnectionAttempt } from './attempt';
import type { CameraOptions, TransportMode } from './types';

/** RTP must arrive this soon after PLAY over UDP in 'auto' mode, else the attempt is replaced by one over TCP. */
export const AUTO_UDP_TIMEOUT_MS = 3000;

/**
 * 32 random bits for our SSRC and CNAME. RFC 3550 §8.1 asks for a random SSRC so that two
 * receivers rarely collide; that needs no cryptographic strength, and Math.random (seeded by
 * V8 from OS entropy) spares loading node:crypto at start-up, which every process pays for.
 */
function random32(): number {
  return Math.floor(Math.random() * 0x100000000) >>> 0;
}

export class RtspSource implements AttemptSource {
  /** 'auto' becomes 'tcp' once the camera refused UDP or sent none over it */
  mode: TransportMode;
  readonly ssrc = random32();
  readonly cname = `rtsp-mjpeg-${random32().toString(16).padStart(8, '0')}`;
  /** the UDP receive buffer the OS granted the last pair, for diagnostics (0 before UDP) */
  udpRecvBufferSize = 0;

  /** `url`: the camera URL without credentials */
  constructor(readonly url: string, readonly opts: CameraOptions, readonly username: string | undefined, readonly password: string | undefined) {
    this.mode = opts.transport ?? 'tcp';
  }

  newAttempt(id: number, host: AttemptHost): RtspAttempt {
    return new RtspAttempt(id, this, host);
  }
}

export class RtspAttempt implements ConnectionAttempt, HandshakeAttempt {
  url: string;
  aggregate: string;
  transport: ActiveTransport | null = null;
  nextChannel = 0;
  private conn: RtspConnection | null = null;
  private readonly tracks: MediaTrack[] = [];
  private video: MediaTrack | null = null;
  /** by track index (a track over TCP has none) */
  private readonly udp: (UdpTrackTransport | undefined)[] = [];
  private readonly pairs: UdpPair[] = [];
  private interleaved: InterleavedTransport | null = null;
  /** by track index: the channel its RTCP goes back on (interleaved) */
  private readonly rtcpChannels: number[] = [];
  private autoTimer: NodeJS.Timeout | null = null;
  /** set by close(): from then on nothing is created and the host hears nothing */
  private closed: Promise<void> | null = null;
  private readonly handshakeHost: HandshakeHost;

  constructor(readonly id: number, private readonly source: RtspSource, private readonly host: AttemptHost) {
    this.url = source.url;
    this.aggregate = source.url;
    const setupAudio = source.opts.setupAudio === true;
    this.handshakeHost = {
      get mode(): TransportMode { return source.mode; },
      setupAudio,
      log: (level, msg) => host.log(level, msg),
      onTracks: (list) => host.tracks(this, list),
      onTcpChosen: (why) => {
        source.mode = 'tcp';
        host.log('info', `transport tcp (auto): ${why}`);
      },
    };
  }

  // ---------------------------------------------------------------- ConnectionAttempt

  async open(): Promise<void> {
    try {
      await handshake(this.handshakeHost, this);
    } catch (err) {
      throw err instanceof FallbackToTcp ? this.giveUpUdp(err.message) : err;
    }
    this.checkLive();
    if (this.source.mode === 'auto' && this.transport === 'udp') {
      this.host.log('info', `transport udp (auto): the camera accepted UDP; TCP if no RTP arrives within ${AUTO_UDP_TIMEOUT_MS} ms`);
      this.autoTimer = setTimeout(() => {
        this.autoTimer = null;
        if (this.closed !== null || this.tracks.some((t) => t.packets > 0)) return;
        this.giveUpUdp(`no RTP over UDP within ${AUTO_UDP_TIMEOUT_MS} ms`);
        this.host.restart(this);
      }, AUTO_UDP_TIMEOUT_MS);
    }
  }

  flush(): void {
    for (const t of this.tracks) t.flush();
  }

  get bytesReceived(): number {
    let b = 0;
    for (const t of this.tracks) b += t.bytes;
    return b;
  }

  get oversizeFrames(): number {
    return this.video?.depacketizer?.stats.oversize ?? 0;
  }

  stats(): AttemptStats {
    const v = this.video;
    const rec = v?.reception() ?? null;
    return {
      ssrc: rec?.ssrc ?? null,
      packetsReceived: rec?.packetsReceived ?? 0,
      packetsExpected: rec?.packetsExpected ?? 0,
      packetsLost: rec?.packetsLost ?? 0,
      fractionLost: rec?.fractionLost ?? 0,
      jitterMs: rec ? Math.round(rec.jitterMs * 1000) / 1000 : 0,
      framesDropped: v?.depacketizer?.stats.framesDropped ?? 0,
      senderReport: v?.senderReport ?? null,
      // 'http' is interleaved TCP inside the tunnel; only a user's choice selects it
      transport: this.transport === 'tcp' && this.source.mode === 'http' ? 'http' : this.transport,
      width: v?.info.width ?? 0,
      height: v?.info.height ?? 0,
    };
  }

  close(teardownWaitMs?: number): Promise<void> {
    if (this.closed !== null) {
      if (teardownWaitMs === undefined) this.conn?.close(); // cuts a TEARDOWN wait short
      return this.closed;
    }
    if (this.autoTimer) clearTimeout(this.autoTimer);
    this.autoTimer = null;
    // No media into the tracks any more: their counters stay as they were for the stats.
    if (this.interleaved) this.interleaved.enabled = false;
    for (const t of this.tracks) t.close();
    for (const u of this.udp) u?.close();
    for (const p of this.pairs) p.close();
    const conn = this.conn;
    if (conn && !conn.isClosed && teardownWaitMs !== undefined) {
      this.closed = this.teardown(conn, teardownWaitMs);
    } else {
      conn?.close();
      this.closed = Promise.resolve();
    }
    return this.closed;
  }

  /**
   * A SETUP in flight is waited for (the server creates the session when it answers, and a
   * session we never learn the id of cannot be torn down: it would hold one of the camera's,
   * often few, stream slots until its timeout), then TEARDOWN; each waits at most waitMs.
   */
  private async teardown(conn: RtspConnection, waitMs: number): Promise<void> {
    if (conn.sessionId === null) await conn.whenAnswered('SETUP', waitMs);
    if (!conn.isClosed && conn.sessionId !== null) await conn.teardown(this.aggregate, waitMs);
    conn.close();
  }

  /** 'auto' gives up UDP for this camera: this attempt is replaced by one over TCP, and so are later ones. */
  private giveUpUdp(why: string): RestartAttempt {
    this.source.mode = 'tcp';
    this.host.log('info', `transport tcp (auto): ${why}; switching to TCP on a new connection`);
    return new RestartAttempt(why);
  }

  private failed(err: CameraError): void {
    if (this.closed === null) this.host.fail(this, err);
  }

  // ---------------------------------------------------------------- HandshakeAttempt

  get trackCount(): number {
    return this.tracks.length;
  }

  checkLive(): void {
    if (this.closed !== null) throw new CameraError('closed', 'session closed');
  }

  async connect(u: RtspUrl): Promise<RtspConnection> {
    const { opts, username, password } = this.source;
    // RTSP over HTTP: port 80 (443 for rtsps) unless the URL names one; the path is the HTTP target.
    const tunnel = this.source.mode === 'http' ? httpTunnelTarget(u) : null;
    const conn = await RtspConnection.connect({
      host: u.host, port: tunnel?.port ?? u.port, secure: u.secure, httpTunnel: tunnel ? { path: tunnel.path } : undefined,
      username, password,
      requestTimeoutMs: opts.requestTimeoutMs, tlsFingerprint256: opts.tlsFingerprint256,
      tlsAllowSelfSigned: opts.tlsAllowSelfSigned, logger: opts.logger ? (l, m) => this.host.log(l, m) : undefined,
      onInterleaved: (ch, data, start, end, arrivalMs) => this.interleaved?.dispatch(ch, data, start, end, arrivalMs),
      onClose: (err) => this.failed(err),
      onKeepAliveFailure: (err) => this.failed(err),
    });
    if (this.closed !== null) {
      conn.close();
      throw new CameraError('closed', 'session closed');
    }
    this.conn = conn;
    return conn;
  }

  dropConnection(): void {
    this.conn?.close();
    this.conn = null;
  }

  newTrack(t: SdpTrack, video: boolean): MediaTrack {
    const { opts, ssrc, cname } = this.source;
    return new MediaTrack({
      info: trackInfo(t), video, width: opts.width, height: opts.height, maxFrameBytes: opts.maxFrameBytes,
      ssrc, cname, now: monotonicMs,
      onFrame: video
        ? (f, receivedAt, capturedAt) => { if (this.closed === null) this.host.frame(this, f.jpeg, f.width, f.height, f.rtpTimestamp, f.ssrc, receivedAt, capturedAt); }
        : undefined,
      onBye: () => this.failed(new CameraError('end of stream', 'the camera ended the stream (RTCP BYE)')),
    });
  }

  addTrack(track: MediaTrack, video: boolean): void {
    this.tracks.push(track);
    if (video) this.video = track;
  }

  useInterleaved(): void {
    const conn = this.conn!;
    this.transport = 'tcp';
    this.interleaved = new InterleavedTransport((ch, p) => conn.sendInterleaved(ch, p));
  }

  bindInterleaved(track: MediaTrack, [rtpCh, rtcpCh]: [number, number]): void {
    this.interleaved!.bind(rtpCh, rtcpCh, track);
    this.rtcpChannels[this.tracks.length] = rtcpCh;
    this.nextChannel = Math.max(rtpCh, rtcpCh) + 1;
  }

  async allocatePair(family: 'udp4' | 'udp6'): Promise<UdpPair> {
    const pair = await allocateUdpPair({ range: this.source.opts.udpPortRange ?? DEFAULT_UDP_PORT_RANGE, family });
    this.source.udpRecvBufferSize = pair.recvBufferSize;
    return this.hold(pair);
  }

  releasePair(pair: UdpPair): void {
    pair.close();
    const i = this.pairs.indexOf(pair);
    if (i >= 0) this.pairs.splice(i, 1);
  }

  async openMulticast(group: string, rtpPort: number, rtcpPort: number): Promise<UdpPair> {
    return this.hold(await openMulticastPair(group, rtpPort, rtcpPort));
  }

  /** A pair opened while the attempt was closing is closed at once. */
  private hold(pair: UdpPair): UdpPair {
    if (this.closed !== null) {
      pair.close();
      throw new CameraError('closed', 'session closed');
    }
    this.pairs.push(pair);
    return pair;
  }

  addUdp(o: UdpTrackOptions): void {
    this.udp[this.tracks.length] = new UdpTrackTransport(o);
  }

  acceptMedia(): void {
    if (this.interleaved) this.interleaved.enabled = true;
    for (const u of this.udp) u?.punch(this.source.ssrc);
  }

  /** Keep-alives to the aggregate URL and RTCP receiver reports on each track's return path. */
  startMedia(): void {
    this.conn!.startKeepAlive(this.aggregate);
    for (let i = 0; i < this.tracks.length; i++) {
      const t = this.tracks[i]!;
      const u = this.udp[i];
      if (u) t.startRtcp((p) => u.sendRtcp(p));
      else if (this.interleaved && this.rtcpChannels[i] !== undefined) t.startRtcp(this.interleaved.rtcpSender(this.rtcpChannels[i]!));
    }
  }
}
