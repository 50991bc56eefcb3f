/**
 * The built-in demo camera: a small RTSP/1.0 server (RFC 2326) streaming Motion-JPEG over
 * RTP (RFC 3550, RFC 2435) with RTCP sender reports, modeled on what GStreamer's
 * rtsp-server sends, so that tests against it carry over to real servers. Used by `npm start`, by tests as a fault-injecting
 * server, and by benchmarks (replay mode).
 *
 * One shared media source feeds every session (like a camera): same SSRC, sequence numbers
 * and timestamps for all clients. Transport per session: UDP (client_port → server_port
 * pair) or TCP interleaved on the RTSP connection. Everything is bound to `host`
 * (127.0.0.1 by default) and close() releases every socket and timer.
 */
import * as net from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import type * as dgram from 'node:dgram';
import { RtspReader, serializeResponse, header, interleavedFrame, interleavedFrames, type RtspRequest } from '../rtsp/message';
import { digestChallenge, verifyAuthorization } from '../rtsp/auth';
import { parseTransport, type TransportSpec } from '../rtsp/transport-header';
import { buildSenderReportCompound, buildBye } from '../rtcp/build';
import { parseRtcpCompound } from '../rtcp/packet';
import { allocateUdpPair, type UdpPair } from '../transport/port-allocator';
import { AudioSource, VideoSource, wallClockMs } from './media-source';
import { applyPacketFaults, type PacketFaultCounters } from './packet-faults';
import { buildDemoSdp } from './demo-sdp';
import { Pacer } from './pacer';

export interface DemoCameraFaults {
  lossPercent?: number;
  /** swap adjacent packets sometimes */
  reorder?: boolean;
  duplicatePercent?: number;
  /** close every RTSP connection this long after it was accepted (or after setFaults for open ones) */
  dropConnectionAfterMs?: number;
  /** refuse the next N TCP connections (close at once) */
  refuseConnections?: number;
  /** answer the next keep-alive with 401 + new nonce (one shot) */
  keepAlive401?: boolean;
  /** answer the next keep-alive with 454 and drop that session (one shot) */
  keepAlive454?: boolean;
  /** switch to a new SSRC after this many frames from setFaults (one shot) */
  changeSsrcAfterFrames?: number;
  /** the next frame's second half carries another RTP timestamp (one shot) */
  midFrameTimestampChange?: boolean;
  /** send RTCP BYE once (then keep streaming) */
  sendBye?: boolean;
  /** stop sending RTP while keeping the session */
  stall?: boolean;
  /** DRI + RSTn every MCU row (RTP type 65) */
  restartMarkers?: boolean;
  /** RFC 2435 Q: 255 default (in-band tables); 128..254 static in-band; 1..99 → Appendix A tables, none on the wire */
  q?: number;
  /** width/height 0 in RTP + a=x-dimensions in SDP */
  zeroDimensions?: boolean;
}

export interface DemoCameraOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** 0 = ephemeral (default) */
  port?: number;
  /** default '/demo' */
  path?: string;
  /** default 640 */
  width?: number;
  /** default 480 */
  height?: number;
  /** default 15 */
  fps?: number;
  auth?: 'none' | 'basic' | 'digest';
  username?: string;
  password?: string;
  /** both by default; the other one is answered 461 */
  transports?: ('udp' | 'tcp')[];
  /** largest RTP packet (default 1400) */
  mtu?: number;
  /** default 60 */
  sessionTimeoutSec?: number;
  faults?: DemoCameraFaults;
  /** pre-packetized frames to loop instead of encoding (bench) */
  replay?: Buffer[][];
  /** also offer a PCMU track */
  audio?: boolean;
  /** PLAY fails with 455 unless the audio track was set up too */
  requireAudioSetup?: boolean;
}

export interface DemoCameraStats {
  connections: number;
  /** bounded to the last 500 */
  requests: { method: string; uri: string; headers: Record<string, string> }[];
  setups: number;
  plays: number;
  teardowns: number;
  keepAlives: number;
  rtpPacketsSent: number;
  framesSent: number;
  rtcpReceived: number;
  receiverReports: number;
  activeSessions: number;
  /** connections closed at once by the refuseConnections fault */
  refusedConnections: number;
  /** frames not written to a TCP client that could not keep up */
  framesSkipped: number;
  /** RTCP sender report compounds sent */
  senderReports: number;
  /** malformed requests answered 400 */
  badRequests: number;
  packetFaults: PacketFaultCounters;
}

