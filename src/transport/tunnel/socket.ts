/**
 * The open RTSP-over-HTTP tunnel (opened by open.ts), shaped like the net.Socket the
 * RTSP connection otherwise uses: write(), writableLength, remoteAddress, setNoDelay(),
 * destroy(), 'error' and 'close' events ('error' only when someone listens: it comes from
 * socket reads, where a throw would be uncaught; `closeReason` always says why the tunnel
 * ended). Reads are not 'data' events: setReceiver() takes the function the GET connection's
 * reads go to (ReadSlab memory over plain TCP, see leg.ts).
 *
 * Writes go base64-encoded on the POST (Apple, "Tunnelling RTSP and RTP through HTTP", QuickTime
 * Ice Floe dispatch 28). A POST that the server or a proxy closes (some end it after its
 * Content-Length) is replaced at the next write by a new POST with the same cookie, within a
 * small budget; the GET closing ends the tunnel.
 */
import { EventEmitter } from 'node:events';
import { CameraError, socketErrorReason } from '../../errors';
import { redactText } from '../../rtsp/redact';
import { HttpHeadReader } from '../http-head';
import { encodeTunnelBytes } from './wire';
import { EARLY_LIMIT, noop, preview, type EarlyChunks, type Leg } from './leg';

/** What the tunnel needs to open another POST with the same cookie (and credentials). */
export type PostOpener = () => Promise<Leg>;

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

  /** Use openHttpTunnel() (open.ts). */
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

