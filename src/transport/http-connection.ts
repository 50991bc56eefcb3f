/**
 * One HTTP/1.1 client connection to a camera (RFC 9112): GET requests one at a time, the
 * response head read by http-head.ts, the body delimited by Content-Length, the chunked
 * transfer coding (mjpeg/chunked-decoder.ts) or the end of the connection (§6.3), and the
 * connection kept for the next request when both sides allow it (§9.3, persistent
 * connections: what a snapshot poller reuses).
 *
 * Body bytes go to the sink as they arrive, as subarrays of the read buffers: over plain TCP
 * reads land in a ReadSlab (never rewritten, so a multipart reader may hold them until its
 * frame is complete), over TLS Node gives a fresh Buffer per read. A sink that copies what it
 * keeps before returning may ask for one reused read buffer instead (reuseReadBuffer()): no
 * allocation per read at all, for a stream that runs for hours. Over TLS the certificate
 * rules are those of rtsps (connect-socket.ts).
 */
import * as net from 'node:net';
import { CameraError, socketErrorReason } from '../errors';
import { header } from '../rtsp/message';
import { ChunkedDecoder } from '../mjpeg/chunked-decoder';
import { HttpHeadReader, type HttpResponseHead } from './http-head';
import { connectError, connectTls, type TlsPolicy } from './connect-socket';
import { ReadSlab } from './read-slab';

export interface HttpConnectOptions extends TlsPolicy {
  secure: boolean;
  /** bound on connecting (and the TLS handshake), ms */
  timeoutMs: number;
}

export type BodyFraming = 'length' | 'chunked' | 'close' | 'none';

export interface HttpResponse {
  head: HttpResponseHead;
  framing: BodyFraming;
  /** Content-Length when framing is 'length' */
  length: number | null;
}

export interface BodySink {
  /** body bytes (de-chunked), subarrays of the reads */
  onData(data: Buffer): void;
  /** the body is complete */
  onEnd(): void;
  /** the connection failed before the body was complete */
  onError(err: CameraError): void;
}

type Phase = 'idle' | 'head' | 'body' | 'closed';

/** Where plain-TCP reads go: the slab, or one buffer rewritten by every read once set. */
interface ReadTarget { fixed: Buffer | null }

/** size of the reused read buffer (one socket read at most) */
const FIXED_READ_BYTES = 64 * 1024;

const NO_SINK: BodySink = { onData: () => undefined, onEnd: () => undefined, onError: () => undefined };

export class HttpConnection {
  private phase: Phase = 'idle';
  private head: HttpHeadReader | null = null;
  private resolveHead: ((r: HttpResponse) => void) | null = null;
  private rejectHead: ((e: CameraError) => void) | null = null;
  private headTimer: NodeJS.Timeout | null = null;
  private sink: BodySink | null = null;
  /** body bytes that arrived before a sink was attached (the rest of the read with the head) */
  private early: Buffer[] = [];
  private earlyEnd = false;
  private pendingError: CameraError | null = null;
  private framing: BodyFraming = 'none';
  private remaining = 0;
  private chunked: ChunkedDecoder | null = null;
  private keepAlive = false;
  /** bytes read on this connection, head and body */
  bytesRead = 0;
  /** requests sent on this connection */
  requests = 0;
  readonly where: string;

  private constructor(private readonly socket: net.Socket, where: string, attach: (deliver: (chunk: Buffer) => void) => void, private readonly reads: ReadTarget | null) {
    this.where = where;
    attach((chunk) => this.onRead(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.fail(new CameraError(socketErrorReason(err.code, err.message), `connection to ${this.where} failed: ${err.code ?? err.message}`));
    });
    socket.on('close', () => this.onClose());
  }

