/**
 * A scriptable server side of the RTSP-over-HTTP tunnel (QuickTime GET + POST bound by
 * x-sessioncookie) on 127.0.0.1, for the unit tests: it checks the requests' headers,
 * optionally demands Basic or Digest on both requests, answers the GET as told, decodes the
 * POST body as one base64 stream and records what it decoded. Every socket is tracked, so a
 * test can check that the client closed both connections. With `relayTo` it is an HTTP
 * tunnel front for a plain RTSP server (the demo camera): the decoded POST bytes go to a TCP
 * connection to it, and its bytes come back on the GET, as a camera's tunnel does.
 */
import * as net from 'node:net';
import { digestChallenge, verifyAuthorization } from '../../src/rtsp/auth';

export interface FakeTunnelRequest {
  method: string;
  target: string;
  version: string;
  headers: Record<string, string>;
}

export interface FakeTunnelOptions {
  auth?: { mode: 'basic' | 'digest'; user: string; password: string } | undefined;
  /** replaces the normal GET reply: raw bytes written, then the socket is left open (or closed when `close`) */
  getReply?: ((req: FakeTunnelRequest) => { bytes: Buffer | string; close?: boolean } | null) | undefined;
  /** bytes written right after the 200 head, in the same write */
  afterHead?: Buffer | string | undefined;
  /** raw bytes written on the POST connection once it is bound */
  postReply?: Buffer | string | undefined;
  /** end every POST connection once its first body bytes arrived (a proxy that closes the POST) */
  closePosts?: boolean | undefined;
  /** relay the tunnel to this RTSP server (one TCP connection per bound tunnel) */
  relayTo?: { host: string; port: number } | undefined;
}

export interface FakeTunnelServer {
  port: number;
  requests: FakeTunnelRequest[];
  /** bytes decoded from the POST bodies, in order */
  decoded(): Buffer;
  /** base64 text received on the POST, as the chunks arrived */
  postChunks: string[];
  /** the GET socket of the bound tunnel, to send RTSP bytes to the client */
  getSocket(): net.Socket | null;
  postSocket(): net.Socket | null;
  /** sockets still open on the server side */
  openSockets(): number;
  /** relayTo: connections to the RTSP server still open */
  openRelays(): number;
  close(): Promise<void>;
}

const NONCE = 'f4k3n0nc3';

function parseHead(text: string): FakeTunnelRequest | null {
  const lines = text.split('\r\n');
  const m = /^(\S+) (\S+) (HTTP\/\d\.\d)$/.exec(lines[0] ?? '');
  if (!m) return null;
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    if (c > 0) headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
  }
  return { method: m[1]!, target: m[2]!, version: m[3]!, headers };
}

/**
 * Decodes base64 text quad by quad, as a streaming server does: padding may sit between
 * quads (every write of the client is padded on its own), which Buffer.from(text, 'base64')
 * would take as the end of the data. Throws on a length that is not a multiple of 4.
 */
export function decodeBase64Stream(text: string): Buffer {
  if (text.length % 4 !== 0) throw new Error(`base64 stream of ${text.length} characters is not whole quads`);
  const out: Buffer[] = [];
  for (let i = 0; i < text.length; i += 4) out.push(Buffer.from(text.slice(i, i + 4), 'base64'));
  return Buffer.concat(out);
}

