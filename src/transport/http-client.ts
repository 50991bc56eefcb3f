/**
 * GET of one camera URL over http-connection.ts, with what a camera needs around it:
 * Basic and Digest authentication (rtsp/auth.ts, the one copy of RFC 7616/7617 the RTSP
 * client uses too; Digest state such as the nonce count carries over from request to
 * request), redirects by the rule of mjpeg/http-url.ts (same host, never https → http, at
 * most three), and one persistent connection kept between requests (RFC 9112 §9.3), retried
 * once on a new connection when the kept one turns out closed (§9.3.1: GET is idempotent).
 * Messages name the URL without credentials.
 */
import type { Authenticator } from '../rtsp/auth';
import { header } from '../rtsp/message';
import { retryAfterMs } from '../rtsp/retry-after';
import { CameraError, statusError } from '../errors';
import { redirectTarget, type HttpUrl } from '../mjpeg/http-url';
import { HttpConnection, type HttpResponse } from './http-connection';
import { pickLogin } from '../rtsp/credentials';

export interface HttpClientOptions {
  username?: string | undefined;
  password?: string | undefined;
  /** bound on connecting and on each response head, ms (default 10000) */
  requestTimeoutMs?: number | undefined;
  tlsFingerprint256?: string | undefined;
  tlsAllowSelfSigned?: boolean | undefined;
  /** already redacted messages */
  logger?: ((level: 'debug' | 'info' | 'warn' | 'error', message: string) => void) | undefined;
}

export interface HttpGetResult {
  /** where the response came from, after redirects */
  url: HttpUrl;
  conn: HttpConnection;
  res: HttpResponse;
}

// ../rtsp/auth loads node:crypto: only with the first 401 (as the RTSP connection does)
/* eslint-disable @typescript-eslint/no-require-imports */
const loadAuth = (): typeof import('../rtsp/auth') => require('../rtsp/auth') as typeof import('../rtsp/auth');
/* eslint-enable @typescript-eslint/no-require-imports */

const USER_AGENT = 'node-red-contrib-rtsp-mjpeg';
const ACCEPT = 'multipart/x-mixed-replace, image/jpeg;q=0.9, */*;q=0.5';
/** a 401 or 3xx body larger than this is not read to keep the connection; it is closed */
const DRAIN_LIMIT = 65536;

/** The short reason and message for a final non-2xx answer (errors.ts maps the codes it shares with RTSP). */
export function httpStatusError(res: HttpResponse, url: HttpUrl, nowMs = Date.now()): CameraError {
  const h = res.head;
  const retry = h.statusCode === 503 || h.statusCode === 429 ? retryAfterMs(header(h.headers, 'retry-after'), nowMs) : null;
  if (h.statusCode === 429) return new CameraError('server busy', `GET ${url.clean}: 429 ${h.reason}`.trim(), 429, retry ?? undefined);
  if (h.statusCode === 410) return new CameraError('not found', `GET ${url.clean}: 410 ${h.reason}`.trim(), 410);
  return statusError('GET', h, url.clean, retry);
}

export class HttpClient {
  private readonly opts: HttpClientOptions;
  private auth: Authenticator | null = null;
  private readonly user: string | undefined;
  private readonly pass: string | undefined;
  private idle: HttpConnection | null = null;
  private idleKey = '';
  private closed = false;
  /** the connection of the request in flight, closed by close() */
  private active: HttpConnection | null = null;

  constructor(readonly url: HttpUrl, opts: HttpClientOptions = {}) {
    this.opts = opts;
    // the options before the URL's userinfo (rtsp/credentials' rule)
    const login = pickLogin(opts, url);
    this.user = login.username;
    this.pass = login.password;
  }

  private get timeoutMs(): number {
    return this.opts.requestTimeoutMs ?? 10000;
  }

