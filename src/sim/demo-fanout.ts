/**
 * The demo camera's media side: one shared video (and optional PCMU audio) source paced in
 * real time, each frame's RTP packets sent to every playing session that set the track up
 * (RFC 3550 §11: UDP from the server's port pair, or `$`-framed on the client's RTSP
 * connection, RFC 2326 §10.12), RTCP sender reports and BYE (RFC 3550 §6), and the RTCP that
 * comes back. The RTSP side (demo-rtsp-server.ts) owns the sessions; this reads them.
 */
import type * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import type * as dgram from 'node:dgram';
import type { RtspReader } from '../rtsp/message';
import { interleavedFrame, interleavedFrames } from '../rtsp/serialize';
import { buildSenderReportCompound, buildBye } from '../rtcp/build';
import { parseRtcpCompound } from '../rtcp/packet';
import { allocateUdpPair, type UdpPair } from '../transport/port-allocator';
import { AudioSource, VideoSource, wallClockMs } from './media-source';
import type { SceneOptions } from './scene';
import { applyPacketFaults } from './packet-faults';
import { Pacer } from './pacer';
import type { DemoCameraFaults, DemoCameraStats } from './types';

/** stop writing frames to a TCP client with more than this queued (it gets frames skipped) */
const MAX_TCP_BACKLOG = 512 * 1024;
const SERVER_UDP_RANGE: [number, number] = [40000, 44999];

export type TrackTransport =
  | { kind: 'tcp'; rtp: number; rtcp: number }
  | { kind: 'udp'; host: string; rtpPort: number; rtcpPort: number };

/** One client's RTSP connection. */
export interface DemoConnection {
  socket: net.Socket;
  reader: RtspReader;
  protocolErrors: number;
  dropTimer: NodeJS.Timeout | null;
  closed: boolean;
}

/** One RTSP session; its tracks map track number (0 video, 1 audio) to where media goes. */
export interface DemoSession {
  id: string;
  conn: DemoConnection | null;
  tracks: Map<number, TrackTransport>;
  playing: boolean;
  lastSeen: number;
  rtcpTimer: NodeJS.Timeout | null;
}

/** What the fan-out reads of the server. */
export interface FanOutState {
  readonly sessions: ReadonlyMap<string, DemoSession>;
  readonly stats: DemoCameraStats;
  /** the current faults; one-shot ones are cleared here once done */
  readonly faults: DemoCameraFaults;
  readonly closed: boolean;
}

export interface FanOutOptions {
  width: number;
  height: number;
  fps: number;
  mtu?: number | undefined;
  replay?: Buffer[][] | undefined;
  scene?: boolean | SceneOptions | undefined;
  audio: boolean;
  bindAddress: string;
}

export class MediaFanOut {
  readonly video: VideoSource;
  readonly audio: AudioSource | null;
  readonly cname = `demo@${randomBytes(4).toString('hex')}`;
  readonly videoPace: Pacer;
  readonly audioPace = new Pacer(AudioSource.PACKET_MS);
  udpVideo: UdpPair | null = null;
  udpAudio: UdpPair | null = null;
  private readonly bindAddress: string;
  private videoTimer: NodeJS.Timeout | null = null;
  private audioTimer: NodeJS.Timeout | null = null;
  /** one-shot fault bookkeeping, reset by resetFaults */
  private framesSinceFaults = 0;
  private ssrcChanged = false;

  constructor(private readonly state: FanOutState, o: FanOutOptions) {
    this.bindAddress = o.bindAddress;
    this.videoPace = new Pacer(1000 / o.fps);
    this.video = new VideoSource({ width: o.width, height: o.height, mtu: o.mtu, replay: o.replay, scene: o.scene });
    this.audio = o.audio ? new AudioSource() : null;
  }

  /** Binds the server's UDP port pairs (video, and audio when offered). */
  async openUdp(): Promise<void> {
    this.udpVideo = await this.openUdpPair(0);
    if (this.audio) this.udpAudio = await this.openUdpPair(1);
  }

  /** new faults were set: one-shot faults count from now */
  resetFaults(): void {
    this.framesSinceFaults = 0;
    this.ssrcChanged = false;
  }

  udpPair(track: number): UdpPair | null {
    return track === 0 ? this.udpVideo : this.udpAudio;
  }