export interface DemoCamera {
  readonly url: string;
  readonly port: number;
  readonly stats: DemoCameraStats;
  /** replaces the whole fault set ({} clears all) */
  setFaults(f: DemoCameraFaults): void;
  close(): Promise<void>;
}

const REALM = 'rtsp-mjpeg demo camera';
const SERVER = 'rtsp-mjpeg-demo-camera';
const PUBLIC = 'OPTIONS, DESCRIBE, GET_PARAMETER, PAUSE, PLAY, SETUP, SET_PARAMETER, TEARDOWN';
const MAX_REQUEST_LOG = 500;
/** stop writing frames to a TCP client with more than this queued (it gets frames skipped) */
const MAX_TCP_BACKLOG = 512 * 1024;
const MAX_PROTOCOL_ERRORS = 10;
const MAX_SESSIONS = 64;
const SERVER_UDP_RANGE: [number, number] = [40000, 44999];
const READER_LIMITS = { statusLine: 255, headerLine: 4096, headerCount: 64, headerBlock: 16384, body: 16384, interleaved: 65539 };

type TrackTransport =
  | { kind: 'tcp'; rtp: number; rtcp: number }
  | { kind: 'udp'; host: string; rtpPort: number; rtcpPort: number };

interface Connection {
  socket: net.Socket;
  reader: RtspReader;
  protocolErrors: number;
  dropTimer: NodeJS.Timeout | null;
  closed: boolean;
}

interface Session {
  id: string;
  conn: Connection | null;
  tracks: Map<number, TrackTransport>;
  playing: boolean;
  lastSeen: number;
  rtcpTimer: NodeJS.Timeout | null;
}

type Reply = { code: number; reason: string; headers?: [string, string][]; body?: string };

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

class DemoCameraServer implements DemoCamera {
  readonly stats: DemoCameraStats = {
    connections: 0, requests: [], setups: 0, plays: 0, teardowns: 0, keepAlives: 0, rtpPacketsSent: 0,
    framesSent: 0, rtcpReceived: 0, receiverReports: 0, activeSessions: 0, refusedConnections: 0,
    framesSkipped: 0, senderReports: 0, badRequests: 0,
    packetFaults: { dropped: 0, duplicated: 0, reordered: 0, timestampChanged: 0 },
  };
  port = 0;

  private readonly host: string;
  private readonly path: string;
  private readonly fps: number;
  private readonly auth: 'none' | 'basic' | 'digest';
  private readonly username: string;
  private readonly password: string;
  private readonly allowUdp: boolean;
  private readonly allowTcp: boolean;
  private readonly timeoutSec: number;
  private readonly requireAudio: boolean;
  private readonly cname: string;
  private readonly sdpSessionId = String(randomInt(1, 2 ** 47));
  private readonly video: VideoSource;
  private readonly audio: AudioSource | null;
  private faults: DemoCameraFaults = {};
  /** one-shot fault bookkeeping, reset by setFaults */
  private framesSinceFaults = 0;
  private ssrcChanged = false;
  private nonce = randomBytes(16).toString('hex');

