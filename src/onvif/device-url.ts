/**
 * Device-service URLs as users type them and URIs as devices return them. A bare host[:port]
 * means the well-known device service path (ONVIF Core §5.1.1: /onvif/device_service);
 * credentials in a URL (RFC 3986 §3.2.1 userinfo, percent-encoded) are taken out of it, the
 * same way as for camera URLs (rtsp/url.ts's rule).
 */
import { decodeUserinfo, splitUserinfo } from '../rtsp/url';

export const DEVICE_SERVICE_PATH = '/onvif/device_service';

export interface DeviceUrl {
  /** http(s)://host[:port]/path, without credentials */
  url: string;
  username?: string | undefined;
  password?: string | undefined;
}

/**
 * `http://host[:port]/path`, `https://…`, or `host[:port]` (→ http://host[:port]/onvif/device_service).
 * Null when it is none of those.
 */
export function parseDeviceUrl(input: string): DeviceUrl | null {
  if (typeof input !== 'string') return null;
  const text = input.trim();
  // eslint-disable-next-line no-control-regex
  if (!text || text.length > 2048 || /[\s\x00-\x1f\x7f]/.test(text)) return null;
  const m = /^(https?):\/\/(.*)$/is.exec(text);
  const scheme = m ? m[1]!.toLowerCase() : 'http';
  const afterScheme = m ? m[2]! : text;
  const { userinfo, rest } = splitUserinfo(afterScheme);
  const slash = rest.search(/[/?#]/);
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const pathPart = slash < 0 ? '' : rest.slice(slash);
  if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(authority)) return null;
  const port = /:(\d{1,5})$/.exec(authority)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return null;
  const pathOut = pathPart === '' || pathPart === '/' ? DEVICE_SERVICE_PATH : pathPart;
  const out: DeviceUrl = { url: `${scheme}://${authority}${pathOut}` };
  if (userinfo !== null) {
    const { username, password } = decodeUserinfo(userinfo);
    if (username !== '') out.username = username;
    if (password !== null) out.password = password;
  }
  return out;
}

/** A URI with any userinfo removed (some devices put the account into the stream URI). */
export function withoutCredentials(uri: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(uri);
  if (!m) return uri;
  const { userinfo, rest } = splitUserinfo(m[2]!);
  return userinfo === null ? uri : m[1]! + rest;
}

/** host:port of an http(s) URL, for messages and for telling devices apart. */
export function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return u.host;
  } catch {
    return '';
  }
}
