/**
 * Emulation of an ESP32-CAM running Espressif's CameraWebServer example, written from its
 * public source:
 * - espressif/arduino-esp32, libraries/ESP32/examples/Camera/CameraWebServer/app_httpd.cpp:
 *   two httpd instances, the web server (`/`, `/capture`, `/status`, `/control`, …) and the
 *   stream server on the next port (`/stream`, port 81 on a real board); the stream's
 *   Content-Type `multipart/x-mixed-replace;boundary=123456789000000000000987654321`, headers
 *   `Access-Control-Allow-Origin: *` and `X-Framerate: 60`; per frame three sends: the
 *   delimiter `\r\n--<boundary>\r\n` (BEFORE each part), the part header
 *   `Content-Type: image/jpeg\r\nContent-Length: %u\r\nX-Timestamp: %d.%06d\r\n\r\n`, the
 *   JPEG; `/capture` answers `image/jpeg` with `Content-Disposition: inline;
 *   filename=capture.jpg`, `Access-Control-Allow-Origin: *` and `X-Timestamp`, after turning
 *   the flash LED on and waiting 150 ms;
 * - espressif/esp-idf, components/esp_http_server/src/httpd_txrx.c: httpd_resp_send writes
 *   `HTTP/1.1 <status>\r\nContent-Type: <type>\r\nContent-Length: <n>\r\n`, then the extra
 *   headers, then the body; httpd_resp_send_chunk writes the head with
 *   `Transfer-Encoding: chunked` once, then each send as `%x\r\n<data>\r\n`; errors are
 *   `404 Not Found` with "Nothing matches the given URI" as text/html (HTTPD_TYPE_TEXT);
 * - one request at a time per httpd instance (one server task): while one client streams, a
 *   second stream client is accepted but not answered until the first one leaves.
 * The X-Timestamp is the frame buffer's capture time (the board's uptime clock).
 */
import { startHttpDevice, JpegLoop, xTimestamp, type DeviceConn, type DeviceRequest, type HttpDevice } from './http-device';

export const ESP32_BOUNDARY = '123456789000000000000987654321';

export interface Esp32Options {
  fps?: number;
  width?: number;
  height?: number;
  /** ms the /capture handler waits with the LED on before taking the picture (150 in the source) */
  ledDelayMs?: number;
}

export interface Esp32Camera {
  web: HttpDevice;
  stream: HttpDevice;
  /** http://127.0.0.1:<stream port>/stream */
  streamUrl: string;
  /** http://127.0.0.1:<web port>/capture */
  captureUrl: string;
  /** frames written to stream clients so far (each counted once per client) */
  framesSent(): number;
  /** stream clients being served now */
  streaming(): number;
  /** the X-Timestamp (ms) of every frame sent on /stream, in order */
  timestamps: number[];
  close(): Promise<void>;
}

function sendChunk(conn: DeviceConn, data: string | Buffer): boolean {
  const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  return conn.write(Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]));
}

function notFound(conn: DeviceConn): void {
  const msg = 'Nothing matches the given URI';
  conn.write(`HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: ${msg.length}\r\n\r\n${msg}`);
  conn.done();
}

export async function startEsp32Camera(o: Esp32Options = {}): Promise<Esp32Camera> {
  const loop = new JpegLoop(o.width ?? 320, o.height ?? 240);
  const boot = Date.now();
  let sent = 0;
  let streaming = 0;
  const timestamps: number[] = [];
  const periodMs = 1000 / (o.fps ?? 15);

  const streamHandler = (req: DeviceRequest, conn: DeviceConn): void => {
    if (req.path !== '/stream') { notFound(conn); return; }
    conn.write('HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=' + ESP32_BOUNDARY
      + '\r\nTransfer-Encoding: chunked\r\nAccess-Control-Allow-Origin: *\r\nX-Framerate: 60\r\n\r\n');
    streaming++;
    let timer: NodeJS.Timeout | null = null;
    const stop = (): void => {
      if (timer) clearTimeout(timer);
      timer = null;
      streaming--;
      // the handler returns when a send fails: the server task is free for the next client
      conn.end();
    };
    const frame = (): void => {
      timer = null;
      if (conn.closed) { stop(); return; }
      const jpeg = loop.next();
      const ts = xTimestamp(Date.now() - boot);
      timestamps.push(Number(ts) * 1000);
      sendChunk(conn, `\r\n--${ESP32_BOUNDARY}\r\n`);
      sendChunk(conn, `Content-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\nX-Timestamp: ${ts}\r\n\r\n`);
      sendChunk(conn, jpeg);
      sent++;
      timer = setTimeout(frame, periodMs);
    };
    conn.onClose(() => { if (timer) stop(); });
    frame();
  };

  const webHandler = (req: DeviceRequest, conn: DeviceConn): void => {
    if (req.path === '/capture') {
      setTimeout(() => {
        if (conn.closed) return;
        const jpeg = loop.next();
        conn.write(`HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\nContent-Disposition: inline; filename=capture.jpg\r\n`
          + `Access-Control-Allow-Origin: *\r\nX-Timestamp: ${xTimestamp(Date.now() - boot)}\r\n\r\n`);
        conn.write(jpeg);
        conn.done();
      }, o.ledDelayMs ?? 150);
      return;
    }
    if (req.path === '/') {
      const page = '<!doctype html><html><head><title>ESP32 OV2640</title></head><body><img id="stream" src=""></body></html>';
      conn.write(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${page.length}\r\n\r\n${page}`);
      conn.done();
      return;
    }
    notFound(conn);
  };

  const web = await startHttpDevice(webHandler, { serial: true });
  const stream = await startHttpDevice(streamHandler, { serial: true });
  return {
    web, stream,
    streamUrl: stream.url('/stream'),
    captureUrl: web.url('/capture'),
    framesSent: () => sent,
    streaming: () => streaming,
    timestamps,
    close: async () => { await Promise.all([web.close(), stream.close()]); },
  };
}