  /** Opens a TCP (or TLS) connection; rejects with a CameraError. */
  static connect(o: HttpConnectOptions): Promise<HttpConnection> {
    const where = `${o.host}:${o.port}`;
    return new Promise((resolve, reject) => {
      let socket: net.Socket;
      let settled = false;
      let deliver: ((chunk: Buffer) => void) | null = null;
      const reads: ReadTarget | null = o.secure ? null : { fixed: null };
      const early: Buffer[] = [];
      const onChunk = (chunk: Buffer): void => { if (deliver) deliver(chunk); else early.push(chunk); };
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
        resolve(new HttpConnection(socket, where, (d) => { deliver = d; for (const c of early.splice(0)) d(c); }, reads));
      };
      const timer = setTimeout(() => done(new CameraError('timeout', `no connection to ${where} within ${o.timeoutMs} ms`)), o.timeoutMs);
      if (o.secure) {
        socket = connectTls(o, (problem) => done(problem === null ? null : new CameraError('tls error', problem)));
        socket.on('data', onChunk);
      } else {
        const slab = new ReadSlab();
        socket = net.connect({
          host: o.host,
          port: o.port,
          onread: {
            buffer: () => reads!.fixed ?? slab.next(),
            callback: (n: number, region: Uint8Array): boolean => {
              onChunk(region === reads!.fixed ? (region as Buffer).subarray(0, n) : slab.filled(region as Buffer, n));
              return true;
            },
          },
        });
        socket.once('connect', () => done(null));
      }
      socket.on('error', (err: NodeJS.ErrnoException) => done(connectError(err, where)));
      socket.once('close', () => done(new CameraError('connection lost', `connection to ${where} closed while connecting`)));
    });
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  /** Idle, open, and the last response allowed another request on it. */
  get reusable(): boolean {
    return this.phase === 'idle' && this.keepAlive && !this.socket.destroyed;
  }

  /**
   * Sends `GET target` (RFC 9112 §3) and resolves with the final response head (1xx interim
   * responses are skipped). The body follows through body(). Rejects with 'timeout' when no
   * head arrives within `timeoutMs`, or with the connection's failure.
   */
  get(target: string, headers: [string, string][], timeoutMs: number): Promise<HttpResponse> {
    if (this.phase !== 'idle') return Promise.reject(new CameraError('protocol error', `request on a connection that is ${this.phase}`));
    this.phase = 'head';
    this.head = new HttpHeadReader();
    this.sink = null;
    this.early = [];
    this.earlyEnd = false;
    this.pendingError = null;
    this.chunked = null;
    this.requests++;
    const lines = [`GET ${target} HTTP/1.1`, ...headers.map(([n, v]) => `${n}: ${v}`), '', ''];
    return new Promise<HttpResponse>((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
      this.headTimer = setTimeout(() => {
        this.fail(new CameraError('timeout', `no answer from ${this.where} within ${Math.round(timeoutMs / 100) / 10} s`));
      }, timeoutMs);
      this.socket.write(lines.join('\r\n'));
    });
  }

  /** Where the body of the response just resolved goes; bytes that came with the head first. */
  body(sink: BodySink): void {
    this.sink = sink;
    if (this.socket.isPaused()) this.socket.resume();
    const early = this.early;
    this.early = [];
    for (const c of early) this.deliverBody(c);
    if (this.earlyEnd) { this.earlyEnd = false; this.endBody(); }
    const err = this.pendingError;
    if (err !== null) {
      this.pendingError = null;
      this.sink = NO_SINK;
      sink.onError(err);
    }
  }

  /**
   * From the next read on, plain-TCP reads go into one buffer that every read rewrites: the
   * sink must copy what it keeps before onData returns. For the rest of this connection.
   */
  reuseReadBuffer(): void {
    if (this.reads && this.reads.fixed === null) this.reads.fixed = Buffer.allocUnsafeSlow(FIXED_READ_BYTES);
  }

  /** Reads and drops the body (a 401 or a redirect before the next request), at most `limit` bytes. */
  discardBody(limit: number): Promise<void> {
    return new Promise((resolve) => {
      let n = 0;
      this.body({
        onData: (d) => { n += d.length; if (n > limit) { this.close(); resolve(); } },
        onEnd: () => resolve(),
        onError: () => resolve(),
      });
    });
  }

  close(): void {
    if (this.phase === 'closed') return;
    this.fail(new CameraError('closed', 'connection closed'));
  }

  // ---------------------------------------------------------------- reads

  private onRead(chunk: Buffer): void {
    this.bytesRead += chunk.length;
    if (this.phase === 'body') { this.deliverBody(chunk); return; }
    if (this.phase !== 'head') {
      // bytes nobody asked for: a server talking out of turn cannot be trusted with the next request
      if (this.phase === 'idle') this.close();
      return;
    }
    const r = this.head!.push(chunk);
    if (r.state === 'more') return;
    if (r.state === 'error') { this.fail(new CameraError('protocol error', `${this.where}: ${r.message}`)); return; }
    const h = r.head;
    const rest = chunk.subarray(r.rest);
    if (h.statusCode >= 100 && h.statusCode < 200 && h.statusCode !== 101) {
      // an interim response (RFC 9110 §15.2): the final one follows
      this.head = new HttpHeadReader();
      if (rest.length > 0) this.onRead(rest);
      return;
    }
    this.startBody(h);
    if (rest.length > 0) this.deliverBody(rest);
  }

