/**
 * A scriptable fake RTSP server for exact-request checks (the byte-exact style of gortsplib's tests). It
 * listens on 127.0.0.1 port 0, parses each request with its own small parser (independent of
 * src/rtsp/message.ts so the two can check each other), records it, and hands it to the
 * test's handler, which answers with `reply`, sends interleaved frames, or misbehaves.
 */
import * as net from 'node:net';

export interface FakeRequest {
  method: string;
  uri: string;
  /** the raw request line */
  line: string;
  /** header names lower-cased; repeated headers joined with ', ' */
  headers: Record<string, string>;
  /** raw header lines as sent */
  rawHeaders: string[];
  body: Buffer;
  cseq: string | undefined;
  /** the whole request as text, for "never contains" checks */
  raw: string;
  /** index of the connection (0-based) it arrived on */
  connIndex: number;
  /** when it arrived (performance.now(), ms): for checks of when a client came back */
  at: number;
}

export interface FakeConn {
  index: number;
  socket: net.Socket;
  reply(req: FakeRequest | null, status: number, headers?: Record<string, string | string[]>, body?: string | Buffer): void;
  interleaved(channel: number, payload: Buffer): void;
  write(raw: string | Buffer): void;
  /** server-to-client request */
  request(method: string, uri: string, cseq: number, headers?: Record<string, string>): void;
  destroy(): void;
  /** `$` frames the client sent (e.g. RTCP RR) */
  clientFrames: { channel: number; payload: Buffer }[];
  /** responses the client sent to server requests */
  clientResponses: string[];
}

export type FakeHandler = (req: FakeRequest, conn: FakeConn) => void | Promise<void>;

export interface FakeServer {
  port: number;
  url(path?: string): string;
  requests: FakeRequest[];
  conns: FakeConn[];
  setHandler(h: FakeHandler): void;
  /** called for every `$` frame a client sends (RTCP on odd channels), after it is recorded */
  onClientFrame(cb: (conn: FakeConn, channel: number, payload: Buffer) => void): void;
  /** resolves when a request matching `pred` has arrived (bounded by timeoutMs) */
  waitFor(pred: (r: FakeRequest) => boolean, timeoutMs?: number): Promise<FakeRequest>;
  close(): Promise<void>;
}

const REASONS: Record<number, string> = {
  200: 'OK', 301: 'Moved Permanently', 302: 'Moved Temporarily', 400: 'Bad Request', 401: 'Unauthorized',
  404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable', 454: 'Session Not Found', 461: 'Unsupported Transport',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 551: 'Option not supported',
};

