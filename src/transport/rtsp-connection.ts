/**
 * One RTSP control connection (RFC 2326 over TCP, TLS, or the RTSP-over-HTTP tunnel in
 * tunnel/): request/response matching by CSeq, request timeouts, authentication retry, the
 * Session header, keep-alives, answers to requests the server sends, and the interleaved `$`
 * data (§10.12) handed to whoever set up the channels. Policy (which requests to send, what
 * failures mean) lives in the camera layer; the keep-alive schedule lives in keep-alive.ts,
 * the TLS certificate policy in connect-socket.ts.
 */
import * as net from 'node:net';
import type { HttpTunnel } from './tunnel/socket';
import { CameraError, reasonForStatus, socketErrorReason } from '../errors';
import { RtspReader, header, type RtspResponse, type RtspRequest, type Headers } from '../rtsp/message';
import { serializeRequest, serializeResponse, interleavedFrame } from '../rtsp/serialize';
import type { Authenticator } from '../rtsp/auth';
import { parseSessionHeader, parsePublic } from '../rtsp/transport-header';
import { redactText } from '../rtsp/redact';
import { secretList } from '../rtsp/credentials';
import { monotonicMs } from './clock';
import { ReadSlab } from './read-slab';
import { connectError, connectTls } from './connect-socket';
import { KeepAlive } from './keep-alive';

// node:tls (rtsps only, connect-socket.ts), ./auth (node:crypto, only after a 401) and the
// HTTP tunnel (node:crypto for its session cookie) load on first use: most cameras need none of
// them, and loading them costs start-up CPU in every process that requires the library.
/* eslint-disable @typescript-eslint/no-require-imports */
const loadAuth = (): typeof import('../rtsp/auth') => require('../rtsp/auth') as typeof import('../rtsp/auth');
const loadTunnel = (): typeof import('./tunnel/open') => require('./tunnel/open') as typeof import('./tunnel/open');
/* eslint-enable @typescript-eslint/no-require-imports */

export const USER_AGENT = 'node-red-contrib-rtsp-mjpeg';

export interface RtspConnectionOptions {
  host: string;
  port: number;
  secure: boolean;
  username?: string | undefined;
  password?: string | undefined;
  /** per request, and for the TCP/TLS connect; default 10000 */
  requestTimeoutMs?: number | undefined;
  /** rtsps: SHA-256 fingerprint of the server certificate (hex, colons optional) */
  tlsFingerprint256?: string | undefined;
  tlsAllowSelfSigned?: boolean | undefined;
  /**
   * RTSP tunnelled over HTTP (GET + POST, tunnel/open.ts) to host:port instead of a plain
   * connection; `path` (the RTSP URL's path and query) is the target of both HTTP requests.
   * `secure` then means HTTPS.
   */
  httpTunnel?: { path: string } | undefined;
  logger?: ((level: 'debug' | 'info' | 'warn' | 'error', message: string) => void) | undefined;
  /**
   * `$` frames: the payload is `data[start, end)` of read memory that is never reused (a
   * ReadSlab region, or Node's per-read Buffer over TLS), so it may be kept. All frames of
   * one socket read share one arrival time, `arrivalMs` (monotonic ms, read once per read).
   */
  onInterleaved?: ((channel: number, data: Buffer, start: number, end: number, arrivalMs: number) => void) | undefined;
  /** the connection ended without close() being called */
  onClose?: ((err: CameraError) => void) | undefined;
  /** a keep-alive found the session gone (454) or the credentials rejected */
  onKeepAliveFailure?: ((err: CameraError) => void) | undefined;
}

export interface RequestOptions {
  body?: Buffer | string | undefined;
  timeoutMs?: number | undefined;
  /** keep-alive: a wrong-CSeq error reply may be attributed to it; failures are not fatal */
  keepAlive?: boolean | undefined;
  /** leave out the Session header (e.g. OPTIONS before SETUP) */
  noSession?: boolean | undefined;
}

/** Where onread chunks go: the connection once constructed, `early` until then. */
interface SlabReads {
  deliver: ((chunk: Buffer) => void) | null;
  early: Buffer[];
}

/** What the connection runs over: a TCP or TLS socket, or the two connections of an HTTP tunnel. */
type ControlSocket = net.Socket | HttpTunnel;

/** Hooks the connection's read function onto its socket (called once, from the constructor). */
type AttachReads = (deliver: (chunk: Buffer) => void) => void;

interface Pending {
  cseq: number;
  method: string;
  keepAlive: boolean;
  timer: NodeJS.Timeout;
  resolve(res: RtspResponse): void;
  reject(err: CameraError): void;
  /** settles with the request (never rejects): what whenAnswered() waits on */
  settled?: Promise<void>;
}

