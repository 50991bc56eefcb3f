/**
 * Emulation of a camera whose RTSP server is live555's RTSPServer (the library in many
 * cameras and NVRs, e.g. older Reolink models), from live555's public behaviour:
 *
 * - the dialogue openRTSP printed against a Reolink camera in scottlamb/retina issue 17
 *   ("support live555 servers older than 2017.06.04"): every response starts `CSeq`, then
 *   `Date: Wed, Aug 25 2021 02:21:10 GMT` style dates; DESCRIBE answers `Content-Base:
 *   <url>/`, `Content-Type: application/sdp`, and an SDP with `a=tool:LIVE555 Streaming
 *   Media v2013.04.08`, `a=type:broadcast`, `a=control:*`, `a=range:npt=0-`,
 *   `a=x-qt-text-nam`, `a=x-qt-text-inf`, per-media `c=IN IP4 0.0.0.0`, `b=AS:` and
 *   `a=control:trackID=1`;
 * - live555's RTSPServer.cpp SETUP replies (its format strings are quoted in public forks):
 *   `Transport: RTP/AVP;unicast;destination=…;source=…;client_port=…;server_port=…` or
 *   `RTP/AVP/TCP;unicast;destination=…;source=…;interleaved=…`, then `Session: %08X` with
 *   `;timeout=<reclamation seconds>`; PLAY answers `Range: npt=0.000-`, the Session and
 *   `RTP-Info: url=<track URL>;seq=…;rtptime=…`;
 * - the reclamation rule: a session with no RTSP request and no RTCP from its client for
 *   `timeout` seconds (65 by default, BreeeZe/rpos issue 90) is deleted; live555 notes
 *   liveness on every request that names the session and on every RTCP receiver report.
 * - OPTIONS `Public: OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE, GET_PARAMETER,
 *   SET_PARAMETER`; GET_PARAMETER answered 200 (it is live555's keep-alive).
 *
 * `timeoutSec` defaults to live555's 65; tests pass a few seconds so a missing keep-alive
 * shows within one test.
 */
import { capturedFrames } from './captured-frames';
import { rtspDate, startDevice, type DeviceProfile, type EmulatedDevice } from './device-engine';

export interface Live555Options {
  timeoutSec?: number;
  /** RTCP renews the session (live555 does; off to test request keep-alives alone) */
  rtcpRenews?: boolean;
  getParameter?: DeviceProfile['getParameter'];
  /** which requests renew: live555 notes liveness on any request naming the session */
  renews?: DeviceProfile['renews'];
}

export function live555Profile(o: Live555Options = {}): DeviceProfile {
  return {
    name: 'live555 camera',
    path: '/h264Preview_01_main',
    transports: ['tcp', 'udp'],
    commonHeaders: () => ({ Date: rtspDate() }),
    publicMethods: 'OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE, GET_PARAMETER, SET_PARAMETER',
    sdp: () => [
      'v=0', `o=- ${Date.now()}000 1 IN IP4 127.0.0.1`, 's=Session streamed by "preview"', 'i=h264Preview_01_main', 't=0 0',
      'a=tool:LIVE555 Streaming Media v2013.04.08', 'a=type:broadcast', 'a=control:*', 'a=range:npt=0-',
      'a=x-qt-text-nam:Session streamed by "preview"', 'a=x-qt-text-inf:h264Preview_01_main',
      'm=video 0 RTP/AVP 26', 'c=IN IP4 0.0.0.0', 'b=AS:2000', 'a=control:trackID=1', '',
    ].join('\r\n'),
    contentBase: (url) => `${url.replace(/\/+$/, '')}/`,
    newSessionId: () => Math.floor(Math.random() * 0xffffffff).toString(16).toUpperCase().padStart(8, '0'),
    timeoutSec: o.timeoutSec ?? 65,
    renews: o.renews ?? 'any',
    rtcpRenews: o.rtcpRenews ?? true,
    getParameter: o.getParameter ?? 'ok',
    teardown: 'ok',
    singleClient: false,
    setupTransport: (c) => (c.transport!.kind === 'tcp'
      ? `RTP/AVP/TCP;unicast;destination=127.0.0.1;source=127.0.0.1;interleaved=${c.transport!.interleaved![0]}-${c.transport!.interleaved![1]}`
      : `RTP/AVP;unicast;destination=127.0.0.1;source=127.0.0.1;client_port=${c.transport!.clientPorts![0]}-${c.transport!.clientPorts![1]};server_port=${c.transport!.serverPorts![0]}-${c.transport!.serverPorts![1]}`),
    playHeaders: (c) => ({ Range: 'npt=0.000-', 'RTP-Info': `url=${c.url}/trackID=1;seq=${c.rtpInfo.seq};rtptime=${c.rtpInfo.rtptime}` }),
    unknownMethod: (req, conn) => conn.reply(req, 405, { Date: rtspDate(), Allow: 'OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE, GET_PARAMETER, SET_PARAMETER' }),
    frames: capturedFrames(),
    ssrc: 0x5a3c9e01,
  };
}

export function startLive555Camera(o: Live555Options = {}): Promise<EmulatedDevice> {
  return startDevice(live555Profile(o));
}
