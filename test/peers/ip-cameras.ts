/**
 * Emulations of IP cameras from dialogues and behaviour quoted in public bug reports, on the
 * device engine (device-engine.ts). Only what a report shows is reproduced; where a detail is
 * not shown there, the emulation keeps the plainest RFC 2326 form and says so.
 *
 * Hikvision (ISAPI firmware):
 * - DESCRIBE answer and SDP as quoted in OvenMediaLabs/OvenMediaEngine issue 1495
 *   (`Content-Base: rtsp://…/ISAPI/Streaming/channels/1/`, `a=x-dimensions:1920,1080`) and in
 *   mpromonet/webrtc-streamer issue 138 (`s=Media Presentation`, `e=NONE`, `b=AS:5050`,
 *   absolute session and track controls `…/trackID=1`, `a=recvonly`, `a=Media_header:MEDIAINFO=…`);
 * - Motion-JPEG with Q < 128 and no in-band tables (RFC 2435 Appendix A), as reported in
 *   AxisCommunications/media-stream-library-js issue 182 ("with Hikvision cameras MJPEG over
 *   RTSP not working", fixed by PR 193 "added support for Q < 128");
 * - `Session: <digits>;timeout=60`; the SETUP Transport adds `ssrc=` and `mode="play"` (the
 *   exact reply is not quoted in those reports: this is the plain RFC 2326 §12.39 form).
 *
 * Dahua:
 * - the URL `/cam/realmonitor?channel=1&subtype=N` (CamioCam/rtsp issue 79), so the request
 *   URI, Content-Base and track controls carry a query string;
 * - `Session: 1387212806996;timeout=60`, and the camera closes the connection a minute into
 *   the stream unless the session is renewed by a request (AxisCommunications/media-stream-library-js
 *   issue 100: OPTIONS renewed it; RTCP did not prevent the drop);
 * - `a=control:trackID=0` (plain relative control; the reports do not quote Dahua's SDP).
 *
 * Axis:
 * - the session rule of the VAPIX video streaming guide as quoted in
 *   AxisCommunications/media-stream-library-js issue 100 and PR 101: "the session will close
 *   after the timeout time unless explicitly kept alive … by sending RTSP requests to the Axis
 *   product containing the session identifier (for example OPTIONS) within the timeout time or
 *   by using RTCP messages";
 * - URL `/axis-media/media.amp?videocodec=jpeg` (VAPIX); controls `stream=0` relative to it
 *   (the exact SDP is not quoted in the reports).
 */
import { capturedFrames, withoutInBandTables } from './captured-frames';
import { rtspDate, startDevice, type DeviceProfile, type EmulatedDevice, type ReplyContext } from './device-engine';

export interface CameraOptions {
  /** announced and enforced session timeout, seconds (default 60, as the reports show) */
  timeoutSec?: number;
}

const digits = (n: number): string => Array.from({ length: n }, (_, i) => (i === 0 ? 1 + Math.floor(Math.random() * 9) : Math.floor(Math.random() * 10))).join('');

function udpTransport(c: ReplyContext, extra = ''): string {
  const t = c.transport!;
  return `RTP/AVP;unicast;client_port=${t.clientPorts![0]}-${t.clientPorts![1]};server_port=${t.serverPorts![0]}-${t.serverPorts![1]}${extra}`;
}

export function hikvisionProfile(o: CameraOptions = {}): DeviceProfile {
  const ssrc = 0x7bd6e7ef;
  return {
    name: 'Hikvision',
    path: '/ISAPI/Streaming/channels/102',
    transports: ['tcp', 'udp'],
    commonHeaders: () => ({ Date: rtspDate() }),
    publicMethods: 'OPTIONS, DESCRIBE, PLAY, PAUSE, SETUP, TEARDOWN, SET_PARAMETER, GET_PARAMETER',
    sdp: (url) => {
      const base = `${url.replace(/\/+$/, '')}/`;
      return [
        'v=0', `o=- ${digits(16)} ${digits(16)} IN IP4 127.0.0.1`, 's=Media Presentation', 'e=NONE', 'b=AS:5050', 't=0 0',
        `a=control:${base}`, 'm=video 0 RTP/AVP 26', 'c=IN IP4 0.0.0.0', 'b=AS:5000', 'a=recvonly', 'a=x-dimensions:320,240',
        `a=control:${base}trackID=1`, 'a=Media_header:MEDIAINFO=494D4B48010200000400000100000000000000000000000000000000000000000000000000000000;',
        'a=appversion:1.0', '',
      ].join('\r\n');
    },
    contentBase: (url) => `${url.replace(/\/+$/, '')}/`,
    newSessionId: () => digits(9),
    timeoutSec: o.timeoutSec ?? 60,
    renews: 'any',
    rtcpRenews: true,
    getParameter: 'ok',
    teardown: 'ok',
    singleClient: false,
    setupTransport: (c) => (c.transport!.kind === 'tcp'
      ? `RTP/AVP/TCP;unicast;interleaved=${c.transport!.interleaved![0]}-${c.transport!.interleaved![1]};ssrc=${ssrc.toString(16)};mode="play"`
      : udpTransport(c, `;ssrc=${ssrc.toString(16)};mode="play"`)),
    playHeaders: (c, control) => ({ 'RTP-Info': `url=${control.replace(/\/+$/, '')}/trackID=1;seq=${c.rtpInfo.seq};rtptime=${c.rtpInfo.rtptime}` }),
    frames: withoutInBandTables(capturedFrames(), 50),
    ssrc,
  };
}

