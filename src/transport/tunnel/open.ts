/**
 * RTSP tunnelled over HTTP (Apple, "Tunnelling RTSP and RTP through HTTP", QuickTime Ice Floe
 * dispatch 28; wire format in wire.ts): two TCP (or TLS) connections that together
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
 *
 * This file opens the tunnel (the GET/POST pair and its authentication); socket.ts is the
 * open tunnel (reads, writes, POST reopens); leg.ts opens one of its connections; target.ts
 * says where an rtsp:// URL's tunnel goes.
 */
import { CameraError, reasonForStatus, socketErrorReason } from '../../errors';
import type { Authenticator } from '../../rtsp/auth';
import { redactText } from '../../rtsp/redact';
import { secretList } from '../../rtsp/credentials';
import { retryAfterMs } from '../../rtsp/retry-after';
import { ReadSlab } from '../read-slab';
import { HttpHeadReader, type HttpResponseHead } from '../http-head';
import { hostHeader, isTunnelContentType, newSessionCookie, requestTarget, tunnelGetRequest, tunnelPostRequest } from './wire';
import { EARLY_LIMIT, EarlyChunks, Leg, connectLeg, noop, preview } from './leg';
import { HttpTunnel } from './socket';

// rtsp/auth.ts loads node:crypto: only after a 401.
/* eslint-disable @typescript-eslint/no-require-imports */
const loadAuth = (): typeof import('../../rtsp/auth') => require('../../rtsp/auth') as typeof import('../../rtsp/auth');
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
  // A 503 says the server is busy (as an RTSP 503 does, errors.ts reasonForStatus), perhaps
  // with when to come back (RFC 9110 §10.2.3): the camera layer then retries no sooner.
  if (s === 503) return new CameraError(reasonForStatus(s), what, s, retryAfterMs(head.headers.get('retry-after')?.[0], Date.now()) ?? undefined);
  if (s === 500 || s === 502 || s === 504) return new CameraError('server error', what, s);
  return new CameraError('unsupported transport', `${what}: the server does not offer RTSP over HTTP there`, s);
}

/**
 * Opens the tunnel: the GET (answering one 401 challenge, or a second after a stale nonce,
 * when credentials are given), its 200 reply head, then the POST. Rejects with a CameraError;
 * every connection it opened is closed by then.
 */
export async function openHttpTunnel(o: HttpTunnelOptions): Promise<HttpTunnel> {
  const timeoutMs = o.timeoutMs ?? 10000;
  const where = `${o.host}:${o.port}`;
  const secrets = secretList(o.password);
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
    throw err.message === redactText(err.message, secrets) ? err : new CameraError(err.reason, redactText(err.message, secrets), err.statusCode, err.retryAfterMs);
  } finally {
    clearTimeout(timer);
  }
}
