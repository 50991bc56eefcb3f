/**
 * What a socket error means to the user, as a CameraError reason. The same mapping the RTSP
 * connection applies to its own socket, so a tunnel fails with the reasons a plain connection
 * would.
 */
import type { CameraErrorReason } from '../errors';

export function socketErrorReason(err: NodeJS.ErrnoException): CameraErrorReason {
  switch (err.code) {
    case 'ECONNREFUSED': case 'ENOTFOUND': case 'EHOSTUNREACH': case 'ENETUNREACH': case 'EAI_AGAIN': return 'connection refused';
    case 'ETIMEDOUT': return 'timeout';
    default:
      if (err.code?.startsWith('ERR_TLS') || err.code?.includes('CERT') || /certificate|tls|ssl/i.test(err.message)) return 'tls error';
      return 'connection lost';
  }
}
