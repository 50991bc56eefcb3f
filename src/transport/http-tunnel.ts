/**
 * RTSP tunnelled over HTTP (Apple, "Tunnelling RTSP and RTP through HTTP", QuickTime Ice Floe
 * dispatch 28; wire format in tunnel-wire.ts): two TCP (or TLS) connections that together
 * stand in for the one RTSP connection. The GET connection carries everything from the
 * server: after its HTTP reply head come the raw RTSP responses and `$` interleaved frames.
 * The POST connection carries everything to the server, base64-encoded.
 *
 * `HttpTunnel` is shaped like the net.Socket the RTSP connection otherwise uses: write(),
 * writableLength, remoteAddress, setNoDelay(), destroy(), 'error' and 'close' events ('error'
 * only when someone listens: it comes from socket reads, where a throw would be uncaught;
 * `closeReason` always says why the tunnel ended). Reads are not 'data' events:
 * setReceiver() takes the function the socket's reads go to, and over plain TCP the GET
 * connection reads into a ReadSlab (onread) exactly as a plain RTSP connection does, so the
 * bytes reach the RTSP reader without a copy and may be kept.
 *
 * A POST that the server or a proxy closes (some end it after its Content-Length) is replaced
 * at the next write by a new POST with the same cookie, within a small budget; the GET
 * closing ends the tunnel.
 *
 * Authentication: a 401 on the GET is answered (Basic or Digest, rtsp/auth.ts) on a new GET
 * connection, since servers close the connection after an error reply; the POST then carries
 * credentials for the same challenge. Servers that check credentials on the tunnelled RTSP
 * requests instead (GStreamer's does) are answered by the RTSP connection as on plain TCP.
 */
import * as net from 'node:net';
import type * as tlsModule from 'node:tls';
import { EventEmitter } from 'node:events';
import { CameraError, socketErrorReason } from '../errors';
import type { Authenticator } from '../rtsp/auth';
import { redactText } from '../rtsp/redact';
import { ReadSlab } from './read-slab';
import { HttpHeadReader, type HttpResponseHead } from './http-head';
import { encodeTunnelBytes, hostHeader, isTunnelContentType, newSessionCookie, requestTarget, tunnelGetRequest, tunnelPostRequest } from './tunnel-wire';

/* eslint-disable @typescript-eslint/no-require-imports */
const loadTls = (): typeof tlsModule => require('node:tls') as typeof tlsModule;
const loadAuth = (): typeof import('../rtsp/auth') => require('../rtsp/auth') as typeof import('../rtsp/auth');
/* eslint-enable @typescript-eslint/no-require-imports */

export interface HttpTunnelOptions {
  host: string;
  port: number;
  /** the RTSP URL's path and query (`/cam?x=1`): the target of both HTTP requests */
  path: string;
  /** HTTPS: both connections over TLS */
  secure?: boolean | undefined;
  /** TLS: SHA-256 fingerprint of the server certificate (hex, colons optional) */
  tlsFingerprint256?: string | undefined;
  tlsAllowSelfSigned?: boolean | undefined;
  username?: string | undefined;
  password?: string | undefined;
  /** the whole opening: connects, GET reply (with an authentication round) and POST; default 10000 */
  timeoutMs?: number | undefined;
  userAgent?: string | undefined;
  logger?: ((level: 'debug' | 'info' | 'warn' | 'error', message: string) => void) | undefined;
}

/** Bytes the GET may deliver before setReceiver(): a server sends nothing before our first request. */
const EARLY_LIMIT = 1024 * 1024;

const noop = (): void => undefined;

/** One of the two connections; its socket listeners call through these fields, set per phase. */
class Leg {
  socket!: net.Socket;
  sink: (chunk: Buffer) => void = noop;
  onError: (err: NodeJS.ErrnoException) => void = noop;
  onClose: () => void = noop;
  closed = false;

  constructor(readonly name: 'GET' | 'POST') {}

  /** Installs the listeners that live as long as the socket. */
  attach(socket: net.Socket): void {
    this.socket = socket;
    socket.on('error', (err: NodeJS.ErrnoException) => this.onError(err));
    socket.on('close', () => { this.closed = true; this.onClose(); });
  }

  destroy(): void {
    this.sink = noop;
    this.onError = noop;
    // unset only when net/tls.connect() threw on its options
    (this.socket as net.Socket | undefined)?.destroy();
  }
}

/** Chunks read before anyone takes them, bounded. */
class EarlyChunks {
  chunks: Buffer[] = [];
  bytes = 0;
  overflow = false;
  push(chunk: Buffer): void {
    if (this.overflow) return;
    this.bytes += chunk.length;
    if (this.bytes > EARLY_LIMIT) { this.overflow = true; this.chunks = []; return; }
    this.chunks.push(chunk);
  }
}

