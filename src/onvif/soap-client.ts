/**
 * SOAP 1.2 over HTTP to one ONVIF device (ONVIF Core §5.1.2: POST, Content-Type
 * application/soap+xml with the action as a parameter, SOAP 1.2 Part 2 §7.1.4).
 *
 * Authentication follows ONVIF Core §5.9.1: with credentials a request carries a WS-Security
 * UsernameToken (wire/ws-security.ts), its Created in the device's clock (`clockOffsetMs`,
 * measured with GetSystemDateAndTime). A device that wants HTTP Digest instead answers 401 with
 * a challenge; from then on requests carry the Digest Authorization (rtsp/auth.ts, the same
 * RFC 7616 rules as for RTSP) and no token, since a client should not send both. Should that
 * device then still refuse at the WS level (ter:NotAuthorized), it gets both.
 *
 * Every reply is bounded: its size (a larger one is cut off and refused), the time to the end
 * of it, and the XML limits of wire/xml.ts. Errors are CameraErrors whose messages name the
 * operation and URL, never a credential.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { randomBytes } from 'node:crypto';
import { Authenticator } from '../rtsp/auth';
import { CameraError, socketErrorReason } from '../errors';
import { buildEnvelope, faultError, parseSoap, type SoapMessage } from './wire/soap';
import { usernameTokenHeader } from './wire/ws-security';
import type { XmlElement } from './wire/xml';

export interface SoapClientOptions {
  username?: string | undefined;
  password?: string | undefined;
  /** per request, to the end of the reply (default 10 s) */
  timeoutMs?: number | undefined;
  /** largest reply body accepted (default 1 MiB) */
  maxReplyBytes?: number | undefined;
  /** device clock minus ours, ms */
  clockOffsetMs?: number | undefined;
  /** verify an https device's certificate (default false: cameras serve self-signed ones) */
  verifyTls?: boolean | undefined;
  now?: (() => number) | undefined;
}

export interface CallOptions {
  /** send credentials (default true; false for the PRE_AUTH clock query) */
  auth?: boolean;
  /** extra SOAP header blocks (WS-Addressing for the event service) */
  header?: string;
  timeoutMs?: number;
}

export interface CallResult {
  /** the response element (first child of Body) */
  body: XmlElement | undefined;
  message: SoapMessage;
  /** the HTTP Date header, ms, when there was one */
  httpDate: number | null;
}

interface RawReply { status: number; headers: http.IncomingHttpHeaders; body: string }

export const DEFAULT_SOAP_TIMEOUT_MS = 10000;
export const DEFAULT_MAX_REPLY_BYTES = 1024 * 1024;

type AuthMode = 'token' | 'digest' | 'both';

export class SoapClient {
  clockOffsetMs: number;
  private readonly username: string;
  private readonly password: string;
  private readonly timeoutMs: number;
  private readonly maxReplyBytes: number;
  private readonly now: () => number;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  private readonly httpsAgent: https.Agent;
  private readonly inflight = new Set<http.ClientRequest>();
  private digest: Authenticator | null = null;
  private mode: AuthMode = 'token';
  private closed = false;

