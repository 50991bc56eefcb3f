/**
 * Emulation of the ESP32-CAM `Micro-RTSP` server (github.com/geeksville/Micro-RTSP, read at
 * commit 84e1616: src/CRtspSession.cpp, src/CStreamer.cpp, examples/ESP32-devcam.ino), as
 * its source answers, on the device engine (device-engine.ts). What the firmware does and
 * this file reproduces:
 *
 * - OPTIONS: `Public: DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE`, no other header.
 * - DESCRIBE of `/mjpeg/1` only (404 `Stream Not Found` otherwise): a Date header,
 *   `Content-Base: <request URL>/`, and an SDP with `m=video 0 RTP/AVP 26` and no a=rtpmap,
 *   no a=control (so SETUP and PLAY go to the Content-Base itself, RFC 2326 §C.1.1).
 * - A request URI that is not `rtsp://host[:port]/presentation/stream[/]` is not parsed and
 *   gets no answer at all.
 * - SETUP: TCP answers `RTP/AVP/TCP;unicast;interleaved=0-1` whatever channels were asked for;
 *   UDP answers `RTP/AVP;unicast;destination=127.0.0.1;source=127.0.0.1;client_port=…;
 *   server_port=…`. The Session id is a random 32-bit value with the top bit set, printed
 *   with `%i`: a negative decimal number. No `;timeout=`; sessions never expire.
 * - PLAY: `Range: npt=0.000-`, the Session, and `RTP-Info: url=rtsp://127.0.0.1:8554/mjpeg/1/track1`
 *   (hard-coded, with neither seq nor rtptime).
 * - Any other method (GET_PARAMETER, SET_PARAMETER…): `400 Bad Request` carrying the CSeq of
 *   the previous request, not of this one.
 * - TEARDOWN: no answer; the session object is deleted and the connection closed.
 * - One client at a time (the example sketch services the active client until it is gone
 *   before it accepts the next), so a client that vanishes without TEARDOWN or closing its
 *   connection blocks the camera.
 * - Media: no RTCP at all, SSRC 0x13f97e67, RTP/JPEG type 0, width/8 and height/8 from the
 *   streamer's configuration, 1100-byte fragments; the first fragment of a frame carries
 *   Q=128 and a quantization table header with the two 64-byte tables copied from the JPEG's
 *   first two DQT segments, every later fragment carries Q=0x5e (94) and no tables (RFC 2435
 *   §3.1.4 asks for the same Q in every packet of a frame). The payload is the scan data from
 *   after the SOS header up to (not including) EOI.
 *
 * The camera's JPEGs here are 4:2:2 frames laid out like the OV2640's (DQT, DQT, SOF0, DHT×4,
 * SOS): GStreamer's rebuild of the gst-type0-422 vector in test/fixtures/vectors/reference/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeConn, FakeRequest } from '../support/fake-rtsp-server';
import { rtspDate, startDevice, type DeviceProfile, type DeviceTransport, type EmulatedDevice } from './device-engine';

const FRAGMENT = 1100;
const SSRC = 0x13f97e67;

/** The firmware's decodeJPEGfile(): both quant tables and the scan data, or null. */
function splitJpeg(jpeg: Buffer): { q0: Buffer; q1: Buffer; scan: Buffer } | null {
  const dqts: Buffer[] = [];
  let i = 2; // after SOI
  while (i + 4 <= jpeg.length && jpeg[i] === 0xff) {
    const marker = jpeg[i + 1]!;
    const len = jpeg.readUInt16BE(i + 2);
    if (marker === 0xdb) dqts.push(jpeg.subarray(i + 5, i + 5 + 64)); // length, Pq/Tq, 64 values
    if (marker === 0xda) {
      const start = i + 2 + len;
      const eoi = jpeg.lastIndexOf(Buffer.from([0xff, 0xd9]));
      if (dqts.length < 2 || eoi < start) return null;
      return { q0: dqts[0]!, q1: dqts[1]!, scan: jpeg.subarray(start, eoi) };
    }
    i += 2 + len;
  }
  return null;
}