  private startBody(h: HttpResponseHead): void {
    if (this.headTimer) clearTimeout(this.headTimer);
    this.headTimer = null;
    const te = (header(h.headers, 'transfer-encoding') ?? '').toLowerCase();
    const cl = header(h.headers, 'content-length');
    const conn = (h.headers.get('connection') ?? []).join(',').toLowerCase();
    let length: number | null = null;
    if (h.statusCode === 204 || h.statusCode === 304) {
      this.framing = 'none';
    } else if (te.includes('chunked')) {
      // §6.3: chunked wins over Content-Length
      this.framing = 'chunked';
      this.chunked = new ChunkedDecoder((d) => this.sinkData(d));
    } else if (cl !== undefined && /^\s*\d{1,15}\s*$/.test(cl)) {
      length = Number(cl);
      this.framing = length === 0 ? 'none' : 'length';
      this.remaining = length;
    } else {
      this.framing = 'close';
    }
    const http11 = h.version === 'HTTP/1.1';
    this.keepAlive = this.framing !== 'close' && (http11 ? !/\bclose\b/.test(conn) : /\bkeep-alive\b/.test(conn));
    this.phase = 'body';
    // until a sink is attached, hold reads (they come with the head, or just after it)
    this.socket.pause();
    const resolve = this.resolveHead;
    this.resolveHead = null;
    this.rejectHead = null;
    resolve?.({ head: h, framing: this.framing, length });
    if (this.framing === 'none') this.endBody();
  }

  private deliverBody(chunk: Buffer): void {
    if (this.sink === null) { this.early.push(chunk); return; }
    switch (this.framing) {
      case 'close':
        this.sinkData(chunk);
        return;
      case 'length': {
        const n = Math.min(this.remaining, chunk.length);
        this.remaining -= n;
        if (n > 0) this.sinkData(n === chunk.length ? chunk : chunk.subarray(0, n));
        if (this.remaining === 0) {
          if (n < chunk.length) this.keepAlive = false; // bytes past the body: not a clean connection
          this.endBody();
        }
        return;
      }
      case 'chunked': {
        const r = this.chunked!.push(chunk);
        if (r.state === 'error') { this.fail(new CameraError('protocol error', `${this.where}: ${r.message}`)); return; }
        if (r.state === 'done') {
          if (r.rest < chunk.length) this.keepAlive = false;
          this.endBody();
        }
        return;
      }
      case 'none':
        this.keepAlive = false;
    }
  }

  private sinkData(d: Buffer): void {
    if (d.length > 0) this.sink?.onData(d);
  }

  private endBody(): void {
    if (this.phase !== 'body') return;
    if (this.sink === null) { this.earlyEnd = true; return; }
    const sink = this.sink;
    this.sink = null;
    this.phase = this.keepAlive ? 'idle' : 'closed';
    if (!this.keepAlive) this.socket.destroy();
    sink.onEnd();
  }

  private onClose(): void {
    if (this.phase === 'body' && this.framing === 'close') {
      this.keepAlive = false;
      this.endBody();
      return;
    }
    this.fail(new CameraError('connection lost', this.phase === 'head'
      ? `${this.where} closed the connection without answering`
      : `${this.where} closed the connection in the middle of a response`));
  }

  private fail(err: CameraError): void {
    if (this.phase === 'closed') return;
    const was = this.phase;
    this.phase = 'closed';
    if (this.headTimer) clearTimeout(this.headTimer);
    this.headTimer = null;
    this.socket.destroy();
    const reject = this.rejectHead;
    this.resolveHead = null;
    this.rejectHead = null;
    reject?.(err);
    if (was === 'body') {
      if (this.sink === null) {
        // the failure waits for the sink, behind the bytes that came before it
        this.pendingError = err;
        return;
      }
      const sink = this.sink;
      this.sink = NO_SINK;
      sink.onError(err);
    }
  }
}