export function dahuaProfile(o: CameraOptions = {}): DeviceProfile {
  return {
    name: 'Dahua',
    path: '/cam/realmonitor',
    transports: ['tcp', 'udp'],
    publicMethods: 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER',
    sdp: () => ['v=0', `o=- ${digits(10)} ${digits(10)} IN IP4 127.0.0.1`, 's=Media Server', 'c=IN IP4 0.0.0.0', 't=0 0', 'a=control:*',
      'm=video 0 RTP/AVP 26', 'a=control:trackID=0', 'a=rtpmap:26 JPEG/90000', 'a=recvonly', ''].join('\r\n'),
    // the request URI with its query, then '/': controls are appended after the query
    contentBase: (url) => `${url.replace(/\/+$/, '')}/`,
    newSessionId: () => digits(13),
    timeoutSec: o.timeoutSec ?? 60,
    renews: 'any',
    rtcpRenews: false,
    getParameter: 'ok',
    teardown: 'ok',
    singleClient: false,
    setupTransport: (c) => (c.transport!.kind === 'tcp'
      ? `RTP/AVP/TCP;unicast;interleaved=${c.transport!.interleaved![0]}-${c.transport!.interleaved![1]}`
      : udpTransport(c)),
    playHeaders: (c, control) => ({ Range: 'npt=0.000-', 'RTP-Info': `url=${control}trackID=0;seq=${c.rtpInfo.seq};rtptime=${c.rtpInfo.rtptime}` }),
    frames: capturedFrames(),
    ssrc: 0x1a2b3c4d,
  };
}

export function axisProfile(o: CameraOptions = {}): DeviceProfile {
  return {
    name: 'Axis',
    path: '/axis-media/media.amp',
    transports: ['tcp', 'udp'],
    commonHeaders: () => ({ Date: rtspDate() }),
    publicMethods: 'OPTIONS, DESCRIBE, GET_PARAMETER, PAUSE, PLAY, SETUP, SET_PARAMETER, TEARDOWN',
    sdp: () => ['v=0', `o=- ${digits(18)} 1 IN IP4 127.0.0.1`, 's=Session streamed with GStreamer', 'i=rtsp-server', 't=0 0', 'a=tool:GStreamer',
      'a=type:broadcast', 'a=range:npt=now-', 'a=control:*', 'm=video 0 RTP/AVP 26', 'c=IN IP4 0.0.0.0', 'b=AS:50000',
      'a=rtpmap:26 JPEG/90000', 'a=framerate:25.000000', 'a=control:stream=0', ''].join('\r\n'),
    contentBase: (url) => `${url.replace(/\/+$/, '')}/`,
    newSessionId: () => Math.random().toString(36).slice(2, 12),
    timeoutSec: o.timeoutSec ?? 60,
    renews: 'any',
    rtcpRenews: true,
    getParameter: 'ok',
    teardown: 'ok',
    singleClient: false,
    setupTransport: (c) => (c.transport!.kind === 'tcp'
      ? `RTP/AVP/TCP;unicast;interleaved=${c.transport!.interleaved![0]}-${c.transport!.interleaved![1]};ssrc=0A1B2C3D;mode="PLAY"`
      : udpTransport(c, ';ssrc=0A1B2C3D;mode="PLAY"')),
    playHeaders: (c, control) => ({ Range: 'npt=now-', 'RTP-Info': `url=${control.replace(/\/+$/, '')}/stream=0;seq=${c.rtpInfo.seq};rtptime=${c.rtpInfo.rtptime}` }),
    frames: capturedFrames(),
    ssrc: 0x0a1b2c3d,
  };
}

export const startHikvision = (o: CameraOptions = {}): Promise<EmulatedDevice> => startDevice(hikvisionProfile(o));
export const startDahua = (o: CameraOptions = {}): Promise<EmulatedDevice> => startDevice(dahuaProfile(o));
export const startAxis = (o: CameraOptions = {}): Promise<EmulatedDevice> => startDevice(axisProfile(o));
