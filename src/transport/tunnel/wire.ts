/**
 * Wire format of RTSP tunnelled over HTTP, as QuickTime introduced it (Apple, "Tunnelling RTSP
 * and RTP through HTTP", QuickTime Ice Floe dispatch 28; the same text is in the QuickTime
 * Streaming Server documentation, "Tunneling RTSP and RTP Over HTTP"):
 *
 * - the client sends a GET carrying a random `x-sessioncookie` and
 *   `Accept: application/x-rtsp-tunnelled`; the server answers 200 with that content type and
 *   then sends, as the GET's never-ending body, the raw RTSP responses and `$` interleaved
 *   frames it would have written on a plain RTSP connection;
 * - the client then sends a POST with the same cookie, `Content-Type:
 *   application/x-rtsp-tunnelled` and an arbitrary `Content-Length` (32767; servers and proxies
 *   ignore it), and writes its RTSP requests base64-encoded as the POST body; the server never
 *   answers the POST.
 *
 * Pure functions only: the tunnel's connections are leg.ts, the open tunnel socket.ts.
 */
import { randomBytes } from 'node:crypto';

export const TUNNEL_CONTENT_TYPE = 'application/x-rtsp-tunnelled';

/** The POST's Content-Length: the value QuickTime, GStreamer and FFmpeg send; it is not a limit. */
export const TUNNEL_POST_CONTENT_LENGTH = 32767;

const COOKIE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A session cookie: 22 alphanumeric characters (~131 random bits), the length of QuickTime's.
 * Only letters and digits, since servers store it as a plain token; GStreamer's server keeps
 * just the first 23 characters, so a longer cookie would gain nothing there.
 */
export function newSessionCookie(random: (n: number) => Buffer = randomBytes): string {
  let out = '';
  while (out.length < 22) {
    for (const b of random(32)) {
      // 248 = 4 × 62: rejecting the top bytes keeps every character equally likely
      if (b < 248 && out.length < 22) out += COOKIE_ALPHABET[b % 62]!;
    }
  }
  return out;
}

export interface TunnelRequestOptions {
  /** request-target: the RTSP URL's path and query, e.g. `/cam?x=1` */
  path: string;
  /** the Host header: `host:port` (IPv6 literals in brackets) */
  host: string;
  cookie: string;
  userAgent: string;
  /** an Authorization value (Basic/Digest), computed for the method and this path */
  authorization?: string | null | undefined;
}

/** CR, LF and NUL in a value would split the request: replaced by spaces. */
function clean(s: string): string {
  return s.replace(/[\r\n\0]/g, ' ');
}

/** `/path?query` safe for a request line: whitespace percent-encoded, '/' when empty. */
export function requestTarget(path: string): string {
  const p = path.replace(/\s/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return p.startsWith('/') ? p : `/${p}`;
}

/** `host:port` for the Host header (RFC 7230 §5.4), brackets around an IPv6 literal. */
export function hostHeader(host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${h}:${port}`;
}

function build(lines: string[]): Buffer {
  return Buffer.from(`${lines.map(clean).join('\r\n')}\r\n\r\n`, 'latin1');
}

/**
 * HTTP/1.0 so that neither the server nor a proxy may answer with a chunked body (RFC 7230
 * §3.3.1: a server must not send Transfer-Encoding to an HTTP/1.0 request), which would put
 * chunk sizes between the RTSP bytes; the Host header is still sent for name-based proxies.
 */
export function tunnelGetRequest(o: TunnelRequestOptions): Buffer {
  const lines = [`GET ${requestTarget(o.path)} HTTP/1.0`, `Host: ${o.host}`, `User-Agent: ${o.userAgent}`,
    `x-sessioncookie: ${o.cookie}`, `Accept: ${TUNNEL_CONTENT_TYPE}`, 'Pragma: no-cache', 'Cache-Control: no-cache'];
  if (o.authorization) lines.push(`Authorization: ${o.authorization}`);
  return build(lines);
}

export function tunnelPostRequest(o: TunnelRequestOptions): Buffer {
  const lines = [`POST ${requestTarget(o.path)} HTTP/1.0`, `Host: ${o.host}`, `User-Agent: ${o.userAgent}`,
    `x-sessioncookie: ${o.cookie}`, `Content-Type: ${TUNNEL_CONTENT_TYPE}`, 'Pragma: no-cache', 'Cache-Control: no-cache',
    `Content-Length: ${TUNNEL_POST_CONTENT_LENGTH}`, 'Expires: Sun, 9 Jan 1972 00:00:00 GMT'];
  if (o.authorization) lines.push(`Authorization: ${o.authorization}`);
  return build(lines);
}

/**
 * One write on the POST: `bytes` as base64 with its padding, so the text is a whole number of
 * 4-character units. A server that decodes each read on its own (rather than as one stream)
 * then never sees a unit cut in two, as long as each write arrives in one read; one that
 * decodes the stream sees padding between units, which decoders in the wild accept (the
 * dispatch encodes each request on its own, and GStreamer's client pads each message alike).
 */
export function encodeTunnelBytes(bytes: Uint8Array): Buffer {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Buffer.from(b.toString('base64'), 'latin1');
}

/** Whether a Content-Type value names the tunnel (either spelling: Apple's text writes both). */
export function isTunnelContentType(value: string): boolean {
  const t = value.split(';')[0]!.trim().toLowerCase();
  return t === TUNNEL_CONTENT_TYPE || t === 'application/x-rtsp-tunneled';
}
