/**
 * RTSP URLs (RFC 2326 §3.2) and control-URL resolution (RFC 2326 §C.1.1).
 *
 * Parsing is deliberately more tolerant than WHATWG `URL`: users paste camera URLs whose
 * passwords hold raw `@`, `:`, `/`, `#` or `%`, so the userinfo ends at the LAST `@` that is
 * followed by a host[:port] (splitUserinfo, the one splitter the nodes use too) and malformed
 * percent escapes are kept literally.
 */

export interface RtspUrl {
  /** rtsps:// (RTSP over TLS) */
  secure: boolean;
  /** host name or IP; IPv6 without brackets */
  host: string;
  /** 554 for rtsp, 322 for rtsps when none given */
  port: number;
  /** path and query as sent on the request line ("/" at least) */
  path: string;
  /** percent-decoded userinfo, or null */
  username: string | null;
  password: string | null;
  /** scheme://host[:port]/path without credentials; the port appears when the input named it */
  clean: string;
}

const SCHEME = /^(rtsps?):\/\//i;
const REG_NAME = /^[A-Za-z0-9._~!$&'()*+,;=-]+$/;
const IPV6 = /^[0-9A-Fa-f:.]+(?:%25[A-Za-z0-9._~-]+|%[A-Za-z0-9._~-]+)?$/;

/** host[:port] as it may follow the userinfo: a reg-name or a bracketed IPv6 literal. */
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+(?:%(?:25)?[A-Za-z0-9._~-]+)?\]|[A-Za-z0-9._~!$&'()*+,;=-]+)(?::\d*)?$/;

/** Whether `text` up to its first `/`, `?` or `#` is shaped like host[:port]. */
function startsWithHost(text: string): boolean {
  const end = text.search(/[/?#]/);
  return HOST_PORT.test(end < 0 ? text : text.slice(0, end));
}

/**
 * Splits the part of a URL after `scheme://` into its userinfo (RFC 3986 §3.2.1, still
 * percent-encoded; null when there is none) and the rest (host, port, path). Passwords are
 * often pasted without percent-encoding and may hold `@`, `:`, `/`, `?` or `#`: unless the
 * text up to the first `/`, `?` or `#` is already a plain host[:port], the userinfo ends at
 * the LAST `@` that a host[:port] follows. (So a path holding `@host` after a userinfo reads
 * as a password holding `/`: raw passwords are the common case.)
 */
export function splitUserinfo(afterScheme: string): { userinfo: string | null; rest: string } {
  if (startsWithHost(afterScheme)) return { userinfo: null, rest: afterScheme };
  for (let at = afterScheme.lastIndexOf('@'); at >= 0; at = at > 0 ? afterScheme.lastIndexOf('@', at - 1) : -1) {
    if (startsWithHost(afterScheme.slice(at + 1))) return { userinfo: afterScheme.slice(0, at), rest: afterScheme.slice(at + 1) };
  }
  return { userinfo: null, rest: afterScheme };
}

/** User name and password of a (percent-encoded) userinfo; the user name ends at the first ':'. */
export function decodeUserinfo(userinfo: string): { username: string; password: string | null } {
  const colon = userinfo.indexOf(':');
  return {
    username: lenientDecode(colon < 0 ? userinfo : userinfo.slice(0, colon)),
    password: colon < 0 ? null : lenientDecode(userinfo.slice(colon + 1)),
  };
}

/** Percent-decode; malformed escapes stay as they are instead of failing. */
export function lenientDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try { return decodeURIComponent(run); } catch { return run; }
    });
  }
}

/** Encode characters that must not appear raw on a request line (space, non-ASCII). */
function encodePath(p: string): string {
  let out = '';
  for (const ch of p) {
    const c = ch.codePointAt(0)!;
    out += c === 0x20 || c > 0x7e ? encodeURIComponent(ch) : ch;
  }
  return out;
}

