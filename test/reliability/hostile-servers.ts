/**
 * Hostile RTSP servers for the reliability suite: a minimal RTSP/1.0 responder on
 * 127.0.0.1 port 0 (its own request parser, independent of src/rtsp) that runs a normal
 * OPTIONS → DESCRIBE → SETUP → PLAY dialogue unless a hook takes over a request to
 * misbehave. Every flood is bounded in bytes and time and respects socket backpressure,
 * so the server's own memory stays small and measurements reflect the client.
 */
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { VideoSource } from '../../src/sim/media-source';

export interface Req { method: string; uri: string; cseq: string; headers: Record<string, string>; connIndex: number }

export interface Conn {
  readonly index: number;
  readonly socket: net.Socket;
  reply(req: Req, status: number, headers?: [string, string][], body?: string): void;
  write(b: Buffer | string): boolean;
  interleaved(channel: number, payload: Buffer): void;
  /**
   * Writes `chunk` repeatedly until `maxBytes` were written, `maxMs` passed or the client
   * closed the socket; waits for 'drain' (never queues more than one chunk). Resolves with
   * the bytes written.
   */
  pump(chunk: Buffer, maxBytes: number, maxMs: number): Promise<number>;
  readonly closed: boolean;
}

/** Return true when the hook answered (or deliberately did not answer) the request. */
export type Hook = (req: Req, c: Conn, srv: HostileServer) => boolean;

export interface HostileOptions {
  host?: string;
  /** 'tcp' (interleaved 0-1) or a UDP pair to announce as server_port */
  transport?: 'tcp' | { rtpPort: number; rtcpPort: number };
  hook?: Hook;
  /** called once PLAY was answered 200 */
  onPlay?: (c: Conn, srv: HostileServer) => void;
}

export interface HostileServer {
  readonly port: number;
  readonly host: string;
  url(path?: string): string;
  connections: number;
  requests: Req[];
  bytesSent: number;
  /** the client's UDP client_port pair from the last SETUP */
  clientPorts: [number, number] | null;
  conns: Conn[];
  close(): Promise<void>;
}

export const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=hostile', 'c=IN IP4 0.0.0.0', 't=0 0', 'a=control:*',
  'm=video 0 RTP/AVP 26', 'a=rtpmap:26 JPEG/90000', 'a=control:stream=0', ''].join('\r\n');

