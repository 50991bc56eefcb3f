/**
 * What the RTSP connection (rtsps) and both legs of an HTTPS tunnel share when they open a
 * client connection: the TLS certificate policy and the error a failed connect becomes.
 * Certificate verification stays on by default (RFC 2326 §9.2 leaves rtsps to TLS); a pinned
 * SHA-256 fingerprint or allow-self-signed replaces it with our own check.
 */
import * as net from 'node:net';
import type * as tlsModule from 'node:tls';
import { CameraError, socketErrorReason } from '../errors';

// node:tls loads on first use: most cameras are plain rtsp://, and loading it costs start-up
// CPU in every process that requires the library.
/* eslint-disable @typescript-eslint/no-require-imports */
const loadTls = (): typeof tlsModule => require('node:tls') as typeof tlsModule;
/* eslint-enable @typescript-eslint/no-require-imports */

export interface TlsPolicy {
  host: string;
  port: number;
  /** SHA-256 fingerprint of the server certificate (hex, colons optional) */
  tlsFingerprint256?: string | undefined;
  tlsAllowSelfSigned?: boolean | undefined;
}

function normFingerprint(fp: string): string {
  return fp.replace(/[^0-9a-f]/gi, '').toUpperCase();
}

/**
 * Opens a TLS connection; once the handshake is done, `onVerified` gets null, or what is wrong
 * with the certificate under the policy (the caller then closes the socket).
 */
export function connectTls(o: TlsPolicy, onVerified: (problem: string | null) => void): tlsModule.TLSSocket {
  const pinned = o.tlsFingerprint256 ? normFingerprint(o.tlsFingerprint256) : null;
  const lenient = pinned !== null || o.tlsAllowSelfSigned === true;
  const t = loadTls().connect({
    host: o.host,
    port: o.port,
    servername: net.isIP(o.host) ? undefined : o.host,
    rejectUnauthorized: !lenient,
  });
  t.once('secureConnect', () => {
    if (pinned !== null) {
      if (normFingerprint(t.getPeerCertificate().fingerprint256 ?? '') !== pinned) { onVerified('server certificate does not match the pinned SHA-256 fingerprint'); return; }
    } else if (o.tlsAllowSelfSigned && !t.authorized) {
      const code = String(t.authorizationError ?? '');
      if (!/SELF_SIGNED/.test(code)) { onVerified(`server certificate rejected: ${code}`); return; }
    }
    onVerified(null);
  });
  return t;
}

/** A socket error while connecting to `where` (host:port, perhaps with what it is for). */
export function connectError(err: NodeJS.ErrnoException, where: string): CameraError {
  const reason = socketErrorReason(err.code, err.message);
  return new CameraError(reason, reason === 'tls error'
    ? `TLS handshake with ${where} failed: ${err.code ?? err.message}`
    : `cannot connect to ${where}: ${err.code ?? err.message}`);
}
