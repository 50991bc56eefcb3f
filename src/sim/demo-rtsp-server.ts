/**
 * The demo camera's RTSP side: a small RTSP/1.0 server (RFC 2326) with optional Basic or
 * Digest authentication, sessions with a timeout, SETUP over UDP or TCP interleaved, PLAY,
 * TEARDOWN and keep-alives, and the fault switches that misbehave on purpose. Media goes out
 * through MediaFanOut (demo-fanout.ts).
 */
import * as net from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import { RtspReader, header, type RtspRequest } from '../rtsp/message';
import { serializeResponse } from '../rtsp/serialize';
import { parseTransport, type TransportSpec } from '../rtsp/transport-header';
import { buildDemoSdp, contentBase, hostForUrl, resolveTarget } from './demo-sdp';
import { DemoAuth } from './demo-auth';
import { MediaFanOut, type DemoConnection, type DemoSession, type FanOutState, type TrackTransport } from './demo-fanout';
import type { DemoCamera, DemoCameraFaults, DemoCameraOptions, DemoCameraStats } from './types';

const SERVER = 'rtsp-mjpeg-demo-camera';
const PUBLIC = 'OPTIONS, DESCRIBE, GET_PARAMETER, PAUSE, PLAY, SETUP, SET_PARAMETER, TEARDOWN';
const MAX_REQUEST_LOG = 500;
const MAX_PROTOCOL_ERRORS = 10;
const MAX_SESSIONS = 64;
const READER_LIMITS = { statusLine: 255, headerLine: 4096, headerCount: 64, headerBlock: 16384, body: 16384, interleaved: 65539 };

type Reply = { code: number; reason: string; headers?: [string, string][]; body?: string };


export class DemoCameraServer implements DemoCamera, FanOutState {
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
  private readonly auth: DemoAuth;
  private readonly allowUdp: boolean;
  private readonly allowTcp: boolean;
  private readonly timeoutSec: number;
  private readonly requireAudio: boolean;
  private readonly sdpSessionId = String(randomInt(1, 2 ** 47));
  faults: DemoCameraFaults = {};

  private readonly server = net.createServer();
  private readonly conns = new Set<DemoConnection>();
  readonly sessions = new Map<string, DemoSession>();
  private readonly media: MediaFanOut;
  private sweepTimer: NodeJS.Timeout | null = null;
  closed = false;