  private readonly server = net.createServer();
  private readonly conns = new Set<Connection>();
  private readonly sessions = new Map<string, Session>();
  private udpVideo: UdpPair | null = null;
  private udpAudio: UdpPair | null = null;
  private videoTimer: NodeJS.Timeout | null = null;
  private readonly videoPace: Pacer;
  private audioTimer: NodeJS.Timeout | null = null;
  private readonly audioPace = new Pacer(AudioSource.PACKET_MS);
  private sweepTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(o: DemoCameraOptions) {
    this.host = o.host ?? '127.0.0.1';
    const p = o.path ?? '/demo';
    this.path = (p.startsWith('/') ? p : `/${p}`).replace(/\/+$/, '') || '/demo';
    this.fps = o.fps !== undefined && o.fps > 0 && o.fps <= 120 ? o.fps : 15;
    this.videoPace = new Pacer(1000 / this.fps);
    this.auth = o.auth ?? 'none';
    this.username = o.username ?? 'admin';
    this.password = o.password ?? '';
    const transports = o.transports && o.transports.length > 0 ? o.transports : ['udp', 'tcp'];
    this.allowUdp = transports.includes('udp');
    this.allowTcp = transports.includes('tcp');
    this.timeoutSec = o.sessionTimeoutSec !== undefined && o.sessionTimeoutSec > 0 ? o.sessionTimeoutSec : 60;
    this.requireAudio = !!o.requireAudioSetup && !!o.audio;
    this.cname = `demo@${randomBytes(4).toString('hex')}`;
    const width = o.width ?? 640;
    const height = o.height ?? 480;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 16 || width > 4096 || height > 4096) {
      throw new RangeError('demo camera: width/height must be integers 16..4096');
    }
    this.video = new VideoSource({ width, height, mtu: o.mtu, replay: o.replay });
    this.audio = o.audio ? new AudioSource() : null;
    if (o.faults) this.setFaults(o.faults);
  }

  get url(): string {
    return `rtsp://${hostForUrl(this.host)}:${this.port}${this.path}`;
  }

  async start(requestedPort: number): Promise<void> {
    this.server.on('connection', (s) => this.onConnection(s));
    this.server.on('error', () => { /* listen errors are reported by the listen promise */ });
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error): void => reject(e);
      this.server.once('error', onErr);
      this.server.listen({ port: requestedPort, host: this.host, exclusive: true }, () => {
        this.server.removeListener('error', onErr);
        resolve();
      });
    });
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : requestedPort;
    try {
      if (this.allowUdp) {
        this.udpVideo = await this.openUdp(0);
        if (this.audio) this.udpAudio = await this.openUdp(1);
      }
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  private async openUdp(track: number): Promise<UdpPair> {
    const pair = await allocateUdpPair({ range: SERVER_UDP_RANGE, bindAddress: this.host, recvBufferSize: 256 * 1024 });
    pair.rtp.on('message', () => { /* clients may punch NAT holes with dummy packets: ignore */ });
    pair.rtp.on('error', () => { /* sending to a closed client port: ignore */ });
    pair.rtcp.on('error', () => { /* idem */ });
    pair.rtcp.on('message', (msg, rinfo) => this.onUdpRtcp(track, msg, rinfo));
    return pair;
  }

  setFaults(f: DemoCameraFaults): void {
    this.faults = { ...f };
    this.framesSinceFaults = 0;
    this.ssrcChanged = false;
    for (const c of this.conns) this.scheduleDrop(c);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of [this.videoTimer, this.audioTimer, this.sweepTimer]) if (t) clearTimeout(t);
    this.videoTimer = this.audioTimer = this.sweepTimer = null;
    for (const s of this.sessions.values()) if (s.rtcpTimer) clearTimeout(s.rtcpTimer);
    this.sessions.clear();
    this.stats.activeSessions = 0;
    for (const c of this.conns) {
      if (c.dropTimer) clearTimeout(c.dropTimer);
      c.socket.destroy();
    }
    this.conns.clear();
    const waits: Promise<void>[] = [];
    if (this.server.listening) waits.push(new Promise((r) => this.server.close(() => r())));
    for (const pair of [this.udpVideo, this.udpAudio]) {
      if (!pair) continue;
      waits.push(closeDgram(pair.rtp), closeDgram(pair.rtcp));
    }
    this.udpVideo = this.udpAudio = null;
    await Promise.all(waits);
    // Those callbacks run when the close is requested; libuv releases the handles in the
    // loop's close phase, so wait two check phases: afterwards no handle of ours remains.
    await new Promise<void>((r) => setImmediate(() => setImmediate(r)));
  }

  // ---- connections -------------------------------------------------------------------

  private onConnection(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const refuse = this.faults.refuseConnections ?? 0;
    if (refuse > 0) {
      this.faults.refuseConnections = refuse - 1;
      this.stats.refusedConnections++;
      socket.destroy();
      return;
    }
    this.stats.connections++;
    socket.setNoDelay(true);
    const conn: Connection = {
      socket,
      protocolErrors: 0,
      dropTimer: null,
      closed: false,
      reader: new RtspReader({
        onRequest: (req) => this.safeHandle(conn, req),
        onResponse: () => { /* a client has nothing to answer: ignore */ },
        onInterleaved: (ch, data, start, end) => this.onTcpInterleaved(conn, ch, data.subarray(start, end)),
        onError: () => {
          // Malformed input: answer 400 and resynchronise; give up on persistent garbage.
          this.stats.badRequests++;
          conn.protocolErrors++;
          this.write(conn, serializeResponse(400, 'Bad Request', this.commonHeaders(null)));
          if (conn.protocolErrors >= MAX_PROTOCOL_ERRORS) conn.socket.destroy();
          else conn.reader.reset();
        },
      }, READER_LIMITS),
    };
    this.conns.add(conn);
    this.scheduleDrop(conn);
    socket.on('data', (chunk) => conn.reader.push(chunk));
    socket.on('error', () => { /* reset by peer etc.: 'close' follows */ });
    socket.on('close', () => this.onConnectionClosed(conn, false));
  }

  private scheduleDrop(conn: Connection): void {
    if (conn.dropTimer) clearTimeout(conn.dropTimer);
    conn.dropTimer = null;
    const ms = this.faults.dropConnectionAfterMs;
    if (ms === undefined || !(ms >= 0)) return;
    conn.dropTimer = setTimeout(() => {
      conn.dropTimer = null;
      this.onConnectionClosed(conn, true);
      conn.socket.destroy();
    }, ms);
  }

  /** `dropped`: the camera cut the connection (fault), so every session on it ends. */
  private onConnectionClosed(conn: Connection, dropped: boolean): void {
    if (conn.closed) return;
    conn.closed = true;
    if (conn.dropTimer) clearTimeout(conn.dropTimer);
    conn.dropTimer = null;
    this.conns.delete(conn);
    for (const s of [...this.sessions.values()]) {
      if (s.conn !== conn) continue;
      const usesTcp = [...s.tracks.values()].some((t) => t.kind === 'tcp');
      // UDP sessions outlive their control connection until TEARDOWN or timeout (RFC 2326 §3).
      if (dropped || usesTcp) this.destroySession(s);
      else s.conn = null;
    }
  }

  private write(conn: Connection, buf: Buffer): void {
    if (!conn.closed && !conn.socket.destroyed) conn.socket.write(buf);
  }

  // ---- requests ----------------------------------------------------------------------

  private safeHandle(conn: Connection, req: RtspRequest): void {
    let reply: Reply;
    try {
      this.logRequest(req);
      reply = this.handle(conn, req);
    } catch {
      reply = { code: 500, reason: 'Internal Server Error' };
    }
    if (conn.closed) return;
    const headers = [...this.commonHeaders(req.cseq), ...(reply.headers ?? [])];
    this.write(conn, serializeResponse(reply.code, reply.reason, headers, reply.body));
  }

  private logRequest(req: RtspRequest): void {
    const headers: Record<string, string> = {};
    for (const [k, v] of req.headers) headers[k] = v.join(', ');
    this.stats.requests.push({ method: req.method, uri: req.uri, headers });
    if (this.stats.requests.length > MAX_REQUEST_LOG) this.stats.requests.splice(0, this.stats.requests.length - MAX_REQUEST_LOG);
  }

  private commonHeaders(cseq: number | null): [string, string][] {
    const h: [string, string][] = [];
    if (cseq !== null) h.push(['CSeq', String(cseq)]);
    h.push(['Server', SERVER], ['Date', new Date().toUTCString()]);
    return h;
  }

  private handle(conn: Connection, req: RtspRequest): Reply {
    if (req.cseq === null) {
      this.stats.badRequests++;
      return { code: 400, reason: 'Bad Request' };
    }
    if (req.version !== 'RTSP/1.0') return { code: 505, reason: 'RTSP Version Not Supported' };
    const method = req.method.toUpperCase();
    const sessionHeader = header(req.headers, 'session');
    const sessionId = sessionHeader?.split(';')[0]?.trim();
    const isKeepAlive = method === 'GET_PARAMETER' || method === 'SET_PARAMETER' || (method === 'OPTIONS' && sessionId !== undefined);
    if (isKeepAlive) this.stats.keepAlives++;

    if (isKeepAlive && this.faults.keepAlive401) {
      this.faults.keepAlive401 = false;
      this.nonce = randomBytes(16).toString('hex'); // old nonce is no longer accepted
      return this.unauthorized();
    }
    if (isKeepAlive && this.faults.keepAlive454 && sessionId !== undefined) {
      this.faults.keepAlive454 = false;
      const s = this.sessions.get(sessionId);
      if (s) this.destroySession(s);
      return { code: 454, reason: 'Session Not Found' };
    }
    if (method === 'OPTIONS') {
      if (sessionId !== undefined) this.touch(sessionId);
      return { code: 200, reason: 'OK', headers: [['Public', PUBLIC]] };
    }
    // RFC 2326 §10: every method but OPTIONS needs credentials when auth is on (as GStreamer).
    if (this.auth !== 'none' && !this.authorized(method, header(req.headers, 'authorization'))) return this.unauthorized();

    const target = this.resolveTarget(req.uri);
    switch (method) {
      case 'DESCRIBE':
        if (target === null) return { code: 404, reason: 'Not Found' };
        return this.describe(req);
      case 'SETUP':
        return this.setup(conn, req, target, sessionId);
      case 'PLAY':
        return this.play(conn, req, target, sessionId);
      case 'PAUSE': {
        const s = sessionId !== undefined ? this.sessions.get(sessionId) : undefined;
        if (!s) return { code: 454, reason: 'Session Not Found' };
        s.playing = false;
        this.touch(s.id);
        return { code: 200, reason: 'OK', headers: [['Session', this.sessionValue(s)]] };
      }
      case 'TEARDOWN': {
        const s = sessionId !== undefined ? this.sessions.get(sessionId) : undefined;
        if (!s) return { code: 454, reason: 'Session Not Found' };
        this.stats.teardowns++;
        this.destroySession(s);
        return { code: 200, reason: 'OK', headers: [['Session', s.id]] };
      }
      case 'GET_PARAMETER':
      case 'SET_PARAMETER': {
        if (sessionId !== undefined) {
          const s = this.sessions.get(sessionId);
          if (!s) return { code: 454, reason: 'Session Not Found' };
          this.touch(s.id);
          return { code: 200, reason: 'OK', headers: [['Session', this.sessionValue(s)]] };
        }
        return { code: 200, reason: 'OK' };
      }
      default:
        return { code: 501, reason: 'Not Implemented' };
    }
  }

  private authorized(method: string, value: string | undefined): boolean {
    return verifyAuthorization(value, {
      method, username: this.username, password: this.password, realm: REALM,
      ...(this.auth === 'digest' ? { nonce: this.nonce } : {}),
    }) && (this.auth === 'digest' ? /^\s*digest\b/i.test(value ?? '') : /^\s*basic\b/i.test(value ?? ''));
  }

  private unauthorized(): Reply {
    const challenge = this.auth === 'digest' ? digestChallenge(REALM, this.nonce, { qop: true }) : `Basic realm="${REALM}"`;
    return { code: 401, reason: 'Unauthorized', headers: [['WWW-Authenticate', challenge]] };
  }

  /**
   * 'aggregate' for the presentation URL (with or without trailing slash), a track number
   * for `<path>/stream=N`, null for anything else (or an unparsable URI).
   */
  private resolveTarget(uri: string): 'aggregate' | number | null {
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(uri, `rtsp://${hostForUrl(this.host)}/`).pathname);
    } catch {
      return null;
    }
    const p = pathname.replace(/\/+$/, '');
    if (p === this.path) return 'aggregate';
    const m = /^(.*)\/stream=(\d{1,3})$/.exec(p);
    if (m && m[1] === this.path) {
      const n = Number(m[2]);
      if (n === 0 || (n === 1 && this.audio)) return n;
    }
    return null;
  }

  private baseUrl(req: RtspRequest): string {
    try {
      const u = new URL(req.uri);
      if (u.protocol === 'rtsp:' || u.protocol === 'rtsps:') return `${u.protocol}//${u.host}${this.path}/`;
    } catch { /* relative request URI: fall back to our own address */ }
    return `${this.url}/`;
  }

  private describe(req: RtspRequest): Reply {
    const w = this.video.width, h = this.video.height;
    const xDim = this.faults.zeroDimensions || w > 2040 || h > 2040 ? { width: w, height: h } : undefined;
    const sdp = buildDemoSdp({
      host: this.host, sessionId: this.sdpSessionId, fps: this.fps, videoSsrc: this.video.ssrc,
      audioSsrc: this.audio?.ssrc, cname: this.cname, xDimensions: xDim,
    });
    return {
      code: 200, reason: 'OK',
      headers: [['Content-Type', 'application/sdp'], ['Content-Base', this.baseUrl(req)]],
      body: sdp,
    };
  }

  private sessionValue(s: Session): string {
    return `${s.id};timeout=${this.timeoutSec}`;
  }

  private setup(conn: Connection, req: RtspRequest, target: 'aggregate' | number | null, sessionId: string | undefined): Reply {
    if (typeof target !== 'number') return { code: target === null ? 404 : 459, reason: target === null ? 'Not Found' : 'Aggregate Operation Not Allowed' };
    let session: Session | undefined;
    if (sessionId !== undefined) {
      session = this.sessions.get(sessionId);
      if (!session) return { code: 454, reason: 'Session Not Found' };
    } else if (this.sessions.size >= MAX_SESSIONS) {
      return { code: 453, reason: 'Not Enough Bandwidth' };
    }
    const th = header(req.headers, 'transport');
    if (th === undefined) return { code: 461, reason: 'Unsupported Transport' };
    let specs: TransportSpec[];
    try {
      specs = parseTransport(th);
    } catch {
      specs = [];
    }
    let chosen: TrackTransport | null = null;
    for (const spec of specs) {
      if (spec.multicast) continue;
      const lower = spec.protocol === 'RTP/AVP/TCP' ? 'TCP' : spec.protocol === 'RTP/AVP' || spec.protocol === 'RTP/AVP/UDP' ? 'UDP' : null;
      if (lower === 'TCP' && this.allowTcp) {
        const used = new Set<number>();
        for (const s of this.sessions.values()) {
          if (s.conn !== conn) continue;
          for (const t of s.tracks.values()) if (t.kind === 'tcp') used.add(t.rtp).add(t.rtcp);
        }
        let ch = spec.interleaved;
        if (!ch) {
          let c = target * 2;
          while (used.has(c) || used.has(c + 1)) c += 2;
          ch = [c, c + 1];
        }
        if (ch[0] < 0 || ch[1] > 255 || ch[0] > 255) continue;
        chosen = { kind: 'tcp', rtp: ch[0], rtcp: ch[1] };
        break;
      }
      if (lower === 'UDP' && this.allowUdp && spec.clientPort && spec.clientPort[0] > 0 && spec.clientPort[0] <= 65535) {
        const rtcpPort = spec.clientPort[1] > 0 && spec.clientPort[1] <= 65535 ? spec.clientPort[1] : spec.clientPort[0] + 1;
        // Send only to the address the request came from (never a "destination" a client names).
        chosen = { kind: 'udp', host: conn.socket.remoteAddress ?? this.host, rtpPort: spec.clientPort[0], rtcpPort };
        break;
      }
    }
    if (!chosen) return { code: 461, reason: 'Unsupported Transport' };
    if (!session) {
      session = { id: randomBytes(8).toString('hex').toUpperCase(), conn, tracks: new Map(), playing: false, lastSeen: Date.now(), rtcpTimer: null };
      this.sessions.set(session.id, session);
      this.stats.activeSessions = this.sessions.size;
      this.startSweep();
    }
    session.conn = conn;
    session.tracks.set(target, chosen);
    this.touch(session.id);
    this.stats.setups++;
    const ssrc = (target === 0 ? this.video.ssrc : this.audio!.ssrc).toString(16).toUpperCase().padStart(8, '0');
    let transport: string;
    if (chosen.kind === 'tcp') {
      transport = `RTP/AVP/TCP;unicast;interleaved=${chosen.rtp}-${chosen.rtcp};ssrc=${ssrc};mode="PLAY"`;
    } else {
      const pair = target === 0 ? this.udpVideo! : this.udpAudio!;
      transport = `RTP/AVP;unicast;client_port=${chosen.rtpPort}-${chosen.rtcpPort};server_port=${pair.rtpPort}-${pair.rtcpPort};ssrc=${ssrc};mode="PLAY"`;
    }
    return { code: 200, reason: 'OK', headers: [['Transport', transport], ['Session', this.sessionValue(session)]] };
  }

  private play(conn: Connection, req: RtspRequest, target: 'aggregate' | number | null, sessionId: string | undefined): Reply {
    const s = sessionId !== undefined ? this.sessions.get(sessionId) : undefined;
    if (!s) return { code: 454, reason: 'Session Not Found' };
    if (target === null) return { code: 404, reason: 'Not Found' };
    if (s.tracks.size === 0) return { code: 455, reason: 'Method Not Valid in This State' };
    if (this.requireAudio && !s.tracks.has(1)) return { code: 455, reason: 'Method Not Valid in This State' };
    if (s.conn === null) s.conn = conn;
    this.touch(s.id);
    const wasPlaying = s.playing;
    s.playing = true;
    this.stats.plays++;
    if (!wasPlaying) this.scheduleRtcp(s, true);
    this.ensureTimers();
    const base = this.baseUrl(req);
    const infos: string[] = [];
    for (const n of [...s.tracks.keys()].sort()) {
      if (n === 0) {
        infos.push(`url=${base}stream=0;seq=${this.video.nextSequence};rtptime=${this.video.rtpTimeAt(this.videoPace.nextDueMs)}`);
      } else if (this.audio) {
        infos.push(`url=${base}stream=1;seq=${this.audio.nextSequence};rtptime=${this.audio.rtpTimeAt(this.audioPace.nextDueMs)}`);
      }
    }
    return {
      code: 200, reason: 'OK',
      headers: [['Range', 'npt=now-'], ['RTP-Info', infos.join(',')], ['Session', this.sessionValue(s)]],
    };
  }

  private touch(id: string): void {
    const s = this.sessions.get(id);
    if (s) s.lastSeen = Date.now();
  }

  private destroySession(s: Session): void {
    if (s.rtcpTimer) clearTimeout(s.rtcpTimer);
    s.rtcpTimer = null;
    s.playing = false;
    this.sessions.delete(s.id);
    this.stats.activeSessions = this.sessions.size;
  }

  private startSweep(): void {
    if (this.sweepTimer || this.closed) return;
    const every = Math.min(1000, this.timeoutSec * 250);
    const sweep = (): void => {
      this.sweepTimer = null;
      const now = Date.now();
      for (const s of [...this.sessions.values()]) {
        if (now - s.lastSeen <= this.timeoutSec * 1000) continue;
        // Expired (no request or RTCP within the timeout, RFC 2326 §12.37). A TCP session's
        // data path is the connection, so that is closed too, as cameras do.
        const conn = s.conn;
        const usesTcp = [...s.tracks.values()].some((t) => t.kind === 'tcp');
        this.destroySession(s);
        if (usesTcp && conn) conn.socket.destroy();
      }
      if (this.sessions.size > 0 && !this.closed) this.sweepTimer = setTimeout(sweep, every);
    };
    this.sweepTimer = setTimeout(sweep, every);
  }

  // ---- media -------------------------------------------------------------------------

  private playingWith(track: number): boolean {
    for (const s of this.sessions.values()) if (s.playing && s.tracks.has(track)) return true;
    return false;
  }

  private ensureTimers(): void {
    if (this.closed) return;
    if (!this.videoTimer && this.playingWith(0)) {
      this.videoPace.restart(wallClockMs());
      this.scheduleVideo();
    }
    if (this.audio && !this.audioTimer && this.playingWith(1)) {
      this.audioPace.restart(wallClockMs());
      this.scheduleAudio();
    }
  }

  private scheduleVideo(): void {
    this.videoTimer = setTimeout(() => this.onVideoTick(), this.videoPace.delayMs(wallClockMs()));
  }

  private onVideoTick(): void {
    this.videoTimer = null;
    if (this.closed || !this.playingWith(0)) return;
    // More than a frame late (slow machine, debugger): the pacer skips frames rather than burst them.
    const captured = this.videoPace.take(wallClockMs());
    try {
      this.sendVideoFrame(captured);
    } finally {
      if (!this.closed) this.scheduleVideo();
    }
  }

  private sendVideoFrame(captured: number): void {
    const f = this.faults;
    if (f.changeSsrcAfterFrames !== undefined && !this.ssrcChanged && this.framesSinceFaults >= f.changeSsrcAfterFrames) {
      this.video.changeSsrc();
      this.ssrcChanged = true;
    }
    this.framesSinceFaults++;
    if (f.sendBye) {
      f.sendBye = false;
      this.sendByeToAll();
    }
    if (f.stall) return;
    const packets = this.video.nextFrame(captured, {
      q: f.q ?? 255, restartMarkers: !!f.restartMarkers, zeroDimensions: !!f.zeroDimensions,
    });
    const r = applyPacketFaults(packets, f, this.stats.packetFaults);
    if (r.timestampChanged) f.midFrameTimestampChange = false;
    for (const p of r.packets) this.video.countSent(p);
    this.stats.framesSent++;
    this.fanOut(0, r.packets);
  }

  private scheduleAudio(): void {
    this.audioTimer = setTimeout(() => this.onAudioTick(), this.audioPace.delayMs(wallClockMs()));
  }

  private onAudioTick(): void {
    this.audioTimer = null;
    if (this.closed || !this.audio || !this.playingWith(1)) return;
    const captured = this.audioPace.take(wallClockMs());
    try {
      if (!this.faults.stall) {
        const pkt = this.audio.nextPacket(captured);
        this.audio.countSent(pkt);
        this.fanOut(1, [pkt]);
      }
    } finally {
      if (!this.closed) this.scheduleAudio();
    }
  }

  /** Send one frame's packets to every playing session that set up `track`. */
  private fanOut(track: number, packets: Buffer[]): void {
    if (packets.length === 0) return;
    const tcpFrames = new Map<number, Buffer>();
    const pair = track === 0 ? this.udpVideo : this.udpAudio;
    for (const s of this.sessions.values()) {
      if (!s.playing) continue;
      const t = s.tracks.get(track);
      if (!t) continue;
      if (t.kind === 'tcp') {
        const conn = s.conn;
        if (!conn || conn.closed) continue;
        // A client that cannot keep up gets whole frames skipped, never an unbounded queue.
        if (conn.socket.writableLength > MAX_TCP_BACKLOG) {
          this.stats.framesSkipped++;
          continue;
        }
        let buf = tcpFrames.get(t.rtp);
        if (!buf) {
          buf = interleavedFrames(t.rtp, packets);
          tcpFrames.set(t.rtp, buf);
        }
        conn.socket.write(buf);
        this.stats.rtpPacketsSent += packets.length;
      } else if (pair) {
        for (const p of packets) pair.rtp.send(p, t.rtpPort, t.host);
        this.stats.rtpPacketsSent += packets.length;
      }
    }
  }

  /** RFC 3550 §6.2: first report soon after PLAY, then every 5 s × [0.5, 1.5). */
  private scheduleRtcp(s: Session, first: boolean): void {
    if (s.rtcpTimer) clearTimeout(s.rtcpTimer);
    const delay = first ? 200 + Math.random() * 800 : 5000 * (0.5 + Math.random());
    s.rtcpTimer = setTimeout(() => {
      s.rtcpTimer = null;
      if (this.closed || !this.sessions.has(s.id) || !s.playing) return;
      this.sendSenderReports(s);
      this.scheduleRtcp(s, false);
    }, delay);
  }

  private senderReportFor(track: number): Buffer | null {
    const src = track === 0 ? this.video : this.audio;
    if (!src) return null;
    const now = wallClockMs();
    return buildSenderReportCompound({
      ssrc: src.counters.ssrc, cname: this.cname, ntpMs: now, rtpTimestamp: src.rtpTimeAt(now),
      packetCount: src.counters.packetCount, octetCount: src.counters.octetCount,
    });
  }

  private sendSenderReports(s: Session, extra?: (track: number) => Buffer): void {
    for (const [track, t] of s.tracks) {
      const sr = this.senderReportFor(track);
      if (!sr) continue;
      const pkt = extra ? Buffer.concat([sr, extra(track)]) : sr;
      this.sendRtcp(s, track, t, pkt);
      this.stats.senderReports++;
    }
  }

  private sendRtcp(s: Session, track: number, t: TrackTransport, pkt: Buffer): void {
    if (t.kind === 'tcp') {
      const conn = s.conn;
      if (conn && !conn.closed) conn.socket.write(interleavedFrame(t.rtcp, pkt));
    } else {
      const pair = track === 0 ? this.udpVideo : this.udpAudio;
      pair?.rtcp.send(pkt, t.rtcpPort, t.host);
    }
  }

  /** BYE goes in a compound after SR + SDES (RFC 3550 §6.1). */
  private sendByeToAll(): void {
    for (const s of this.sessions.values()) {
      if (!s.playing) continue;
      this.sendSenderReports(s, (track) => buildBye([(track === 0 ? this.video : this.audio!).counters.ssrc], 'demo camera fault: BYE'));
    }
  }

  private onUdpRtcp(track: number, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.countRtcp(msg);
    for (const s of this.sessions.values()) {
      const t = s.tracks.get(track);
      if (t && t.kind === 'udp' && t.rtcpPort === rinfo.port && sameHost(t.host, rinfo.address)) {
        s.lastSeen = Date.now(); // RTCP keeps a session alive, as in GStreamer
      }
    }
  }

  private onTcpInterleaved(conn: Connection, channel: number, payload: Buffer): void {
    for (const s of this.sessions.values()) {
      if (s.conn !== conn) continue;
      for (const t of s.tracks.values()) {
        if (t.kind === 'tcp' && t.rtcp === channel) {
          this.countRtcp(payload);
          s.lastSeen = Date.now();
          return;
        }
      }
    }
  }

  private countRtcp(buf: Buffer): void {
    this.stats.rtcpReceived++;
    const { packets } = parseRtcpCompound(buf);
    for (const p of packets) if (p.type === 'RR') this.stats.receiverReports++;
  }
}

function sameHost(a: string, b: string): boolean {
  const norm = (x: string): string => (x.startsWith('::ffff:') ? x.slice(7) : x);
  return norm(a) === norm(b);
}

function closeDgram(sock: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      sock.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

export async function startDemoCamera(opts: DemoCameraOptions = {}): Promise<DemoCamera> {
  const cam = new DemoCameraServer(opts);
  await cam.start(opts.port ?? 0);
  return cam;
}
