/**
 * The demo camera's presentation: the SDP of its DESCRIBE answer (RFC 4566), laid out like
 * GStreamer's rtsp-server (session-level a=control:* and a=range, one m= line per track with
 * a relative a=control:stream=N resolved against Content-Base), and how request URIs map to
 * the presentation and its tracks.
 */

/** A host as it goes in a URL (IPv6 in brackets). */
export function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * 'aggregate' for the presentation URL `path` (with or without trailing slash), a track
 * number for `<path>/stream=N` (1 only with audio), null for anything else (or an unparsable URI).
 */
export function resolveTarget(uri: string, host: string, path: string, hasAudio: boolean): 'aggregate' | number | null {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(uri, `rtsp://${hostForUrl(host)}/`).pathname);
  } catch {
    return null;
  }
  const p = pathname.replace(/\/+$/, '');
  if (p === path) return 'aggregate';
  const m = /^(.*)\/stream=(\d{1,3})$/.exec(p);
  if (m && m[1] === path) {
    const n = Number(m[2]);
    if (n === 0 || (n === 1 && hasAudio)) return n;
  }
  return null;
}

/** Content-Base for a request: the presentation on the host the client asked, else `ownUrl`. */
export function contentBase(requestUri: string, path: string, ownUrl: string): string {
  try {
    const u = new URL(requestUri);
    if (u.protocol === 'rtsp:' || u.protocol === 'rtsps:') return `${u.protocol}//${u.host}${path}/`;
  } catch { /* relative request URI: fall back to our own address */ }
  return `${ownUrl}/`;
}

export interface DemoSdpOptions {
  /** address written in o= */
  host: string;
  sessionId: string;
  fps: number;
  videoSsrc: number;
  audioSsrc?: number | undefined;
  cname: string;
  /** write a=x-dimensions (GStreamer's way to signal a size the RTP header cannot carry) */
  xDimensions?: { width: number; height: number } | undefined;
}

export function buildDemoSdp(o: DemoSdpOptions): string {
  const ip = o.host.includes(':') ? `IP6 ${o.host}` : `IP4 ${o.host}`;
  const lines = [
    'v=0',
    `o=- ${o.sessionId} 1 IN ${ip}`,
    's=Session streamed by the rtsp-mjpeg demo camera',
    'i=demo',
    't=0 0',
    'a=tool:node-red-contrib-rtsp-mjpeg demo camera',
    'a=type:broadcast',
    'a=control:*',
    'a=range:npt=now-',
    'm=video 0 RTP/AVP 26',
    'c=IN IP4 0.0.0.0',
    'a=rtpmap:26 JPEG/90000',
    `a=framerate:${o.fps.toFixed(6)}`,
  ];
  if (o.xDimensions) lines.push(`a=x-dimensions:${o.xDimensions.width},${o.xDimensions.height}`);
  lines.push('a=control:stream=0', 'a=ts-refclk:local', 'a=mediaclk:sender', `a=ssrc:${o.videoSsrc >>> 0} cname:${o.cname}`);
  if (o.audioSsrc !== undefined) {
    lines.push(
      'm=audio 0 RTP/AVP 0',
      'c=IN IP4 0.0.0.0',
      'b=AS:64',
      'a=rtpmap:0 PCMU/8000',
      'a=control:stream=1',
      'a=ts-refclk:local',
      'a=mediaclk:sender',
      `a=ssrc:${o.audioSsrc >>> 0} cname:${o.cname}`,
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