/** Parse rtsp:// and rtsps:// URLs; null for anything else. Never throws. */
export function parseRtspUrl(url: string): RtspUrl | null {
  if (typeof url !== 'string') return null;
  const text = url.trim();
  // Control characters would allow header injection on the request line.
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c < 0x20 || c === 0x7f) return null;
  }
  const m = SCHEME.exec(text);
  if (!m) return null;
  const scheme = m[1]!.toLowerCase();
  const secure = scheme === 'rtsps';
  const { userinfo, rest } = splitUserinfo(text.slice(m[0].length));
  const slash = rest.indexOf('/');
  let hostPort = slash < 0 ? rest : rest.slice(0, slash);
  let pathPart = slash < 0 ? '' : rest.slice(slash);
  // rtsp://host?query or rtsp://host#frag without a path
  const qm = hostPort.search(/[?#]/);
  if (qm >= 0) {
    pathPart = hostPort.slice(qm) + pathPart;
    hostPort = hostPort.slice(0, qm);
  }
  let host: string;
  let portText: string | null = null;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) return null;
    host = hostPort.slice(1, close);
    if (!IPV6.test(host) || !host.includes(':')) return null;
    const after = hostPort.slice(close + 1);
    if (after.length > 0) {
      if (!after.startsWith(':')) return null;
      portText = after.slice(1);
    }
  } else {
    const colon = hostPort.lastIndexOf(':');
    if (colon >= 0) {
      host = hostPort.slice(0, colon);
      portText = hostPort.slice(colon + 1);
    } else {
      host = hostPort;
    }
    if (!REG_NAME.test(host)) return null;
  }
  if (host.length === 0 || host.length > 253) return null;
  let port = secure ? 322 : 554;
  let explicitPort = false;
  if (portText !== null && portText.length > 0) {
    if (!/^\d{1,5}$/.test(portText)) return null;
    port = Number(portText);
    if (port < 1 || port > 65535) return null;
    explicitPort = true;
  }
  // A fragment is never sent (RFC 3986 §3.5).
  const hash = pathPart.indexOf('#');
  if (hash >= 0) pathPart = pathPart.slice(0, hash);
  if (pathPart === '' || pathPart.startsWith('?')) pathPart = `/${pathPart}`;
  const path = encodePath(pathPart);
  let username: string | null = null;
  let password: string | null = null;
  if (userinfo !== null) ({ username, password } = decodeUserinfo(userinfo));
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  const clean = `${scheme}://${hostForUrl}${explicitPort ? `:${port}` : ''}${path}`;
  return { secure, host, port, path, username, password, clean };
}

/** Split "scheme://authority" from "/path?query" of an absolute URL (no validation). */
function splitOrigin(url: string): { origin: string; path: string } {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/i.exec(url);
  if (!m) return { origin: '', path: url };
  return { origin: m[1]!, path: m[2]! };
}

export interface ResolveOptions {
  /**
   * Where a relative control goes when the base has a query:
   * 'append' (default) pastes it after the whole base, query included, with one '/' — what
   * FFmpeg and live555 do and what Dahua's `...?channel=1&subtype=0/trackID=0` needs;
   * 'path' inserts it into the path before the query, as GStreamer does.
   */
  query?: 'append' | 'path';
}

/**
 * Resolve an SDP `a=control` value against a base URL (RFC 2326 §C.1.1), the way cameras
 * expect rather than RFC 3986 style: '*' or empty → the base itself; absolute `scheme://` →
 * as is; `/path` → on the base's host; anything else → base + exactly one '/' + control
 * (RFC 3986 would drop the last base segment: `trackID=1` against `rtsp://h/stream` would
 * give `rtsp://h/trackID=1`, wrong for most cameras: they expect string append).
 */
export function resolveControl(control: string | undefined, base: string, options?: ResolveOptions): string {
  const ctl = (control ?? '').trim();
  if (ctl === '' || ctl === '*') return base;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(ctl)) return ctl;
  if (ctl.startsWith('/')) {
    const { origin } = splitOrigin(base);
    return origin ? origin + ctl : ctl;
  }
  if (options?.query === 'path') {
    const qi = base.indexOf('?');
    if (qi >= 0) {
      const head = base.slice(0, qi);
      return `${head}${head.endsWith('/') ? '' : '/'}${ctl}${base.slice(qi)}`;
    }
  }
  return `${base}${base.endsWith('/') ? '' : '/'}${ctl}`;
}

/**
 * An absolute control that names another host (a camera behind NAT announcing its private
 * address, mpromonet/webrtc-streamer#215) is rewritten to the connection's scheme, host and
 * port, keeping its path and query (gortsplib does the same). Credentials are dropped.
 * Relative or unparsable values are returned unchanged.
 */
export function keepConnectionHost(control: string, connectionUrl: string): string {
  const c = parseRtspUrl(control);
  const conn = parseRtspUrl(connectionUrl);
  if (!c || !conn) return control;
  if (c.host.toLowerCase() === conn.host.toLowerCase() && c.port === conn.port && c.secure === conn.secure && c.username === null) {
    return control;
  }
  const { origin } = splitOrigin(conn.clean);
  return origin + c.path;
}

/**
 * The base URL for resolving controls (RFC 2326 §C.1.1): Content-Base, else
 * Content-Location, else the request URL. Path-only (`/x`) and schemeless (`host/x`) header
 * values are repaired against the request URL. The session-level `a=control` is applied later
 * by the SDP parser.
 */
export function chooseBaseUrl(p: { contentBase?: string | undefined; contentLocation?: string | undefined; requestUrl: string }): string {
  for (const raw of [p.contentBase, p.contentLocation]) {
    const v = raw?.trim();
    if (!v) continue;
    if (/^rtsps?:\/\//i.test(v)) return v;
    if (v.startsWith('/')) return resolveControl(v, p.requestUrl);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) continue; // another scheme: not usable
    const scheme = /^(rtsps?):\/\//i.exec(p.requestUrl)?.[1]?.toLowerCase() ?? 'rtsp';
    const repaired = `${scheme}://${v}`;
    if (parseRtspUrl(repaired)) return repaired;
  }
  return p.requestUrl;
}
