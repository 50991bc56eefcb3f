/**
 * Keep-alives for one RTSP connection (rtsp-connection.ts), to the aggregate URL (some cameras
 * answer nothing else) with the Session header: the session lives only as long as requests
 * keep coming within its timeout (RFC 2326 §12.37). GET_PARAMETER without a body is the
 * liveness "ping" of §10.8, sent when the OPTIONS Public header lists it (as GStreamer's
 * rtspsrc and live555's clients do), else OPTIONS. Cameras differ in what renews a session:
 * many renew on any request naming it, some only on a request they answer with success. So a
 * GET_PARAMETER that is refused (4xx, 5xx) or left unanswered for answerMs() is followed AT
 * ONCE by an OPTIONS, and OPTIONS is used from then on: waiting for the next period would
 * leave the session unrenewed for a whole period, past a short timeout. Replies are awaited by
 * no one else, so a silent camera stalls nothing.
 */
import { CameraError, reasonForStatus } from '../errors';
import type { RtspResponse } from '../rtsp/message';

export type KeepAliveMethod = 'GET_PARAMETER' | 'OPTIONS';

/** What the keep-alive needs of its connection. */
export interface KeepAliveHost {
  isClosed(): boolean;
  /** the Session header's timeout, null when it gave none */
  sessionTimeoutSec(): number | null;
  /** sends a keep-alive request (a wrong-CSeq error reply may be attributed to it) */
  request(method: KeepAliveMethod, uri: string): Promise<RtspResponse>;
  log(level: 'debug' | 'info', msg: string): void;
  /** the session is gone (454) or the credentials were rejected */
  onFailure(err: CameraError): void;
}

/**
 * Keep-alive period from the Session timeout: min(timeout − 5 s, 30 s), capped because NAT
 * boxes may forget the connection sooner; for very
 * short timeouts 80 % of it, never below 500 ms.
 */
export function keepAliveIntervalMs(timeoutSec: number | null | undefined): number {
  const t = timeoutSec && timeoutSec > 0 ? timeoutSec : 60;
  const ms = t > 6 ? Math.min((t - 5) * 1000, 30000) : t * 800;
  return Math.max(500, Math.round(ms));
}

export class KeepAlive {
  private timer: NodeJS.Timeout | null = null;
  private methodNow: KeepAliveMethod = 'OPTIONS';
  private uri = '';
  /** fires when a GET_PARAMETER keep-alive went unanswered for answerMs() */
  private watch: NodeJS.Timeout | null = null;

  constructor(private readonly host: KeepAliveHost) {}

  get method(): KeepAliveMethod {
    return this.methodNow;
  }

  start(uri: string, method: KeepAliveMethod): void {
    this.stop();
    if (this.host.isClosed()) return;
    this.uri = uri;
    this.methodNow = method;
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.watch) clearTimeout(this.watch);
    this.watch = null;
  }

  /**
   * How long a GET_PARAMETER keep-alive may go unanswered before it counts as ignored: a third
   * of the slack between the keep-alive and the end of the session, so that the OPTIONS sent
   * then still arrives in time, within [200 ms, 2 s]. A camera that answers slower than that is
   * merely kept alive with OPTIONS from then on.
   */
  answerMs(): number {
    const timeoutSec = this.host.sessionTimeoutSec();
    const timeoutMs = (timeoutSec && timeoutSec > 0 ? timeoutSec : 60) * 1000;
    const slack = timeoutMs - keepAliveIntervalMs(timeoutSec);
    return Math.max(200, Math.min(2000, Math.round(slack / 3)));
  }

  private schedule(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => this.send(), keepAliveIntervalMs(this.host.sessionTimeoutSec()));
    this.timer.unref();
  }

  private send(): void {
    if (this.host.isClosed()) return;
    const method = this.methodNow;
    let answered = false;
    if (method !== 'OPTIONS') {
      if (this.watch) clearTimeout(this.watch);
      this.watch = setTimeout(() => {
        this.watch = null;
        if (!answered && this.methodNow === method) this.withOptions(`${method} keep-alive unanswered after ${this.answerMs()} ms`);
      }, this.answerMs());
      this.watch.unref();
    }
    this.host.request(method, this.uri).then((res) => {
      answered = true;
      if (res.statusCode === 454) {
        this.host.onFailure(new CameraError(reasonForStatus(454), `${method} keep-alive: session not found (454)`, 454));
      } else if (res.statusCode >= 400 && method !== 'OPTIONS' && this.methodNow === method) {
        this.withOptions(`${method} keep-alive refused (${res.statusCode})`);
      }
    }, (err: CameraError) => {
      answered = true;
      if (err.reason === 'auth failed') this.host.onFailure(err);
      else if (err.reason === 'timeout') this.host.log('debug', `${method} keep-alive unanswered`); // some cameras never answer keep-alives
    });
  }

  /** Switches the keep-alive to OPTIONS and sends one now; the period restarts from it. */
  private withOptions(why: string): void {
    if (this.host.isClosed() || this.timer === null) return;
    this.host.log('info', `${why}; keeping the session alive with OPTIONS`);
    this.methodNow = 'OPTIONS';
    if (this.watch) clearTimeout(this.watch);
    this.watch = null;
    this.schedule();
    this.send();
  }
}