export async function startFakeServer(handler?: FakeHandler): Promise<FakeServer> {
  let current: FakeHandler = handler ?? ((req, c) => c.reply(req, 501));
  const requests: FakeRequest[] = [];
  const conns: FakeConn[] = [];
  const waiters: { pred: (r: FakeRequest) => boolean; resolve: (r: FakeRequest) => void }[] = [];
  const sockets = new Set<net.Socket>();
  let frameListener: ((conn: FakeConn, channel: number, payload: Buffer) => void) | null = null;

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => { /* client went away */ });
    const conn: FakeConn = {
      index: conns.length,
      socket,
      clientFrames: [],
      clientResponses: [],
      reply(req, status, headers = {}, body) {
        const b = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
        let out = `RTSP/1.0 ${status} ${REASONS[status] ?? 'Status'}\r\n`;
        if (req?.cseq !== undefined && !('CSeq' in headers)) out += `CSeq: ${req.cseq}\r\n`;
        for (const [k, v] of Object.entries(headers)) for (const x of Array.isArray(v) ? v : [v]) out += `${k}: ${x}\r\n`;
        if (b.length) out += `Content-Length: ${b.length}\r\n`;
        out += '\r\n';
        if (!socket.destroyed) socket.write(Buffer.concat([Buffer.from(out, 'latin1'), b]));
      },
      interleaved(channel, payload) {
        const h = Buffer.from([0x24, channel, payload.length >> 8, payload.length & 0xff]);
        if (!socket.destroyed) socket.write(Buffer.concat([h, payload]));
      },
      write(raw) { if (!socket.destroyed) socket.write(raw); },
      request(method, uri, cseq, headers = {}) {
        let out = `${method} ${uri} RTSP/1.0\r\nCSeq: ${cseq}\r\n`;
        for (const [k, v] of Object.entries(headers)) out += `${k}: ${v}\r\n`;
        if (!socket.destroyed) socket.write(out + '\r\n');
      },
      destroy() { socket.destroy(); },
    };
    conns.push(conn);
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (buf.length === 0) return;
        if (buf[0] === 0x24) {
          if (buf.length < 4) return;
          const len = buf.readUInt16BE(2);
          if (buf.length < 4 + len) return;
          const frame = { channel: buf[1]!, payload: Buffer.from(buf.subarray(4, 4 + len)) };
          conn.clientFrames.push(frame);
          buf = buf.subarray(4 + len);
          frameListener?.(conn, frame.channel, frame.payload);
          continue;
        }
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const lines = head.split('\r\n');
        const hdrs: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          if (i < 0) continue;
          const k = l.slice(0, i).trim().toLowerCase();
          const v = l.slice(i + 1).trim();
          hdrs[k] = k in hdrs ? `${hdrs[k]}, ${v}` : v;
        }
        const clen = Number(hdrs['content-length'] ?? '0');
        if (buf.length < end + 4 + clen) return;
        const body = Buffer.from(buf.subarray(end + 4, end + 4 + clen));
        const raw = buf.subarray(0, end + 4 + clen).toString('latin1');
        buf = buf.subarray(end + 4 + clen);
        const line = lines[0] ?? '';
        if (line.startsWith('RTSP/')) { conn.clientResponses.push(raw); continue; }
        const [method = '', uri = ''] = line.split(' ');
        const req: FakeRequest = { method, uri, line, headers: hdrs, rawHeaders: lines.slice(1), body, cseq: hdrs['cseq'], raw, connIndex: conn.index, at: performance.now() };
        requests.push(req);
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (waiters[i]!.pred(req)) { waiters[i]!.resolve(req); waiters.splice(i, 1); }
        }
        try {
          const r = current(req, conn);
          if (r instanceof Promise) r.catch(() => socket.destroy());
        } catch { socket.destroy(); }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: (path = '/cam') => `rtsp://127.0.0.1:${port}${path}`,
    requests,
    conns,
    setHandler(h) { current = h; },
    onClientFrame(cb) { frameListener = cb; },
    waitFor(pred, timeoutMs = 5000) {
      const found = requests.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('fake server: request not seen in time')), timeoutMs);
        waiters.push({ pred, resolve: (r) => { clearTimeout(t); resolve(r); } });
      });
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A minimal MJPEG SDP as cameras send it. */
export function mjpegSdp(opts: { control?: string; sessionControl?: string; audio?: boolean; width?: number; height?: number } = {}): string {
  const lines = [
    'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=fake', 'c=IN IP4 0.0.0.0', 't=0 0',
  ];
  if (opts.sessionControl !== undefined) lines.push(`a=control:${opts.sessionControl}`);
  lines.push('m=video 0 RTP/AVP 26', 'a=rtpmap:26 JPEG/90000');
  if (opts.width && opts.height) lines.push(`a=x-dimensions:${opts.width},${opts.height}`);
  lines.push(`a=control:${opts.control ?? 'stream=0'}`);
  if (opts.audio) lines.push('m=audio 0 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=control:stream=1');
  return lines.join('\r\n') + '\r\n';
}

/** RTP/JPEG packets grouped into frames (marker ends a frame), from a captured vector. */
export function framesOf(packets: Buffer[]): Buffer[][] {
  const out: Buffer[][] = [];
  let cur: Buffer[] = [];
  for (const p of packets) {
    cur.push(p);
    if ((p[1]! & 0x80) !== 0) { out.push(cur); cur = []; }
  }
  return out;
}

