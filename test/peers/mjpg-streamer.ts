/**
 * Emulation of mjpg-streamer's output_http plugin, written from its public source
 * (jacksonliam/mjpg-streamer, mjpg-streamer-experimental/plugins/output_http/httpd.c and
 * httpd.h):
 * - requests by query: `/?action=stream`, `/?action=snapshot` (others are files or 404);
 * - every answer is HTTP/1.0 with STD_HEADER: `Connection: close`, `Server:
 *   MJPG-Streamer/0.2`, `Cache-Control: no-store, no-cache, must-revalidate, pre-check=0,
 *   post-check=0, max-age=0`, `Pragma: no-cache`, `Expires: Mon, 3 Jan 2000 12:34:56 GMT`;
 * - send_stream: the head with `Content-Type: multipart/x-mixed-replace;boundary=
 *   boundarydonotcross`, then `--boundarydonotcross\r\n` at once; per frame
 *   `Content-Type: image/jpeg\r\nContent-Length: %d\r\nX-Timestamp: %d.%06d\r\n\r\n`, the
 *   JPEG, `\r\n--boundarydonotcross\r\n`; it waits for each fresh frame of the input plugin;
 * - send_snapshot: `Content-type: image/jpeg` (lower-case t) and X-Timestamp, NO
 *   Content-Length: the picture ends when the connection closes;
 * - with `-c user:pass`, Basic auth: `401 Unauthorized` with `WWW-Authenticate: Basic
 *   realm="MJPG-Streamer"`; send_error's `404: Not Found!` as text/plain.
 */
import { startHttpDevice, JpegLoop, DeviceAuth, xTimestamp, type DeviceConn, type DeviceRequest, type HttpDevice } from './http-device';

const STD_HEADER = 'Connection: close\r\nServer: MJPG-Streamer/0.2\r\n'
  + 'Cache-Control: no-store, no-cache, must-revalidate, pre-check=0, post-check=0, max-age=0\r\n'
  + 'Pragma: no-cache\r\nExpires: Mon, 3 Jan 2000 12:34:56 GMT\r\n';
const BOUNDARY = 'boundarydonotcross';

export interface MjpgStreamerOptions {
  fps?: number;
  /** `-c user:pass` */
  credentials?: { username: string; password: string };
}

export interface MjpgStreamer extends HttpDevice {
  framesSent(): number;
}

export async function startMjpgStreamer(o: MjpgStreamerOptions = {}): Promise<MjpgStreamer> {
  const loop = new JpegLoop(320, 240);
  const auth = o.credentials ? new DeviceAuth('basic', 'MJPG-Streamer', o.credentials.username, o.credentials.password, () => '') : null;
  const periodMs = 1000 / (o.fps ?? 15);
  const t0 = Date.now();
  let sent = 0;
  // the input plugin: a fresh frame every period; clients wait for the next one
  const waiters = new Set<(jpeg: Buffer, ts: number) => void>();
  const input = setInterval(() => {
    const jpeg = loop.next();
    const ts = Date.now() - t0;
    for (const w of [...waiters]) w(jpeg, ts);
  }, periodMs);

  const sendError = (conn: DeviceConn, which: 401 | 404, message: string): void => {
    const status = which === 401 ? '401 Unauthorized' : '404 Not Found';
    const extra = which === 401 ? 'WWW-Authenticate: Basic realm="MJPG-Streamer"\r\n' : '';
    const text = which === 401 ? '401: Not Authenticated!\r\n' : '404: Not Found!\r\n';
    conn.write(`HTTP/1.0 ${status}\r\nContent-type: text/plain\r\n${STD_HEADER}${extra}\r\n${text}${message}`);
    conn.end();
  };

  const handler = (req: DeviceRequest, conn: DeviceConn): void => {
    if (auth && !auth.ok(req)) { sendError(conn, 401, 'wrong credentials'); return; }
    const action = req.query.get('action');
    if (action === 'snapshot') {
      const once = (jpeg: Buffer, ts: number): void => {
        waiters.delete(once);
        if (conn.closed) return;
        conn.write(`HTTP/1.0 200 OK\r\n${STD_HEADER}Content-type: image/jpeg\r\nX-Timestamp: ${xTimestamp(ts)}\r\n\r\n`);
        conn.write(jpeg);
        conn.end();
      };
      waiters.add(once);
      conn.onClose(() => waiters.delete(once));
      return;
    }
    if (action !== 'stream') { sendError(conn, 404, 'Could not open file'); return; }
    conn.write(`HTTP/1.0 200 OK\r\n${STD_HEADER}Content-Type: multipart/x-mixed-replace;boundary=${BOUNDARY}\r\n\r\n--${BOUNDARY}\r\n`);
    const each = (jpeg: Buffer, ts: number): void => {
      if (conn.closed) { waiters.delete(each); return; }
      conn.write(`Content-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\nX-Timestamp: ${xTimestamp(ts)}\r\n\r\n`);
      conn.write(jpeg);
      conn.write(`\r\n--${BOUNDARY}\r\n`);
      sent++;
    };
    waiters.add(each);
    conn.onClose(() => waiters.delete(each));
  };

  const dev = await startHttpDevice(handler);
  const close = dev.close;
  return Object.assign(dev, {
    framesSent: () => sent,
    close: async () => { clearInterval(input); waiters.clear(); await close(); },
  });
}