  /** Stops the timers and releases the UDP sockets. */
  async close(): Promise<void> {
    for (const t of [this.videoTimer, this.audioTimer]) if (t) clearTimeout(t);
    this.videoTimer = this.audioTimer = null;
    const waits: Promise<void>[] = [];
    for (const pair of [this.udpVideo, this.udpAudio]) {
      if (!pair) continue;
      waits.push(closeDgram(pair.rtp), closeDgram(pair.rtcp));
    }
    this.udpVideo = this.udpAudio = null;
    await Promise.all(waits);
  }

  private async openUdpPair(track: number): Promise<UdpPair> {
    const pair = await allocateUdpPair({ range: SERVER_UDP_RANGE, bindAddress: this.bindAddress, recvBufferSize: 256 * 1024 });
    pair.rtp.on('message', () => { /* clients may punch NAT holes with dummy packets: ignore */ });
    pair.rtp.on('error', () => { /* sending to a closed client port: ignore */ });
    pair.rtcp.on('error', () => { /* idem */ });
    pair.rtcp.on('message', (msg, rinfo) => this.onUdpRtcp(track, msg, rinfo));
    return pair;
  }


  private playingWith(track: number): boolean {
    for (const s of this.state.sessions.values()) if (s.playing && s.tracks.has(track)) return true;
    return false;
  }

  /** Starts the video/audio timers when some session plays that track. */
  ensureTimers(): void {
    if (this.state.closed) return;
    if (!this.videoTimer && this.playingWith(0)) {
      this.videoPace.restart(wallClockMs());
      this.scheduleVideo();
    }
    if (this.audio && !this.audioTimer && this.playingWith(1)) {
      this.audioPace.restart(wallClockMs());
      this.scheduleAudio();
    }
  }

  private scheduleVideo(): void {
    this.videoTimer = setTimeout(() => this.onVideoTick(), this.videoPace.delayMs(wallClockMs()));
  }

  private onVideoTick(): void {
    this.videoTimer = null;
    if (this.state.closed || !this.playingWith(0)) return;
    // More than a frame late (slow machine, debugger): the pacer skips frames rather than burst them.
    const captured = this.videoPace.take(wallClockMs());
    try {
      this.sendVideoFrame(captured);
    } finally {
      if (!this.state.closed) this.scheduleVideo();
    }
  }

  private sendVideoFrame(captured: number): void {
    const f = this.state.faults;
    if (f.changeSsrcAfterFrames !== undefined && !this.ssrcChanged && this.framesSinceFaults >= f.changeSsrcAfterFrames) {
      this.video.changeSsrc();
      this.ssrcChanged = true;
    }
    this.framesSinceFaults++;
    if (f.sendBye) {
      f.sendBye = false;
      this.sendByeToAll();
    }
    if (f.stall) return;
    const packets = this.video.nextFrame(captured, {
      q: f.q ?? 255, restartMarkers: !!f.restartMarkers, zeroDimensions: !!f.zeroDimensions,
    });
    const r = applyPacketFaults(packets, f, this.state.stats.packetFaults);
    if (r.timestampChanged) f.midFrameTimestampChange = false;
    for (const p of r.packets) this.video.countSent(p);
    this.state.stats.framesSent++;
    this.fanOut(0, r.packets);
  }

  private scheduleAudio(): void {
    this.audioTimer = setTimeout(() => this.onAudioTick(), this.audioPace.delayMs(wallClockMs()));
  }

  private onAudioTick(): void {
    this.audioTimer = null;
    if (this.state.closed || !this.audio || !this.playingWith(1)) return;
    const captured = this.audioPace.take(wallClockMs());
    try {
      if (!this.state.faults.stall) {
        const pkt = this.audio.nextPacket(captured);
        this.audio.countSent(pkt);
        this.fanOut(1, [pkt]);
      }
    } finally {
      if (!this.state.closed) this.scheduleAudio();
    }
  }