/**
 * Streams frames (lists of RTP packets) in a loop every `intervalMs`, rewriting sequence
 * numbers and timestamps so the loop looks like one continuous stream. Returns a stop function.
 */
export function streamFrames(frames: Buffer[][], send: (pkt: Buffer) => void, intervalMs = 40, opts: { ssrc?: number; maxFrames?: number } = {}): () => void {
  let seq = 1000;
  let ts = 90000;
  let i = 0;
  const timer = setInterval(() => {
    if (opts.maxFrames !== undefined && i >= opts.maxFrames) { clearInterval(timer); return; }
    const f = frames[i % frames.length]!;
    i++;
    ts = (ts + 3600) >>> 0;
    for (const p of f) {
      const c = Buffer.from(p);
      c.writeUInt16BE(seq & 0xffff, 2);
      seq++;
      c.writeUInt32BE(ts, 4);
      if (opts.ssrc !== undefined) c.writeUInt32BE(opts.ssrc >>> 0, 8);
      send(c);
    }
  }, intervalMs);
  return () => clearInterval(timer);
}

export interface CameraScript {
  frames: Buffer[][];
  /** Content-Base to send, default url + '/' */
  contentBase?: string | null;
  sdp?: string;
  sessionId?: string;
  /** Session timeout announced, seconds */
  timeout?: number;
  public?: string;
  /** interleaved channels the server picks instead of the requested ones */
  channels?: [number, number];
  /** hook before default handling; return true when handled */
  before?: (req: FakeRequest, conn: FakeConn) => boolean;
  intervalMs?: number;
}

/** A well-behaved TCP-interleaved MJPEG camera; `before` lets a test override any request. */
export function tcpCamera(server: { url(path?: string): string }, script: CameraScript): FakeHandler {
  const stops: (() => void)[] = [];
  return (req, conn) => {
    if (script.before?.(req, conn)) return;
    const sess = script.sessionId ?? 'ABCDEF12';
    const sessHdr = script.timeout !== undefined ? `${sess};timeout=${script.timeout}` : sess;
    switch (req.method) {
      case 'OPTIONS':
        conn.reply(req, 200, { Public: script.public ?? 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER' });
        return;
      case 'DESCRIBE': {
        const headers: Record<string, string> = { 'Content-Type': 'application/sdp' };
        const cb = script.contentBase === undefined ? server.url() + '/' : script.contentBase;
        if (cb !== null) headers['Content-Base'] = cb;
        conn.reply(req, 200, headers, script.sdp ?? mjpegSdp());
        return;
      }
      case 'SETUP': {
        const t = req.headers['transport'] ?? '';
        const m = /interleaved=(\d+)-(\d+)/.exec(t);
        const ch = script.channels ?? (m ? [Number(m[1]), Number(m[2])] : [0, 1]);
        conn.reply(req, 200, { Transport: `RTP/AVP/TCP;unicast;interleaved=${ch[0]}-${ch[1]};ssrc=1234ABCD;mode="PLAY"`, Session: sessHdr });
        (conn as FakeConn & { channel?: number }).channel = ch[0];
        return;
      }
      case 'PLAY': {
        conn.reply(req, 200, { Session: sessHdr, 'RTP-Info': `url=${req.uri};seq=1000;rtptime=90000` });
        const ch = (conn as FakeConn & { channel?: number }).channel ?? 0;
        const stop = streamFrames(script.frames, (p) => conn.interleaved(ch, p), script.intervalMs ?? 20);
        stops.push(stop);
        conn.socket.on('close', stop);
        return;
      }
      case 'GET_PARAMETER':
      case 'TEARDOWN':
        conn.reply(req, 200, { Session: sess });
        return;
      default:
        conn.reply(req, 501);
    }
  };
}
