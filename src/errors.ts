/**
 * Typed camera errors. Every failure a user can see maps to one short `reason` (what the
 * node status shows) and a longer message (what Catch nodes and logs get). Messages are
 * built by the code that knows the context; they must already be free of credentials
 * (see rtsp/redact.ts `redactUrl`/`redactText`).
 */
export type CameraErrorReason =
  | 'auth failed'
  | 'not found'
  | 'unsupported codec'
  | 'unsupported transport'
  | 'timeout'
  | 'host not found'
  | 'network unreachable'
  | 'connection refused'
  | 'connection lost'
  | 'protocol error'
  | 'stalled'
  | 'frame too large'
  | 'end of stream'
  | 'session expired'
  | 'redirect refused'
  | 'tls error'
  | 'server busy'
  | 'server error'
  | 'invalid url'
  | 'closed';

export class CameraError extends Error {
  readonly reason: CameraErrorReason;
  /** RTSP status code when the error came from a response. */
  readonly statusCode: number | undefined;
  /** the delay a 503's Retry-After asked for (ms, already capped), when it gave one */
  readonly retryAfterMs: number | undefined;

  constructor(reason: CameraErrorReason, message: string, statusCode?: number, retryAfterMs?: number) {
    super(message);
    this.name = 'CameraError';
    this.reason = reason;
    this.statusCode = statusCode;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Raised by the RTSP reader when the peer breaks the protocol or a size limit. */
export class RtspProtocolError extends CameraError {
  constructor(message: string) {
    super('protocol error', message);
    this.name = 'RtspProtocolError';
  }
}

/**
 * The short reason for an RTSP error status (RFC 2326 §7.1.1, status codes §11): the one
 * place that maps a status code to what the node status shows.
 */
export function reasonForStatus(statusCode: number): CameraErrorReason {
  switch (statusCode) {
    case 401: case 403: return 'auth failed';
    case 404: return 'not found';
    case 415: return 'unsupported codec';
    case 454: return 'session expired';
    case 461: return 'unsupported transport';
    case 503: return 'server busy';
    default: return 'server error';
  }
}

/**
 * The CameraError for a final non-2xx reply to `method`; `url` is what was asked for, already
 * without credentials, so a 404 says which path the camera did not know.
 */
export function statusError(method: string, res: { statusCode: number; reason: string }, url?: string, retryAfterMs?: number | null): CameraError {
  const what = url ? `${method} ${url}` : method;
  return new CameraError(reasonForStatus(res.statusCode), `${what}: ${res.statusCode} ${res.reason}`.trim(), res.statusCode, retryAfterMs ?? undefined);
}

/**
 * Failures of a handshake that a quick retry usually cures: a server that is busy (503) or
 * failed inside (500, 502), typically while it still tears down the media of a previous
 * client, and a connection reset (TCP RST, ECONNRESET) half-way. They are retried within a
 * few hundred ms before the backoff applies (camera/session.ts). A connection the camera
 * closes in order (FIN) is not among them: that is how cameras at their client limit say no,
 * and they get the backoff.
 */
export function isTransientHandshakeError(err: CameraError): boolean {
  if (err.reason === 'connection lost' && /\bECONNRESET\b/.test(err.message)) return true;
  const s = err.statusCode;
  return s === 500 || s === 502 || s === 503;
}

/**
 * The reason for a socket-level failure, from Node's error code: the user fixes a name that
 * does not resolve, a route or firewall, or the camera itself, so each gets its own reason.
 */
export function socketErrorReason(code: string | undefined, message: string): CameraErrorReason {
  switch (code) {
    case 'ENOTFOUND': case 'EAI_AGAIN': case 'EAI_NONAME': case 'EAI_FAIL': return 'host not found';
    case 'ENETUNREACH': case 'EHOSTUNREACH': case 'EHOSTDOWN': case 'ENETDOWN': return 'network unreachable';
    case 'ETIMEDOUT': return 'timeout';
    case 'ECONNREFUSED': return 'connection refused';
    default:
      if (code?.startsWith('ERR_TLS') || code?.includes('CERT') || /certificate|tls|ssl/i.test(message)) return 'tls error';
      return 'connection lost';
  }
}

/**
 * Failures that retrying will not cure until someone changes the camera or the node: they
 * back off to minutes (camera/backoff.ts), and the status says what to change.
 */
export const REASON_ADVICE: Partial<Record<CameraErrorReason, string>> = {
  'auth failed': 'check the user name and password',
  'not found': 'check the path in the URL',
  'unsupported codec': 'enable a Motion-JPEG stream on the camera',
  'host not found': 'check the host name',
  'network unreachable': 'check the address and the network route',
  'invalid url': 'the URL must look like rtsp://host[:port]/path',
};
