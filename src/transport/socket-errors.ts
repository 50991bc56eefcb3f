/**
 * What a socket error means to the user, as a CameraError reason: the mapping the RTSP
 * connection applies to its own socket, so a tunnel fails with the reasons a plain connection
 * would. Same signature as the connection's mapping, so that both can share one function.
 */
import type { CameraErrorReason } from '../errors';

export function socketErrorReason(code: string | undefined, message: string): CameraErrorReason {
  switch (code) {
    case 'ECONNREFUSED': case 'ENOTFOUND': case 'EHOSTUNREACH': case 'ENETUNREACH': case 'EAI_AGAIN': return 'connection refused';
    case 'ETIMEDOUT': return 'timeout';
    default:
      if (code?.startsWith('ERR_TLS') || code?.includes('CERT') || /certificate|tls|ssl/i.test(message)) return 'tls error';
      return 'connection lost';
  }
}