export async function startHostile(opts: HostileOptions = {}): Promise<HostileServer> {
  const host = opts.host ?? '127.0.0.1';
  const sockets = new Set<net.Socket>();
  const srv: HostileServer = {
    port: 0, host, url: (p = '/cam') => `rtsp://${host}:${srv.port}${p}`,
    connections: 0, requests: [], bytesSent: 0, clientPorts: null, conns: [],
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const index = srv.connections++;
    let closed = false;
    socket.on('close', () => { closed = true; sockets.delete(socket); });
    socket.on('error', () => { /* the client hung up on us: expected */ });
    const write = (b: Buffer | string): boolean => {
      if (closed || socket.destroyed) return false;
      srv.bytesSent += typeof b === 'string' ? Buffer.byteLength(b) : b.length;
      return socket.write(b);
    };
    const c: Conn = {
      index, socket,
      get closed() { return closed || socket.destroyed; },
      reply(req, status, headers = [], body) {
        let out = `RTSP/1.0 ${status} ${status === 200 ? 'OK' : 'Status'}\r\nCSeq: ${req.cseq}\r\n`;
        for (const [k, v] of headers) out += `${k}: ${v}\r\n`;
        if (body !== undefined) out += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
        write(out + '\r\n' + (body ?? ''));
      },
      write,
      interleaved(ch, payload) {
        const h = Buffer.from([0x24, ch, payload.length >> 8, payload.length & 0xff]);
        write(Buffer.concat([h, payload]));
      },
      pump(chunk, maxBytes, maxMs) {
        return new Promise((resolve) => {
          let sent = 0;
          const end = Date.now() + maxMs;
          const go = (): void => {
            while (!c.closed && sent < maxBytes && Date.now() < end) {
              sent += chunk.length;
              if (!write(chunk)) {
                const retry = setTimeout(go, 200); // bounded wait if 'drain' never comes
                socket.once('drain', () => { clearTimeout(retry); go(); });
                return;
              }
            }
            resolve(sent);
          };
          go();
        });
      },
    };
    srv.conns.push(c);
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.length > 1 << 20) { socket.destroy(); return; }
      for (;;) {
        // drop interleaved RTCP from the client
        while (buf.startsWith('$') && buf.length >= 4) {
          const len = (buf.charCodeAt(2) << 8) | buf.charCodeAt(3);
          if (buf.length < 4 + len) return;
          buf = buf.slice(4 + len);
        }
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0 || buf.startsWith('$')) return;
        const lines = buf.slice(0, end).split('\r\n');
        buf = buf.slice(end + 4);
        const [method = '', uri = ''] = (lines[0] ?? '').split(' ');
        if (method.startsWith('RTSP/')) continue; // a response to something we sent
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        const req: Req = { method, uri, cseq: headers['cseq'] ?? '0', headers, connIndex: index };
        srv.requests.push(req);
        if (opts.hook?.(req, c, srv)) continue;
        defaultReply(req, c);
      }
    });
  });
  const defaultReply = (req: Req, c: Conn): void => {
    switch (req.method) {
      case 'OPTIONS': c.reply(req, 200, [['Public', 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER']]); break;
      case 'DESCRIBE': c.reply(req, 200, [['Content-Type', 'application/sdp'], ['Content-Base', `${srv.url()}/`]], SDP); break;
      case 'SETUP': {
        const t = opts.transport ?? 'tcp';
        let tr: string;
        if (t === 'tcp') tr = 'RTP/AVP/TCP;unicast;interleaved=0-1';
        else {
          const m = /client_port=(\d+)-(\d+)/.exec(req.headers['transport'] ?? '');
          srv.clientPorts = m ? [Number(m[1]), Number(m[2])] : null;
          tr = `RTP/AVP;unicast;client_port=${m?.[1]}-${m?.[2]};server_port=${t.rtpPort}-${t.rtcpPort}`;
        }
        c.reply(req, 200, [['Transport', tr], ['Session', 'HOSTILE1;timeout=60']]);
        break;
      }
      case 'PLAY':
        c.reply(req, 200, [['Session', 'HOSTILE1'], ['Range', 'npt=0-']]);
        opts.onPlay?.(c, srv);
        break;
      default: c.reply(req, 200, [['Session', 'HOSTILE1']]);
    }
  };
  await new Promise<void>((r) => server.listen(0, host, r));
  (srv as { port: number }).port = (server.address() as net.AddressInfo).port;
  return srv;
}

/**
 * RTP/JPEG frames from the demo camera's encoder, with our own sequence numbers and
 * timestamps so a test can splice in hostile packets and keep the stream continuous.
 */
export class FrameSource {
  private readonly video: VideoSource;
  seq = 1000;
  ts = 90000;
  readonly ssrc: number;

  constructor(width = 160, height = 120, ssrc = 0x11223344) {
    this.video = new VideoSource({ width, height });
    this.ssrc = ssrc;
  }

  /** packets of the next valid frame */
  next(): Buffer[] {
    return this.raw().map((p) => this.stamp(Buffer.from(p)));
  }

  private raw(): Buffer[] {
    this.ts = (this.ts + 3600) >>> 0;
    return this.video.nextFrame(Date.now(), { q: 255, restartMarkers: false, zeroDimensions: false });
  }

  stamp(p: Buffer, marker?: boolean): Buffer {
    p.writeUInt16BE(this.seq, 2);
    this.seq = (this.seq + 1) & 0xffff;
    p.writeUInt32BE(this.ts, 4);
    p.writeUInt32BE(this.ssrc, 8);
    if (marker !== undefined) p[1] = (p[1]! & 0x7f) | (marker ? 0x80 : 0);
    return p;
  }

  /**
   * One frame of `totalBytes` scan data: the first packet of a real frame (tables, size),
   * then 1400-byte fragments with increasing offsets (RFC 2435 §3.1), marker on the last.
   * Yields packet by packet so the server never holds the whole frame.
   */
  *giant(totalBytes: number): Generator<Buffer> {
    const first = Buffer.from(this.raw()[0]!);
    // first packet: RTP 12 + JPEG 8 + qtable header 4 + tables (+ data)
    const qlen = first.readUInt16BE(12 + 8 + 2);
    let offset = first.length - (12 + 8 + 4 + qlen);
    yield this.stamp(first, false);
    const data = Buffer.alloc(1400, 0x55);
    while (offset < totalBytes) {
      const p = Buffer.alloc(12 + 8 + data.length);
      p[0] = 0x80;
      p[1] = 26;
      first.copy(p, 12, 12, 20); // JPEG main header: type, Q, width, height
      p.writeUIntBE(offset & 0xffffff, 13, 3);
      data.copy(p, 20);
      offset += data.length;
      yield this.stamp(p, offset >= totalBytes);
    }
  }
}

/** A UDP socket bound to `host` port 0 (127.0.0.2 works on Linux loopback). */
export async function udpSocket(host = '127.0.0.1'): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.on('error', () => { /* ICMP port unreachable after the client closed: ignore */ });
  await new Promise<void>((r) => s.bind(0, host, r));
  return s;
}

export function closeUdp(s: dgram.Socket): Promise<void> {
  return new Promise((r) => { try { s.close(() => r()); } catch { r(); } });
}
