/**
 * The demo camera's HTTP side, for trying the HTTP sources without a camera: what an
 * ESP32-CAM's CameraWebServer serves, on one port:
 *   GET /stream           multipart/x-mixed-replace, one image/jpeg part per frame with
 *                         Content-Length and X-Timestamp (chunked, as ESP-IDF's httpd sends it)
 *   GET /capture          one JPEG (image/jpeg, Content-Length, persistent connection)
 *   GET /snapshot.jpg     the same
 * Frames come from the same test pattern and encoder as the RTSP side (its own instance,
 * running only while a stream is watched); Basic or Digest auth as the RTSP side is set up.
 */
import * as http from 'node:http';
import { JpegEncoder } from '../jpeg/encoder';
import { TestPattern } from './test-pattern';
import { Pacer } from './pacer';
import { DemoAuth } from './demo-auth';
import { wallClockMs } from './media-source';
import { hostForUrl } from './demo-sdp';
import type { DemoCamera, DemoCameraOptions } from './types';

const BOUNDARY = 'rtspmjpegdemoframe';
/** a viewer with this much unsent skips frames instead of queueing them */
const MAX_BACKLOG = 1024 * 1024;

export interface DemoHttpOptions {
  host?: string | undefined;
  /** 0 = ephemeral */
  port?: number | undefined;
  width?: number | undefined;
  height?: number | undefined;
  fps?: number | undefined;
  auth?: 'none' | 'basic' | 'digest' | undefined;
  username?: string | undefined;
  password?: string | undefined;
}

export interface DemoHttpStats {
  streamClients: number;
  framesSent: number;
  snapshots: number;
}

export class DemoHttpServer {
  readonly stats: DemoHttpStats = { streamClients: 0, framesSent: 0, snapshots: 0 };
  port = 0;
  private readonly host: string;
  private readonly fps: number;
  private readonly encoder: JpegEncoder;
  private readonly planes: ReturnType<JpegEncoder['allocPlanes']>;
  private readonly pattern: TestPattern;
  private readonly pacer: Pacer;
  private readonly auth: DemoAuth;
  private readonly server = http.createServer((req, res) => this.onRequest(req, res));
  private readonly viewers = new Set<http.ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  private frameIndex = 0;
  private latest: { jpeg: Buffer; at: number } | null = null;

  constructor(o: DemoHttpOptions) {
    this.host = o.host ?? '127.0.0.1';
    this.fps = o.fps !== undefined && o.fps > 0 && o.fps <= 120 ? o.fps : 15;
    this.encoder = new JpegEncoder({ width: o.width ?? 640, height: o.height ?? 480, subsampling: '420', quality: 85 });
    this.planes = this.encoder.allocPlanes();
    this.pattern = new TestPattern(o.width ?? 640, o.height ?? 480, this.planes);
    this.pacer = new Pacer(1000 / this.fps);
    this.auth = new DemoAuth(o.auth ?? 'none', o.username ?? 'admin', o.password ?? '');
    // a stream response never ends: no request timeout for it
    this.server.requestTimeout = 0;
  }

  /** `http://host:port` */
  get baseUrl(): string {
    return `http://${hostForUrl(this.host)}:${this.port}`;
  }

  async start(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host: this.host, exclusive: true }, () => { this.server.removeListener('error', reject); resolve(); });
    });
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : port;
  }

  close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const v of this.viewers) v.destroy();
    this.viewers.clear();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/stream' && path !== '/capture' && path !== '/snapshot.jpg')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try /stream or /capture\n');
      return;
    }
    if (!this.auth.authorized('GET', req.headers.authorization)) {
      res.writeHead(401, { 'WWW-Authenticate': this.auth.challenge(), 'Content-Type': 'text/plain' }).end('401 Unauthorized\n');
      return;
    }
    if (path === '/stream') this.addViewer(res);
    else this.snapshot(res);
  }

  private addViewer(res: http.ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': `multipart/x-mixed-replace;boundary=${BOUNDARY}`,
      'Access-Control-Allow-Origin': '*',
      'Cache-Control': 'no-cache, no-store',
      'X-Framerate': String(this.fps),
    });
    this.viewers.add(res);
    this.stats.streamClients = this.viewers.size;
    res.on('close', () => {
      this.viewers.delete(res);
      this.stats.streamClients = this.viewers.size;
    });
    if (this.timer === null) {
      this.pacer.restart(wallClockMs());
      this.tick();
    }
  }

  private snapshot(res: http.ServerResponse): void {
    const f = this.latest && this.timer !== null ? this.latest : this.encode();
    this.stats.snapshots++;
    res.writeHead(200, {
      'Content-Type': 'image/jpeg', 'Content-Length': String(f.jpeg.length),
      'Content-Disposition': 'inline; filename=capture.jpg', 'X-Timestamp': (f.at / 1000).toFixed(6),
    }).end(f.jpeg);
  }

  private encode(): { jpeg: Buffer; at: number } {
    const at = wallClockMs();
    this.pattern.render(this.planes, this.frameIndex++, at);
    this.latest = { jpeg: this.encoder.encode(this.planes), at };
    return this.latest;
  }

  private tick(): void {
    this.timer = null;
    if (this.viewers.size === 0) return;
    this.pacer.take(wallClockMs());
    const f = this.encode();
    const head = Buffer.from(`--${BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${f.jpeg.length}\r\nX-Timestamp: ${(f.at / 1000).toFixed(6)}\r\n\r\n`, 'latin1');
    for (const v of this.viewers) {
      if (v.writableLength > MAX_BACKLOG) continue;
      v.write(head);
      v.write(f.jpeg);
      v.write('\r\n');
      this.stats.framesSent++;
    }
    this.timer = setTimeout(() => this.tick(), this.pacer.delayMs(wallClockMs()));
  }
}

export async function startDemoHttp(o: DemoHttpOptions): Promise<DemoHttpServer> {
  const s = new DemoHttpServer(o);
  await s.start(o.port ?? 0);
  return s;
}

/** Adds the HTTP side to a started demo camera: `httpUrl`, and close() closes both. */
export async function withHttp(cam: DemoCamera, camOpts: DemoCameraOptions): Promise<DemoCamera> {
  let web: DemoHttpServer;
  try {
    web = await startDemoHttp({ ...camOpts, port: camOpts.httpPort });
  } catch (e) {
    await cam.close();
    throw e;
  }
  const closeCamera = cam.close.bind(cam);
  Object.defineProperty(cam, 'httpUrl', { value: web.baseUrl, enumerable: true });
  Object.defineProperty(cam, 'close', { value: async () => { await web.close(); await closeCamera(); }, configurable: true });
  return cam;
}
