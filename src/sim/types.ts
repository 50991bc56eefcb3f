/**
 * The demo camera's public types: its options, fault switches and statistics, and the handle
 * startDemoCamera() returns. demo-camera.ts, the RTSP server (demo-rtsp-server.ts) and the
 * media fan-out (demo-fanout.ts) all use them; they live here so that none of those files
 * imports another only for its types.
 */
import type { PacketFaultCounters } from './packet-faults';
import type { SceneOptions } from './scene';

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
  /** the scripted scene instead of the bouncing box: an object walking across at known
   * times, the lights switching, sensor noise (scene.ts) */
  scene?: boolean | SceneOptions;
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

export interface DemoOnvifOptions {
  /** HTTP port of the ONVIF services (0 = ephemeral, the default) */
  port?: number;
  /** WS-Discovery UDP port: 3702 is the standard one; 0 = ephemeral (tests); null = no discovery answers (default 0) */
  discoveryPort?: number | null;
  /** seconds between scripted motion events; 0 = none (default 20) */
  motionEverySec?: number;
  /** the name in the discovery scopes (default "demo camera") */
  name?: string;
  /** when `port` is taken, use an ephemeral one instead of failing */
  anyPortIfTaken?: boolean;
}

export interface DemoOnvifStats {
  requests: number;
  authFailures: number;
  subscriptions: number;
  renewals: number;
  unsubscribes: number;
  pulls: number;
  activeSubscriptions: number;
  probes: number;
  probeMatches: number;
}

export interface DemoOnvif {
  /** http://host:port/onvif/device_service */
  readonly deviceUrl: string;
  readonly port: number;
  /** the UDP port the WS-Discovery answers come from, null when off */
  readonly discoveryPort: number | null;
  /** the WS-Discovery endpoint reference (urn:uuid:…) */
  readonly endpoint: string;
  readonly stats: DemoOnvifStats;
  /** raises an event on every subscription; topic like "tns1:RuleEngine/CellMotionDetector/Motion" */
  raise(topic: string, source: Record<string, string>, data: Record<string, string>): void;
  /** the standard motion event (CellMotionDetector, IsMotion) */
  setMotion(on: boolean): void;
  close(): Promise<void>;
}
