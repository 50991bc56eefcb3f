/**
 * SDP for the demo camera's DESCRIBE answer (RFC 4566), laid out like GStreamer's
 * rtsp-server: session-level a=control:* and a=range, one m= line per
 * track with a relative a=control:stream=N resolved against Content-Base.
 */

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