  constructor(o: DemoCameraOptions) {
    this.host = o.host ?? '127.0.0.1';
    const p = o.path ?? '/demo';
    this.path = (p.startsWith('/') ? p : `/${p}`).replace(/\/+$/, '') || '/demo';
    this.fps = o.fps !== undefined && o.fps > 0 && o.fps <= 120 ? o.fps : 15;
    this.auth = new DemoAuth(o.auth ?? 'none', o.username ?? 'admin', o.password ?? '');
    const transports = o.transports && o.transports.length > 0 ? o.transports : ['udp', 'tcp'];
    this.allowUdp = transports.includes('udp');
    this.allowTcp = transports.includes('tcp');
    this.timeoutSec = o.sessionTimeoutSec !== undefined && o.sessionTimeoutSec > 0 ? o.sessionTimeoutSec : 60;
    this.requireAudio = !!o.requireAudioSetup && !!o.audio;
    const width = o.width ?? 640;
    const height = o.height ?? 480;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 16 || width > 4096 || height > 4096) {
      throw new RangeError('demo camera: width/height must be integers 16..4096');
    }
    this.media = new MediaFanOut(this, { width, height, fps: this.fps, mtu: o.mtu, replay: o.replay, scene: o.scene, audio: !!o.audio, bindAddress: this.host });
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
      if (this.allowUdp) await this.media.openUdp();
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  setFaults(f: DemoCameraFaults): void {
    this.faults = { ...f };
    this.media.resetFaults();
    for (const c of this.conns) this.scheduleDrop(c);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
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
    waits.push(this.media.close());
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
    const conn: DemoConnection = {
      socket,
      protocolErrors: 0,
      dropTimer: null,
      closed: false,
      reader: new RtspReader({
        onRequest: (req) => this.safeHandle(conn, req),
        onResponse: () => { /* a client has nothing to answer: ignore */ },
        onInterleaved: (ch, data, start, end) => this.media.onTcpInterleaved(conn, ch, data.subarray(start, end)),
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

  private scheduleDrop(conn: DemoConnection): void {
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
  private onConnectionClosed(conn: DemoConnection, dropped: boolean): void {
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

  private write(conn: DemoConnection, buf: Buffer): void {
    if (!conn.closed && !conn.socket.destroyed) conn.socket.write(buf);
  }

  // ---- requests ----------------------------------------------------------------------

  private safeHandle(conn: DemoConnection, req: RtspRequest): void {
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

  private handle(conn: DemoConnection, req: RtspRequest): Reply {
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
      this.auth.rotateNonce();
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
    if (!this.auth.authorized(method, header(req.headers, 'authorization'))) return this.unauthorized();

    const target = resolveTarget(req.uri, this.host, this.path, this.media.audio !== null);
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

  private unauthorized(): Reply {
    return { code: 401, reason: 'Unauthorized', headers: [['WWW-Authenticate', this.auth.challenge()]] };
  }

  private describe(req: RtspRequest): Reply {
    const w = this.media.video.width, h = this.media.video.height;
    const xDim = this.faults.zeroDimensions || w > 2040 || h > 2040 ? { width: w, height: h } : undefined;
    const sdp = buildDemoSdp({
      host: this.host, sessionId: this.sdpSessionId, fps: this.fps, videoSsrc: this.media.video.ssrc,
      audioSsrc: this.media.audio?.ssrc, cname: this.media.cname, xDimensions: xDim,
    });
    return {
      code: 200, reason: 'OK',
      headers: [['Content-Type', 'application/sdp'], ['Content-Base', contentBase(req.uri, this.path, this.url)]],
      body: sdp,
    };
  }

  private sessionValue(s: DemoSession): string {
    return `${s.id};timeout=${this.timeoutSec}`;
  }

  private setup(conn: DemoConnection, req: RtspRequest, target: 'aggregate' | number | null, sessionId: string | undefined): Reply {
    if (typeof target !== 'number') return { code: target === null ? 404 : 459, reason: target === null ? 'Not Found' : 'Aggregate Operation Not Allowed' };
    let session: DemoSession | undefined;
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
    const ssrc = (target === 0 ? this.media.video.ssrc : this.media.audio!.ssrc).toString(16).toUpperCase().padStart(8, '0');
    let transport: string;
    if (chosen.kind === 'tcp') {
      transport = `RTP/AVP/TCP;unicast;interleaved=${chosen.rtp}-${chosen.rtcp};ssrc=${ssrc};mode="PLAY"`;
    } else {
      const pair = target === 0 ? this.media.udpVideo! : this.media.udpAudio!;
      transport = `RTP/AVP;unicast;client_port=${chosen.rtpPort}-${chosen.rtcpPort};server_port=${pair.rtpPort}-${pair.rtcpPort};ssrc=${ssrc};mode="PLAY"`;
    }
    return { code: 200, reason: 'OK', headers: [['Transport', transport], ['Session', this.sessionValue(session)]] };
  }

  private play(conn: DemoConnection, req: RtspRequest, target: 'aggregate' | number | null, sessionId: string | undefined): Reply {
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
    if (!wasPlaying) this.media.scheduleRtcp(s, true);
    this.media.ensureTimers();
    const base = contentBase(req.uri, this.path, this.url);
    const infos: string[] = [];
    for (const n of [...s.tracks.keys()].sort()) {
      if (n === 0) {
        infos.push(`url=${base}stream=0;seq=${this.media.video.nextSequence};rtptime=${this.media.video.rtpTimeAt(this.media.videoPace.nextDueMs)}`);
      } else if (this.media.audio) {
        infos.push(`url=${base}stream=1;seq=${this.media.audio.nextSequence};rtptime=${this.media.audio.rtpTimeAt(this.media.audioPace.nextDueMs)}`);
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

  private destroySession(s: DemoSession): void {
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

}