/** Every value of a header (a 401 may carry several WWW-Authenticate lines: Hikvision sends Digest then Basic). */
export function headerValues(h: Headers, name: string): string[] {
  return h.get(name.toLowerCase()) ?? [];
}

export class RtspConnection {
  private readonly opts: RtspConnectionOptions;
  private readonly socket: ControlSocket;
  /** the tunnel, when the connection runs over one (its closeReason says why it ended) */
  private readonly tunnel: HttpTunnel | null;
  private readonly reader: RtspReader;
  /** created at the first 401 when there are credentials */
  private auth: Authenticator | null = null;
  private readonly hasCredentials: boolean;
  private readonly secrets: string[];
  private readonly timeoutMs: number;
  private readonly pending = new Map<number, Pending>();
  private cseq = 0;
  private closed = false;
  private readonly keepAlive = new KeepAlive({
    isClosed: () => this.closed,
    sessionTimeoutSec: () => this.sessionTimeoutSec,
    request: (method, uri) => this.request(method, uri, [], { keepAlive: true }),
    log: (level, msg) => this.log(level, msg),
    onFailure: (err) => this.opts.onKeepAliveFailure?.(err),
  });

  /** without any `;timeout=`: some servers answer 454 when it is echoed back */
  sessionId: string | null = null;
  sessionTimeoutSec: number | null = null;
  /** methods from the OPTIONS Public header, null until seen */
  publicMethods: Set<string> | null = null;
  /** the server's address as seen on the socket (for UDP source filtering) */
  remoteAddress = '';
  /** bytes received on the control connection (RTSP + interleaved) */
  bytesIn = 0;
  /** monotonic ms of the latest socket read: the arrival time of every `$` frame in it */
  private readAt = 0.5;

