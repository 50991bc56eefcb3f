/**
 * WS-Security UsernameToken with a password digest (OASIS Web Services Security UsernameToken
 * Profile 1.0 §3.1): Password_Digest = Base64(SHA-1(nonce + created + password)), where nonce
 * is the raw bytes sent Base64-encoded in <Nonce> and created the <wsu:Created> text. ONVIF
 * Core §5.9.5 requires both nonce and created.
 *
 * Devices check Created against their own clock, so it is written in the device's time: our
 * clock plus the offset measured with GetSystemDateAndTime (ONVIF Core §8.3.6, a PRE_AUTH
 * call). A camera whose clock is an hour off still accepts the token.
 *
 * Pure functions: the caller passes the time and the nonce. The verifier serves the demo
 * camera and the device emulations in tests.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { WSSE, WSSE_BASE64, WSSE_PASSWORD_DIGEST, WSU } from './namespaces';
import { child, escapeXml, type XmlElement } from './xml';

export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')])).digest('base64');
}

/** xsd:dateTime in UTC without fractions ("2024-05-01T12:00:00Z"), the form every device parses. */
export function formatCreated(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * The <wsse:Security> header block. `deviceNowMs` is the device's clock (ours + clock offset);
 * `nonce` 16 random bytes per message.
 */
export function usernameTokenHeader(username: string, password: string, deviceNowMs: number, nonce: Buffer): string {
  const created = formatCreated(deviceNowMs);
  return `<wsse:Security xmlns:wsse="${WSSE}" xmlns:wsu="${WSU}"><wsse:UsernameToken>` +
    `<wsse:Username>${escapeXml(username)}</wsse:Username>` +
    `<wsse:Password Type="${WSSE_PASSWORD_DIGEST}">${passwordDigest(nonce, created, password)}</wsse:Password>` +
    `<wsse:Nonce EncodingType="${WSSE_BASE64}">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`;
}

export type TokenCheck = 'ok' | 'missing' | 'wrong user or password' | 'stale';

export interface TokenExpectation {
  username: string;
  password: string;
  /** the device's clock now */
  deviceNowMs: number;
  /** accepted distance between Created and the device's clock (default 5 min, WS-Security's usual window) */
  maxSkewMs?: number;
}

/**
 * Server side: checks the UsernameToken in a SOAP Header (the <Header> element). A plain-text
 * password (PasswordText) is accepted too, as many devices do.
 */
export function verifyUsernameToken(header: XmlElement | undefined, expect: TokenExpectation): TokenCheck {
  const token = child(child(header, WSSE, 'Security'), WSSE, 'UsernameToken');
  if (!token) return 'missing';
  const user = child(token, WSSE, 'Username')?.text ?? '';
  const pw = child(token, WSSE, 'Password');
  const nonceText = child(token, WSSE, 'Nonce')?.text;
  const created = child(token, WSU, 'Created')?.text;
  if (!pw) return 'wrong user or password';
  const type = pw.attrs['Type'] ?? '';
  let good: boolean;
  if (type === WSSE_PASSWORD_DIGEST || type === '') {
    if (nonceText === undefined || created === undefined) return 'wrong user or password';
    const want = Buffer.from(passwordDigest(Buffer.from(nonceText, 'base64'), created, expect.password));
    const got = Buffer.from(pw.text);
    good = want.length === got.length && timingSafeEqual(want, got);
  } else {
    good = pw.text === expect.password;
  }
  if (!good || user !== expect.username) return 'wrong user or password';
  if (created !== undefined) {
    const t = Date.parse(created);
    if (!Number.isFinite(t) || Math.abs(t - expect.deviceNowMs) > (expect.maxSkewMs ?? 300000)) return 'stale';
  }
  return 'ok';
}