  constructor(opts: SoapClientOptions = {}) {
    this.username = opts.username ?? '';
    this.password = opts.password ?? '';
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_SOAP_TIMEOUT_MS;
    this.maxReplyBytes = opts.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
    this.clockOffsetMs = opts.clockOffsetMs ?? 0;
    this.now = opts.now ?? Date.now;
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: opts.verifyTls === true });
  }

  get hasCredentials(): boolean {
    return this.username !== '' || this.password !== '';
  }

  /** 'token' (WS-Security), 'digest' (HTTP) or 'both', as the device has asked so far */
  get authMode(): AuthMode {
    return this.mode;
  }

  /**
   * Sends one operation; resolves with the response element, rejects with a CameraError
   * (faults mapped by wire/soap.ts faultReason, HTTP and socket failures by their reasons).
   */
  async call(url: string, operation: string, action: string, body: string, o: CallOptions = {}): Promise<CallResult> {
    const withAuth = (o.auth ?? true) && this.hasCredentials;
    let digestTries = 0;
    let escalated = false;
    for (;;) {
      const token = withAuth && this.mode !== 'digest' ? usernameTokenHeader(this.username, this.password, this.now() + this.clockOffsetMs, randomBytes(16)) : '';
      const envelope = buildEnvelope(body, `${token}${o.header ?? ''}`);
      const authorization = withAuth && this.mode !== 'token' && this.digest ? this.digest.authorization('POST', requestTarget(url)) : null;
      const raw = await this.post(url, operation, action, envelope, authorization, o.timeoutMs ?? this.timeoutMs);
      const httpDate = parseHttpDate(raw.headers['date']);
      if (raw.status === 401) {
        const challenges = headerList(raw.headers['www-authenticate']);
        if (!withAuth) {
          throw new CameraError('auth failed', `${operation}: the camera asks for a user name and password (HTTP 401)`, 401);
        }
        this.digest ??= new Authenticator(this.username, this.password);
        const next = challenges.length > 0 ? this.digest.onChallenge(challenges) : 'unsupported';
        if (next === 'retry' && digestTries++ < 4) {
          if (this.mode === 'token') this.mode = 'digest';
          continue;
        }
        throw new CameraError('auth failed', `${operation}: the camera refused the user name or password (HTTP 401${next === 'unsupported' ? ', no Digest challenge' : ''})`, 401);
      }
      if (withAuth && this.mode !== 'token' && this.digest) this.digest.onSuccess();
      const isXml = raw.body.trimStart().startsWith('<');
      if (!isXml) {
        if (raw.status >= 200 && raw.status < 300) throw new CameraError('protocol error', `${operation}: the reply is not XML (HTTP ${raw.status})`, raw.status);
        throw httpError(operation, url, raw.status);
      }
      let message: SoapMessage;
      try {
        message = parseSoap(raw.body, `${operation} reply`);
      } catch (e) {
        if (raw.status >= 300) throw httpError(operation, url, raw.status);
        throw e;
      }
      if (message.fault) {
        const err = faultError(operation, message.fault);
        // Digest accepted at the HTTP level, yet the WS level wants a token too: send both, once
        if (err.reason === 'auth failed' && withAuth && this.mode === 'digest' && !escalated) {
          escalated = true;
          this.mode = 'both';
          continue;
        }
        throw err;
      }
      if (raw.status < 200 || raw.status >= 300) throw httpError(operation, url, raw.status);
      return { body: message.body, message, httpDate };
    }
  }

  private post(url: string, operation: string, action: string, envelope: string, authorization: string | null, timeoutMs: number): Promise<RawReply> {
    if (this.closed) return Promise.reject(new CameraError('closed', `${operation}: closed`));
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return Promise.reject(new CameraError('invalid url', `${operation}: not a URL: ${url.slice(0, 200)}`));
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return Promise.reject(new CameraError('invalid url', `${operation}: not an http(s) URL: ${u.protocol}`));
    const data = Buffer.from(envelope, 'utf8');
    const headers: http.OutgoingHttpHeaders = {
      'content-type': `application/soap+xml; charset=utf-8; action="${action}"`,
      'content-length': data.length,
      accept: 'application/soap+xml, text/xml',
    };
    if (authorization) headers['authorization'] = authorization;
    const where = `${u.protocol}//${u.host}${u.pathname}`;
    return new Promise<RawReply>((resolve, reject) => {
      let done = false;
      const finish = (err: CameraError | null, reply?: RawReply): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.inflight.delete(req);
        if (err) { req.destroy(); reject(err); } else resolve(reply!);
      };
      const mod = u.protocol === 'https:' ? https : http;
      const req = mod.request(u, { method: 'POST', headers, agent: u.protocol === 'https:' ? this.httpsAgent : this.httpAgent }, (res) => {
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > this.maxReplyBytes) {
          finish(new CameraError('protocol error', `${operation} ${where}: a reply of ${declared} bytes, more than the ${this.maxReplyBytes} accepted`));
          return;
        }
        const parts: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxReplyBytes) {
            finish(new CameraError('protocol error', `${operation} ${where}: a reply of more than the ${this.maxReplyBytes} bytes accepted`));
            return;
          }
          parts.push(chunk);
        });
        res.on('end', () => finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
        res.on('error', (e) => finish(new CameraError('connection lost', `${operation} ${where}: ${e.message}`)));
        res.on('aborted', () => finish(new CameraError('connection lost', `${operation} ${where}: the reply was cut off`)));
      });
      const timer = setTimeout(() => finish(new CameraError('timeout', `${operation} ${where}: no complete reply within ${Math.round(timeoutMs / 100) / 10} s`)), timeoutMs);
      this.inflight.add(req);
      req.on('error', (e: NodeJS.ErrnoException) => finish(new CameraError(socketErrorReason(e.code, e.message), `${operation} ${where}: ${e.message}`)));
      req.end(data);
    });
  }

  /** Aborts requests in flight and closes idle connections. */
  close(): void {
    this.closed = true;
    for (const r of this.inflight) r.destroy(new Error('closed'));
    this.inflight.clear();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function requestTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return '/';
  }
}

function headerList(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function parseHttpDate(v: string | undefined): number | null {
  if (!v) return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : null;
}

function httpError(operation: string, url: string, status: number): CameraError {
  const where = (() => { try { const u = new URL(url); return `${u.protocol}//${u.host}${u.pathname}`; } catch { return ''; } })();
  const reason = status === 401 || status === 403 ? 'auth failed' : status === 404 || status === 405 ? 'not found' : status === 503 ? 'server busy' : status >= 500 ? 'server error' : 'protocol error';
  return new CameraError(reason, `${operation} ${where}: HTTP ${status}`, status);
}
