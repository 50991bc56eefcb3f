/**
 * The demo camera's authentication (RFC 2326 §10 via RFC 7617 Basic or RFC 7616 Digest):
 * every method but OPTIONS needs credentials when it is on, as in GStreamer's rtsp-server.
 * Digest nonces can be rotated (the keep-alive 401 fault) so that the old one stops working.
 */
import { randomBytes } from 'node:crypto';
import { digestChallenge, verifyAuthorization } from '../rtsp/auth';

const REALM = 'rtsp-mjpeg demo camera';

export class DemoAuth {
  private nonce = randomBytes(16).toString('hex');

  constructor(
    readonly mode: 'none' | 'basic' | 'digest',
    private readonly username: string,
    private readonly password: string,
  ) {}

  /** Whether a request with this Authorization value (or none) may proceed. */
  authorized(method: string, value: string | undefined): boolean {
    if (this.mode === 'none') return true;
    return verifyAuthorization(value, {
      method, username: this.username, password: this.password, realm: REALM,
      ...(this.mode === 'digest' ? { nonce: this.nonce } : {}),
    }) && (this.mode === 'digest' ? /^\s*digest\b/i.test(value ?? '') : /^\s*basic\b/i.test(value ?? ''));
  }

  /** A new nonce: the old one is no longer accepted. */
  rotateNonce(): void {
    this.nonce = randomBytes(16).toString('hex');
  }

  /** The 401 reply's WWW-Authenticate value. */
  challenge(): string {
    return this.mode === 'digest' ? digestChallenge(REALM, this.nonce, { qop: true }) : `Basic realm="${REALM}"`;
  }
}
