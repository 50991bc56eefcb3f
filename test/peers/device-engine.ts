/**
 * The engine under the device emulations in this folder (micro-rtsp.ts, live555-camera.ts,
 * ip-cameras.ts): an RTSP server on 127.0.0.1 (test/support/fake-rtsp-server.ts parses the
 * requests) that answers each method the way one device's firmware does, as its profile
 * says, and streams RTP/JPEG over interleaved TCP (RFC 2326 §10.12) or UDP (§12.39
 * client_port/server_port) from its own port pair.
 *
 * Session lifetime (RFC 2326 §12.37): with `timeoutSec` the device drops a session (stops
 * its media and closes the connection, as live555 and most cameras do) when nothing renewed
 * it for that long. What renews is the device's own rule (`renews`): every request carrying
 * the session, only answered ones, or RTCP too. Each drop is counted so tests can assert that
 * a client kept its session alive.
 */
import * as dgram from 'node:dgram';
import { startFakeServer, streamFrames, type FakeConn, type FakeRequest, type FakeServer } from '../support/fake-rtsp-server';

export type DeviceTransport = 'tcp' | 'udp';

/** What the device knows when it answers one request. */
export interface ReplyContext {
  /** rtsp://127.0.0.1:PORT/PATH as the client asked for it (the request URI of DESCRIBE) */
  url: string;
  sessionId: string;
  /** the Session header value the device sends (id and, if it announces one, ;timeout=) */
  sessionHeader: string;
  /** for SETUP replies */
  transport?: { kind: DeviceTransport; interleaved?: [number, number]; clientPorts?: [number, number]; serverPorts?: [number, number] };
  /** sequence number and RTP timestamp the first packet of PLAY carries */
  rtpInfo: { seq: number; rtptime: number };
}

export interface DeviceProfile {
  /** for messages */
  name: string;
  /** the path the device serves (e.g. `/mjpeg/1`); anything else is 404 */
  path: string;
  transports: DeviceTransport[];
  /** headers every response carries (Server, Date, …), in the device's order */
  commonHeaders?(method: string): Record<string, string>;
  /** false: the firmware cannot parse the request and sends nothing back (Micro-RTSP) */
  accepts?(req: FakeRequest): boolean;
  publicMethods: string;
  /** SDP body; `url` is the DESCRIBE request URI */
  sdp(url: string): string;
  /** Content-Base header (null: none) */
  contentBase(url: string): string | null;
  newSessionId(): string;
  /** announced and enforced session timeout, seconds (null: none announced, never dropped) */
  timeoutSec: number | null;
  /** which requests renew the session: 'any' request with the session, or only 'answered' ones */
  renews: 'any' | 'answered';
  /** RTCP from the client renews the session too */
  rtcpRenews: boolean;
  /** how GET_PARAMETER is treated: answered 200, ignored (no reply), or refused with a status */
  getParameter: 'ok' | 'ignore' | 'unknown' | 400 | 405 | 451 | 501;
  /** TEARDOWN: answered 200, or not answered and the connection closed (Micro-RTSP) */
  teardown: 'ok' | 'close';
  /** serves one client at a time: other connections wait until the active one is gone */
  singleClient: boolean;
  /** Transport header of a SETUP reply */
  setupTransport(ctx: ReplyContext): string;
  /** extra headers of the SETUP reply (besides Transport and Session) */
  setupHeaders?(ctx: ReplyContext): Record<string, string>;
  /** extra headers of the PLAY reply (besides Session) */
  playHeaders(ctx: ReplyContext, controlUrl: string): Record<string, string>;
  /** sees every request after it was handled (or queued) */
  onRequest?(req: FakeRequest, conn: FakeConn): void;
  /** a request the device does not know: 400/405/501, or a raw answer (Micro-RTSP's) */
  unknownMethod?(req: FakeRequest, conn: FakeConn): void;
  /** the RTP/JPEG packets of each frame (the engine rewrites sequence numbers and timestamps) */
  frames: Buffer[][];
  /** SSRC written into every packet */
  ssrc: number;
  /** ms between frames (default 40: 25 fps) */
  frameIntervalMs?: number;
}

export interface DeviceStats {
  /** sessions the device dropped because nothing renewed them in time */
  expired: number;
  /** sessions ended by TEARDOWN */
  tornDown: number;
  /** requests per method */
  methods: Map<string, number>;
  /** RTCP packets received from clients (UDP and interleaved) */
  rtcpPackets: number;
}

export interface EmulatedDevice {
  url: string;
  server: FakeServer;
  stats: DeviceStats;
  close(): Promise<void>;
}