export async function startFakeTunnelServer(o: FakeTunnelOptions = {}): Promise<FakeTunnelServer> {
  const requests: FakeTunnelRequest[] = [];
  const postChunks: string[] = [];
  const sockets = new Set<net.Socket>();
  let get: net.Socket | null = null;
  let post: net.Socket | null = null;
  let cookie: string | null = null;
  const relays = new Set<net.Socket>();
  /** relayTo: each tunnel's connection to the RTSP server, by cookie, and its POST text not yet a whole quad */
  const tunnels = new Map<string, { relay: net.Socket; rest: string }>();
  const toRelay = (c: string | null, text: string): void => {
    const tn = c === null ? undefined : tunnels.get(c);
    if (!tn) return;
    const all = tn.rest + text.replace(/[\r\n]/g, '');
    const whole = all.length - (all.length % 4);
    tn.rest = all.slice(whole);
    if (whole > 0) tn.relay.write(decodeBase64Stream(all.slice(0, whole)));
  };
  const openRelay = (g: net.Socket, c: string | null): void => {
    if (!o.relayTo || c === null) return;
    const r = net.connect(o.relayTo.port, o.relayTo.host);
    tunnels.set(c, { relay: r, rest: '' });
    relays.add(r);
    r.on('data', (d: Buffer) => { if (!g.destroyed) g.write(d); });
    r.on('error', () => undefined);
    r.on('close', () => { relays.delete(r); tunnels.delete(c); g.end(); });
    // The GET gone: the tunnel is over, so is its RTSP connection.
    g.on('close', () => r.destroy());
  };

  const authorized = (req: FakeTunnelRequest): boolean => {
    if (!o.auth) return true;
    return verifyAuthorization(req.headers['authorization'], {
      method: req.method, username: o.auth.user, password: o.auth.password, realm: 'tunnel', ...(o.auth.mode === 'digest' ? { nonce: NONCE } : {}),
    });
  };
  const challenge = (): string => (o.auth?.mode === 'digest' ? digestChallenge('tunnel', NONCE, { qop: true }) : 'Basic realm="tunnel"');

  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let head = Buffer.alloc(0);
    let bound = false;
    let boundCookie: string | null = null;
    s.on('data', (chunk: Buffer) => {
      if (bound) {
        postChunks.push(chunk.toString('latin1'));
        toRelay(boundCookie, chunk.toString('latin1'));
        if (o.closePosts) s.end();
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const req = parseHead(head.toString('latin1', 0, end));
      const rest = head.subarray(end + 4);
      if (!req) { s.destroy(); return; }
      requests.push(req);
      if (req.method === 'GET') {
        const custom = o.getReply?.(req);
        if (custom) {
          s.write(custom.bytes);
          if (custom.close) s.end();
          return;
        }
        if (!authorized(req)) {
          s.end(`HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: ${challenge()}\r\nConnection: close\r\n\r\n`);
          return;
        }
        cookie = req.headers['x-sessioncookie'] ?? null;
        get = s;
        const reply = Buffer.from('HTTP/1.0 200 OK\r\nServer: fake\r\nConnection: close\r\nCache-Control: no-store\r\nPragma: no-cache\r\nContent-Type: application/x-rtsp-tunnelled\r\n\r\n', 'latin1');
        s.write(o.afterHead === undefined ? reply : Buffer.concat([reply, Buffer.from(o.afterHead)]));
        openRelay(s, cookie);
        return;
      }
      const postCookie = req.headers['x-sessioncookie'] ?? null;
      if (req.method === 'POST' && postCookie !== null && (postCookie === cookie || tunnels.has(postCookie))) {
        if (!authorized(req)) {
          s.end(`HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: ${challenge()}\r\n\r\n`);
          return;
        }
        post = s;
        bound = true;
        boundCookie = postCookie;
        if (rest.length > 0) {
          postChunks.push(rest.toString('latin1'));
          toRelay(boundCookie, rest.toString('latin1'));
          if (o.closePosts) s.end();
        }
        if (o.postReply !== undefined) s.write(o.postReply);
        return;
      }
      s.end('HTTP/1.0 400 Bad Request\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port, requests, postChunks,
    decoded: () => decodeBase64Stream(postChunks.join('')),
    getSocket: () => get,
    postSocket: () => post,
    openSockets: () => sockets.size,
    openRelays: () => relays.size,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      for (const r of relays) r.destroy();
      server.close(() => resolve());
    }),
  };
}
