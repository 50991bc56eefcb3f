/**
 * Emulation of an Axis network camera's Motion JPEG over HTTP, written from the public
 * VAPIX documentation and dialogues:
 * - VAPIX Video streaming API, "Motion JPEG video request/response" (`/axis-cgi/mjpg/video.cgi`,
 *   arguments resolution, fps, compression, nbrofframes, duration): "the Axis product returns
 *   a continuous flow of JPEG images. The content type is multipart/x-mixed-replace and each
 *   image ends with a boundary string"; body `--<boundary>` then `Content-Type: image/jpeg`,
 *   `Content-Length: <image size>`, the JPEG; the older HTTP API pages (Axis 250S manual,
 *   "MJPG video response") show the exact bytes: `HTTP/1.0 200 OK\r\nContent-Type:
 *   multipart/x-mixed-replace;boundary=myboundary\r\n\r\n--myboundary\r\nContent-Type:
 *   image/jpeg\r\nContent-Length: <size>\r\n\r\n<JPEG image data>\r\n--myboundary\r\n…`;
 *   `nbrofframes=N` ends the stream after N images;
 * - `/axis-cgi/jpg/image.cgi`: one JPEG;
 * - authentication: HTTP Digest, challenge as captured from Axis firmware in public
 *   reports: `WWW-Authenticate: Digest realm="AXIS_ACCC8E…", nonce="<8 hex>Y<hex>",
 *   stale=FALSE, qop="auth"` followed by `WWW-Authenticate: Basic realm="AXIS_ACCC8E…"` on
 *   devices that still allow Basic (e.g. the dialogues quoted in home-assistant/axis's RTSP
 *   tests and in curl transcripts for `/axis-cgi/basicdeviceinfo.cgi`).
 * Where the sources are silent (the exact 401 body, the Server header) the plainest form is used.
 */
import { randomBytes } from 'node:crypto';
import { startHttpDevice, JpegLoop, DeviceAuth, type DeviceConn, type DeviceRequest, type HttpDevice } from './http-device';

export interface AxisOptions {
  username: string;
  password: string;
  /** also offer Basic after Digest (default true) */
  basic?: boolean;
  fps?: number;
}

export interface AxisCamera extends HttpDevice {
  /** images sent, all clients */
  framesSent(): number;
  /** 401 answers sent */
  challenges(): number;
}

const REALM = 'AXIS_ACCC8E000000';

export async function startAxisCamera(o: AxisOptions): Promise<AxisCamera> {
  const loop = new JpegLoop(320, 240);
  const auth = new DeviceAuth('digest', REALM, o.username, o.password, () => `${Math.floor(Date.now() / 1000).toString(16).padStart(8, '0')}Y${randomBytes(19).toString('hex')}`);
  const basic = new DeviceAuth('basic', REALM, o.username, o.password, () => '');
  let sent = 0;
  let challenges = 0;

  const unauthorized = (conn: DeviceConn): void => {
    challenges++;
    const body = '<HTML><HEAD><TITLE>401 Unauthorized</TITLE></HEAD><BODY><H1>401 Unauthorized</H1>Your client does not have permission to get URL</BODY></HTML>\n';
    const challengesText = `WWW-Authenticate: Digest realm="${REALM}", nonce="${auth.nonce}", stale=FALSE, qop="auth"\r\n`
      + (o.basic === false ? '' : `WWW-Authenticate: Basic realm="${REALM}"\r\n`);
    conn.write(`HTTP/1.1 401 Unauthorized\r\n${challengesText}Content-Type: text/html\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    conn.done();
  };

  const handler = (req: DeviceRequest, conn: DeviceConn): void => {
    if (!(auth.ok(req) || (o.basic !== false && basic.ok(req)))) { unauthorized(conn); return; }
    if (req.path === '/axis-cgi/jpg/image.cgi') {
      const jpeg = loop.next();
      conn.write(`HTTP/1.0 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
      conn.write(jpeg);
      conn.end();
      return;
    }
    if (req.path !== '/axis-cgi/mjpg/video.cgi') {
      conn.write('HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\n404 Not Found\n');
      conn.end();
      return;
    }
    const fps = Math.min(30, Math.max(1, Number(req.query.get('fps')) || o.fps || 15));
    const limit = Number(req.query.get('nbrofframes')) || Infinity;
    conn.write('HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=myboundary\r\n\r\n--myboundary\r\n');
    let n = 0;
    let timer: NodeJS.Timeout | null = null;
    const frame = (): void => {
      timer = null;
      if (conn.closed) return;
      const jpeg = loop.next();
      conn.write(`Content-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
      conn.write(jpeg);
      n++;
      sent++;
      if (n >= limit) {
        // the last image: its part ends with the close of the connection
        conn.end();
        return;
      }
      conn.write('\r\n--myboundary\r\n');
      timer = setTimeout(frame, 1000 / fps);
    };
    conn.onClose(() => { if (timer) clearTimeout(timer); });
    frame();
  };

  const dev = await startHttpDevice(handler);
  return Object.assign(dev, { framesSent: () => sent, challenges: () => challenges });
}