function normFingerprint(fp: string): string {
  return fp.replace(/[^0-9a-f]/gi, '').toUpperCase();
}

/** Printable, short: a reason phrase is server-controlled text. */
function preview(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\x00-\x1f\x7f-\xff]/g, '?');
  return clean.length > 60 ? `${clean.slice(0, 60)}...` : clean;
}

/** Opens one connection; reads go to `leg.sink` (over plain TCP through a ReadSlab). */
function connectLeg(o: HttpTunnelOptions, leg: Leg, slab: ReadSlab | null): Promise<Leg> {
  return new Promise((resolve, reject) => {
    const where = `${o.host}:${o.port}`;
    leg.onError = (err): void => {
      const reason = socketErrorReason(err.code, err.message);
      reject(new CameraError(reason, reason === 'tls error'
        ? `TLS handshake with ${where} (tunnel ${leg.name}) failed: ${err.code ?? err.message}`
        : `cannot connect to ${where} (tunnel ${leg.name}): ${err.code ?? err.message}`));
    };
    leg.onClose = (): void => reject(new CameraError('connection lost', `tunnel ${leg.name} connection to ${where} closed while connecting`));
    if (o.secure) {
      const pinned = o.tlsFingerprint256 ? normFingerprint(o.tlsFingerprint256) : null;
      const lenient = pinned !== null || o.tlsAllowSelfSigned === true;
      const t = loadTls().connect({ host: o.host, port: o.port, servername: net.isIP(o.host) ? undefined : o.host, rejectUnauthorized: !lenient });
      leg.attach(t);
      t.on('data', (chunk: Buffer) => leg.sink(chunk));
      t.once('secureConnect', () => {
        let bad: string | null = null;
        if (pinned !== null) {
          if (normFingerprint(t.getPeerCertificate().fingerprint256 ?? '') !== pinned) bad = 'server certificate does not match the pinned SHA-256 fingerprint';
        } else if (o.tlsAllowSelfSigned && !t.authorized) {
          const code = String(t.authorizationError ?? '');
          if (!/SELF_SIGNED/.test(code)) bad = `server certificate rejected: ${code}`;
        }
        if (bad !== null) { leg.destroy(); reject(new CameraError('tls error', bad)); return; }
        resolve(leg);
      });
    } else {
      const socket = slab === null
        ? net.connect({ host: o.host, port: o.port })
        : net.connect({
          host: o.host,
          port: o.port,
          onread: {
            buffer: () => slab.next(),
            callback: (n: number, region: Uint8Array): boolean => { leg.sink(slab.filled(region as Buffer, n)); return true; },
          },
        });
      leg.attach(socket);
      if (slab === null) socket.on('data', (chunk: Buffer) => leg.sink(chunk));
      socket.once('connect', () => resolve(leg));
    }
  });
}

/** Reads the reply head of the GET; bytes after it wait in `early`. */
function readGetHead(leg: Leg, early: EarlyChunks, where: string): Promise<HttpResponseHead> {
  return new Promise((resolve, reject) => {
    const reader = new HttpHeadReader();
    leg.sink = (chunk): void => {
      const r = reader.push(chunk);
      if (r.state === 'more') return;
      if (r.state === 'error') {
        leg.sink = noop;
        reject(new CameraError('protocol error', `tunnel GET to ${where}: ${r.message}`));
        return;
      }
      leg.sink = (c): void => early.push(c);
      if (r.rest < chunk.length) early.push(chunk.subarray(r.rest));
      resolve(r.head);
    };
    leg.onError = (err): void => reject(new CameraError(socketErrorReason(err.code, err.message), `tunnel GET to ${where}: connection error: ${err.code ?? err.message}`));
    leg.onClose = (): void => reject(new CameraError('connection lost', `tunnel GET to ${where}: the server closed the connection without a reply`));
  });
}

/** A GET reply other than 200 (401 is handled before), as the error the user sees. */
function getStatusError(head: HttpResponseHead, where: string): CameraError {
  const s = head.statusCode;
  const what = `RTSP-over-HTTP tunnel GET to ${where}: ${s} ${preview(head.reason)}`.trim();
  if (s === 401 || s === 403) return new CameraError('auth failed', what, s);
  if (s === 404) return new CameraError('not found', what, s);
  if (s >= 300 && s < 400) return new CameraError('redirect refused', `${what} (tunnel redirects are not followed)`, s);
  if (s === 500 || s === 502 || s === 503 || s === 504) return new CameraError('server error', what, s);
  return new CameraError('unsupported transport', `${what}: the server does not offer RTSP over HTTP there`, s);
}