  /**
   * GETs the URL and resolves with the final response, whatever its status (the caller reads
   * or drops its body, then calls release()). Authentication and redirects happen inside;
   * rejects with 'auth failed' when the credentials are refused or none are set,
   * 'redirect refused', or the connection's failure.
   */
  async get(): Promise<HttpGetResult> {
    let url = this.url;
    for (let hops = 0; ;) {
      const { conn, res } = await this.exchange(url);
      const s = res.head.statusCode;
      if (s === 401) {
        const challenges = res.head.headers.get('www-authenticate') ?? [];
        if (this.user !== undefined && this.user !== '') this.auth ??= new (loadAuth().Authenticator)(this.user, this.pass ?? '');
        if (!this.auth) {
          conn.close();
          throw new CameraError('auth failed', `GET ${url.clean}: 401 ${res.head.reason} (the camera needs a user name and password)`.trim(), 401);
        }
        const verdict = this.auth.onChallenge(challenges);
        if (verdict !== 'retry') {
          conn.close();
          throw new CameraError('auth failed', verdict === 'unsupported'
            ? `GET ${url.clean}: 401, and no authentication scheme offered that this client speaks (Basic, Digest)`
            : `GET ${url.clean}: 401 ${res.head.reason} (user name or password refused)`.trim(), 401);
        }
        await this.drain(conn, res, url);
        continue;
      }
      if (s === 301 || s === 302 || s === 303 || s === 307 || s === 308) {
        const t = redirectTarget(url, header(res.head.headers, 'location'), hops++);
        if ('refused' in t) {
          conn.close();
          throw new CameraError('redirect refused', `GET ${url.clean}: ${s}, ${t.refused}`, s);
        }
        this.log('info', `redirected to ${t.url.clean}`);
        await this.drain(conn, res, url);
        url = t.url;
        continue;
      }
      if (s >= 200 && s < 300) this.auth?.onSuccess();
      this.active = conn;
      return { url, conn, res };
    }
  }

  /** Hands back the connection of a response whose body was read to its end: kept when it may be reused. */
  release(conn: HttpConnection, url: HttpUrl = this.url): void {
    if (this.active === conn) this.active = null;
    if (this.closed || !conn.reusable) { conn.close(); return; }
    if (this.idle && this.idle !== conn) this.idle.close();
    this.idle = conn;
    this.idleKey = key(url);
  }

  /** Closes the kept and the active connection; get() in flight rejects. */
  close(): void {
    this.closed = true;
    this.idle?.close();
    this.idle = null;
    this.active?.close();
    this.active = null;
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void {
    this.opts.logger?.(level, msg);
  }

  private headers(url: HttpUrl): [string, string][] {
    const h: [string, string][] = [['Host', url.hostHeader], ['User-Agent', USER_AGENT], ['Accept', ACCEPT]];
    const a = this.auth?.authorization('GET', url.path) ?? null;
    if (a !== null) h.push(['Authorization', a]);
    return h;
  }

  /** One request: on the kept connection when it fits (once more on a new one if that was closed), else on a new one. */
  private async exchange(url: HttpUrl): Promise<{ conn: HttpConnection; res: HttpResponse }> {
    if (this.closed) throw new CameraError('closed', 'closed');
    const kept = this.idle !== null && this.idleKey === key(url) && this.idle.reusable ? this.idle : null;
    this.idle = null;
    if (kept) {
      this.active = kept;
      try {
        return { conn: kept, res: await kept.get(url.path, this.headers(url), this.timeoutMs) };
      } catch (err) {
        // a kept connection the server closed meanwhile: not the camera's answer
        if (!(err instanceof CameraError) || err.reason !== 'connection lost' || this.closed) throw err;
        this.log('debug', `kept connection to ${kept.where} was closed; reconnecting`);
      }
    }
    const conn = await HttpConnection.connect({
      host: url.host, port: url.port, secure: url.secure, timeoutMs: this.timeoutMs,
      tlsFingerprint256: this.opts.tlsFingerprint256, tlsAllowSelfSigned: this.opts.tlsAllowSelfSigned,
    });
    if (this.closed) { conn.close(); throw new CameraError('closed', 'closed'); }
    this.active = conn;
    return { conn, res: await conn.get(url.path, this.headers(url), this.timeoutMs) };
  }

  /** Reads away a small body so the connection can carry the next request; else closes it. */
  private async drain(conn: HttpConnection, res: HttpResponse, url: HttpUrl): Promise<void> {
    if (res.framing === 'close' || (res.framing === 'length' && (res.length ?? 0) > DRAIN_LIMIT)) { conn.close(); return; }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      conn.discardBody(DRAIN_LIMIT),
      new Promise<void>((resolve) => { timer = setTimeout(() => { conn.close(); resolve(); }, this.timeoutMs); }),
    ]);
    clearTimeout(timer);
    this.release(conn, url);
  }
}

function key(u: HttpUrl): string {
  return `${u.secure ? 's' : ''}${u.host.toLowerCase()}:${u.port}`;
}
