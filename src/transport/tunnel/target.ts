/**
 * Where the RTSP-over-HTTP tunnel of an rtsp:// URL goes. The tunnel is HTTP, so a URL that
 * names no port means HTTP's port: 80, or 443 for rtsps:// (the tunnel over TLS), not RTSP's
 * 554/322 that parseRtspUrl fills in. A port the URL names is used as it is (GStreamer's
 * server, for one, serves the tunnel on its RTSP port). The path and query are the target of
 * the GET and the POST.
 */
import type { RtspUrl } from '../../rtsp/url';

export interface TunnelTarget {
  host: string;
  port: number;
  secure: boolean;
  path: string;
}

/** Whether the cleaned URL's authority carries a port (`host:1234`, `[v6]:1234`). */
function namesPort(clean: string): boolean {
  const authority = clean.replace(/^[a-z]+:\/\//i, '').split(/[/?#]/)[0] ?? '';
  return /:\d+$/.test(authority) && !authority.endsWith(']');
}

export function httpTunnelTarget(u: RtspUrl): TunnelTarget {
  const port = namesPort(u.clean) ? u.port : u.secure ? 443 : 80;
  return { host: u.host, port, secure: u.secure, path: u.path };
}
