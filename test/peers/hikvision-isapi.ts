/**
 * Emulation of a Hikvision-style snapshot URL (ISAPI firmware), written from public sources:
 * - the picture URL `/ISAPI/Streaming/channels/101/picture` and that newer firmware wants
 *   Digest there instead of Basic (bkbilly/Hikvision-Site pull request 8, "ISAPI
 *   Compatibility");
 * - the 401 as Hikvision's ISAPI developer guide shows it in its "Event Message Parsing"
 *   dialogue (quoted in public repositories): `HTTP/1.1 401 Unauthorized`, `Date`, an empty
 *   `Server:`, `Content-Length: 178`, `Content-Type: text/html`, `Connection: keep-alive`,
 *   `Keep-Alive: timeout=10, max=99`, `WWW-Authenticate: Digest qop="auth",
 *   realm="IP Camera(C2183)", nonce="4e54…", stale="FALSE"` (the nonce hex-encoded text);
 * - persistent connections as that `Keep-Alive: timeout=10, max=99` announces: the device
 *   closes a connection after 99 requests or 10 s idle (options to shorten both);
 * - a nonce that expires: the next request gets 401 with `stale="TRUE"` (RFC 7616 §3.3).
 * The 200 answer (`Content-Type: image/jpeg`, `Content-Length`) is the plain form; the sources
 * do not quote it byte for byte.
 */
import { randomBytes } from 'node:crypto';
import { startHttpDevice, JpegLoop, DeviceAuth, type DeviceConn, type DeviceRequest, type HttpDevice } from './http-device';

export const HIKVISION_PICTURE = '/ISAPI/Streaming/channels/101/picture';

export interface HikvisionOptions {
  username: string;
  password: string;
  /** requests per connection before the device closes it (99) */
  maxRequests?: number;
  /** idle seconds before the device closes a kept connection (10) */
  keepAliveSec?: number;
  /** a nonce is good for this many pictures, then stale (default: forever) */
  nonceUses?: number;
  /** answer 503 with this Retry-After (seconds) to the next `busy` requests */
  busy?: { count: number; retryAfterSec: number };
}

export interface HikvisionCamera extends HttpDevice {
  pictures(): number;
  challenges(): number;
  staleChallenges(): number;
  /** request start times (ms, monotonic) of picture requests */
  pictureTimes: number[];
  setBusy(count: number, retryAfterSec: number): void;
}

function hikNonce(): string {
  return Buffer.from(Buffer.from(`${randomBytes(4).toString('hex')}:${Date.now() % 100000000}`).toString('base64')).toString('hex');
}

export async function startHikvisionCamera(o: HikvisionOptions): Promise<HikvisionCamera> {
  const loop = new JpegLoop(320, 240);
  const auth = new DeviceAuth('digest', 'IP Camera(C2183)', o.username, o.password, hikNonce);
  let nonceUses = 0;
  let pictures = 0;
  let challenges = 0;
  let stale = 0;
  let busy = o.busy ? { ...o.busy } : { count: 0, retryAfterSec: 0 };
  const maxRequests = o.maxRequests ?? 99;
  const keepAliveMs = (o.keepAliveSec ?? 10) * 1000;
  const perConn = new WeakMap<DeviceConn, { n: number; idle: NodeJS.Timeout | null }>();
  const pictureTimes: number[] = [];

  const date = (): string => new Date().toUTCString();
  /** counts the request; after max, the device closes the connection once it answered */
  const finish = (conn: DeviceConn): void => {
    const st = perConn.get(conn) ?? { n: 0, idle: null };
    perConn.set(conn, st);
    st.n++;
    if (st.idle) clearTimeout(st.idle);
    if (st.n >= maxRequests) { conn.end(); return; }
    st.idle = setTimeout(() => conn.end(), keepAliveMs);
    conn.onClose(() => { if (st.idle) clearTimeout(st.idle); });
    conn.done();
  };
  const keepAliveHeaders = (conn: DeviceConn): string => {
    const left = maxRequests - ((perConn.get(conn)?.n ?? 0) + 1);
    return `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.round(keepAliveMs / 1000)}, max=${Math.max(0, left)}\r\n`;
  };

  const handler = (req: DeviceRequest, conn: DeviceConn): void => {
    const st = perConn.get(conn);
    if (st?.idle) { clearTimeout(st.idle); st.idle = null; }
    if (req.path.toLowerCase() !== HIKVISION_PICTURE.toLowerCase()) {
      const body = '<!DOCTYPE html><html><head><title>Document Error: Not Found</title></head><body><h2>Access Error: 404 -- Not Found</h2></body></html>';
      conn.write(`HTTP/1.1 404 Not Found\r\nDate: ${date()}\r\nServer: \r\nContent-Length: ${body.length}\r\nContent-Type: text/html\r\n${keepAliveHeaders(conn)}\r\n${body}`);
      finish(conn);
      return;
    }
    if (!auth.ok(req)) {
      const isStale = auth.staleNonce(req);
      challenges++;
      if (isStale) stale++;
      const body = '<!DOCTYPE html><html><head><title>Document Error: Unauthorized</title></head><body><h2>Access Error: 401 -- Unauthorized</h2></body></html>'.slice(0, 178).padEnd(178);
      conn.write(`HTTP/1.1 401 Unauthorized\r\nDate: ${date()}\r\nServer: \r\nContent-Length: ${body.length}\r\nContent-Type: text/html\r\n${keepAliveHeaders(conn)}`
        + `WWW-Authenticate: Digest qop="auth", realm="IP Camera(C2183)", nonce="${auth.nonce}", stale="${isStale ? 'TRUE' : 'FALSE'}"\r\n\r\n${body}`);
      finish(conn);
      return;
    }
    pictureTimes.push(performance.now());
    if (busy.count > 0) {
      busy.count--;
      const body = 'Service Unavailable';
      conn.write(`HTTP/1.1 503 Service Unavailable\r\nDate: ${date()}\r\nServer: \r\nRetry-After: ${busy.retryAfterSec}\r\nContent-Length: ${body.length}\r\nContent-Type: text/plain\r\n${keepAliveHeaders(conn)}\r\n${body}`);
      finish(conn);
      return;
    }
    const jpeg = loop.next();
    pictures++;
    if (o.nonceUses !== undefined && ++nonceUses >= o.nonceUses) {
      // this answer is the nonce's last: the next request meets a new one
      auth.nonce = hikNonce();
      nonceUses = 0;
    }
    conn.write(`HTTP/1.1 200 OK\r\nDate: ${date()}\r\nServer: \r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n${keepAliveHeaders(conn)}\r\n`);
    conn.write(jpeg);
    finish(conn);
  };

  const dev = await startHttpDevice(handler);
  return Object.assign(dev, {
    pictures: () => pictures, challenges: () => challenges, staleChallenges: () => stale, pictureTimes,
    setBusy: (count: number, retryAfterSec: number) => { busy = { count, retryAfterSec }; },
  });
}
