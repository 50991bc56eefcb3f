/**
 * The camera layer's public types: what a CameraSession emits and accepts. The Node-RED
 * nodes, the CLI and the demo tooling depend on these shapes; ARCHITECTURE.md's contract
 * (msg.frame, the `rtcp stats` payload) is built from them field for field.
 */
import type { CameraError, CameraErrorReason } from '../errors';

export type TransportMode = 'tcp' | 'auto' | 'udp' | 'multicast' | 'http';
export type CameraState = 'idle' | 'connecting' | 'playing' | 'reconnecting' | 'closed';

/** msg.frame of `rtsp-mjpeg in` (times in ms since epoch). */
export interface FrameInfo {
  /** 1-based count of frames emitted by this session since it was opened (survives reconnects) */
  index: number;
  width: number;
  height: number;
  rtpTimestamp: number;
  ssrc: number;
  /** wall-clock time the marker packet arrived */
  receivedAt: number;
  /** capture time from the RTCP SR NTP↔RTP mapping; null until the first SR of this SSRC */
  capturedAt: number | null;
}

export interface SenderReportInfo {
  ssrc: number;
  /** NTP time of the SR as ms since epoch */
  ntpTime: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  /** local wall-clock ms when it arrived */
  receivedAt: number;
}

/**
 * The `rtcp stats` payload (ARCHITECTURE.md), plus the cumulative counters it derives from.
 * The RTP-only fields (ssrc, packets…, jitterMs, senderReport) are null for the HTTP sources.
 */
export interface StatsReport {
  ssrc: number | null;
  packetsReceived: number | null;
  packetsExpected: number | null;
  /** cumulative, RFC 3550 A.3 (can be negative with duplicates) */
  packetsLost: number | null;
  /** 0..1, over the last reporting interval (A.3) */
  fractionLost: number | null;
  /** interarrival jitter (A.8) in milliseconds */
  jitterMs: number | null;
  framesEmitted: number;
  /** frames lost to packet loss, reordering beyond the window, size cap, unsupported type... */
  framesDropped: number;
  /** frames per second over the last ~2 s window */
  fps: number;
  /** kbit/s of RTP payload over the last ~2 s window */
  bitrateKbps: number;
  senderReport: SenderReportInfo | null;
  /**
   * transport actually in use: 'tcp' | 'udp' | 'multicast' | 'http' (RTSP over HTTP, media
   * interleaved; null before SETUP); for http(s):// URLs 'http-mjpeg' (a multipart MJPEG
   * stream) or 'http-snapshot' (a JPEG URL polled), null until the first answer says which
   */
  transport: 'tcp' | 'udp' | 'multicast' | 'http' | 'http-mjpeg' | 'http-snapshot' | null;
  state: CameraState;
  /** cumulative RTP bytes (headers included) received, for consumers computing their own rates; HTTP sources: body bytes */
  bytesReceived: number;
  width: number;
  height: number;
}

export interface StateChange {
  state: CameraState;
  /** short reason for connecting/reconnecting/closed states ('auth failed', 'timeout', ...) */
  reason?: CameraErrorReason | undefined;
  /** when state is 'reconnecting': ms until the next attempt */
  retryInMs?: number | undefined;
}

export interface TrackInfo {
  kind: string; // 'video' | 'audio' | 'application'
  encoding: string; // 'JPEG', 'PCMU', ...
  payloadType: number;
  clockRate: number;
  control: string; // resolved, credential-free
  width?: number | undefined;
  height?: number | undefined;
  fps?: number | undefined;
}

export interface CameraOptions {
  username?: string | undefined;
  password?: string | undefined;
  /** default 'tcp' */
  transport?: TransportMode | undefined;
  /** also SETUP the audio track (some cameras refuse PLAY otherwise); default false */
  setupAudio?: boolean | undefined;
  /** per-request timeout, default 10000 */
  requestTimeoutMs?: number | undefined;
  /** no complete JPEG for this long → 'stalled' and reconnect; default 10000 */
  stallTimeoutMs?: number | undefined;
  /** reconnect backoff bounds, default 1000 → 30000 ms */
  reconnectMinMs?: number | undefined;
  reconnectMaxMs?: number | undefined;
  /** UDP client port range, default [50000, 51999]; rtp/port-range's rule (an even first
   * port ≥ 1024, room for a pair), else UDP fails with 'unsupported transport' */
  udpPortRange?: [number, number] | undefined;
  /** frames above this size are dropped and counted; default 16 MiB */
  maxFrameBytes?: number | undefined;
  /** width/height override for cameras that send 0 (or > 2040 px) without SDP hints */
  width?: number | undefined;
  height?: number | undefined;
  /** rtsps:// certificate policy */
  tlsFingerprint256?: string | undefined;
  tlsAllowSelfSigned?: boolean | undefined;
  /** how often 'stats' is emitted, default 1000 ms */
  statsIntervalMs?: number | undefined;
  /** start automatically (openCamera does); default true */
  autoStart?: boolean | undefined;
  /** http(s):// snapshot URLs (image/jpeg): pictures per second to poll, default 1 */
  snapshotFps?: number | undefined;
  /** diagnostics sink; messages are already redacted */
  logger?: ((level: 'debug' | 'info' | 'warn' | 'error', message: string) => void) | undefined;
}

export interface CameraSessionEvents {
  frame: [jpeg: Buffer, info: FrameInfo];
  stats: [report: StatsReport];
  state: [change: StateChange];
  error: [err: CameraError];
  tracks: [tracks: TrackInfo[]];
}