  private constructor(opts: RtspConnectionOptions, socket: ControlSocket, attachReads: AttachReads, tunnel: HttpTunnel | null = null) {
    this.opts = opts;
    this.socket = socket;
    this.tunnel = tunnel;
    this.timeoutMs = opts.requestTimeoutMs ?? 10000;
    this.secrets = secretList(opts.password);
    this.hasCredentials = opts.username !== undefined && opts.username !== '';
    const onInterleaved = opts.onInterleaved;
    this.reader = new RtspReader({
      onResponse: (res) => this.onResponse(res),
      onRequest: (req) => this.onServerRequest(req),
      onInterleaved: onInterleaved ? (ch, data, start, end): void => onInterleaved(ch, data, start, end, this.readAt) : (): void => undefined,
      onError: (err) => this.fail(new CameraError('protocol error', this.redact(err.message))),
    });
    attachReads((chunk) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException | CameraError) => this.fail(err instanceof CameraError
      ? new CameraError(err.reason, this.redact(err.message), err.statusCode)
      : new CameraError(socketErrorReason(err.code, err.message), this.redact(`connection error: ${err.code ?? err.message}`))));
    socket.on('close', () => this.fail(this.tunnel?.closeReason ?? new CameraError('connection lost', 'the camera closed the connection')));
    this.remoteAddress = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    this.readAt = monotonicMs();
    this.reader.push(chunk);
  }

  /** Opens the TCP (or TLS, for rtsps; or the HTTP tunnel) connection; rejects with a CameraError. */
  static connect(opts: RtspConnectionOptions): Promise<RtspConnection> {
    if (opts.httpTunnel) return RtspConnection.connectTunnel(opts, opts.httpTunnel.path);
    const timeoutMs = opts.requestTimeoutMs ?? 10000;
    return new Promise((resolve, reject) => {
      let socket: net.Socket;
      let reads: SlabReads | null = null;
      let settled = false;
      const done = (err: CameraError | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.removeAllListeners('error');
        if (err) {
          socket.on('error', () => undefined);
          socket.destroy();
          reject(err);
          return;
        }
        socket.setNoDelay(true);
        const slabReads = reads;
        resolve(new RtspConnection(opts, socket, slabReads !== null
          // Plain TCP: reads land in a ReadSlab (onread), see there; those before now were kept.
          ? (deliver): void => { slabReads.deliver = deliver; for (const chunk of slabReads.early.splice(0)) deliver(chunk); }
          : (deliver): void => { socket.on('data', deliver); }));
      };
      const timer = setTimeout(() => done(new CameraError('timeout', `no connection to ${opts.host}:${opts.port} within ${timeoutMs} ms`)), timeoutMs);
      if (opts.secure) {
        socket = connectTls(opts, (problem) => done(problem === null ? null : new CameraError('tls error', problem)));
      } else {
        const slab = new ReadSlab();
        const r: SlabReads = { deliver: null, early: [] };
        reads = r;
        socket = net.connect({
          host: opts.host,
          port: opts.port,
          onread: {
            buffer: () => slab.next(),
            callback: (n: number, region: Uint8Array): boolean => {
              const chunk = slab.filled(region as Buffer, n);
              if (r.deliver !== null) r.deliver(chunk);
              else r.early.push(chunk);
              return true;
            },
          },
        });
        socket.once('connect', () => done(null));
      }
      socket.once('error', (err: NodeJS.ErrnoException) => done(connectError(err, `${opts.host}:${opts.port}`)));
    });
  }

  /**
   * Opens the tunnel (its GET answers an HTTP 401 itself; RTSP-level 401s are answered by
   * request() as on a plain connection) and runs the connection over it.
   */
  private static async connectTunnel(opts: RtspConnectionOptions, path: string): Promise<RtspConnection> {
    const tunnel = await loadTunnel().openHttpTunnel({
      host: opts.host, port: opts.port, path, secure: opts.secure,
      tlsFingerprint256: opts.tlsFingerprint256, tlsAllowSelfSigned: opts.tlsAllowSelfSigned,
      username: opts.username, password: opts.password, timeoutMs: opts.requestTimeoutMs ?? 10000,
      userAgent: USER_AGENT, logger: opts.logger,
    });
    tunnel.setNoDelay(true);
    const conn = new RtspConnection(opts, tunnel, (deliver) => tunnel.setReceiver(deliver), tunnel);
    if (tunnel.isDestroyed) {
      const err = tunnel.closeReason ?? new CameraError('connection lost', 'the tunnel closed while opening');
      conn.close();
      throw err;
    }
    return conn;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  redact(text: string): string {
    return redactText(text, this.secrets);
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void {
    this.opts.logger?.(level, this.redact(msg));
  }

  /**
   * Sends a request and resolves with the final response. A 401 re-runs authentication
   * (also mid-session: some cameras challenge a keep-alive with a new nonce) at most twice
   * (one normal retry plus one stale nonce); after that, or without credentials, it rejects
   * with 'auth failed' rather than retrying into an account lockout.
   */
  async request(method: string, uri: string, headers: [string, string][] = [], options: RequestOptions = {}): Promise<RtspResponse> {
    let retries = 0;
    for (;;) {
      const res = await this.send(method, uri, headers, options);
      if (res.statusCode !== 401) {
        if (res.statusCode >= 200 && res.statusCode < 300) this.auth?.onSuccess();
        return res;
      }
      if (!this.hasCredentials) throw new CameraError(reasonForStatus(401), `${method}: the camera requires credentials (401)`, 401);
      this.auth ??= new (loadAuth().Authenticator)(this.opts.username ?? '', this.opts.password ?? '');
      const verdict = retries < 2 ? this.auth.onChallenge(headerValues(res.headers, 'WWW-Authenticate')) : 'failed';
      retries++;
      if (verdict === 'retry') continue;
      throw new CameraError(reasonForStatus(401), verdict === 'unsupported'
        ? `${method}: the camera offers no supported authentication scheme (401)`
        : `${method}: the camera rejected the credentials (401)`, 401);
    }
  }

  private send(method: string, uri: string, extra: [string, string][], options: RequestOptions): Promise<RtspResponse> {
    if (this.closed) return Promise.reject(new CameraError('closed', `${method}: connection closed`));
    const cseq = ++this.cseq;
    const headers: [string, string][] = [['CSeq', String(cseq)], ['User-Agent', USER_AGENT]];
    const authorization = this.auth?.authorization(method, uri) ?? null;
    if (authorization) headers.push(['Authorization', authorization]);
    if (this.sessionId !== null && !options.noSession) headers.push(['Session', this.sessionId]);
    for (const h of extra) headers.push(h);
    const bytes = serializeRequest(method, uri, headers, options.body);
    const promise = new Promise<RtspResponse>((resolve, reject) => {
      const ms = options.timeoutMs ?? this.timeoutMs;
      const timer = setTimeout(() => {
        this.pending.delete(cseq);
        reject(new CameraError('timeout', `${method}: no response within ${ms} ms`));
      }, ms);
      this.pending.set(cseq, { cseq, method, keepAlive: options.keepAlive === true, timer, resolve, reject });
      this.log('debug', `> ${method} ${uri} CSeq ${cseq}`);
      this.socket.write(bytes);
    });
    const entry = this.pending.get(cseq);
    if (entry) entry.settled = promise.then(() => undefined, () => undefined);
    return promise;
  }

  /**
   * Waits (at most waitMs) until no `method` request is awaiting its reply. close() uses it for
   * a SETUP in flight: the server creates the session when it answers, and a session we never
   * learn the id of cannot be torn down; it would hold one of the camera's (often few) stream
   * slots until its timeout.
   */
  async whenAnswered(method: string, waitMs: number): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const p of this.pending.values()) if (p.method === method && p.settled) waits.push(p.settled);
    if (waits.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(waits), new Promise<void>((r) => { timer = setTimeout(r, waitMs); })]);
    if (timer) clearTimeout(timer);
  }

  private onResponse(res: RtspResponse): void {
    let p: Pending | undefined = res.cseq !== null ? this.pending.get(res.cseq) : undefined;
    const oldest = this.pending.values().next().value as Pending | undefined;
    if (!p) {
      if (res.cseq === null) p = oldest; // no CSeq: the oldest outstanding request (live555)
      // Some cameras answer a refused keep-alive with the previous CSeq:
      // attribute an error reply with an unknown CSeq to an outstanding keep-alive.
      else if (oldest?.keepAlive && res.statusCode >= 400) p = oldest;
    }
    if (!p) {
      this.log('debug', `< ${res.statusCode} with unexpected CSeq ${res.cseq ?? '-'} ignored`);
      return;
    }
    this.pending.delete(p.cseq);
    clearTimeout(p.timer);
    const s = header(res.headers, 'Session');
    if (s !== undefined) {
      const parsed = parseSessionHeader(s);
      if (parsed && parsed.id) {
        if (this.sessionId === null) this.sessionId = parsed.id;
        else if (parsed.id !== this.sessionId) this.log('debug', 'the server changed the Session id; keeping the first one');
        if (parsed.timeoutSec !== null && parsed.timeoutSec !== undefined) this.sessionTimeoutSec = parsed.timeoutSec;
      }
    }
    const pub = header(res.headers, 'Public');
    if (pub !== undefined && p.method === 'OPTIONS' && this.publicMethods === null) this.publicMethods = parsePublic(headerValues(res.headers, 'Public').join(','));
    this.log('debug', `< ${res.statusCode} for ${p.method} CSeq ${p.cseq}`);
    p.resolve(res);
  }

  /** Requests from the server (some cameras send OPTIONS or SET_PARAMETER): answer, never crash. */
  private onServerRequest(req: RtspRequest): void {
    if (this.closed) return;
    const headers: [string, string][] = [];
    if (req.cseq !== null) headers.push(['CSeq', String(req.cseq)]);
    else { const c = header(req.headers, 'CSeq'); if (c !== undefined) headers.push(['CSeq', c.trim()]); }
    const m = req.method.toUpperCase();
    let status = 200;
    let reason = 'OK';
    if (m === 'OPTIONS') headers.push(['Public', 'OPTIONS, GET_PARAMETER, SET_PARAMETER']);
    else if (m !== 'GET_PARAMETER' && m !== 'SET_PARAMETER') { status = 501; reason = 'Not Implemented'; }
    this.log('debug', `server request ${m} answered ${status}`);
    this.socket.write(serializeResponse(status, reason, headers));
  }

  /** Interleaved RTCP back to the server; dropped when the socket is congested. */
  sendInterleaved(channel: number, payload: Buffer): void {
    if (this.closed || this.socket.writableLength > 256 * 1024) return;
    this.socket.write(interleavedFrame(channel, payload));
  }

  /**
   * Starts keep-alives to `uri` (keep-alive.ts): GET_PARAMETER when the OPTIONS Public header
   * listed it, else OPTIONS, unless `method` says which.
   */
  startKeepAlive(uri: string, method?: 'GET_PARAMETER' | 'OPTIONS'): void {
    this.keepAlive.start(uri, method ?? (this.publicMethods?.has('GET_PARAMETER') ? 'GET_PARAMETER' : 'OPTIONS'));
  }

  get currentKeepAliveMethod(): string {
    return this.keepAlive.method;
  }

  stopKeepAlive(): void {
    this.keepAlive.stop();
  }

  /** How long a GET_PARAMETER keep-alive may go unanswered before OPTIONS takes over (keep-alive.ts). */
  keepAliveAnswerMs(): number {
    return this.keepAlive.answerMs();
  }

  /** TEARDOWN, waiting at most waitMs for the reply; never rejects. */
  async teardown(uri: string, waitMs = 2000): Promise<void> {
    this.stopKeepAlive();
    if (this.closed || this.sessionId === null) return;
    try {
      await this.request('TEARDOWN', uri, [], { timeoutMs: waitMs });
    } catch { /* the camera may be gone already */ }
  }

  private fail(err: CameraError): void {
    if (this.closed) return;
    this.shutdown(err);
    this.opts.onClose?.(err);
  }

  private shutdown(err: CameraError): void {
    this.closed = true;
    this.stopKeepAlive();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.socket.removeAllListeners('data');
    this.socket.on('error', () => undefined);
    this.socket.destroy();
    this.reader.reset();
  }

  /** Closes the connection now: pending requests reject with 'closed', every timer cleared. */
  close(): void {
    if (this.closed) return;
    this.shutdown(new CameraError('closed', 'connection closed'));
  }
}