/** What the tunnel needs to open another POST with the same cookie (and credentials). */
type PostOpener = () => Promise<Leg>;

/**
 * POST reopens allowed in REOPEN_WINDOW_MS: a proxy that ends the POST body after its
 * Content-Length, or after an idle time, costs one reopen now and then; a server that refuses
 * every new POST must not make us loop.
 */
const MAX_REOPENS = 5;
const REOPEN_WINDOW_MS = 60000;
/** base64 bytes held while a new POST opens; beyond this the tunnel fails (memory bound) */
const PENDING_LIMIT = 256 * 1024;

export class HttpTunnel extends EventEmitter {
  /** the x-sessioncookie binding the two connections */
  readonly cookie: string;
  /** the server's address as seen on the GET connection */
  readonly remoteAddress: string;
  /** why the tunnel ended, once it has (also when it ended without an 'error' event) */
  closeReason: CameraError | null = null;
  /** POST connections opened after the first one (the server or a proxy closed the previous) */
  postReopens = 0;
  private readonly get: Leg;
  /** null while a new POST opens (or before the next write needs one) */
  private post: Leg | null;
  /** every connection not yet closed: 'close' is emitted when this is empty after destroy() */
  private readonly open = new Set<Leg>();
  private early: EarlyChunks | null;
  private destroyed = false;
  private closeEmitted = false;
  private noDelay = false;
  private readonly secrets: string[];
  private postReply: HttpHeadReader | null = null;
  /** base64 writes waiting for the new POST */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private reopening = false;
  private readonly reopenTimes: number[] = [];