/** CStreamer::SendRtpPacket for one frame: its RTP packets (sequence and timestamp rewritten later). */
export function microRtspPackets(jpeg: Buffer, width: number, height: number): Buffer[] {
  const parts = splitJpeg(jpeg);
  if (!parts) throw new Error('not a JPEG the firmware can send');
  const out: Buffer[] = [];
  for (let off = 0; off < parts.scan.length; off += FRAGMENT) {
    const chunk = parts.scan.subarray(off, Math.min(off + FRAGMENT, parts.scan.length));
    const last = off + chunk.length === parts.scan.length;
    const tables = off === 0;
    const h = Buffer.alloc(12 + 8 + (tables ? 4 + 128 : 0));
    h[0] = 0x80;
    h[1] = 26 | (last ? 0x80 : 0);
    h.writeUInt32BE(SSRC, 8);
    h.writeUIntBE(off, 13, 3); // type-specific 0, then the 24-bit fragment offset
    h[16] = 0; // type 0
    h[17] = tables ? 128 : 0x5e;
    h[18] = width / 8;
    h[19] = height / 8;
    if (tables) {
      h[20] = 0; h[21] = 0; h.writeUInt16BE(128, 22);
      parts.q0.copy(h, 24);
      parts.q1.copy(h, 88);
    }
    out.push(Buffer.concat([h, chunk]));
  }
  return out;
}

const REFERENCE = join(__dirname, '..', 'fixtures', 'vectors', 'reference', 'gst-type0-422-tcp');

export function microRtspProfile(o: { frames?: number } = {}): DeviceProfile {
  const files = readdirSync(REFERENCE).filter((f) => f.endsWith('.jpg')).sort().slice(0, o.frames ?? 25);
  const frames = files.map((f) => microRtspPackets(readFileSync(join(REFERENCE, f)), 320, 240));
  const lastCSeq = new Map<FakeConn, string>();
  // ParseRtspRequest(): rtsp://host[:port]/presentation/stream, optionally trailing slashes
  const parsable = (uri: string): boolean => /^rtsp:\/\/[^/\s]+\/+[^/\s]+\/+[^/\s]+\/*$/i.test(uri);
  return {
    name: 'Micro-RTSP (ESP32-CAM)',
    path: '/mjpeg/1',
    transports: ['tcp', 'udp'] as DeviceTransport[],
    commonHeaders: (method): Record<string, string> => (method === 'OPTIONS' ? {} : { Date: rtspDate() }),
    accepts: (req: FakeRequest) => {
      const known = ['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'TEARDOWN'].includes(req.method);
      return !known || parsable(req.uri);
    },
    publicMethods: 'DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE',
    sdp: () => ['v=0', `o=- ${Math.floor(Math.random() * 0x7fffffff)} 1 IN IP4 127.0.0.1`, 's=', 't=0 0', 'm=video 0 RTP/AVP 26', 'c=IN IP4 0.0.0.0', ''].join('\r\n'),
    contentBase: (url) => `${url.replace(/\/+$/, '')}/`,
    newSessionId: () => String(((Math.random() * 0x7fffffff) | 0x80000000) | 0),
    timeoutSec: null,
    renews: 'any',
    rtcpRenews: false,
    getParameter: 'unknown',
    teardown: 'close',
    singleClient: true,
    setupTransport: (c) => (c.transport!.kind === 'tcp'
      ? 'RTP/AVP/TCP;unicast;interleaved=0-1'
      : `RTP/AVP;unicast;destination=127.0.0.1;source=127.0.0.1;client_port=${c.transport!.clientPorts![0]}-${c.transport!.clientPorts![1]};server_port=${c.transport!.serverPorts![0]}-${c.transport!.serverPorts![1]}`),
    playHeaders: () => ({ Range: 'npt=0.000-', 'RTP-Info': 'url=rtsp://127.0.0.1:8554/mjpeg/1/track1' }),
    unknownMethod: (req, conn) => {
      // the previous request's CSeq: m_CSeq is only updated by a request it could parse
      void req;
      conn.write(`RTSP/1.0 400 Bad Request\r\nCSeq: ${lastCSeq.get(conn) ?? '0'}\r\n\r\n`);
    },
    onRequest: (req, conn) => {
      if (['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'TEARDOWN'].includes(req.method) && req.cseq !== undefined) lastCSeq.set(conn, req.cseq);
    },
    frames,
    ssrc: SSRC,
  };
}

export function startMicroRtsp(o: { frames?: number } = {}): Promise<EmulatedDevice> {
  return startDevice(microRtspProfile(o));
}