  /** Send one frame's packets to every playing session that set up `track`. */
  private fanOut(track: number, packets: Buffer[]): void {
    if (packets.length === 0) return;
    const tcpFrames = new Map<number, Buffer>();
    const pair = track === 0 ? this.udpVideo : this.udpAudio;
    for (const s of this.state.sessions.values()) {
      if (!s.playing) continue;
      const t = s.tracks.get(track);
      if (!t) continue;
      if (t.kind === 'tcp') {
        const conn = s.conn;
        if (!conn || conn.closed) continue;
        // A client that cannot keep up gets whole frames skipped, never an unbounded queue.
        if (conn.socket.writableLength > MAX_TCP_BACKLOG) {
          this.state.stats.framesSkipped++;
          continue;
        }
        let buf = tcpFrames.get(t.rtp);
        if (!buf) {
          buf = interleavedFrames(t.rtp, packets);
          tcpFrames.set(t.rtp, buf);
        }
        conn.socket.write(buf);
        this.state.stats.rtpPacketsSent += packets.length;
      } else if (pair) {
        for (const p of packets) pair.rtp.send(p, t.rtpPort, t.host);
        this.state.stats.rtpPacketsSent += packets.length;
      }
    }
  }

  /** RFC 3550 §6.2: first report soon after PLAY, then every 5 s × [0.5, 1.5). */
  scheduleRtcp(s: DemoSession, first: boolean): void {
    if (s.rtcpTimer) clearTimeout(s.rtcpTimer);
    const delay = first ? 200 + Math.random() * 800 : 5000 * (0.5 + Math.random());
    s.rtcpTimer = setTimeout(() => {
      s.rtcpTimer = null;
      if (this.state.closed || !this.state.sessions.has(s.id) || !s.playing) return;
      this.sendSenderReports(s);
      this.scheduleRtcp(s, false);
    }, delay);
  }

  private senderReportFor(track: number): Buffer | null {
    const src = track === 0 ? this.video : this.audio;
    if (!src) return null;
    const now = wallClockMs();
    return buildSenderReportCompound({
      ssrc: src.counters.ssrc, cname: this.cname, ntpMs: now, rtpTimestamp: src.rtpTimeAt(now),
      packetCount: src.counters.packetCount, octetCount: src.counters.octetCount,
    });
  }

  private sendSenderReports(s: DemoSession, extra?: (track: number) => Buffer): void {
    for (const [track, t] of s.tracks) {
      const sr = this.senderReportFor(track);
      if (!sr) continue;
      const pkt = extra ? Buffer.concat([sr, extra(track)]) : sr;
      this.sendRtcp(s, track, t, pkt);
      this.state.stats.senderReports++;
    }
  }

  private sendRtcp(s: DemoSession, track: number, t: TrackTransport, pkt: Buffer): void {
    if (t.kind === 'tcp') {
      const conn = s.conn;
      if (conn && !conn.closed) conn.socket.write(interleavedFrame(t.rtcp, pkt));
    } else {
      const pair = track === 0 ? this.udpVideo : this.udpAudio;
      pair?.rtcp.send(pkt, t.rtcpPort, t.host);
    }
  }

  /** BYE goes in a compound after SR + SDES (RFC 3550 §6.1). */
  private sendByeToAll(): void {
    for (const s of this.state.sessions.values()) {
      if (!s.playing) continue;
      this.sendSenderReports(s, (track) => buildBye([(track === 0 ? this.video : this.audio!).counters.ssrc], 'demo camera fault: BYE'));
    }
  }

  private onUdpRtcp(track: number, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.countRtcp(msg);
    for (const s of this.state.sessions.values()) {
      const t = s.tracks.get(track);
      if (t && t.kind === 'udp' && t.rtcpPort === rinfo.port && sameHost(t.host, rinfo.address)) {
        s.lastSeen = Date.now(); // RTCP keeps a session alive, as in GStreamer
      }
    }
  }

  /** RTCP from a TCP client; anything else on the connection's channels is ignored. */
  onTcpInterleaved(conn: DemoConnection, channel: number, payload: Buffer): void {
    for (const s of this.state.sessions.values()) {
      if (s.conn !== conn) continue;
      for (const t of s.tracks.values()) {
        if (t.kind === 'tcp' && t.rtcp === channel) {
          this.countRtcp(payload);
          s.lastSeen = Date.now();
          return;
        }
      }
    }
  }

  private countRtcp(buf: Buffer): void {
    this.state.stats.rtcpReceived++;
    const { packets } = parseRtcpCompound(buf);
    for (const p of packets) if (p.type === 'RR') this.state.stats.receiverReports++;
  }
}


function sameHost(a: string, b: string): boolean {
  const norm = (x: string): string => (x.startsWith('::ffff:') ? x.slice(7) : x);
  return norm(a) === norm(b);
}

function closeDgram(sock: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      sock.close(() => resolve());
    } catch {
      resolve();
    }
  });
}