  /** Use openHttpTunnel(). */
  constructor(get: Leg, post: Leg, early: EarlyChunks, cookie: string, private readonly where: string, secrets: string[], private readonly openPost: PostOpener, private readonly timeoutMs: number) {
    super();
    this.get = get;
    this.post = null;
    this.cookie = cookie;
    this.secrets = secrets;
    this.early = early;
    this.remoteAddress = (get.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    this.open.add(get);
    get.sink = (chunk): void => this.queue(chunk);
    get.onError = (err): void => this.fail(new CameraError(socketErrorReason(err.code, err.message), `tunnel GET connection error: ${err.code ?? err.message}`));
    get.onClose = (): void => {
      this.open.delete(get);
      if (!this.destroyed) {
        // The server's direction is gone: nothing more can arrive, close the POST too.
        this.closeReason = new CameraError('connection lost', 'the server closed the tunnel GET connection');
        this.destroy();
      }
      this.maybeEmitClose();
    };
    this.usePost(post);
  }

  /**
   * Where the server's bytes go from now on (the RTSP reader). Chunks read before this call
   * are handed over first, in order. Over plain TCP the chunks are ReadSlab memory that is
   * never reused, so the receiver may keep subarrays of them.
   */
  setReceiver(receiver: (chunk: Buffer) => void): void {
    const early = this.early;
    this.early = null;
    if (this.destroyed) return;
    if (early !== null) {
      for (const chunk of early.chunks) {
        receiver(chunk);
        if (this.destroyed) return;
      }
    }
    this.get.sink = receiver;
  }

  /**
   * Writes bytes (one whole RTSP message or `$` frame per call) base64-encoded on the POST.
   * When the server or a proxy has closed the POST, the bytes wait while a new POST with the
   * same cookie opens (the dispatch lets a client send each request on a new POST; GStreamer's
   * server takes a new POST for a tunnel whose POST was lost).
   */
  write(bytes: Uint8Array): boolean {
    if (this.destroyed) return false;
    const encoded = encodeTunnelBytes(bytes);
    // A POST closed or ended (by either side) whose 'close' has not come yet is lost already:
    // a write there would vanish without an error.
    if (this.post !== null && (this.post.socket.destroyed || !this.post.socket.writable)) this.postLost();
    if (this.destroyed) return false;
    if (this.post !== null) return this.post.socket.write(encoded);
    this.pending.push(encoded);
    this.pendingBytes += encoded.length;
    if (this.pendingBytes > PENDING_LIMIT) {
      this.fail(new CameraError('connection lost', `more than ${PENDING_LIMIT} bytes waiting for a new tunnel POST connection to ${this.where}`));
      return false;
    }
    this.reopenPost();
    return false;
  }

  /** Bytes not yet sent to the server: queued on the POST socket or waiting for a new POST (base64, 4/3 of what was written). */
  get writableLength(): number {
    if (this.destroyed) return 0;
    return (this.post?.socket.writableLength ?? 0) + this.pendingBytes;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  setNoDelay(noDelay = true): this {
    this.noDelay = noDelay;
    for (const leg of this.open) leg.socket.setNoDelay(noDelay);
    return this;
  }

  /** Closes both connections; 'close' follows once all are closed. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.early = null;
    this.pending = [];
    this.pendingBytes = 0;
    for (const leg of this.open) leg.destroy();
    this.maybeEmitClose();
  }

  private redact(text: string): string {
    return redactText(text, this.secrets);
  }

  private queue(chunk: Buffer): void {
    if (this.early === null) return;
    this.early.push(chunk);
    if (this.early.overflow) this.fail(new CameraError('protocol error', `the server sent more than ${EARLY_LIMIT} bytes on the tunnel before any request`));
  }

  /** Makes `post` the POST connection: its listeners, its reply reader, waiting bytes flushed. */
  private usePost(post: Leg): void {
    this.post = post;
    this.open.add(post);
    this.postReply = new HttpHeadReader({ line: 1024, count: 32, block: 4096 });
    if (this.noDelay) post.socket.setNoDelay(true);
    post.sink = (chunk): void => { if (this.post === post) this.onPostBytes(chunk); };
    post.onError = (err): void => this.fail(new CameraError(socketErrorReason(err.code, err.message), `tunnel POST connection error: ${err.code ?? err.message}`));
    post.onClose = (): void => {
      this.open.delete(post);
      if (this.post === post) this.postLost();
      this.maybeEmitClose();
    };
    for (const chunk of this.pending) post.socket.write(chunk);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** The POST closed under us: the next write opens a new one, within the reopen budget. */
  private postLost(): void {
    const lost = this.post;
    this.post = null;
    lost?.destroy();
    if (this.destroyed) return;
    const now = Date.now();
    while (this.reopenTimes.length > 0 && now - this.reopenTimes[0]! > REOPEN_WINDOW_MS) this.reopenTimes.shift();
    if (this.reopenTimes.length >= MAX_REOPENS) {
      this.closeReason = new CameraError('connection lost', `the server closed the tunnel POST connection ${MAX_REOPENS + 1} times within ${REOPEN_WINDOW_MS / 1000} s`);
      this.destroy();
    }
  }

  private reopenPost(): void {
    if (this.reopening || this.destroyed) return;
    this.reopening = true;
    this.reopenTimes.push(Date.now());
    this.postReopens++;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CameraError('timeout', `no new tunnel POST connection to ${this.where} within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    const opening = this.openPost();
    opening.then((leg) => { if (this.destroyed) leg.destroy(); }, noop); // settles after a lost race too
    Promise.race([opening, expired]).then((leg) => {
      this.reopening = false;
      if (this.destroyed) { leg.destroy(); return; }
      this.usePost(leg);
    }, (err: CameraError) => {
      this.reopening = false;
      this.fail(err);
    }).finally(() => clearTimeout(timer));
  }

  /**
   * The server never answers the POST (dispatch 28); one that does anyway is refusing it
   * (typically 401/403 from a camera that checks credentials on both requests): an error
   * status ends the tunnel with its reason. Anything else arriving there is discarded.
   */
  private onPostBytes(chunk: Buffer): void {
    const reader = this.postReply;
    if (reader === null) return;
    const r = reader.push(chunk);
    if (r.state === 'more') return;
    this.postReply = null;
    if (r.state === 'done' && r.head.statusCode >= 300) {
      const s = r.head.statusCode;
      const what = `RTSP-over-HTTP tunnel POST to ${this.where}: ${s} ${preview(r.head.reason)}`.trim();
      this.fail(new CameraError(s === 401 || s === 403 ? 'auth failed' : s === 404 ? 'not found' : 'server error', this.redact(what), s));
    }
  }

  /** Emits 'error' (only to a listener: a failure inside a socket read must never throw) and closes. */
  private fail(err: CameraError): void {
    if (this.destroyed) return;
    this.closeReason = err;
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.destroy();
  }

  private maybeEmitClose(): void {
    if (this.closeEmitted || !this.destroyed || this.open.size > 0) return;
    this.closeEmitted = true;
    this.closeReason ??= new CameraError('closed', 'tunnel closed');
    this.emit('close');
  }
}

/**
 * Opens the tunnel: the GET (answering one 401 challenge, or a second after a stale nonce,
 * when credentials are given), its 200 reply head, then the POST. Rejects with a CameraError;
 * every connection it opened is closed by then.
 */
export async function openHttpTunnel(o: HttpTunnelOptions): Promise<HttpTunnel> {
  const timeoutMs = o.timeoutMs ?? 10000;
  const where = `${o.host}:${o.port}`;
  const secrets = [o.password ?? ''].filter((s) => s.length > 0);
  if (o.password) secrets.push(encodeURIComponent(o.password));
  const log = (level: 'debug' | 'info', msg: string): void => o.logger?.(level, redactText(msg, secrets));
  const legs: Leg[] = [];
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CameraError('timeout', `no RTSP-over-HTTP tunnel to ${where} within ${timeoutMs} ms`)), timeoutMs);
  });
  expired.catch(noop);
  const step = <T>(p: Promise<T>): Promise<T> => {
    p.catch(noop); // may settle after the race is lost
    return Promise.race([p, expired]);
  };
  const target = requestTarget(o.path);
  const base = { path: o.path, host: hostHeader(o.host, o.port), cookie: newSessionCookie(), userAgent: o.userAgent ?? 'node-red-contrib-rtsp-mjpeg' };
  const hasCredentials = o.username !== undefined && o.username !== '';
  let auth: Authenticator | null = null;
  try {
    for (let attempt = 0; ; attempt++) {
      const leg = new Leg('GET');
      legs.push(leg);
      await step(connectLeg(o, leg, o.secure ? null : new ReadSlab()));
      leg.socket.write(tunnelGetRequest({ ...base, authorization: auth?.authorization('GET', target) ?? null }));
      const early = new EarlyChunks();
      const head = await step(readGetHead(leg, early, where));
      log('debug', `tunnel GET ${target}: ${head.statusCode} ${preview(head.reason)}`);
      if (head.statusCode === 401) {
        leg.destroy();
        if (!hasCredentials) throw new CameraError('auth failed', `RTSP-over-HTTP tunnel GET to ${where}: the server requires credentials (401)`, 401);
        auth ??= new (loadAuth().Authenticator)(o.username ?? '', o.password ?? '');
        const verdict = attempt < 2 ? auth.onChallenge(head.headers.get('www-authenticate') ?? []) : 'failed';
        if (verdict === 'retry') continue;
        throw new CameraError('auth failed', verdict === 'unsupported'
          ? `RTSP-over-HTTP tunnel GET to ${where}: no supported authentication scheme offered (401)`
          : `RTSP-over-HTTP tunnel GET to ${where}: the server rejected the credentials (401)`, 401);
      }
      if (head.statusCode !== 200) throw getStatusError(head, where);
      const type = head.headers.get('content-type')?.[0];
      // A web server (a camera's own web UI on port 80) answers 200 text/html: not a tunnel.
      if (type !== undefined && !isTunnelContentType(type)) {
        throw new CameraError('unsupported transport', `RTSP-over-HTTP tunnel GET to ${where}: 200 with Content-Type ${preview(type)}, not application/x-rtsp-tunnelled: the server does not offer RTSP over HTTP there`, 200);
      }
      auth?.onSuccess();
      // The POST goes where the GET went. An x-server-ip-address header (GStreamer sends one,
      // for load balancers) is not followed: a server could otherwise send our credentials
      // to another host.
      const post = new Leg('POST');
      legs.push(post);
      await step(connectLeg(o, post, null));
      // Checked here because the tunnel object, not yet returned, could not report them.
      if (leg.closed) throw new CameraError('connection lost', `RTSP-over-HTTP tunnel to ${where}: the server closed the GET connection before the POST was open`);
      if (early.overflow) throw new CameraError('protocol error', `RTSP-over-HTTP tunnel to ${where}: more than ${EARLY_LIMIT} bytes on the GET before any request`);
      const authorized = auth;
      const postHead = (): Buffer => tunnelPostRequest({ ...base, authorization: authorized?.authorization('POST', target) ?? null });
      post.socket.write(postHead());
      const openPost = async (): Promise<Leg> => {
        const next = await connectLeg(o, new Leg('POST'), null);
        next.socket.write(postHead());
        log('debug', `tunnel POST ${target} reopened`);
        return next;
      };
      return new HttpTunnel(leg, post, early, base.cookie, where, secrets, openPost, timeoutMs);
    }
  } catch (e) {
    for (const l of legs) l.destroy();
    const err = e instanceof CameraError ? e : new CameraError('protocol error', e instanceof Error ? e.message : String(e));
    throw err.message === redactText(err.message, secrets) ? err : new CameraError(err.reason, redactText(err.message, secrets), err.statusCode);
  } finally {
    clearTimeout(timer);
  }
}
