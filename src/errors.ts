/**
 * Typed camera errors. Every failure a user can see maps to one short `reason` (what the
 * node status shows) and a longer message (what Catch nodes and logs get). Messages are
 * built by the code that knows the context; they must already be free of credentials
 * (see rtsp/url.ts `redactUrl`/`redactText`).
 */
export type CameraErrorReason =
  | 'auth failed'
  | 'not found'
  | 'unsupported codec'
  | 'unsupported transport'
  | 'timeout'
  | 'connection refused'
  | 'connection lost'
  | 'protocol error'
  | 'stalled'
  | 'end of stream'
  | 'session expired'
  | 'redirect refused'
  | 'tls error'
  | 'server error'
  | 'invalid url'
  | 'closed';

export class CameraError extends Error {
  readonly reason: CameraErrorReason;
  /** RTSP status code when the error came from a response. */
  readonly statusCode: number | undefined;

  constructor(reason: CameraErrorReason, message: string, statusCode?: number) {
    super(message);
    this.name = 'CameraError';
    this.reason = reason;
    this.statusCode = statusCode;
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
    default: return 'server error';
  }
}

/** The CameraError for a final non-2xx reply to `method`. */
export function statusError(method: string, res: { statusCode: number; reason: string }): CameraError {
  return new CameraError(reasonForStatus(res.statusCode), `${method}: ${res.statusCode} ${res.reason}`.trim(), res.statusCode);
}
