/**
 * http:// and https:// camera URLs (RFC 9110 §4.2), parsed by the same rules as rtsp:// ones
 * (rtsp/url.ts: raw `@`, `:`, `/` in pasted passwords, lenient percent-decoding, no control
 * characters), and the redirect rule the camera layer applies to them: the same as for RTSP
 * (same host only, so that credentials never travel elsewhere; never from https down to http;
 * at most three hops).
 */
import { parseRtspUrl } from '../rtsp/url';

export interface HttpUrl {
  secure: boolean;
  /** host name or IP; IPv6 without brackets */
  host: string;
  /** 80 for http, 443 for https when none given */
  port: number;
  /** path and query as sent on the request line ("/" at least) */
  path: string;
  /** percent-decoded userinfo, or null */
  username: string | null;
  password: string | null;
  /** scheme://host[:port]/path without credentials; the port appears when the input named it */
  clean: string;
  /** value of the Host header (RFC 9110 §7.2): host, bracketed when IPv6, with a port that is not the default */
  hostHeader: string;
}

const SCHEME = /^(https?):\/\//i;

/** Whether `url` is an http:// or https:// URL (of any validity). */
export function isHttpUrl(url: unknown): boolean {
  return typeof url === 'string' && SCHEME.test(url.trim());
}

/** Parses http:// and https:// URLs; null for anything else. Never throws. */
export function parseHttpUrl(url: string): HttpUrl | null {
  if (typeof url !== 'string') return null;
  const text = url.trim();
  const m = SCHEME.exec(text);
  if (!m) return null;
  const secure = m[1]!.toLowerCase() === 'https';
  // rtsp/url.ts has the one parser of authority and path; only the scheme and default port differ
  const r = parseRtspUrl(`${secure ? 'rtsps' : 'rtsp'}://${text.slice(m[0].length)}`);
  if (!r) return null;
  const hostForUrl = r.host.includes(':') ? `[${r.host}]` : r.host;
  // parseRtspUrl writes the port into `clean` exactly when the input named one
  const explicit = r.clean.slice(r.clean.indexOf('://') + 3).startsWith(`${hostForUrl}:`);
  const port = explicit ? r.port : secure ? 443 : 80;
  const defaultPort = secure ? 443 : 80;
  const scheme = secure ? 'https' : 'http';
  return {
    secure, host: r.host, port, path: r.path, username: r.username, password: r.password,
    clean: `${scheme}://${hostForUrl}${explicit ? `:${port}` : ''}${r.path}`,
    hostHeader: port === defaultPort ? hostForUrl : `${hostForUrl}:${port}`,
  };
}

export const MAX_REDIRECTS = 3;

/**
 * Where a 3xx with `location` leads from `current` after `hops` redirects, or why it is
 * refused. Relative references resolve against the current URL (RFC 9110 §10.2.2, RFC 3986
 * §5); credentials in the Location are dropped.
 */
export function redirectTarget(current: HttpUrl, location: string | undefined, hops: number): { url: HttpUrl } | { refused: string } {
  if (hops >= MAX_REDIRECTS) return { refused: `more than ${MAX_REDIRECTS} redirects` };
  const loc = (location ?? '').trim();
  if (loc === '') return { refused: 'a redirect without a Location header' };
  let absolute: string;
  try {
    absolute = new URL(loc, current.clean).href;
  } catch {
    return { refused: 'a redirect to an invalid location' };
  }
  const t = parseHttpUrl(absolute);
  if (!t) return { refused: 'a redirect to a location that is not http(s)' };
  if (t.host.toLowerCase() !== current.host.toLowerCase()) return { refused: `a redirect to another host (${t.host}) refused` };
  if (current.secure && !t.secure) return { refused: 'a redirect from https to http refused' };
  return { url: { ...t, username: null, password: null } };
}