interface SessionState {
  id: string;
  conn: FakeConn;
  kind: DeviceTransport | null;
  channel: number;
  clientRtpPort: number;
  udp: { rtp: dgram.Socket; rtcp: dgram.Socket } | null;
  stopMedia: (() => void) | null;
  expiryTimer: NodeJS.Timeout | null;
  ended: boolean;
}

function bindUdp(): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => { s.removeAllListeners('error'); s.on('error', () => undefined); resolve(s); });
  });
}

export async function startDevice(profile: DeviceProfile): Promise<EmulatedDevice> {
  const stats: DeviceStats = { expired: 0, tornDown: 0, methods: new Map(), rtcpPackets: 0 };
  const sessions = new Map<FakeConn, SessionState>();
  let active: FakeConn | null = null;
  const waiting: { req: FakeRequest; conn: FakeConn }[] = [];
  // what streamFrames (test/support/fake-rtsp-server.ts) puts in the first packet of every session
  const seq = 1000;
  const rtptime = 93600;

  const endSession = (s: SessionState, why: 'expired' | 'teardown' | 'gone'): void => {
    if (s.ended) return;
    s.ended = true;
    if (why === 'expired') stats.expired++;
    if (why === 'teardown') stats.tornDown++;
    if (s.expiryTimer) clearTimeout(s.expiryTimer);
    s.stopMedia?.();
    if (s.udp) { s.udp.rtp.close(); s.udp.rtcp.close(); }
    sessions.delete(s.conn);
  };

  const armExpiry = (s: SessionState): void => {
    if (profile.timeoutSec === null || s.ended) return;
    if (s.expiryTimer) clearTimeout(s.expiryTimer);
    s.expiryTimer = setTimeout(() => {
      endSession(s, 'expired');
      s.conn.destroy();
    }, profile.timeoutSec * 1000);
  };
  const renew = (s: SessionState): void => armExpiry(s);

  const sessionHeaderFor = (id: string): string => (profile.timeoutSec !== null ? `${id};timeout=${profile.timeoutSec}` : id);

  const onConnGone = (conn: FakeConn): void => {
    const s = sessions.get(conn);
    if (s) endSession(s, 'gone');
    if (active === conn) {
      active = null;
      // the next waiting client that is still connected gets the device now, its requests
      // in arrival order
      while (waiting.length > 0) {
        const next = waiting[0]!.conn;
        const mine = waiting.filter((w) => w.conn === next);
        for (let i = waiting.length - 1; i >= 0; i--) if (waiting[i]!.conn === next) waiting.splice(i, 1);
        if (next.socket.destroyed) continue;
        for (const w of mine) handle(w.req, w.conn);
        break;
      }
    }
  };

  const startMedia = (s: SessionState): void => {
    const send = s.kind === 'tcp'
      ? (p: Buffer) => s.conn.interleaved(s.channel, p)
      : (p: Buffer) => { if (!s.ended) s.udp!.rtp.send(p, s.clientRtpPort, '127.0.0.1'); };
    s.stopMedia = streamFrames(profile.frames, send, profile.frameIntervalMs ?? 40, { ssrc: profile.ssrc });
  };

  const handle = (req: FakeRequest, conn: FakeConn): void => {
    if (profile.singleClient) {
      if (active && active !== conn && !active.socket.destroyed) { waiting.push({ req, conn }); return; }
      active = conn;
    }
    stats.methods.set(req.method, (stats.methods.get(req.method) ?? 0) + 1);
    const common = (): Record<string, string> => profile.commonHeaders?.(req.method) ?? {};
    if (profile.accepts && !profile.accepts(req)) return;
    const s = sessions.get(conn);
    const carriesSession = s !== undefined && (req.headers['session'] ?? '').split(';')[0]!.trim() === s.id;
    const url = `rtsp://127.0.0.1:${conn.socket.localPort ?? 0}${profile.path}`;
    const ctx = (): ReplyContext => {
      const id = s?.id ?? '';
      return { url, sessionId: id, sessionHeader: sessionHeaderFor(id), rtpInfo: { seq, rtptime } };
    };
    const answeredRenewal = (): void => { if (s && carriesSession) renew(s); };
    const inPath = (uri: string): boolean => {
      try { return new URL(uri).pathname.replace(/\/+$/, '').startsWith(profile.path); } catch { return false; }
    };
    if (s && carriesSession && profile.renews === 'any') renew(s);

    switch (req.method) {
      case 'OPTIONS':
        conn.reply(req, 200, { ...common(), Public: profile.publicMethods });
        answeredRenewal();
        return;
      case 'DESCRIBE': {
        if (!inPath(req.uri)) { conn.reply(req, 404, common()); return; }
        const h: Record<string, string> = { ...common(), 'Content-Type': 'application/sdp' };
        const cb = profile.contentBase(req.uri);
        if (cb !== null) h['Content-Base'] = cb;
        conn.reply(req, 200, h, profile.sdp(req.uri));
        return;
      }
      case 'SETUP': {
        const t = req.headers['transport'] ?? '';
        const tcp = /RTP\/AVP\/TCP/i.test(t);
        const kind: DeviceTransport = tcp ? 'tcp' : 'udp';
        if (!profile.transports.includes(kind)) { conn.reply(req, 461, common()); return; }
        const state: SessionState = s ?? {
          id: profile.newSessionId(), conn, kind: null, channel: 0, clientRtpPort: 0, udp: null,
          stopMedia: null, expiryTimer: null, ended: false,
        };
        sessions.set(conn, state);
        state.kind = kind;
        const c: ReplyContext = { url, sessionId: state.id, sessionHeader: sessionHeaderFor(state.id), rtpInfo: { seq, rtptime } };
        const finish = (): void => {
          c.transport = kind === 'tcp'
            ? { kind, interleaved: [state.channel, state.channel + 1] }
            : { kind, clientPorts: [state.clientRtpPort, state.clientRtpPort + 1], serverPorts: [(state.udp!.rtp.address()).port, (state.udp!.rtcp.address()).port] };
          const transport = profile.setupTransport(c);
          // the channel the device really sends on is the one its reply names
          const m = /interleaved=(\d+)/.exec(transport);
          if (m) state.channel = Number(m[1]);
          conn.reply(req, 200, { ...common(), ...profile.setupHeaders?.(c), Transport: transport, Session: c.sessionHeader });
          renew(state);
        };
        if (tcp) {
          const m = /interleaved=(\d+)/.exec(t);
          state.channel = m ? Number(m[1]) : 0;
          finish();
          return;
        }
        const m = /client_port=(\d+)/.exec(t);
        if (!m) { conn.reply(req, 400, common()); return; }
        state.clientRtpPort = Number(m[1]);
        void Promise.all([bindUdp(), bindUdp()]).then(([rtp, rtcp]) => {
          state.udp = { rtp, rtcp };
          rtcp.on('message', () => { stats.rtcpPackets++; if (profile.rtcpRenews) renew(state); });
          finish();
        });
        return;
      }
      case 'PLAY': {
        if (!s || !carriesSession) { conn.reply(req, 454, common()); return; }
        const c = ctx();
        conn.reply(req, 200, { ...common(), ...profile.playHeaders(c, req.uri), Session: c.sessionHeader });
        answeredRenewal();
        if (!s.stopMedia) startMedia(s);
        return;
      }
      case 'GET_PARAMETER': {
        const g = profile.getParameter;
        if (g === 'ignore') return;
        if (g === 'unknown') { profile.unknownMethod?.(req, conn); return; }
        if (g === 'ok') {
          conn.reply(req, 200, { ...common(), ...(s ? { Session: sessionHeaderFor(s.id) } : {}) });
          answeredRenewal();
          return;
        }
        conn.reply(req, g, common());
        return;
      }
      case 'TEARDOWN':
        if (profile.teardown === 'close') {
          if (s) endSession(s, 'teardown');
          // let the client see the connection end, as the firmware deletes its session object
          setTimeout(() => conn.destroy(), 10);
          return;
        }
        conn.reply(req, 200, common());
        if (s) endSession(s, 'teardown');
        return;
      default:
        if (profile.unknownMethod) profile.unknownMethod(req, conn);
        else conn.reply(req, 501, common());
    }
  };

  const server = await startFakeServer((req, conn) => {
    if (!(conn as FakeConn & { watched?: boolean }).watched) {
      (conn as FakeConn & { watched?: boolean }).watched = true;
      conn.socket.on('close', () => onConnGone(conn));
    }
    handle(req, conn);
    profile.onRequest?.(req, conn);
  });
  // interleaved RTCP from the client (odd channels) renews like UDP RTCP does
  server.onClientFrame((conn, channel) => {
    if (channel % 2 !== 1) return;
    stats.rtcpPackets++;
    const s = sessions.get(conn);
    if (s && profile.rtcpRenews) renew(s);
  });
  return {
    url: `rtsp://127.0.0.1:${server.port}${profile.path}`,
    server,
    stats,
    close: async () => {
      for (const s of [...sessions.values()]) endSession(s, 'gone');
      await server.close();
    },
  };
}

/** A Date header as live555 and Micro-RTSP print it: `Date: Wed, Dec 02 2026 07:20:00 GMT`. */
export function rtspDate(d = new Date()): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${months[d.getUTCMonth()]} ${p(d.getUTCDate())} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} GMT`;
}
