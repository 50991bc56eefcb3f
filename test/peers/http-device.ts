/**
 * The engine under the HTTP camera emulations in this folder (esp32-camera.ts,
 * axis-vapix.ts, hikvision-isapi.ts, mjpg-streamer.ts): a TCP server on 127.0.0.1 that reads
 * HTTP/1.x requests (request line and header fields, RFC 9112 §3) and hands each to the
 * device's handler, which writes the response bytes itself, exactly as that firmware frames
 * them (HTTP/1.0 or 1.1, chunked or close-delimited, which headers in which order). After a
 * handler says the response is complete, the next request on the same connection is read
 * (persistent connections) unless the device closes it.
 *
 * `serial`: the device handles one request at a time over all connections (ESP-IDF's httpd
 * runs one task: a second stream client waits, accepted but unanswered, until the first
 * stream ends). Also a looping source of JPEG pictures drawn by the demo camera's test
 * pattern and encoder (src/sim), so every frame differs and decodes.
 */
import * as net from 'node:net';
import { JpegEncoder } from '../../src/jpeg/encoder';
import { TestPattern } from '../../src/sim/test-pattern';
import { digestChallenge, verifyAuthorization } from '../../src/rtsp/auth';

export interface DeviceRequest {
  method: string;
  target: string;
  path: string;
  query: URLSearchParams;
  /** lower-case names */
  headers: Map<string, string>;
}

export interface DeviceConn {
  readonly socket: net.Socket;
  write(data: string | Buffer): boolean;
  /** the response is complete: read the next request (persistent connection) */
  done(): void;
  /** close the connection (after what was written) */
  end(): void;
  readonly closed: boolean;
  onClose(fn: () => void): void;
}

export type DeviceHandler = (req: DeviceRequest, conn: DeviceConn) => void;

export interface HttpDevice {
  readonly port: number;
  url(path: string): string;
  /** requests received so far, in order */
  readonly requests: DeviceRequest[];
  /** TCP connections accepted so far */
  connections(): number;
  /** connections open now */
  open(): number;
  close(): Promise<void>;
}

/** Starts a device on 127.0.0.1 (port 0: ephemeral). */
export async function startHttpDevice(handler: DeviceHandler, o: { port?: number; serial?: boolean } = {}): Promise<HttpDevice> {
  const requests: DeviceRequest[] = [];
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let busy = false;
  const waiting: (() => void)[] = [];
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    let handling = false;
    const closeFns: (() => void)[] = [];
    socket.on('close', () => { for (const f of closeFns) f(); });
    const conn: DeviceConn = {
      socket,
      write: (d) => (socket.destroyed ? false : socket.write(d)),
      done: () => { handling = false; release(); setImmediate(next); },
      end: () => { handling = false; release(); socket.end(); },
      get closed() { return socket.destroyed; },
      onClose: (fn) => closeFns.push(fn),
    };
    let holding = false;
    const release = (): void => {
      if (!holding) return;
      holding = false;
      busy = false;
      waiting.shift()?.();
    };
    closeFns.push(release);
    const next = (): void => {
      if (handling || socket.destroyed) return;
      const end = buf.indexOf('\r\n\r\n');
      const endLf = buf.indexOf('\n\n');
      const stop = end >= 0 ? end + 4 : endLf >= 0 ? endLf + 2 : -1;
      if (stop < 0) {
        if (buf.length > 16384) socket.destroy();
        return;
      }
      const run = (): void => {
        if (socket.destroyed) { release(); return; }
        const text = buf.subarray(0, stop).toString('latin1');
        buf = buf.subarray(stop);
        const [line, ...fields] = text.split(/\r?\n/);
        const [method = '', target = '/'] = (line ?? '').split(' ');
        const headers = new Map<string, string>();
        for (const f of fields) {
          const c = f.indexOf(':');
          if (c > 0) headers.set(f.slice(0, c).trim().toLowerCase(), f.slice(c + 1).trim());
        }
        const q = target.indexOf('?');
        const req: DeviceRequest = { method, target, path: q < 0 ? target : target.slice(0, q), query: new URLSearchParams(q < 0 ? '' : target.slice(q + 1)), headers };
        requests.push(req);
        handling = true;
        try { handler(req, conn); } catch { socket.destroy(); }
      };
      if (o.serial) {
        if (busy) { waiting.push(() => { busy = true; holding = true; run(); }); handling = true; return; }
        busy = true;
        holding = true;
      }
      run();
    };
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      next();
    });
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve));
  const addr = server.address() as net.AddressInfo;
  return {
    port: addr.port,
    url: (path) => `http://127.0.0.1:${addr.port}${path}`,
    requests,
    connections: () => accepted,
    open: () => sockets.size,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** JPEG pictures of the demo test pattern, encoded once and then looped. */
export class JpegLoop {
  private readonly frames: Buffer[] = [];
  private i = 0;

  constructor(width = 320, height = 240, count = 24, quality = 80) {
    const enc = new JpegEncoder({ width, height, subsampling: '420', quality });
    const planes = enc.allocPlanes();
    const pattern = new TestPattern(width, height, planes);
    const t0 = Date.now();
    for (let k = 0; k < count; k++) {
      pattern.render(planes, k, t0 + k * 100);
      this.frames.push(enc.encode(planes));
    }
  }

  next(): Buffer {
    const f = this.frames[this.i % this.frames.length]!;
    this.i++;
    return f;
  }

  get sent(): number {
    return this.i;
  }
}

/** Server-side auth of an emulation: Basic or Digest (RFC 7616 via src/rtsp/auth.ts), one realm. */
export class DeviceAuth {
  nonce: string;
  constructor(readonly scheme: 'basic' | 'digest', readonly realm: string, private readonly user: string, private readonly pass: string, private readonly makeNonce: () => string) {
    this.nonce = makeNonce();
  }

  ok(req: DeviceRequest): boolean {
    const v = req.headers.get('authorization');
    if (!v || !v.toLowerCase().startsWith(this.scheme)) return false;
    return verifyAuthorization(v, { method: req.method, username: this.user, password: this.pass, realm: this.realm, ...(this.scheme === 'digest' ? { nonce: this.nonce } : {}) });
  }

  /** Whether the request carried a Digest answer for an older nonce (for stale=true). */
  staleNonce(req: DeviceRequest): boolean {
    const v = req.headers.get('authorization') ?? '';
    const m = /nonce="([^"]*)"/i.exec(v);
    return this.scheme === 'digest' && m !== null && m[1] !== this.nonce;
  }

  digest(extra: { qop?: boolean; opaque?: string; stale?: boolean } = {}): string {
    return digestChallenge(this.realm, this.nonce, extra);
  }
}

/** `sec.usec` as ESP32 and mjpg-streamer write X-Timestamp (a capture clock, here uptime). */
export function xTimestamp(ms: number): string {
  const sec = Math.floor(ms / 1000);
  return `${sec}.${String(Math.round((ms - sec * 1000) * 1000)).padStart(6, '0')}`;
}
