/**
 * The built-in demo camera: a small RTSP/1.0 server (RFC 2326) streaming Motion-JPEG over
 * RTP (RFC 3550, RFC 2435) with RTCP sender reports, modeled on what GStreamer's
 * rtsp-server sends, so that tests against it carry over to real servers. Used by `npm start`, by tests as a fault-injecting
 * server, and by benchmarks (replay mode).
 *
 * One shared media source feeds every session (like a camera): same SSRC, sequence numbers
 * and timestamps for all clients. Transport per session: UDP (client_port → server_port
 * pair) or TCP interleaved on the RTSP connection. Everything is bound to `host`
 * (127.0.0.1 by default) and close() releases every socket and timer.
 *
 * This file is the public face (options, faults, stats, startDemoCamera); the RTSP server is
 * demo-rtsp-server.ts, the media fan-out demo-fanout.ts.
 */
import type { PacketFaultCounters } from './packet-faults';
import { DemoCameraServer } from './demo-rtsp-server';
import type { DemoOnvif, DemoOnvifOptions } from './onvif-demo';

export interface DemoCameraFaults {
  lossPercent?: number;
  /** swap adjacent packets sometimes */
  reorder?: boolean;
  duplicatePercent?: number;
  /** close every RTSP connection this long after it was accepted (or after setFaults for open ones) */
  dropConnectionAfterMs?: number;
  /** refuse the next N TCP connections (close at once) */
  refuseConnections?: number;
  /** answer the next keep-alive with 401 + new nonce (one shot) */
  keepAlive401?: boolean;
  /** answer the next keep-alive with 454 and drop that session (one shot) */
  keepAlive454?: boolean;
  /** switch to a new SSRC after this many frames from setFaults (one shot) */
  changeSsrcAfterFrames?: number;
  /** the next frame's second half carries another RTP timestamp (one shot) */
  midFrameTimestampChange?: boolean;
  /** send RTCP BYE once (then keep streaming) */
  sendBye?: boolean;
  /** stop sending RTP while keeping the session */
  stall?: boolean;
  /** DRI + RSTn every MCU row (RTP type 65) */
  restartMarkers?: boolean;
  /** RFC 2435 Q: 255 default (in-band tables); 128..254 static in-band; 1..99 → Appendix A tables, none on the wire */
  q?: number;
  /** width/height 0 in RTP + a=x-dimensions in SDP */
  zeroDimensions?: boolean;
}

export interface DemoCameraOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** 0 = ephemeral (default) */
  port?: number;
  /** default '/demo' */
  path?: string;
  /** default 640 */
  width?: number;
  /** default 480 */
  height?: number;
  /** default 15 */
  fps?: number;
  auth?: 'none' | 'basic' | 'digest';
  username?: string;
  password?: string;
  /** both by default; the other one is answered 461 */
  transports?: ('udp' | 'tcp')[];
  /** largest RTP packet (default 1400) */
  mtu?: number;
  /** default 60 */
  sessionTimeoutSec?: number;
  faults?: DemoCameraFaults;
  /** pre-packetized frames to loop instead of encoding (bench) */
  replay?: Buffer[][];
  /** also offer a PCMU track */
  audio?: boolean;
  /** PLAY fails with 455 unless the audio track was set up too */
  requireAudioSetup?: boolean;
  /** also answer ONVIF (device and media services, discovery, events): see onvif-demo.ts */
  onvif?: boolean | DemoOnvifOptions;
}

export interface DemoCameraStats {
  connections: number;
  /** bounded to the last 500 */
  requests: { method: string; uri: string; headers: Record<string, string> }[];
  setups: number;
  plays: number;
  teardowns: number;
  keepAlives: number;
  rtpPacketsSent: number;
  framesSent: number;
  rtcpReceived: number;
  receiverReports: number;
  activeSessions: number;
  /** connections closed at once by the refuseConnections fault */
  refusedConnections: number;
  /** frames not written to a TCP client that could not keep up */
  framesSkipped: number;
  /** RTCP sender report compounds sent */
  senderReports: number;
  /** malformed requests answered 400 */
  badRequests: number;
  packetFaults: PacketFaultCounters;
}

export interface DemoCamera {
  readonly url: string;
  readonly port: number;
  readonly stats: DemoCameraStats;
  /** replaces the whole fault set ({} clears all) */
  setFaults(f: DemoCameraFaults): void;
  close(): Promise<void>;
  /** the ONVIF side, when started with `onvif` */
  readonly onvif?: DemoOnvif;
}

export async function startDemoCamera(opts: DemoCameraOptions = {}): Promise<DemoCamera> {
  const cam = new DemoCameraServer(opts);
  await cam.start(opts.port ?? 0);
  if (!opts.onvif) return cam;
  const { withOnvif } = await import('./onvif-demo');
  return withOnvif(cam, opts);
}
